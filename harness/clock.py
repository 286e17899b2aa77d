"""Time, injected: every wait, probe and drill reads a Clock, so timing logic is tested without sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Clock:
    """Monotonic time and sleep, injectable so that waiting logic can be tested without waiting."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


SYSTEM_CLOCK = Clock()
