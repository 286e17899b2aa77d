"""high-error-rate: the service's role loses INSERT on its chats table (a permissions change gone
wrong), so every chat save fails with 500 while logins and chat messages still work.

The fault is PrivilegeRevoked: a table privilege revoked from a role in PostgreSQL, proven with
has_table_privilege, granted back on rollback.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx

from harness import DrillContext, PrivilegeRevoked
from scenarios.chatkit import APP_PORT, chatkit_scenario


def saves_work(drill: DrillContext) -> tuple[bool, str]:
    """A user can save a chat again (the requests the fault broke). Part of the steady state too: the
    synthetic users save only every third step, so a gap between two failed saves must not pass
    for recovery."""
    base = drill.stack.endpoint("app", APP_PORT)
    try:
        # a new user each time: polled during recovery, one user would hit the per-user save limit (429)
        login = httpx.post(f"{base}/auth/login", json={"user_id": f"save-check-{uuid.uuid4().hex[:8]}"}, timeout=5)
        login.raise_for_status()
        token = str(login.json()["token"])
        drill.remember_secret(token)
        save = httpx.post(f"{base}/chat/save", headers={"Authorization": f"Bearer {token}"}, timeout=5,
                          json={"title": "after the fix", "messages": [{"role": "user", "text": "hi"}]})
    except httpx.HTTPError as exc:
        return False, f"the service did not answer: {type(exc).__name__}: {exc}"
    return save.status_code == 201, f"a chat save answered {save.status_code}"


@chatkit_scenario("high-error-rate", section="5c-permission-denied-by-the-database", severity="P1",
                  detect_within="15s", recover_within="60s", steady=saves_work, checks=(saves_work,))
def high_error_rate(drill: DrillContext) -> Iterator[None]:
    """The service's database role loses INSERT on the chats table: every chat save fails with 500"""
    with PrivilegeRevoked(drill.stack, drill.stack.host("db"), database="chatkit", role="chatkit", table="chats",
                          privilege="INSERT"):
        yield
