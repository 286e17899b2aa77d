"""db-slow: the network between the service and PostgreSQL turns slow (every reply from the
database arrives late), so responses climb past the 1000 ms alert while everything still works.

The fault is LinkLatency on the stack's `db` link (x-gameday.links in compose.yaml): the app's
connections to PostgreSQL go through a Toxiproxy proxy, and every chunk the database sends back
is delayed. The service opens a new connection for every use by default, and a connection's
handshake costs several round trips, so a chat message pays the delay many times over. The
runbook's mitigation (keep connections, DB_CONN_MAX_AGE_SECONDS) must hold while the link stays
slow: the fault is in place until the harness rolls it back.
"""

from __future__ import annotations

import dataclasses
import functools
import statistics
import time
import uuid
from collections.abc import Iterator

import httpx

from harness import DrillContext, LinkLatency
from scenarios.chatkit import APP_PORT, WATCH, chatkit_scenario, journey

LATENCY_MS = 160  # per reply from the database; a fresh connection's handshake takes several
ALERT_MS = 1000  # the incident guide's response-time alert
CHATS = 3  # timed per look; their median is what counts
REQUEST_TIMEOUT = 10.0
# The synthetic users count a reply slower than the alert as a failed step: that is the symptom.
SLOW_IS_FAILED = dataclasses.replace(WATCH, journey=functools.partial(journey, within=ALERT_MS / 1000))


def chat_times(drill: DrillContext) -> tuple[float | None, str]:
    """The median time (ms) of a few chat messages of a freshly logged-in user, or None and why not.
    A new user each time: the per-user rate limit must not turn a look into 429s."""
    base = drill.stack.endpoint("app", APP_PORT)
    try:
        with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT) as client:
            login = client.post("/auth/login", json={"user_id": f"latency-check-{uuid.uuid4().hex[:8]}"})
            if login.status_code != 200:
                return None, f"login answered {login.status_code}"
            token = str(login.json()["token"])
            drill.remember_secret(token)
            headers = {"Authorization": f"Bearer {token}"}
            times = []
            for turn in range(CHATS):
                started = time.monotonic()
                reply = client.post("/api/v1/chat", headers=headers, json={"message": f"ping {turn}"})
                times.append((time.monotonic() - started) * 1000)
                if reply.status_code != 200:
                    return None, f"a chat message answered {reply.status_code}"
    except httpx.HTTPError as exc:
        return None, f"the service did not answer: {type(exc).__name__}"
    median = statistics.median(times)
    shown = ", ".join(f"{t:.0f}" for t in times)
    return median, f"chat messages took {shown} ms (median {median:.0f}, alert {ALERT_MS})"


def chats_are_fast(drill: DrillContext) -> tuple[bool, str]:
    """Steady state, and the check after the fix: chat messages answer under the alert again."""
    median, seen = chat_times(drill)
    return median is not None and median < ALERT_MS, seen


def chats_are_slow(drill: DrillContext) -> tuple[bool, str]:
    """The fault's proof, from a user's side: chat messages take longer than the alert."""
    median, seen = chat_times(drill)
    return median is not None and median >= ALERT_MS, seen


@chatkit_scenario("db-slow", section="7a-slow-round-trips-to-the-database", severity="P2",
                  detect_within="15s", recover_within="60s", steady=chats_are_fast, checks=(chats_are_fast,),
                  observation=SLOW_IS_FAILED)
def db_slow(drill: DrillContext) -> Iterator[None]:
    """Replies from PostgreSQL reach the service late: responses climb past the 1000 ms alert"""
    with LinkLatency(drill.stack, "db", LATENCY_MS, proof=lambda: chats_are_slow(drill)):
        yield
