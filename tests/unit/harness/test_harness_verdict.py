"""The drill's numbers: pure functions over synthetic sample series (no threads, no sleeping)."""

from __future__ import annotations

import pytest

from harness.observe.samples import ProbeSample, RequestSample
from harness.observe.verdict import (
    Recovery,
    TrafficStats,
    assess,
    first_failure,
    probe_series,
    steady_since,
    success_ratio_series,
    time_degraded,
    time_to_detect,
    traffic_stats,
)

T0 = 100.0


def probes(pattern: str, *, start: float = T0, step: float = 1.0) -> list[ProbeSample]:
    """One sample per character every `step` seconds from `start`: '.' ok, 'x' failed."""
    assert set(pattern) <= {".", "x"}, pattern
    return [ProbeSample(t=start + i * step, ok=c == ".", status=200 if c == "." else 503, latency=0.01, detail=c)
            for i, c in enumerate(pattern)]


def at(*points: tuple[float, bool]) -> list[ProbeSample]:
    """Samples at explicit times (ok or not), for irregular spacing."""
    return [ProbeSample(t=t, ok=ok, status=None, latency=0.0, detail="") for t, ok in points]


def req(t: float, user: str = "alice", ok: bool = True, action: str = "get") -> RequestSample:
    return RequestSample(t=t, user=user, action=action, ok=ok, status=200 if ok else 500, latency=0.05)


def recovery(samples: list[ProbeSample], requests: list[RequestSample] | None = None, *,
             fix_started: float | None = None, end: float | None = None, consecutive: int = 3,
             detect_budget: float = 5.0, recover_budget: float = 30.0) -> Recovery:
    end = samples[-1].t + 1.0 if end is None else end
    return assess(samples, requests or [], t0=T0, fix_started=fix_started, end=end, consecutive=consecutive,
                  detect_budget=detect_budget, recover_budget=recover_budget)


# detection

def test_failure_seen_right_at_t0_is_detected_in_zero_seconds() -> None:
    assert time_to_detect(probes("xxx..."), T0) == 0.0


def test_detection_time_counts_from_t0_to_the_first_failed_probe() -> None:
    assert time_to_detect(probes("...xx...", start=T0 - 1.0), T0) == 2.0


def test_failures_before_t0_are_not_a_detection() -> None:
    samples = probes("x.....", start=T0 - 1.0)
    assert first_failure(samples, T0) is None
    assert time_to_detect(samples, T0) is None


def test_fault_never_seen_is_not_detected_and_not_recovered() -> None:
    r = recovery(probes("........"))
    assert (r.detected, r.time_to_detect, r.detect_in_budget) == (False, None, False)
    assert (r.recovered, r.recovered_at, r.time_to_recover, r.recover_in_budget) == (False, None, None, False)
    assert r.time_degraded == 0.0


def test_detection_later_than_the_budget_is_out_of_budget() -> None:
    assert recovery(probes("......xx...."), detect_budget=5.0).detect_in_budget is False
    assert recovery(probes(".....xx...."), detect_budget=5.0).detect_in_budget is True


def test_samples_out_of_order_are_read_in_time_order() -> None:
    samples = probes("..xx..")
    assert first_failure(list(reversed(samples)), T0) == samples[2]


# recovery

def test_recovery_starts_at_the_first_sample_of_the_steady_run() -> None:
    r = recovery(probes("xxxx....."), fix_started=T0 + 2.0)
    assert r.recovered
    assert r.recovered_at == T0 + 4.0
    assert r.time_to_recover == 4.0
    assert r.time_to_recover_after_fix == 2.0
    assert r.flapped is False


def test_too_few_consecutive_ok_samples_is_not_yet_a_recovery() -> None:
    samples = probes("xxxx..")
    assert steady_since(samples, T0, consecutive=3) is None
    assert steady_since(samples, T0, consecutive=2) == T0 + 4.0
    assert recovery(samples, consecutive=3).recovered is False


def test_flapping_series_never_recovers() -> None:
    r = recovery(probes("x.x.x.x.x.x"), fix_started=T0 + 1.0, consecutive=1)
    assert r.recovered is False
    assert r.flapped is True
    assert steady_since(probes("x.x.x.x.x.x"), T0, consecutive=1) is None


def test_recovery_that_fails_again_is_not_a_recovery() -> None:
    r = recovery(probes("xx.....xx"), fix_started=T0 + 1.0)
    assert r.recovered is False
    assert r.recovered_at is None
    assert r.flapped is True
    assert r.traffic_after_recovery == TrafficStats.empty()


def test_recovery_after_a_relapse_counts_from_the_last_steady_run_and_is_flagged() -> None:
    r = recovery(probes("xx...xx...."), fix_started=T0 + 1.0)
    assert r.recovered_at == T0 + 7.0
    assert r.flapped is True


def test_steady_run_must_start_at_or_after_the_given_time() -> None:
    samples = probes("x......")
    assert steady_since(samples, T0 + 3.0, consecutive=3) == T0 + 3.0
    assert steady_since(samples, T0 + 5.0, consecutive=3) is None


def test_recovery_exactly_at_the_budget_is_in_budget() -> None:
    samples = probes("x" * 40 + "....", step=1.0)  # steady from T0 + 40
    assert recovery(samples, fix_started=T0 + 10.0, recover_budget=30.0).recover_in_budget is True
    assert recovery(samples, fix_started=T0 + 9.5, recover_budget=30.0).recover_in_budget is False


