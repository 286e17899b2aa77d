"""disk-full: a debug log left on fills the log disk; the app can no longer write its log."""

from __future__ import annotations

from collections.abc import Iterator

from harness import DiskFilled, DrillContext
from scenarios.php_chatbot import LOG_DIR, php_chatbot_scenario


@php_chatbot_scenario("disk-full", section="disk-space-critical", severity="P1", detect_within="10s",
                      recover_within="30s")
def disk_full(drill: DrillContext) -> Iterator[None]:
    """A debug log written today fills /var/log/chatbot: requests fail for want of a log"""
    with DiskFilled(drill.stack, drill.stack.host("web"), f"{LOG_DIR}/debug.log"):
        yield
