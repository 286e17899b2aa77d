"""openai-rate-limited: the OpenAI API answers 429; category detection falls back to `general`."""

from __future__ import annotations

from collections.abc import Iterator

from harness import DrillContext, HttpSwitch
from scenarios.redis_chat import control, redis_chat_scenario

LIMITED_SECONDS = 20.0  # the provider's rate-limit window: it ends by itself, as a real one does
RETRY_AFTER_SECONDS = 2


@redis_chat_scenario("openai-rate-limited", section="2-category-detection-failures", severity="P2",
                     detect_within="10s", recover_within="45s")
def openai_rate_limited(drill: DrillContext) -> Iterator[None]:
    """The OpenAI API rate-limits the account (429): every visitor gets the generic answer"""
    with HttpSwitch(lambda: control(drill.stack, "openai"),
                    on={"mode": "rate-limited", "retry_after": RETRY_AFTER_SECONDS, "seconds": LIMITED_SECONDS},
                    off={"mode": "healthy"}, in_effect=lambda state: state.get("mode") == "rate-limited",
                    what=f"the OpenAI API answering 429 (Retry-After: {RETRY_AFTER_SECONDS}) for {LIMITED_SECONDS:g}s"):
        yield
