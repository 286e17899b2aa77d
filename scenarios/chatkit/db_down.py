"""db-down: PostgreSQL stopped on the db host."""

from __future__ import annotations

from collections.abc import Iterator

from harness import DrillContext, ServiceStopped
from scenarios.chatkit import chatkit_scenario


@chatkit_scenario("db-down", section="6a-database-server-down", severity="P0",
                  detect_within="10s", recover_within="60s")
def db_down(drill: DrillContext) -> Iterator[None]:
    """PostgreSQL stops on the database server"""
    with ServiceStopped(drill.stack, drill.stack.host("db"), "postgresql"):
        yield
