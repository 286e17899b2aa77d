"""HealthProbe: a background thread that checks health on a fixed cadence for the whole drill.

The cadence does not drift: each check is scheduled at the previous scheduled start plus `interval`;
a check that overruns makes the next one start at once, and the schedule continues from there
(no burst to catch up). A check that raises is a failed sample, never the end of the thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import TracebackType

import httpx

from harness import timing
from harness.clock import SYSTEM_CLOCK, Clock
from harness.observe.samples import ProbeSample, SampleLog

log = logging.getLogger(__name__)

Check = Callable[[], tuple[bool, int | None, str]]
"""One health check: (ok, HTTP status or None, a short human-readable detail)."""

DEFAULT_INTERVAL = 0.2
DEFAULT_MAX_SAMPLES = 20_000
DEFAULT_MAX_SECONDS = 3600.0
DEFAULT_STOP_TIMEOUT = 5.0
HTTP_CHECK_TIMEOUT = 2.0
HTTP_CHECK_KEEPALIVE = 2  # pooled connections kept: the current port, and the one before a restart
MAX_DETAIL = 200


def next_start(scheduled: float, now: float, interval: float) -> tuple[float, float]:
    """The next check's scheduled start and how long to wait for it, given the last scheduled start.

    On time: previous schedule + interval (so waits that overshoot do not accumulate). Late: now,
    without waiting. The wait is capped at `interval`, so a clock that misbehaves cannot stall the probe.
    """
    following = scheduled + interval
    if following <= now:
        return now, 0.0
    return following, min(following - now, interval)


class HealthProbe:
    """Calls `check()` every `interval` seconds in a daemon thread until `stop()`, `max_samples` or `max_seconds`.

    `with HealthProbe(check) as probe:` starts and stops it. `on_sample` is called in the probe's thread
    for every sample (an exception there is logged and ignored). A probe runs once: it cannot be restarted.
    """

    def __init__(self, check: Check, *, interval: float = DEFAULT_INTERVAL, clock: Clock = SYSTEM_CLOCK,
                 max_samples: int = DEFAULT_MAX_SAMPLES, max_seconds: float = DEFAULT_MAX_SECONDS,
                 on_sample: Callable[[ProbeSample], None] | None = None) -> None:
        if not interval > 0:  # also rejects NaN
            raise ValueError(f"HealthProbe needs a positive interval, got {interval!r}")
        if max_samples < 1:
            raise ValueError(f"HealthProbe needs max_samples >= 1, got {max_samples!r}")
        if not max_seconds > 0:
            raise ValueError(f"HealthProbe needs a positive max_seconds, got {max_seconds!r}")
        self._check = check
        self.interval = interval
        self.max_samples = max_samples
        self.max_seconds = max_seconds
        self._clock = clock
        self._on_sample = on_sample
        self._log: SampleLog[ProbeSample] = SampleLog()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None or self._stopping.is_set():
            raise RuntimeError("this HealthProbe was already started or stopped; make a new one")
        self._thread = threading.Thread(target=self._run, name="gameday-health-probe", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = DEFAULT_STOP_TIMEOUT) -> bool:
        """Stop and join; idempotent. False when a check still hangs after `timeout` (the thread is a daemon)."""
        self._stopping.set()
        if self._thread is None:
            self._log.close()
            return True
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("health probe still busy %.1fs after stop: a check is hanging", timeout)
            return False
        return True

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def samples(self) -> list[ProbeSample]:
        return self._log.snapshot()

    def latest(self) -> ProbeSample | None:
        return self._log.latest()

    def wait_until(self, predicate: Callable[[list[ProbeSample]], bool], timeout: float) -> bool:
        """Wait (woken per sample, real time) until `predicate(samples so far)` holds.

        False at the timeout, or as soon as the probe has finished without the predicate holding.
        """
        with timing.waiting(timing.STACK):
            return self._log.wait_until(predicate, timeout)

    def __enter__(self) -> HealthProbe:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            scheduled = self._clock.now()
            deadline = scheduled + self.max_seconds
            for _ in range(self.max_samples):
                if self._stopping.is_set() or self._clock.now() >= deadline:
                    break
                self._record(self._probe_once())
                scheduled, delay = next_start(scheduled, self._clock.now(), self.interval)
                if self._stopping.wait(delay):
                    break
        finally:
            self._log.close()

    def _probe_once(self) -> ProbeSample:
        started = self._clock.now()
        try:
            ok, status, detail = self._check()
        except Exception as exc:  # any failure of the check is an observation, not the end of observing
            ok, status, detail = False, None, type(exc).__name__
        return ProbeSample(t=started, ok=ok, status=status, latency=self._clock.now() - started, detail=detail)

    def _record(self, sample: ProbeSample) -> None:
        self._log.append(sample)
        if self._on_sample is not None:
            try:
                self._on_sample(sample)
            except Exception:
                log.exception("on_sample failed for %s; the probe goes on", sample)


class HttpCheck:
    """A health check over HTTP: GET the URL the factory gives now, ask `healthy` about the response.

    One shared httpx.Client for every call (a client per request costs CPU). The URL factory runs on
    every call, since a restarted container gets a new port. Close it (or use `with`) when done.
    """

    def __init__(self, url: Callable[[], str], healthy: Callable[[httpx.Response], bool],
                 timeout: float = HTTP_CHECK_TIMEOUT) -> None:
        self._url = url
        self._healthy = healthy
        # trust_env=False: the stack is published on 127.0.0.1; a proxy from the environment would turn
        # its own failures into a fake outage.
        self._client = httpx.Client(timeout=timeout, trust_env=False,
                                    limits=httpx.Limits(max_keepalive_connections=HTTP_CHECK_KEEPALIVE))

    def __call__(self) -> tuple[bool, int | None, str]:
        try:
            url = self._url()
        except Exception as exc:  # e.g. the container is gone, so it has no port: that is unhealthy
            return False, None, _short(f"no URL: {exc}" if str(exc) else f"no URL: {type(exc).__name__}")
        try:
            response = self._client.get(url)
        except httpx.HTTPError as exc:
            return False, None, _short(f"GET {url}: {type(exc).__name__} {exc}".rstrip())
        try:
            ok = bool(self._healthy(response))
        except Exception as exc:  # a body the predicate cannot read (bad JSON...) is an unhealthy answer
            return False, response.status_code, _short(f"{response.status_code}, unreadable: {type(exc).__name__}")
        return ok, response.status_code, _short(f"{response.status_code} {response.text}".rstrip())

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpCheck:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def http_check(url: Callable[[], str], healthy: Callable[[httpx.Response], bool],
               timeout: float = HTTP_CHECK_TIMEOUT) -> HttpCheck:
    """A Check for HealthProbe from a URL factory and a response predicate (see HttpCheck)."""
    return HttpCheck(url, healthy, timeout)


def _short(detail: str) -> str:
    return detail if len(detail) <= MAX_DETAIL else detail[:MAX_DETAIL - 3] + "..."
