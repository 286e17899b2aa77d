"""pool-exhausted: a leaking client holds the database's connections idle in transaction."""

from __future__ import annotations

from collections.abc import Iterator

from harness import ConnectionHog, DrillContext
from scenarios.chatkit import chatkit_scenario

LEAKED_CONNECTIONS = 40  # more than max_connections (30): the leak takes every slot it can


@chatkit_scenario("pool-exhausted", section="6b-connection-pool-exhausted", severity="P1",
                  detect_within="10s", recover_within="60s")
def pool_exhausted(drill: DrillContext) -> Iterator[None]:
    """A leaking client holds every database connection idle in a transaction"""
    stack = drill.stack

    def dsn() -> str:
        password = stack.secrets["DB_PASSWORD"]
        return f"postgresql://chatkit:{password}@127.0.0.1:{stack.port('db', 5432)}/chatkit"

    with ConnectionHog(dsn, count=LEAKED_CONNECTIONS):
        yield
