"""SyntheticTraffic: a few simulated users making real requests for the whole drill.

A Journey performs exactly one request for one user per call and keeps where that user is in its
own state dict (logged in, last message sent...), so the harness can pace, bound and stop it
without knowing the application. Anything a journey raises is a failed request, never the end of
the user.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType

import httpx

from harness.clock import SYSTEM_CLOCK, Clock
from harness.observe.samples import RequestSample, SampleLog

log = logging.getLogger(__name__)

Journey = Callable[[httpx.Client, str, dict[str, object]], tuple[str, bool, int | None]]
"""(shared client, user id, that user's state) -> (action name, ok, HTTP status or None), one request per call."""

ERROR_ACTION = "error"
DEFAULT_PACE = 1.0
DEFAULT_MAX_REQUESTS = 10_000
DEFAULT_MAX_SECONDS = 900.0
DEFAULT_REQUEST_TIMEOUT = 3.0
DEFAULT_STOP_TIMEOUT = 5.0


class SyntheticTraffic:
    """One daemon thread per user: journey, then wait `pace` seconds; until stop(), max_requests in all, or max_seconds.

    All users share one httpx.Client (timeout `request_timeout`), made on start() and closed on stop().
    `on_sample` is called in the user's thread (an exception there is logged and ignored). Runs once.
    """

    def __init__(self, journey: Journey, users: Sequence[str], *, pace: float = DEFAULT_PACE,
                 clock: Clock = SYSTEM_CLOCK, max_requests: int = DEFAULT_MAX_REQUESTS,
                 max_seconds: float = DEFAULT_MAX_SECONDS, request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
                 on_sample: Callable[[RequestSample], None] | None = None) -> None:
        if not users:
            raise ValueError("SyntheticTraffic needs at least one user")
        if len(set(users)) != len(users):
            raise ValueError(f"SyntheticTraffic users must be unique, got {list(users)!r}")
        if not pace > 0:  # also rejects NaN
            raise ValueError(f"SyntheticTraffic needs a positive pace, got {pace!r}")
        if max_requests < 1:
            raise ValueError(f"SyntheticTraffic needs max_requests >= 1, got {max_requests!r}")
        if not (max_seconds > 0 and request_timeout > 0):
            raise ValueError(f"SyntheticTraffic needs a positive max_seconds and request_timeout, "
                             f"got {max_seconds!r}, {request_timeout!r}")
        self._journey = journey
        self.users = tuple(users)
        self.pace = pace
        self.max_requests = max_requests
        self.max_seconds = max_seconds
        self.request_timeout = request_timeout
        self._clock = clock
        self._on_sample = on_sample
        self._log: SampleLog[RequestSample] = SampleLog()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._issued = 0
        self._alive = 0
        self._deadline = 0.0
        self._threads: list[threading.Thread] = []
        self._client: httpx.Client | None = None

    def start(self) -> None:
        if self._threads or self._stopping.is_set():
            raise RuntimeError("this SyntheticTraffic was already started or stopped; make a new one")
        # trust_env=False: the stack is published on 127.0.0.1; a proxy from the environment would turn
        # its own failures into a fake outage.
        self._client = client = httpx.Client(timeout=self.request_timeout, trust_env=False)
        self._deadline = self._clock.now() + self.max_seconds
        self._alive = len(self.users)
        self._threads = [threading.Thread(target=self._run, args=(client, user), name=f"gameday-user-{user}",
                                          daemon=True) for user in self.users]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = DEFAULT_STOP_TIMEOUT) -> bool:
        """Stop, join (within `timeout` in all) and close the client; idempotent.

        False when a journey still hangs after `timeout`; its thread is a daemon, and its request fails
        when the client closes under it.
        """
        self._stopping.set()
        if not self._threads:
            self._log.close()
        joined_by = time.monotonic() + timeout  # joining is real time, whatever clock stamps the samples
        for thread in self._threads:
            thread.join(max(0.0, joined_by - time.monotonic()))
        hanging = [thread.name for thread in self._threads if thread.is_alive()]
        if hanging:
            log.warning("synthetic users still busy %.1fs after stop: %s", timeout, ", ".join(hanging))
        if self._client is not None:
            self._client.close()
        return not hanging

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def samples(self) -> list[RequestSample]:
        """The requests so far, a copy, in the order they finished (sort by `t` for start order)."""
        return self._log.snapshot()

    def wait_until(self, predicate: Callable[[list[RequestSample]], bool], timeout: float) -> bool:
        """Wait (woken per request, real time) until `predicate(samples so far)` holds.

        False at the timeout, or as soon as every user has finished without the predicate holding.
        """
        return self._log.wait_until(predicate, timeout)

    def __enter__(self) -> SyntheticTraffic:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _take_turn(self) -> bool:
        """Reserve one request of the shared budget; False once the budget, the time or the run is over."""
        with self._lock:
            if self._stopping.is_set() or self._issued >= self.max_requests or self._clock.now() >= self._deadline:
                return False
            self._issued += 1
            return True

    def _run(self, client: httpx.Client, user: str) -> None:
        state: dict[str, object] = {}
        try:
            for _ in range(self.max_requests):
                if not self._take_turn():
                    break
                self._record(self._request_once(client, user, state))
                if self._stopping.wait(self.pace):
                    break
        finally:
            with self._lock:
                self._alive -= 1
                last = self._alive == 0
            if last:
                self._log.close()

    def _request_once(self, client: httpx.Client, user: str, state: dict[str, object]) -> RequestSample:
        started = self._clock.now()
        try:
            action, ok, status = self._journey(client, user, state)
        except Exception as exc:  # httpx errors, a journey's own bugs: a failed request, and the user goes on
            log.debug("journey of %s raised %s: %s", user, type(exc).__name__, exc)
            action, ok, status = ERROR_ACTION, False, None
        return RequestSample(t=started, user=user, action=action, ok=ok, status=status,
                             latency=self._clock.now() - started)

    def _record(self, sample: RequestSample) -> None:
        self._log.append(sample)
        if self._on_sample is not None:
            try:
                self._on_sample(sample)
            except Exception:
                log.exception("on_sample failed for %s; the traffic goes on", sample)
