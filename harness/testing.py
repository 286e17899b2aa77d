"""Public fakes for checking drill logic without Docker: a clock, scripted observers.

For users' own unit tests (of their scenarios' verdicts) and for ours. Time never passes by
itself: the `FakeClock` moves only when something sleeps or waits on it, so a test of a whole
drill or of a steady-state rule runs in milliseconds and the same way every time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from harness.clock import Clock
from harness.observe.observers import Observers
from harness.observe.samples import ProbeSample, RequestSample


class FakeClock(Clock):
    """A monotonic clock that moves only when told (`advance`) or when code sleeps on it."""

    _reading: list[float]

    def __init__(self, start: float = 0.0) -> None:
        reading = [start]  # Clock is frozen: the reading lives in a cell it closes over
        object.__setattr__(self, "_reading", reading)
        super().__init__(now=lambda: reading[0], sleep=self.advance)

    @property
    def t(self) -> float:
        return self._reading[0]

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass (what sleeping on this clock does)."""
        if seconds > 0:
            self._reading[0] += seconds


class _Scripted:
    """Samples that become visible as the fake clock reaches their time."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.started = self.stopped = False

    def start(self) -> None:
        self.started = True

    def stop(self) -> bool:
        self.stopped = True
        return True


class ScriptedProbe(_Scripted):
    """A health probe whose samples are given up front (or by a function of the time)."""

    def __init__(self, clock: FakeClock, samples: Iterable[ProbeSample] = (), *,
                 healthy: Callable[[float], bool] | None = None, interval: float = 0.2, until: float = 3600.0) -> None:
        super().__init__(clock)
        if healthy is not None:
            count = int((until - clock.now()) / interval)
            samples = [ProbeSample(round(clock.now() + n * interval, 6), healthy(clock.now() + n * interval),
                                   200, 0.001, "") for n in range(count)]
        self.script = sorted(samples, key=lambda s: s.t)
        self.interval = interval

    def samples(self) -> list[ProbeSample]:
        return [s for s in self.script if s.t <= self.clock.now()]

    def wait_until(self, predicate: Callable[[list[ProbeSample]], bool], timeout: float) -> bool:
        deadline = self.clock.now() + timeout
        while not predicate(self.samples()):
            later = [s.t for s in self.script if s.t > self.clock.now()]
            if not later or later[0] > deadline:
                self.clock.advance(deadline - self.clock.now())
                return predicate(self.samples())
            self.clock.advance(later[0] - self.clock.now())
        return True


class ScriptedTraffic(_Scripted):
    """Synthetic users' requests given up front."""

    def __init__(self, clock: FakeClock, requests: Iterable[RequestSample] = ()) -> None:
        super().__init__(clock)
        self.script = sorted(requests, key=lambda r: r.t)

    def samples(self) -> list[RequestSample]:
        return [r for r in self.script if r.t <= self.clock.now()]


def scripted_observers(clock: FakeClock, probes: Iterable[ProbeSample] | ScriptedProbe,
                       requests: Iterable[RequestSample] = (), users: Sequence[str] = ()) -> Observers:
    """Observers that see exactly the given samples, each once the clock reaches it."""
    probe = probes if isinstance(probes, ScriptedProbe) else ScriptedProbe(clock, probes)
    traffic = ScriptedTraffic(clock, requests) if users else None
    return Observers(probe, traffic, users, clock=clock)
