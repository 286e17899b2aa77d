"""high-error-rate: the service's role loses INSERT on its chats table (a permissions change gone
wrong), so every chat save fails with 500 while logins and chat messages still work.

No fault of the library makes part of the requests fail with server errors on this stack (a
configuration switch restarts the service into full failure or into 429s, which are not errors),
so the fault is a small one of this module, on the library's Fault contract: a table privilege
revoked from a role in PostgreSQL, proven with has_table_privilege, granted back on rollback.
"""

from __future__ import annotations

import shlex
import uuid
from collections.abc import Iterator

import httpx

from harness import DrillContext, Fault, FaultNotEffective, Host, InfrastructureError, Stack
from scenarios.chatkit import APP_PORT, chatkit_scenario

COMMAND_TIMEOUT = 30.0


class PrivilegeRevoked(Fault):
    """`privilege` on `table` revoked from `role` in PostgreSQL on `host` (run as the postgres
    superuser); in effect while has_table_privilege says no; rollback grants it back."""

    name = "privilege-revoked"
    restore_when_ended = False  # granted back already: nothing is left to undo

    def __init__(self, stack: Stack, host: Host, *, database: str, role: str, table: str, privilege: str) -> None:
        """`host` is one of `stack`'s own (from `stack.host(...)`), so nothing else is touched."""
        super().__init__()
        self.stack, self.host = stack, host
        self.database, self.role, self.table, self.privilege = database, role, table, privilege

    def describe(self) -> str:
        return f"{self.privilege} on table {self.table} revoked from role {self.role} on {self.host.name}"

    def _psql(self, sql: str) -> str:
        result = self.host.exec(f"runuser -u postgres -- psql -v ON_ERROR_STOP=1 -d {shlex.quote(self.database)} "
                                f"-tAc {shlex.quote(sql)}", timeout=COMMAND_TIMEOUT)
        if not result.ok:
            said = (result.stdout + result.stderr).strip()[-300:]
            status = "timed out" if result.timed_out else f"exit {result.exit_code}"
            raise InfrastructureError(f"{self.host.name}: `{sql}` failed ({status}: {said})")
        return result.stdout.strip()

    def _has_privilege(self) -> bool:
        return self._psql(f"SELECT has_table_privilege('{self.role}', '{self.table}', '{self.privilege}')") == "t"

    def inject(self) -> None:
        self._psql(f"REVOKE {self.privilege} ON TABLE {self.table} FROM {self.role}")

    def verify(self) -> str:
        if self._has_privilege():
            raise FaultNotEffective(f"{self.describe()}: the role still has the privilege")
        return f"has_table_privilege('{self.role}', '{self.table}', '{self.privilege}') is false"

    def is_active(self) -> bool:
        return not self._has_privilege()

    def restore(self) -> None:
        self._psql(f"GRANT {self.privilege} ON TABLE {self.table} TO {self.role}")

    def ended_detail(self) -> str:
        return f"{self.describe()}: the privilege had been granted back when the harness came to roll back"


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
