"""Request metrics arithmetic behind GET /metrics."""

from chatkit_backend.metrics import MetricsTracker


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_zero_requests_snapshot() -> None:
    snapshot = MetricsTracker(FakeClock()).snapshot()
    assert snapshot == {
        "total_requests": 0,
        "error_count": 0,
        "error_rate_percent": 0.0,
        "rate_limit_hits": 0,
        "avg_response_ms": 0.0,
        "uptime_seconds": 0,
    }


def test_error_rate_counts_only_5xx_and_rounds_to_two_places() -> None:
    metrics = MetricsTracker(FakeClock())
    for status in (200, 500, 503, 404, 401, 429):
        metrics.record(status, 1.0)
    snapshot = metrics.snapshot()
    assert snapshot["total_requests"] == 6
    assert snapshot["error_count"] == 2
    assert snapshot["error_rate_percent"] == 33.33


def test_rate_limited_responses_are_not_errors() -> None:
    metrics = MetricsTracker(FakeClock())
    metrics.record(429, 2.0)
    metrics.record_rate_limit_hit()
    snapshot = metrics.snapshot()
    assert (snapshot["error_count"], snapshot["rate_limit_hits"]) == (0, 1)
    assert snapshot["error_rate_percent"] == 0.0


def test_average_uses_only_the_last_100_durations() -> None:
    metrics = MetricsTracker(FakeClock())
    for _ in range(50):
        metrics.record(200, 1000.0)
    for _ in range(100):
        metrics.record(200, 10.0)
    assert metrics.snapshot()["avg_response_ms"] == 10.0
    metrics.record(200, 20.0)
    assert metrics.snapshot()["avg_response_ms"] == 10.1
    assert metrics.snapshot()["total_requests"] == 151


def test_average_is_rounded_to_two_places() -> None:
    metrics = MetricsTracker(FakeClock())
    for duration in (1.0, 1.0, 2.0):
        metrics.record(200, duration)
    assert metrics.snapshot()["avg_response_ms"] == 1.33


def test_uptime_is_whole_seconds_since_construction() -> None:
    clock = FakeClock(1000.0)
    metrics = MetricsTracker(clock)
    clock.now = 1090.9
    assert metrics.snapshot()["uptime_seconds"] == 90
    assert metrics.uptime_seconds() == 90
