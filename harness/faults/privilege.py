"""Database faults: a privilege revoked from the service's role, as a permissions change gone wrong.

A migration that recreates a table, a tightened grant script, a role rotated without its grants:
the service still connects and most requests work, but the statements that need the lost privilege
fail (`permission denied for table ...`), so a share of requests answer 500 while every health
check stays green. The fault revokes one privilege on one table from one role in PostgreSQL, run as
the `postgres` superuser on the database host; it is in effect while `has_table_privilege` says no;
rollback grants it back. Names are checked as plain identifiers, so nothing else reaches the SQL.
"""

from __future__ import annotations

import re
import shlex

from harness.clock import SYSTEM_CLOCK, Clock
from harness.errors import BadInput
from harness.faults.base import Fault, FaultError, FaultNotEffective, outcome, owned_host
from harness.stack.host import Host
from harness.stack.stack import Stack

COMMAND_TIMEOUT = 30.0
PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$")


class PrivilegeRevoked(Fault):
    """`privilege` on `table` revoked from `role` in `database` (PostgreSQL on `host`, a container of
    `stack`); granted back on rollback."""

    name = "privilege-revoked"
    restore_when_ended = False  # granted back already: nothing is left to undo

    def __init__(self, stack: Stack, host: Host, *, database: str, role: str, table: str, privilege: str,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(clock=clock)
        privilege = privilege.upper()
        if privilege not in PRIVILEGES:
            raise BadInput(f"privilege {privilege!r}: one of {', '.join(PRIVILEGES)}")
        for what, name in (("database", database), ("role", role), ("table", table)):
            if not _IDENTIFIER.match(name):
                raise BadInput(f"{what} {name!r}: a plain lowercase identifier (letters, digits, _; a table may "
                               "be schema.table)")
        self.stack, self.host = stack, host
        self.database, self.role, self.table, self.privilege = database, role, table, privilege

    def describe(self) -> str:
        return f"{self.privilege} on table {self.table} revoked from role {self.role} on {self.host.name}"

    def _psql(self, sql: str) -> str:
        owned_host(self.stack, self.host)
        result = self.host.exec(f"runuser -u postgres -- psql -v ON_ERROR_STOP=1 -d {self.database} "
                                f"-tAc {shlex.quote(sql)}", timeout=COMMAND_TIMEOUT)
        if not result.ok:
            raise FaultError(f"{self.host.name}: `{sql}` failed ({outcome(result)})")
        return result.stdout.strip()

    def _has_privilege(self) -> bool:
        return self._psql(f"SELECT has_table_privilege('{self.role}', '{self.table}', '{self.privilege}')") == "t"

    def prepare(self) -> None:
        owned_host(self.stack, self.host)

    def inject(self) -> None:
        self._psql(f"REVOKE {self.privilege} ON TABLE {self.table} FROM {self.role}")

    def verify(self) -> str:
        if self._has_privilege():
            raise FaultNotEffective(f"{self.describe()}: the role still has the privilege (granted through "
                                    "another role or PUBLIC?)")
        return f"has_table_privilege('{self.role}', '{self.table}', '{self.privilege}') is false"

    def is_active(self) -> bool:
        return not self._has_privilege()

    def restore(self) -> None:
        self._psql(f"GRANT {self.privilege} ON TABLE {self.table} TO {self.role}")

    def ended_detail(self) -> str:
        return f"{self.describe()}: the privilege had been granted back when the harness came to roll back"
