"""leadprosper-lossy-link: the network between the app and LeadProsper loses packets, and keeps
losing them through the fix: the runbook's mitigation must hold on the lossy link itself."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from harness import DrillContext, PacketLoss, WaitTimeout, wait_for
from scenarios.redis_chat import (
    APP_PORT,
    CONTROL_TIMEOUT,
    COOKIE,
    delivered_leads,
    every_lead_delivered,
    lead_counts,
    redis_chat_scenario,
)

# Each way: a request and its answer both get through with 0.7 * 0.7 = 49 %. Measured with the app's own
# submitter over this link (bench/lossy_link_attempts.py: no retry, 1.5 s per attempt), 47 of 300
# attempts (16 %) got no answer in time. With 3 retries a lead fails when 4 attempts in a row do, about
# 1 in 1,600: over the ~30 leads of a drill that failed a CI run. The runbook's 6 retries need 7 in a
# row, about 1 in 400,000. At 40 % loss even 3 retries lost 3 of 50: past what this mitigation holds.
# The check below is probabilistic: a runbook that only requeues fails it 92 % of the time (1 - 0.84 ** 15).
LOSS_RATE = 0.3
# The detection budget stays 5 s on purpose: the synthetic users see a lossy link late and at random
# (a lead overdue after 7 s in one drill, none within 15 s in two of three), so a longer budget only
# delays the diagnosis; the runbook's own count of unanswered health checks finds the loss at once,
# and the report's time to detect is then the end of that diagnosis (8-10 s).
BURST = 15  # leads sent through the still lossy link after the fix; each must arrive, none may fail
BURST_SETTLE_SECONDS = 45.0  # the worker submits them one after another: p50 0.3 s each, 8 s seen


def leads_cross_the_lossy_link(drill: DrillContext) -> tuple[bool, str]:
    """A burst of leads taken now, while the link still loses packets, all reach LeadProsper and none
    lands in lead_failed (a lead that fails is not retried: one is enough to say no)."""
    try:
        sent = _send_burst(drill)
        if isinstance(sent, str):
            return False, sent

        def arrived() -> tuple[bool, str]:
            failed = lead_counts(drill.stack).get("failed", 0)
            missing = sent - delivered_leads(drill.stack)
            if failed:
                raise _Failed(f"{failed} lead(s) in lead_failed; {len(missing)} of the {BURST} sent not received")
            return not missing, f"{BURST - len(missing)} of {BURST} leads received by LeadProsper"

        return True, wait_for(arrived, what="the burst of leads delivered", timeout=BURST_SETTLE_SECONDS, interval=0.5)
    except (_Failed, httpx.HTTPError, ValueError) as exc:
        return False, str(exc) or type(exc).__name__
    except WaitTimeout as exc:
        return False, str(exc.last)


def _send_burst(drill: DrillContext) -> set[str] | str:
    """The ids of BURST leads the app took, or why it did not take them."""
    with httpx.Client(base_url=drill.stack.endpoint("app", APP_PORT), timeout=CONTROL_TIMEOUT) as client:
        cookie = client.get("/api/chat", headers={"Cookie": "visitor=lossy-link-check"}).cookies.get(COOKIE)
        if not cookie:
            return "the app gave no session to send the burst of leads with"
        sent: set[str] = set()
        for number in range(BURST):
            lead = {"name": "Link Check", "email": f"link-check.{number}@example.test", "phone": "555-0100"}
            answer = client.post("/api/chat", json={"message": "I was hurt in a car accident", "lead": lead},
                                 headers={"Cookie": f"{COOKIE}={cookie}"})
            if answer.status_code != 200 or not answer.json().get("lead_id"):
                return f"the app did not take lead {number + 1} of {BURST}: {answer.status_code}"
            sent.add(str(answer.json()["lead_id"]))
        return sent


class _Failed(Exception):
    """A lead of the burst failed: no need to wait for the rest."""


@redis_chat_scenario("leadprosper-lossy-link", section="7-lossy-link-to-leadprosper", severity="P1",
                     detect_within="5s", recover_within="30s", steady=every_lead_delivered,
                     checks=(every_lead_delivered, leads_cross_the_lossy_link))
def leadprosper_lossy_link(drill: DrillContext) -> Iterator[None]:
    """The link between the app and LeadProsper drops 30 % of packets each way, through fix and verify"""
    with PacketLoss(drill.stack, "app", LOSS_RATE, peer="leadprosper"):
        yield
