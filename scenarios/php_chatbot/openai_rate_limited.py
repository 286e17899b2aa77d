"""openai-rate-limited: the OpenAI API answers 429 for a while; jobs fail into the dead-letter queue."""

from __future__ import annotations

from collections.abc import Iterator

from harness import DrillContext, HttpSwitch
from scenarios.php_chatbot import dead_letters_requeued_and_answered, php_chatbot_scenario, upstream_control

LIMITED_SECONDS = 12.0  # the provider's rate-limit window: it ends by itself, as a real one does
RETRY_AFTER_SECONDS = 1


@php_chatbot_scenario("openai-rate-limited", section="rate-limiting-429", severity="P1", detect_within="10s",
                      recover_within="45s", steady=dead_letters_requeued_and_answered,
                      checks=(dead_letters_requeued_and_answered,))
def openai_rate_limited(drill: DrillContext) -> Iterator[None]:
    """The OpenAI API rate-limits the account: 429 with Retry-After for a few seconds"""
    with HttpSwitch(lambda: upstream_control(drill.stack),
                    on={"mode": "rate-limited", "retry_after": RETRY_AFTER_SECONDS, "seconds": LIMITED_SECONDS},
                    off={"mode": "healthy"}, in_effect=lambda state: state.get("mode") == "rate-limited",
                    what=f"the OpenAI API answering 429 (Retry-After: {RETRY_AFTER_SECONDS}) for {LIMITED_SECONDS:g}s"):
        yield
