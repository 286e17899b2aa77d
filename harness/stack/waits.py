"""Explicit waits: poll a condition until it holds or a deadline passes, never an open loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from harness import timing

# Re-exported only for importers not yet moved to harness.clock (harness/scenarios.py).
from harness.clock import SYSTEM_CLOCK as SYSTEM_CLOCK
from harness.clock import Clock as Clock

T = TypeVar("T")


class WaitTimeout(Exception):
    """The condition did not hold in time; `last` is the last observation, for the message."""

    def __init__(self, what: str, timeout: float, last: str) -> None:
        self.what, self.timeout, self.last = what, timeout, last
        super().__init__(f"{what} did not happen within {timeout:g}s (last seen: {last})")


def wait_for(probe: Callable[[], tuple[bool, str]], *, what: str, timeout: float, interval: float,
             clock: Clock = SYSTEM_CLOCK) -> str:
    """Call `probe` (which returns (done, observation)) until done; returns the last observation.

    Bounded: at most `timeout` seconds of polling every `interval` seconds, then WaitTimeout.
    """
    if not (timeout > 0 and interval > 0):  # also rejects NaN
        raise ValueError(f"wait_for needs a positive timeout and interval, got {timeout!r}, {interval!r}")
    with timing.waiting(timing.STACK):
        return _poll(probe, what, timeout, interval, clock)


def _poll(probe: Callable[[], tuple[bool, str]], what: str, timeout: float, interval: float, clock: Clock) -> str:
    deadline = clock.now() + timeout
    last = "nothing yet"
    while True:
        done, last = probe()
        if done:
            return last
        remaining = deadline - clock.now()
        if remaining <= 0:
            raise WaitTimeout(what, timeout, last)
        clock.sleep(min(interval, remaining))
