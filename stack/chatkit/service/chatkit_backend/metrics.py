"""In-memory request metrics served by ``GET /metrics``."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

RECENT_DURATIONS = 100


class MetricsTracker:
    """Counts requests, 5xx errors, 429s and recent response times; thread-safe."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._started = clock()
        self._lock = threading.Lock()
        self._total = 0
        self._errors = 0
        self._rate_limit_hits = 0
        self._durations: deque[float] = deque(maxlen=RECENT_DURATIONS)

    def record(self, status_code: int, duration_ms: float) -> None:
        with self._lock:
            self._total += 1
            if status_code >= 500:
                self._errors += 1
            self._durations.append(duration_ms)

    def record_rate_limit_hit(self) -> None:
        with self._lock:
            self._rate_limit_hits += 1

    def uptime_seconds(self) -> int:
        return max(0, int(self._clock() - self._started))

    def snapshot(self) -> dict[str, int | float]:
        with self._lock:
            total, errors, durations = self._total, self._errors, list(self._durations)
            hits = self._rate_limit_hits
        return {
            "total_requests": total,
            "error_count": errors,
            "error_rate_percent": round(100.0 * errors / total, 2) if total else 0.0,
            "rate_limit_hits": hits,
            "avg_response_ms": round(sum(durations) / len(durations), 2) if durations else 0.0,
            "uptime_seconds": self.uptime_seconds(),
        }
