"""openai-link-stalled: the network path to the OpenAI API stalls (connections accepted, nothing
comes back) for a while, with the provider itself healthy: the `openai` link's proxy passes no data."""

from __future__ import annotations

from collections.abc import Iterator

from harness import DrillContext, LinkTimeout, Stack
from scenarios.php_chatbot import dead_letters_requeued_and_answered, php_chatbot_scenario

# The network blip: it clears by itself. openai-timeouts' 12 s stall, plus what the proof spends of it,
# so the runbook's diagnosis still runs inside the stall.
STALLED_SECONDS = 15.0
PROOF_CURL_SECONDS = 1  # the bounded call from web that shows the stall (a healthy answer takes milliseconds)
PROOF_EXEC_SLACK = 3.0  # what docker exec may add to it
# From web, as the worker calls it: the upstream's health through the link (000 = no answer in time).
STALL_PROOF = (f"curl -s -m {PROOF_CURL_SECONDS} -o /dev/null -w '%{{http_code}} %{{time_connect}}' "
               "http://api.openai.internal:8080/health")


def stalled_from_web(stack: Stack) -> tuple[bool, str]:
    """A call from web to the API is accepted (it connects) and gets no answer before its deadline."""
    result = stack.host("web").exec(STALL_PROOF, timeout=PROOF_CURL_SECONDS + PROOF_EXEC_SLACK)
    status, _, connect = result.stdout.strip().partition(" ")
    try:
        connected = float(connect) > 0
    except ValueError:
        connected = False
    if status == "000" and connected:
        return True, (f"from web, the API accepted the connection (in {float(connect) * 1000:.0f} ms) and did "
                      f"not answer within {PROOF_CURL_SECONDS}s (curl exit {result.exit_code})")
    return False, f"from web: HTTP {status or '?'}, connect {connect or '?'}s, curl exit {result.exit_code}"


@php_chatbot_scenario("openai-link-stalled", section="timeout-issues", severity="P1", detect_within="12s",
                      recover_within="60s", steady=dead_letters_requeued_and_answered,
                      checks=(dead_letters_requeued_and_answered,))
def openai_link_stalled(drill: DrillContext) -> Iterator[None]:
    """The network path to the OpenAI API stalls: calls connect, then nothing comes back"""
    with LinkTimeout(drill.stack, "openai", lasting=STALLED_SECONDS, proof=lambda: stalled_from_web(drill.stack)):
        yield
