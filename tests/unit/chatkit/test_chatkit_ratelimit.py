"""Sliding-window rate limiter, driven by a fake clock."""

import threading

import pytest
from chatkit_backend.ratelimit import Decision, RateLimiter


class FakeClock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_allows_limit_hits_then_rejects() -> None:
    limiter = RateLimiter(60, FakeClock())
    decisions = [limiter.hit("k", 3) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert [d.retry_after for d in decisions[:3]] == [0, 0, 0]


def test_retry_after_counts_until_the_oldest_hit_leaves_the_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, clock)
    for t in (0, 10, 20):
        clock.now = t
        limiter.hit("k", 3)
    clock.now = 25
    assert limiter.hit("k", 3) == Decision(allowed=False, remaining=0, retry_after=35)


def test_retry_after_rounds_up_and_is_at_least_one_second() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, clock)
    limiter.hit("k", 1)
    clock.now = 59.5
    assert limiter.hit("k", 1).retry_after == 1
    clock.now = 59.999
    assert limiter.hit("k", 1).retry_after == 1
    clock.now = 0.25
    assert limiter.hit("k", 1).retry_after == 60


def test_window_slides_when_the_oldest_hit_ages_out() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, clock)
    for t in (0, 10, 20):
        clock.now = t
        assert limiter.hit("k", 3).allowed
    clock.now = 60
    assert limiter.hit("k", 3).allowed
    rejected = limiter.hit("k", 3)
    assert not rejected.allowed
    assert rejected.retry_after == 10


def test_rejected_hits_are_not_recorded() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, clock)
    for _ in range(3):
        limiter.hit("k", 3)
    clock.now = 30
    assert not any(limiter.hit("k", 3).allowed for _ in range(10))
    clock.now = 60
    assert [limiter.hit("k", 3).allowed for _ in range(4)] == [True, True, True, False]


def test_keys_are_independent() -> None:
    limiter = RateLimiter(60, FakeClock())
    assert limiter.hit("chat:alice", 1).allowed
    assert not limiter.hit("chat:alice", 1).allowed
    assert limiter.hit("chat:bob", 1).allowed
    assert limiter.hit("save:alice", 1).allowed


def test_reset_one_key_or_all_keys() -> None:
    limiter = RateLimiter(60, FakeClock())
    limiter.hit("a", 1)
    limiter.hit("b", 1)
    limiter.reset("a")
    assert limiter.hit("a", 1).allowed
    assert not limiter.hit("b", 1).allowed
    limiter.reset()
    assert limiter.hit("a", 1).allowed
    assert limiter.hit("b", 1).allowed


def test_lowering_the_limit_applies_immediately() -> None:
    limiter = RateLimiter(60, FakeClock())
    for _ in range(5):
        limiter.hit("k", 5)
    assert not limiter.hit("k", 2).allowed


def test_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        RateLimiter(60, FakeClock()).hit("k", 0)


def test_concurrent_hits_never_exceed_the_limit() -> None:
    limiter = RateLimiter(60, FakeClock())
    allowed: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            result = limiter.hit("shared", 100).allowed
            with lock:
                allowed.append(result)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 100
    assert len(allowed) == 400
