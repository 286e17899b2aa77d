"""secret-key-rotated: SECRET_KEY changed and the service restarted; every earlier session is refused.

The new key stays: putting the old key back would make every token signed with it valid again,
including any that leaked (a rotation is often done because of a leak). So recovery is the users
logging in again, and the proof is that the tokens from before the change stay refused, with their
sessions gone from the database, so that even a restore of the old key would not bring them back.

The harness's rollback writes the original environment file back (the old key) and restarts: the
tokens issued under the new key are then refused in turn, and users log in once more. The old
tokens stay refused after it too, because the runbook's fix deleted their sessions.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import shlex
import uuid
from collections.abc import Iterator, Mapping

import httpx

from harness import DrillContext, EnvFileChange
from scenarios.chatkit import APP_PORT, ENV_FILE, RESTART, chatkit_scenario

BEFORE_USERS = ("ticket-user", "early-user")  # people logged in before the change
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def _base(drill: DrillContext) -> str:
    return drill.stack.endpoint("app", APP_PORT)


def ticket_variables(ctx: DrillContext) -> Mapping[str, str]:
    """REQUEST_ID: the ID the support ticket quotes, the one the user's widget sent with its login
    and sends again when it retries with the session it holds; DB_PASSWORD: from the stack's secrets."""
    request_id = f"ticket-{uuid.uuid4().hex[:12]}"
    response = httpx.post(f"{_base(ctx)}/auth/login", json={"user_id": BEFORE_USERS[0]},
                          headers={"X-Request-ID": request_id}, timeout=5)
    response.raise_for_status()
    token = str(response.json()["token"])
    ctx.remember_secret(token)
    ctx.state["ticket"] = (request_id, token)
    return {"REQUEST_ID": request_id, "DB_PASSWORD": ctx.stack.secrets["DB_PASSWORD"]}


def _session_id(drill: DrillContext, token: str) -> str:
    response = httpx.get(f"{_base(drill)}/auth/session", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    response.raise_for_status()
    return str(response.json()["session_id"])


def old_tokens_stay_refused(drill: DrillContext) -> tuple[bool, str]:
    """Every token issued before the key change answers 401 invalid_session after the fix."""
    answers = []
    try:
        for token in drill.state["old_tokens"]:
            response = httpx.get(f"{_base(drill)}/auth/session", headers={"Authorization": f"Bearer {token}"},
                                 timeout=5)
            answers.append((response.status_code, response.json().get("error")))
    except httpx.HTTPError as exc:
        return False, f"the service did not answer: {type(exc).__name__}: {exc}"
    ok = all(answer == (401, "invalid_session") for answer in answers)
    return ok, f"tokens from before the change answered {answers} (expected 401 invalid_session each)"


def old_sessions_deleted(drill: DrillContext) -> tuple[bool, str]:
    """The sessions of the old tokens are gone, so restoring the old key could not revive them."""
    sessions = drill.state["old_sessions"]
    if not all(SESSION_ID.match(sid) for sid in sessions):
        return False, "a session id of the service is not the expected shape"
    ids = ", ".join(f"'{sid}'" for sid in sessions)
    sql = f"SELECT count(*) FROM sessions WHERE session_id IN ({ids})"  # noqa: S608 (ids checked above)
    result = drill.stack.host("db").exec(f"runuser -u postgres -- psql -d chatkit -tAc {shlex.quote(sql)}")
    left = result.stdout.strip()
    return result.ok and left == "0", f"sessions of the old tokens still in the database: {left or result.stderr}"


def new_key_kept(drill: DrillContext) -> tuple[bool, str]:
    """The runbook kept the new key (it did not rotate back to the one the old tokens were signed with)."""
    result = drill.stack.host("app").exec(f"sed -n 's/^SECRET_KEY=//p' {ENV_FILE}")
    now = hashlib.sha256(result.stdout.strip().encode()).hexdigest()
    if now == drill.state["old_key_sha"]:
        return False, "SECRET_KEY is the old key again: every token signed with it is valid again"
    if now != drill.state["new_key_sha"]:
        return False, "SECRET_KEY is neither the old nor the rotated key"
    return True, "SECRET_KEY is still the rotated key"


@chatkit_scenario(
    "secret-key-rotated", section="2b-tokens-rejected-after-a-key-change", severity="P1",
    detect_within="15s", recover_within="60s", variables=ticket_variables,
    checks=(old_tokens_stay_refused, old_sessions_deleted, new_key_kept),
)
def secret_key_rotated(drill: DrillContext) -> Iterator[None]:
    """SECRET_KEY is changed and the service restarts: every session token issued before is refused"""
    stack = drill.stack
    request_id, ticket_token = drill.state["ticket"]
    old_tokens = [ticket_token]
    for user in BEFORE_USERS[1:]:
        response = httpx.post(f"{_base(drill)}/auth/login", json={"user_id": user}, timeout=5)
        response.raise_for_status()
        old_tokens.append(str(response.json()["token"]))
        drill.remember_secret(old_tokens[-1])
    drill.state["old_tokens"] = old_tokens
    drill.state["old_sessions"] = [_session_id(drill, token) for token in old_tokens]
    old_key = stack.host("app").exec(f"sed -n 's/^SECRET_KEY=//p' {ENV_FILE}").stdout.strip()
    new_key = secrets.token_urlsafe(32)
    drill.remember_secret(new_key)
    drill.state["old_key_sha"] = hashlib.sha256(old_key.encode()).hexdigest()
    drill.state["new_key_sha"] = hashlib.sha256(new_key.encode()).hexdigest()

    def ticket_refused() -> tuple[bool, str]:
        """The ticket user's widget retries with its session: refused once the service is back."""
        try:
            response = httpx.get(f"{_base(drill)}/auth/session", timeout=2, headers={
                "Authorization": f"Bearer {ticket_token}", "X-Request-ID": request_id})
        except httpx.HTTPError as exc:
            return False, f"/auth/session does not answer yet ({type(exc).__name__})"
        return response.status_code == 401, f"a token from before the change answers {response.status_code}"

    with EnvFileChange(stack, stack.host("app"), ENV_FILE, set={"SECRET_KEY": new_key}, restart_command=RESTART,
                       proof=ticket_refused):
        yield
