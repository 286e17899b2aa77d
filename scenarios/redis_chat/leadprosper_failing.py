"""leadprosper-failing: LeadProsper answers 503 for a while; submissions fail into lead_failed."""

from __future__ import annotations

from collections.abc import Iterator

from harness import DrillContext, HttpSwitch
from scenarios.redis_chat import control, every_lead_delivered, redis_chat_scenario

OUTAGE_SECONDS = 20.0  # the provider's outage ends by itself, as a real one does; the failed leads stay failed


@redis_chat_scenario("leadprosper-failing", section="4-lead-submission-failures", severity="P1",
                     detect_within="20s", recover_within="60s", steady=every_lead_delivered,
                     checks=(every_lead_delivered,))
def leadprosper_failing(drill: DrillContext) -> Iterator[None]:
    """LeadProsper's API fails (503) for a while: every lead submitted meanwhile lands in lead_failed"""
    with HttpSwitch(lambda: control(drill.stack, "leadprosper"),
                    on={"mode": "error", "status": 503, "seconds": OUTAGE_SECONDS}, off={"mode": "healthy"},
                    in_effect=lambda state: state.get("mode") == "error",
                    what=f"LeadProsper answering 503 for {OUTAGE_SECONDS:g}s"):
        yield
