"""Thread-safe sliding-window-log rate limiter keyed by arbitrary strings."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after: int


class RateLimiter:
    """At most ``limit`` hits per key in any ``window_seconds``; rejected hits are not recorded."""

    _SWEEP_THRESHOLD = 4096

    def __init__(self, window_seconds: float, clock: Callable[[], float]) -> None:
        if window_seconds <= 0:
            raise ValueError("window_seconds must be positive")
        self._window = float(window_seconds)
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _evict(self, log: deque[float], now: float) -> None:
        while log and now - log[0] >= self._window:
            log.popleft()

    def hit(self, key: str, limit: int) -> Decision:
        """Count one attempt for ``key`` if it is within ``limit``."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        with self._lock:
            now = self._clock()
            if len(self._hits) > self._SWEEP_THRESHOLD:
                self._sweep(now)
            log = self._hits.setdefault(key, deque())
            self._evict(log, now)
            while len(log) > limit:  # the limit was lowered since the last hit
                log.popleft()
            if len(log) < limit:
                log.append(now)
                return Decision(allowed=True, remaining=limit - len(log), retry_after=0)
            wait = log[0] + self._window - now
            return Decision(allowed=False, remaining=0, retry_after=max(1, math.ceil(wait)))

    def _sweep(self, now: float) -> None:
        for key in list(self._hits):
            self._evict(self._hits[key], now)
            if not self._hits[key]:
                del self._hits[key]

    def reset(self, key: str | None = None) -> None:
        """Forget one key's hits, or every key's when ``key`` is None."""
        with self._lock:
            if key is None:
                self._hits.clear()
            else:
                self._hits.pop(key, None)
