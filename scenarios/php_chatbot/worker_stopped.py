"""worker-stopped: the background worker stops; chat messages queue up unanswered."""

from __future__ import annotations

from collections.abc import Iterator

from harness import DrillContext, ServiceStopped
from scenarios.php_chatbot import php_chatbot_scenario


@php_chatbot_scenario("worker-stopped", section="background-worker-stopped", severity="P1", detect_within="15s",
                      recover_within="30s")
def worker_stopped(drill: DrillContext) -> Iterator[None]:
    """The job worker stops: messages are queued but nobody answers them"""
    with ServiceStopped(drill.stack, drill.stack.host("web"), "chatbot-worker"):
        yield
