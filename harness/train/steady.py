"""When the fault showed and when steady state came back, from the observers' samples alone.

The same rules as a drill's recovery (harness.drill.Drill.steady_state), written as pure
functions over samples so that the exercise controller can poll them while a person works:
`consecutive` healthy probes in a row after the symptom with no failure since, and every
synthetic user succeeding again after the last failed request.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.observe.samples import ProbeSample, RequestSample
from harness.observe.verdict import steady_since

TRAFFIC_STEADY_REQUESTS = 3  # requests in a row after the last failure before traffic counts as steady


def symptom_at(probes: Sequence[ProbeSample], requests: Sequence[RequestSample], t0: float) -> float | None:
    """When the observers first saw the fault: the first failed probe or request at or after t0."""
    times = [s.t for s in probes if s.t >= t0 and not s.ok] + [r.t for r in requests if r.t >= t0 and not r.ok]
    return min(times) if times else None


def traffic_steady_since(requests: Sequence[RequestSample], after: float, users: Sequence[str],
                         min_requests: int = TRAFFIC_STEADY_REQUESTS) -> tuple[float | None, str]:
    """Synthetic users are steady from their last failure on, once each of them succeeded since."""
    window = sorted((r for r in requests if r.t >= after), key=lambda r: r.t)
    failures = [r for r in window if not r.ok]
    since = failures[-1].t if failures else after
    later = [r for r in window if r.t > since]
    waiting = set(users) - {r.user for r in later if r.ok}
    if len(later) < min_requests or waiting:
        last = f"{failures[-1].user} {failures[-1].action} -> {failures[-1].status}" if failures else "none"
        return None, (f"synthetic users not steady yet (waiting for {', '.join(sorted(waiting)) or 'requests'}; "
                      f"last failure: {last})")
    return later[0].t, ""


def recovered_since(probes: Sequence[ProbeSample], requests: Sequence[RequestSample], users: Sequence[str], *,
                    after: float, consecutive: int) -> tuple[float | None, str]:
    """(since when steady, why not) over probes and, when there are synthetic users, their requests."""
    since = steady_since(probes, after, consecutive)
    if since is None:
        latest = max(probes, key=lambda s: s.t).detail if probes else "no probe yet"
        return None, f"health not steady ({consecutive} healthy probes in a row); last: {latest}"
    if users:
        traffic, why = traffic_steady_since(requests, after, users)
        if traffic is None:
            return None, why
        since = max(since, traffic)
    return since, ""
