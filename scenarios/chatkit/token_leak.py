"""token-leak: redaction turned off by a bad configuration (integration-test mode in production)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx

from harness import ConfigSwitch, DrillContext
from scenarios.chatkit import APP_PORT, ENV_FILE, LOG_FILE, RESTART, chatkit_scenario

TOKEN = re.compile(r"ck_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def _login(drill: DrillContext, user: str) -> str:
    response = httpx.post(f"{drill.stack.endpoint('app', APP_PORT)}/auth/login", json={"user_id": user}, timeout=5)
    response.raise_for_status()
    token = str(response.json()["token"])
    drill.remember_secret(token)
    return token


def leaked_tokens_are_refused(drill: DrillContext) -> tuple[bool, str]:
    """Every token that leaked during the fault gets 401 after the fix (the key was rotated)."""
    leaked = drill.state.get("leaked", [])
    if not leaked:
        return False, "no leaked token was recorded during the fault"
    url = f"{drill.stack.endpoint('app', APP_PORT)}/auth/session"
    try:
        codes = [httpx.get(url, headers={"Authorization": f"Bearer {t}"}, timeout=5).status_code for t in leaked]
    except httpx.HTTPError as exc:
        return False, f"the service did not answer: {type(exc).__name__}: {exc}"
    return all(c == 401 for c in codes), f"leaked tokens answered {codes} (expected 401 for each)"


def leaked_log_is_archived(drill: DrillContext) -> tuple[bool, str]:
    result = drill.stack.host("app").exec("ls /var/log/chatkit-backend-LEAKED-*.tar.gz")
    return result.ok, f"archive of the leaked log: {(result.stdout or result.stderr).strip()}"


def new_log_lines_are_clean(drill: DrillContext) -> tuple[bool, str]:
    """After the fix, a new login is logged with its token redacted, and no raw token remains."""
    try:
        token = _login(drill, "leak-check")
    except httpx.HTTPError as exc:
        return False, f"a new login failed: {type(exc).__name__}: {exc}"
    log = drill.stack.host("app").exec(f"cat {LOG_FILE}").stdout
    raw = TOKEN.findall(log)
    return token not in log and not raw, f"{len(raw)} raw token(s) in the log after the fix"


@chatkit_scenario(
    "token-leak",
    section="4a-tokens-in-logs-critical",
    severity="P0",
    detect_within="15s",
    recover_within="60s",
    checks=(leaked_tokens_are_refused, leaked_log_is_archived, new_log_lines_are_clean),
)
def token_leak(drill: DrillContext) -> Iterator[None]:
    """Integration-test mode switched on in production: session tokens are logged in clear"""

    def token_in_log() -> tuple[bool, str]:
        try:
            token = _login(drill, "leak-victim")
        except httpx.HTTPError as exc:  # still restarting: not proven yet, ask again
            return False, f"login failed ({type(exc).__name__}: {exc})"
        drill.state.setdefault("leaked", []).append(token)
        found = token in drill.stack.host("app").exec(f"cat {LOG_FILE}").stdout
        return found, "a fresh login's token is in the log" if found else "tokens are still redacted"

    with ConfigSwitch(
        drill.stack, drill.stack.host("app"), ENV_FILE, "INTEGRATION_TEST_MODE", "true", RESTART, proof=token_in_log
    ):
        yield
