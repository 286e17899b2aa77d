"""Probe resolution: the interval each scenario's health probe is configured with, and the gaps the
real probe leaves between samples on a running stack while the scenario's synthetic users run
beside it (as during a drill). The journal records probe transitions only, so gaps are measured
here, with the harness's own HealthProbe and SyntheticTraffic, not read back from a gameday.
"""

from __future__ import annotations

import contextlib
import itertools
import time

from harness.observe.probe import HealthProbe
from harness.observe.traffic import SyntheticTraffic
from harness.scenarios import Observation
from harness.stack.stack import Stack

OBSERVE_SECONDS = 5.0


def probe_gaps(stack: Stack, observation: Observation, seconds: float = OBSERVE_SECONDS) -> list[float]:
    """Seconds between the starts of consecutive probe samples over `seconds` of observing."""
    check = observation.health(stack)
    with contextlib.ExitStack() as running:
        close = getattr(check, "close", None)
        if callable(close):
            running.callback(close)
        probe = running.enter_context(HealthProbe(check, interval=observation.probe_interval))
        if observation.journey is not None:
            users = [f"bench-user-{n}" for n in range(1, observation.users + 1)]
            running.enter_context(SyntheticTraffic(observation.journey(stack), users, pace=observation.pace))
        time.sleep(seconds)
    starts = [sample.t for sample in probe.samples()]
    return [later - earlier for earlier, later in itertools.pairwise(starts)]
