"""redis-down: Redis stops; every session lookup fails and visitors see "Session not found"."""

from __future__ import annotations

from collections.abc import Iterator

from harness import DrillContext, ServiceStopped
from scenarios.redis_chat import redis_chat_scenario


@redis_chat_scenario("redis-down", section="1-session-not-found-errors", severity="P0", detect_within="10s",
                     recover_within="30s")
def redis_down(drill: DrillContext) -> Iterator[None]:
    """Redis stops: sessions cannot be read or made, every chat answers "Session not found\""""
    with ServiceStopped(drill.stack, drill.stack.host("redis"), "redis"):
        yield
