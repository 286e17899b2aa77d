"""openai-timeouts: the OpenAI API stalls (accepts requests, never answers) for a while."""

from __future__ import annotations

from collections.abc import Iterator

from harness import DrillContext, HttpSwitch
from scenarios.php_chatbot import dead_letters_requeued_and_answered, php_chatbot_scenario, upstream_control

STALLED_SECONDS = 12.0  # the provider's incident: it ends by itself


@php_chatbot_scenario("openai-timeouts", section="timeout-issues", severity="P1", detect_within="12s",
                      recover_within="60s", steady=dead_letters_requeued_and_answered,
                      checks=(dead_letters_requeued_and_answered,))
def openai_timeouts(drill: DrillContext) -> Iterator[None]:
    """The OpenAI API stalls: requests hang without an answer, the worker waits on each"""
    with HttpSwitch(lambda: upstream_control(drill.stack), on={"mode": "hang", "seconds": STALLED_SECONDS},
                    off={"mode": "healthy"}, in_effect=lambda state: state.get("mode") == "hang",
                    what=f"the OpenAI API stalling for {STALLED_SECONDS:g}s"):
        yield
