"""redis-memory-full: a runaway cache fills Redis to maxmemory; with noeviction, writes are refused."""

from __future__ import annotations

from collections.abc import Iterator

from harness import DrillContext, RedisFilled
from scenarios.redis_chat import redis_chat_scenario

SESSIONS_KEPT = "sessions before the fault"
SESSION_SCAN = "redis-cli --scan --pattern 'sess:*'"


def _sessions(drill: DrillContext) -> set[str]:
    result = drill.stack.host("redis").exec(SESSION_SCAN, timeout=10,
                                            env={"REDISCLI_AUTH": drill.stack.secrets["REDIS_PASSWORD"]})
    return set(result.stdout.split())


def sessions_kept(drill: DrillContext) -> tuple[bool, str]:
    """The sessions that existed before Redis filled up are still there: nobody was logged out."""
    before: set[str] = drill.state.get(SESSIONS_KEPT, set())
    lost = before - _sessions(drill)
    return not lost and bool(before), f"{len(lost)} of the {len(before)} sessions from before the fault are gone"


@redis_chat_scenario("redis-memory-full", section="5-redis-out-of-memory", severity="P0", detect_within="10s",
                     recover_within="30s", checks=(sessions_kept,))
def redis_memory_full(drill: DrillContext) -> Iterator[None]:
    """Redis reaches maxmemory (noeviction): new sessions and every session update fail"""
    drill.state[SESSIONS_KEPT] = _sessions(drill)
    with RedisFilled(drill.stack, drill.stack.host("redis"), prefix="cache:category:",
                     password=drill.stack.secrets["REDIS_PASSWORD"]):
        yield