def test_recovery_budget_survives_float_noise_on_clock_readings() -> None:
    samples = at((T0, False), (T0 + 0.7, True), (T0 + 0.8, True), (T0 + 0.9, True))
    r = recovery(samples, fix_started=None, recover_budget=0.7)
    assert r.time_to_recover is not None
    assert r.time_to_recover > 0.7  # (100.0 + 0.7) - 100.0 is not 0.7 in binary floating point
    assert r.recover_in_budget is True


def test_without_a_fix_the_recover_budget_counts_from_t0() -> None:
    samples = probes("xxxxx...")
    assert recovery(samples, recover_budget=5.0).recover_in_budget is True
    r = recovery(samples, recover_budget=4.0)
    assert r.time_to_recover_after_fix is None
    assert r.recover_in_budget is False


def test_system_that_heals_before_the_fix_starts_recovers_in_zero_seconds_after_fix() -> None:
    r = recovery(probes("xx......"), fix_started=T0 + 5.0)
    assert r.recovered_at == T0 + 2.0
    assert r.time_to_recover_after_fix == 0.0


def test_failing_until_the_fix_is_not_flapping() -> None:
    assert recovery(probes("xxxxx...."), fix_started=T0 + 2.0).flapped is False


def test_detection_lag_after_t0_is_not_flapping_without_a_fix() -> None:
    assert recovery(probes("..xxx....")).flapped is False
    assert recovery(probes("..xx..xx....")).flapped is True


def test_samples_after_the_end_are_ignored() -> None:
    r = recovery(probes("xx....x"), end=T0 + 5.5)
    assert r.recovered_at == T0 + 2.0


# time degraded

def test_time_degraded_integrates_failures_with_irregular_spacing() -> None:
    samples = at((T0, True), (T0 + 0.5, False), (T0 + 0.7, False), (T0 + 2.0, True), (T0 + 2.1, False),
                 (T0 + 2.4, True))
    assert time_degraded(samples, T0, T0 + 10.0) == pytest.approx(1.5 + 0.3)


def test_time_degraded_counts_the_last_failure_until_the_end() -> None:
    assert time_degraded(at((T0, True), (T0 + 1.0, False)), T0, T0 + 4.0) == pytest.approx(3.0)


def test_time_degraded_is_clipped_to_the_window() -> None:
    samples = at((T0 - 2.0, False), (T0 + 1.0, True), (T0 + 3.0, False), (T0 + 9.0, True))
    assert time_degraded(samples, T0, T0 + 5.0) == pytest.approx(1.0 + 2.0)


def test_time_degraded_of_no_samples_is_zero() -> None:
    assert time_degraded([], T0, T0 + 5.0) == 0.0


# traffic

def test_traffic_stats_count_only_requests_inside_the_window_inclusive() -> None:
    requests = [req(T0 - 0.1, "early", ok=False), req(T0, "alice"), req(T0 + 1, "bob", ok=False),
                req(T0 + 2, "carol", ok=False), req(T0 + 2, "bob", ok=False), req(T0 + 3, "alice"),
                req(T0 + 3.1, "late", ok=False)]
    stats = traffic_stats(requests, T0, T0 + 3)
    assert stats == TrafficStats(total=5, failed=3, success_ratio=0.4, users_affected=("bob", "carol"))


def test_traffic_stats_of_an_empty_window_is_all_success() -> None:
    assert traffic_stats([req(T0)], T0 + 1, T0 + 2) == TrafficStats(0, 0, 1.0, ())


def test_assess_reports_traffic_during_the_drill_and_after_recovery() -> None:
    requests = [req(T0 - 1, "x", ok=False), req(T0 + 0.5, "alice", ok=False), req(T0 + 1.5, "bob"),
                req(T0 + 3.0, "bob"), req(T0 + 3.5, "carol", ok=False), req(T0 + 4.0, "alice")]
    r = recovery(probes("xxx...."), requests, fix_started=T0 + 1.0)
    assert r.recovered_at == T0 + 3.0
    assert r.traffic == TrafficStats(5, 2, 0.6, ("alice", "carol"))
    assert r.traffic_after_recovery == TrafficStats(3, 1, 2 / 3, ("carol",))


def test_success_ratio_series_buckets_requests_relative_to_start_with_empty_buckets() -> None:
    requests = [req(T0), req(T0 + 0.9, ok=False), req(T0 + 1.0), req(T0 + 3.5, ok=False), req(T0 + 4.0),
                req(T0 - 0.5), req(T0 + 4.5)]
    assert success_ratio_series(requests, T0, T0 + 4.0, bucket=1.0) == [
        (0.0, 1, 1), (1.0, 1, 0), (2.0, 0, 0), (3.0, 1, 1),  # the request at exactly `end` is in the last bucket
    ]


def test_success_ratio_series_refuses_a_bucket_that_is_not_positive() -> None:
    with pytest.raises(ValueError, match="positive bucket"):
        success_ratio_series([], T0, T0 + 1, bucket=0.0)


def test_probe_series_is_compressed_to_transitions() -> None:
    samples = probes("..xxx.x..", start=T0 - 2.0)
    assert probe_series(samples, T0) == [(-2.0, True), (0.0, False), (3.0, True), (4.0, False), (5.0, True)]


def test_probe_series_of_a_steady_probe_is_its_first_sample() -> None:
    assert probe_series(probes("....."), T0) == [(0.0, True)]
    assert probe_series([], T0) == []
