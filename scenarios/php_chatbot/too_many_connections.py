"""too-many-connections: a client opens connections and leaves them idle until none is left."""

from __future__ import annotations

from collections.abc import Iterator

from harness import ConnectionHog, DrillContext
from scenarios.php_chatbot import php_chatbot_scenario

LEAKED_CONNECTIONS = 40  # more than max_connections (25): the leak takes every slot it can


@php_chatbot_scenario("too-many-connections", section="too-many-connections", severity="P0", detect_within="10s",
                      recover_within="30s")
def too_many_connections(drill: DrillContext) -> Iterator[None]:
    """Idle sessions of a leaking client hold every PostgreSQL connection: the app gets none"""
    stack = drill.stack

    def dsn() -> str:
        password = stack.secrets["DB_PASSWORD"]
        return f"postgresql://chatbot:{password}@127.0.0.1:{stack.port('db', 5432)}/chatbot_production"

    with ConnectionHog(dsn, count=LEAKED_CONNECTIONS, in_transaction=False, application_name="report-export"):
        yield
