"""The drill's numbers, computed afterwards by pure functions over the recorded samples.

Times are absolute clock readings unless a name says otherwise (`time_to_*` are durations; series
are relative to the `start` given). Samples may come in any order: each function sorts by `t`.
Budgets are inclusive, with BUDGET_EPSILON of slack for float arithmetic on clock readings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from harness.observe.samples import ProbeSample, RequestSample

BUDGET_EPSILON = 1e-9
MAX_BUCKETS = 100_000


def _by_time(samples: Sequence[ProbeSample]) -> list[ProbeSample]:
    return sorted(samples, key=lambda sample: sample.t)


def first_failure(samples: Sequence[ProbeSample], after: float) -> ProbeSample | None:
    """The first failed sample at or after `after`, or None."""
    return next((s for s in _by_time(samples) if s.t >= after and not s.ok), None)


def time_to_detect(samples: Sequence[ProbeSample], t0: float) -> float | None:
    """Seconds from the fault (t0) to the first failed probe at or after it; None: never detected."""
    failed = first_failure(samples, t0)
    return None if failed is None else failed.t - t0


def steady_since(samples: Sequence[ProbeSample], after: float, consecutive: int) -> float | None:
    """Start of the first run of `consecutive` ok samples beginning at or after `after` that never fails again.

    A run followed by any later failure is flapping, not steady. None when there is no such run.
    """
    if consecutive < 1:
        raise ValueError(f"steady_since needs consecutive >= 1, got {consecutive!r}")
    ordered = _by_time(samples)
    last_failure = max((i for i, s in enumerate(ordered) if not s.ok), default=-1)
    tail = [s for s in ordered[last_failure + 1:] if s.t >= after]  # all ok, by construction
    return tail[0].t if len(tail) >= consecutive else None


def time_degraded(samples: Sequence[ProbeSample], start: float, end: float) -> float:
    """Seconds within [start, end] the probe was failing: each failed sample counts until the next sample.

    The last sample counts until `end`; a failed sample taken before `start` counts from `start`.
    """
    ordered = _by_time(samples)
    total = 0.0
    for i, sample in enumerate(ordered):
        if sample.ok:
            continue
        until = ordered[i + 1].t if i + 1 < len(ordered) else end
        total += max(0.0, min(until, end) - max(sample.t, start))
    return total


@dataclass(frozen=True)
class TrafficStats:
    """Synthetic requests in a window: how many, how many failed, and which users saw a failure (sorted)."""

    total: int
    failed: int
    success_ratio: float
    users_affected: tuple[str, ...]

    @classmethod
    def empty(cls) -> TrafficStats:
        return cls(total=0, failed=0, success_ratio=1.0, users_affected=())


def traffic_stats(requests: Sequence[RequestSample], start: float, end: float) -> TrafficStats:
    """Stats over the requests that started within [start, end] (success ratio 1.0 when there are none)."""
    window = [r for r in requests if start <= r.t <= end]
    failed = [r for r in window if not r.ok]
    if not window:
        return TrafficStats.empty()
    return TrafficStats(total=len(window), failed=len(failed), success_ratio=(len(window) - len(failed)) / len(window),
                        users_affected=tuple(sorted({r.user for r in failed})))


def success_ratio_series(requests: Sequence[RequestSample], start: float, end: float,
                         bucket: float) -> list[tuple[float, int, int]]:
    """(bucket start relative to `start`, ok, failed) for every bucket of [start, end], empty ones included.

    The last bucket may be shorter; a request at exactly `end` falls in it.
    """
    if not bucket > 0:  # also rejects NaN
        raise ValueError(f"success_ratio_series needs a positive bucket, got {bucket!r}")
    if not end >= start:
        raise ValueError(f"success_ratio_series needs end >= start, got {start!r}..{end!r}")
    count = max(1, math.ceil((end - start) / bucket))
    if count > MAX_BUCKETS:
        raise ValueError(f"{count} buckets of {bucket:g}s is too many for a chart (at most {MAX_BUCKETS}); "
                         f"use a larger bucket")
    ok = [0] * count
    failed = [0] * count
    for request in requests:
        if not start <= request.t <= end:
            continue
        index = min(int((request.t - start) / bucket), count - 1)
        if request.ok:
            ok[index] += 1
        else:
            failed[index] += 1
    return [(i * bucket, ok[i], failed[i]) for i in range(count)]


def probe_series(samples: Sequence[ProbeSample], start: float) -> list[tuple[float, bool]]:
    """The probe's state changes for a timeline: the first sample, then each flip, at times relative to `start`.

    Samples before `start` are kept (negative times): they show the baseline before the fault.
    """
    series: list[tuple[float, bool]] = []
    for sample in _by_time(samples):
        if not series or series[-1][1] != sample.ok:
            series.append((sample.t - start, sample.ok))
    return series


@dataclass(frozen=True)
class Recovery:
    """Everything the drill measured about detection and recovery; absolute times are clock readings."""

    detected: bool
    time_to_detect: float | None
    recovered: bool
    recovered_at: float | None
    time_to_recover: float | None
    time_to_recover_after_fix: float | None
    time_degraded: float
    detect_in_budget: bool
    recover_in_budget: bool
    flapped: bool
    traffic: TrafficStats
    traffic_after_recovery: TrafficStats


def flapped_after(samples: Sequence[ProbeSample], since: float) -> bool:
    """True when, at or after `since`, an ok sample is later followed by a failed one."""
    seen_ok = False
    for sample in _by_time(samples):
        if sample.t < since:
            continue
        if sample.ok:
            seen_ok = True
        elif seen_ok:
            return True
    return False


def assess(samples: Sequence[ProbeSample], requests: Sequence[RequestSample], *, t0: float,
           fix_started: float | None, end: float, consecutive: int, detect_budget: float,
           recover_budget: float) -> Recovery:
    """The drill's detection and recovery numbers, from samples up to `end`.

    Recovery needs a detection first (there is nothing to recover from otherwise): it is the start of
    the steady run (`steady_since`) after the first failure. A system that healed itself before the
    fix started has time_to_recover_after_fix 0. The recover budget is measured from fix_started, or
    from t0 without one. Flapping is an ok sample followed by a failure, looked for from fix_started
    (from the first failure without one).
    """
    window = [s for s in samples if s.t <= end]
    failure = first_failure(window, t0)
    detected = failure is not None
    ttd = None if failure is None else failure.t - t0
    recovered_at = None if failure is None else steady_since(window, failure.t, consecutive)
    recovered = recovered_at is not None
    ttr = None if recovered_at is None else recovered_at - t0
    ttr_after_fix = None
    if recovered_at is not None and fix_started is not None:
        ttr_after_fix = max(0.0, recovered_at - fix_started)
    budgeted = ttr if fix_started is None else ttr_after_fix
    if fix_started is not None:
        flapped = flapped_after(window, fix_started)
    else:
        flapped = failure is not None and flapped_after(window, failure.t)
    return Recovery(
        detected=detected,
        time_to_detect=ttd,
        recovered=recovered,
        recovered_at=recovered_at,
        time_to_recover=ttr,
        time_to_recover_after_fix=ttr_after_fix,
        time_degraded=time_degraded(window, t0, end),
        detect_in_budget=ttd is not None and ttd <= detect_budget + BUDGET_EPSILON,
        recover_in_budget=budgeted is not None and budgeted <= recover_budget + BUDGET_EPSILON,
        flapped=flapped,
        traffic=traffic_stats(requests, t0, end),
        traffic_after_recovery=(TrafficStats.empty() if recovered_at is None
                                else traffic_stats(requests, recovered_at, end)),
    )
