"""wait_for: bounded polling, tested on a fake clock (no test here ever really sleeps)."""

from __future__ import annotations

import math
import time

import pytest

from harness.clock import Clock
from harness.stack.waits import WaitTimeout, wait_for

EPSILON = 1e-9


class FakeClock:
    """Time that moves only when the code under test sleeps (or when a probe says it took time)."""

    def __init__(self, start: float = 1000.0, max_sleeps: int = 10_000) -> None:
        self.t = start
        self.sleeps: list[float] = []
        self.max_sleeps = max_sleeps

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, f"slept a negative time: {seconds}"
        self.sleeps.append(seconds)
        assert len(self.sleeps) <= self.max_sleeps, "wait_for kept sleeping: the loop is not bounded"
        self.t += seconds

    def clock(self) -> Clock:
        return Clock(now=self.now, sleep=self.sleep)


class Probe:
    """Answers (done, observation); done from the `succeed_on`-th call (never if None)."""

    def __init__(self, succeed_on: int | None = None, takes: float = 0.0, fake: FakeClock | None = None,
                 max_calls: int = 10_000) -> None:
        self.calls = 0
        self.succeed_on = succeed_on
        self.takes = takes
        self.fake = fake
        self.max_calls = max_calls
        self.seen_at: list[float] = []

    def __call__(self) -> tuple[bool, str]:
        self.calls += 1
        assert self.calls <= self.max_calls, "wait_for kept probing: the loop is not bounded"
        if self.fake is not None:
            self.seen_at.append(self.fake.t)
            self.fake.t += self.takes
        return self.succeed_on is not None and self.calls >= self.succeed_on, f"observation {self.calls}"


@pytest.fixture(autouse=True)
def no_real_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """wait_for must sleep through its clock; a direct time.sleep would slow the suite."""

    def refuse(seconds: float) -> None:
        raise AssertionError(f"time.sleep({seconds}) called; wait_for must use its clock")

    monkeypatch.setattr(time, "sleep", refuse)


def test_returns_the_observation_of_the_probe_that_succeeded() -> None:
    fake = FakeClock()
    probe = Probe(succeed_on=3)

    result = wait_for(probe, what="db ready", timeout=10, interval=0.5, clock=fake.clock())

    assert result == "observation 3"
    assert probe.calls == 3
    assert fake.sleeps == [0.5, 0.5]


def test_a_probe_that_succeeds_at_once_is_called_once_and_never_sleeps() -> None:
    fake = FakeClock()
    probe = Probe(succeed_on=1)

    assert wait_for(probe, what="x", timeout=5, interval=1, clock=fake.clock()) == "observation 1"
    assert probe.calls == 1
    assert fake.sleeps == []


def test_times_out_with_the_last_observation() -> None:
    fake = FakeClock()
    probe = Probe(succeed_on=None)

    with pytest.raises(WaitTimeout) as info:
        wait_for(probe, what="app healthy", timeout=2, interval=0.5, clock=fake.clock())

    error = info.value
    assert error.last == f"observation {probe.calls}"
    assert error.what == "app healthy"
    assert error.timeout == 2
    assert str(error) == f"app healthy did not happen within 2s (last seen: observation {probe.calls})"


def test_looks_one_last_time_at_the_deadline_before_giving_up() -> None:
    fake = FakeClock(start=0.0)
    probe = Probe(succeed_on=5, fake=fake)  # done only at the fifth look, at t = 4 * 0.25 = the deadline

    assert wait_for(probe, what="x", timeout=1.0, interval=0.25, clock=fake.clock()) == "observation 5"
    assert probe.seen_at[-1] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("timeout", "interval", "takes"),
    [(1.0, 0.25, 0.0), (1.0, 0.3, 0.0), (10.0, 3.0, 0.0), (0.5, 2.0, 0.0), (2.0, 0.25, 0.4), (5.0, 1.0, 0.01)],
)
def test_never_sleeps_past_the_deadline(timeout: float, interval: float, takes: float) -> None:
    fake = FakeClock(start=500.0)
    deadline = fake.t + timeout
    probe = Probe(succeed_on=None, takes=takes, fake=fake)

    with pytest.raises(WaitTimeout):
        wait_for(probe, what="x", timeout=timeout, interval=interval, clock=fake.clock())

    assert sum(fake.sleeps) <= timeout + EPSILON
    assert all(s <= interval + EPSILON for s in fake.sleeps)
    # Every sleep ended at or before the deadline, wherever the probes left the clock.
    assert fake.t <= deadline + takes + EPSILON
    assert all(at <= deadline + EPSILON for at in probe.seen_at)


@pytest.mark.parametrize(("timeout", "interval"), [(10.0, 1.0), (3.0, 0.25), (1.0, 0.3), (0.1, 5.0)])
def test_calls_the_probe_a_bounded_number_of_times(timeout: float, interval: float) -> None:
    fake = FakeClock()
    probe = Probe(succeed_on=None)

    with pytest.raises(WaitTimeout):
        wait_for(probe, what="x", timeout=timeout, interval=interval, clock=fake.clock())

    assert 2 <= probe.calls <= math.ceil(timeout / interval) + 1


def test_a_probe_slower_than_the_timeout_is_called_once() -> None:
    fake = FakeClock()
    probe = Probe(succeed_on=None, takes=5.0, fake=fake)

    with pytest.raises(WaitTimeout) as info:
        wait_for(probe, what="x", timeout=1.0, interval=0.1, clock=fake.clock())

    assert probe.calls == 1
    assert fake.sleeps == []
    assert info.value.last == "observation 1"


def test_the_probe_exception_propagates_unchanged() -> None:
    fake = FakeClock()

    def broken() -> tuple[bool, str]:
        raise ConnectionError("refused")

    with pytest.raises(ConnectionError, match="refused"):
        wait_for(broken, what="x", timeout=1.0, interval=0.1, clock=fake.clock())
