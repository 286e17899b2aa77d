"""The observers of one drill or exercise: the health probe and the synthetic users, together.

They run for the whole drill (or exercise) and answer the questions both ask of them: is the
stack warm (healthy before the fault goes in), since when does the symptom show, and since when
is steady state back (enough healthy probes in a row with no failure since, and every synthetic
user succeeding again after the last failed request). The rules live here once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from harness.clock import Clock
from harness.errors import GamedayError
from harness.observe.probe import DEFAULT_MAX_SAMPLES as PROBE_MAX_SAMPLES
from harness.observe.probe import DEFAULT_MAX_SECONDS as PROBE_MAX_SECONDS
from harness.observe.probe import HealthProbe
from harness.observe.samples import ProbeSample, RequestSample
from harness.observe.traffic import DEFAULT_MAX_REQUESTS as TRAFFIC_MAX_REQUESTS
from harness.observe.traffic import DEFAULT_MAX_SECONDS as TRAFFIC_MAX_SECONDS
from harness.observe.traffic import SyntheticTraffic
from harness.observe.verdict import probe_series, steady_since, success_ratio_series

if TYPE_CHECKING:
    from harness.scenarios import Observation
    from harness.stack.stack import Stack

WARMUP_TIMEOUT = 20.0  # the stack must look healthy to the probes before a fault is injected
WARMUP_OK_SAMPLES = 3
TRAFFIC_STEADY_REQUESTS = 3  # synthetic requests after the last failure before traffic counts as steady
SYMPTOM_POLL = 0.25


class Source(Protocol):
    """What the observers need of a probe or of the synthetic users (real ones, or harness.testing's)."""

    def start(self) -> None: ...

    def stop(self) -> bool: ...


class ProbeSource(Source, Protocol):
    def samples(self) -> list[ProbeSample]: ...

    def wait_until(self, predicate: Callable[[list[ProbeSample]], bool], timeout: float) -> bool: ...


class TrafficSource(Source, Protocol):
    def samples(self) -> list[RequestSample]: ...


@dataclass(frozen=True)
class Steady:
    """Whether steady state holds: since when, or why not."""

    since: float | None
    why: str = ""


class Observers:
    """A probe and (optionally) synthetic users; `with observers:` runs them."""

    def __init__(self, probe: ProbeSource, traffic: TrafficSource | None = None, users: Sequence[str] = (), *,
                 clock: Clock, closing: Callable[[], object] | None = None) -> None:
        self.probe = probe
        self.traffic = traffic
        self.users = tuple(users)
        self.clock = clock
        self.started = clock.now()
        self._closing = closing

    @classmethod
    def watching(cls, observation: Observation, stack: Stack, clock: Clock, *, span: float | None = None,
                 on_probe: Callable[[ProbeSample], None] | None = None) -> Observers:
        """The scenario's own observers of `stack`; `span` bounds how long they may run (seconds)."""
        check = observation.health(stack)
        probe_seconds = span or PROBE_MAX_SECONDS
        probe_samples = PROBE_MAX_SAMPLES if span is None else int(span / observation.probe_interval) + 100
        probe = HealthProbe(check, interval=observation.probe_interval, clock=clock, on_sample=on_probe,
                            max_seconds=probe_seconds, max_samples=probe_samples)
        traffic: SyntheticTraffic | None = None
        users: tuple[str, ...] = ()
        if observation.journey is not None:
            users = tuple(f"synthetic-{n}" for n in range(1, observation.users + 1))
            requests = TRAFFIC_MAX_REQUESTS if span is None else int(span / observation.pace + 1) * len(users) + 100
            traffic = SyntheticTraffic(observation.journey(stack), users, pace=observation.pace, clock=clock,
                                       max_seconds=span or TRAFFIC_MAX_SECONDS, max_requests=requests)
        close = getattr(check, "close", None)
        return cls(probe, traffic, users, clock=clock, closing=close if callable(close) else None)

    # -- running -------------------------------------------------------------------------------

    def __enter__(self) -> Observers:
        with contextlib.ExitStack() as undo:
            self.started = self.clock.now()
            self.probe.start()
            undo.callback(self.probe.stop)
            if self.traffic is not None:
                self.traffic.start()
            undo.pop_all()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop observing (idempotent); the samples stay."""
        try:
            for source in (self.probe, self.traffic):
                if source is not None:
                    source.stop()
        finally:
            if self._closing is not None:
                self._closing()
                self._closing = None

    # -- what they saw -------------------------------------------------------------------------

    def probes(self) -> list[ProbeSample]:
        return self.probe.samples()

    def requests(self) -> list[RequestSample]:
        return self.traffic.samples() if self.traffic is not None else []

    def wait_until_warm(self) -> None:
        """Wait until the last few probes are healthy; GamedayError (with the last probe's detail)
        when they are not within WARMUP_TIMEOUT: no fault goes into a stack that looks sick."""
        warm = self.probe.wait_until(
            lambda samples: len(samples) >= WARMUP_OK_SAMPLES and all(s.ok for s in samples[-WARMUP_OK_SAMPLES:]),
            timeout=WARMUP_TIMEOUT)
        if not warm:
            probes = self.probes()
            raise GamedayError(f"the stack did not look healthy to the probes before the fault "
                               f"(last probe: {probes[-1].detail if probes else 'none'})")

    def symptom_since(self, t0: float) -> float | None:
        """When the observers first saw the fault: the first failed probe or request at or after t0."""
        times = [s.t for s in self.probes() if s.t >= t0 and not s.ok]
        times += [r.t for r in self.requests() if r.t >= t0 and not r.ok]
        return min(times) if times else None

    def wait_for_symptom(self, t0: float, deadline: float) -> float | None:
        """Wait (until the clock reads `deadline`) for the symptom; when it showed, or None."""
        while (seen := self.symptom_since(t0)) is None and (now := self.clock.now()) < deadline:
            poll = min(SYMPTOM_POLL, deadline - now)
            failing = self.probe.wait_until(
                lambda samples: bool(samples) and samples[-1].t >= t0 and not samples[-1].ok, timeout=poll)
            if not failing and self.clock.now() - now < poll / 2:
                self.clock.sleep(poll)  # the probe has stopped: wait for the synthetic users instead of spinning
        return seen

    def steady(self, after: float, consecutive: int) -> Steady:
        """Steady state after `after`: `consecutive` healthy probes in a row with no failure since,
        and, with synthetic users, every one of them succeeding since the last failed request."""
        probes = self.probes()
        since = steady_since(probes, after, consecutive)
        if since is None:
            latest = max(probes, key=lambda s: s.t).detail if probes else "no probe yet"
            return Steady(None, f"health not steady ({consecutive} healthy probes in a row); last: {latest}")
        if self.users:
            traffic = self.traffic_steady(after)
            if traffic.since is None:
                return traffic
            since = max(since, traffic.since)
        return Steady(since)

    def traffic_steady(self, after: float) -> Steady:
        window = sorted((r for r in self.requests() if r.t >= after), key=lambda r: r.t)
        failures = [r for r in window if not r.ok]
        since = failures[-1].t if failures else after
        later = [r for r in window if r.t > since]
        waiting = set(self.users) - {r.user for r in later if r.ok}
        if len(later) < TRAFFIC_STEADY_REQUESTS or waiting:
            last = f"{failures[-1].user} {failures[-1].action} -> {failures[-1].status}" if failures else "none"
            return Steady(None, f"synthetic users not steady yet (waiting for "
                                f"{', '.join(sorted(waiting)) or 'requests'}; last failure: {last})")
        return Steady(later[0].t)

    def series(self, end: float, bucket: float) -> tuple[tuple[tuple[float, bool], ...],
                                                         tuple[tuple[float, int, int], ...]]:
        """The timeline's probe transitions and traffic per bucket, relative to when observing began,
        up to `end` (a clock reading)."""
        probes = [p for p in self.probes() if p.t <= end]
        return (tuple(probe_series(probes, self.started)),
                tuple(success_ratio_series(self.requests(), self.started, max(end, self.started), bucket)))
