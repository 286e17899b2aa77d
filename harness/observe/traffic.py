"""SyntheticTraffic: a few simulated users doing real things for the whole drill.

A journey's step does exactly one thing for one user per call (an HTTP request, enqueueing a job
or polling for its result, a Redis command, a command on a host) and keeps where that user is in
its own state dict (logged in, job enqueued...), so the harness can pace, bound and stop it
without knowing the application. A step receives a `JourneyContext` (the user, its state, the
stack, a lazily made HTTP client, `run` for a command on a host) and returns an `Attempt` (what
it did and whether it worked). Anything a step raises is a failed attempt, never the end of the
user.

    def step(user: JourneyContext) -> Attempt:
        response = user.http.get(f"{base()}/health")
        return Attempt.http("health", response)

    def journey(stack: Stack) -> Journey:   # Observation(journey=journey)
        return Journey(step, stack)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

import httpx

from harness.clock import SYSTEM_CLOCK, Clock
from harness.observe.samples import RequestSample, SampleLog

if TYPE_CHECKING:
    from harness.stack.host import ExecResult
    from harness.stack.stack import Stack

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attempt:
    """What one step of a journey did: its action's name, whether it worked, and the HTTP status
    (or another code) or a short detail of what happened."""

    action: str
    ok: bool
    status: int | None = None
    detail: str = ""

    @classmethod
    def http(cls, action: str, response: httpx.Response, ok: bool | None = None,
             within: float | None = None) -> Attempt:
        """An attempt that was one HTTP request: ok is a 2xx answer unless said otherwise. With
        `within` (seconds, a latency objective), an answer that took longer failed too, whatever
        it said: to a user, a reply that comes too late is no reply."""
        worked = response.is_success if ok is None else ok
        if within is not None and worked:
            took = response.elapsed.total_seconds()
            if took > within:
                return cls(action, False, response.status_code, f"took {took:.2f}s (objective {within:g}s)")
        return cls(action, worked, response.status_code)


class JourneyContext:
    """What a step gets for one user: `user`, `state` (that user's own, kept across its steps),
    `stack`, `http` (an httpx.Client shared by the users, made on first use, closed on stop) and
    `run(host, command)` for a command on one of the stack's hosts."""

    def __init__(self, user: str, stack: Stack | None, http: Callable[[], httpx.Client], timeout: float) -> None:
        self.user = user
        self.state: dict[str, object] = {}
        self._stack = stack
        self._http = http
        self.timeout = timeout

    @property
    def stack(self) -> Stack:
        if self._stack is None:
            raise RuntimeError("this journey was given no stack (Journey(step, stack))")
        return self._stack

    @property
    def http(self) -> httpx.Client:
        return self._http()

    def run(self, host: str, command: str, timeout: float | None = None) -> ExecResult:
        """Run a command on a host of the stack (bounded by `timeout`, default the request timeout)."""
        return self.stack.host(host).exec(command, timeout=self.timeout if timeout is None else timeout)


JourneyStep = Callable[[JourneyContext], Attempt]
"""One thing for one user per call."""


@dataclass(frozen=True)
class Journey:
    """A synthetic user's journey on one stack (`stack` is what the context's `stack` and `run` reach)."""

    step: JourneyStep
    stack: Stack | None = None


ERROR_ACTION = "error"
DEFAULT_PACE = 1.0
DEFAULT_MAX_REQUESTS = 10_000
DEFAULT_MAX_SECONDS = 900.0
DEFAULT_REQUEST_TIMEOUT = 3.0
DEFAULT_STOP_TIMEOUT = 5.0


class SyntheticTraffic:
    """One daemon thread per user: a journey step, then wait `pace` seconds; until stop(), max_requests
    in all, or max_seconds. Each step is a sample (RequestSample), whatever it did.

    All users share one httpx.Client (timeout `request_timeout`), made when a step first asks for it
    and closed on stop(); commands on hosts are bounded by `request_timeout` too. `on_sample` is
    called in the user's thread (an exception there is logged and ignored). Runs once.
    """

    def __init__(self, journey: Journey | JourneyStep, users: Sequence[str], *, pace: float = DEFAULT_PACE,
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
        self._journey = journey if isinstance(journey, Journey) else Journey(journey)
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
        self._deadline = self._clock.now() + self.max_seconds
        self._alive = len(self.users)
        self._threads = [threading.Thread(target=self._run, args=(user,), name=f"gameday-user-{user}",
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
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()
        return not hanging

    def _http(self) -> httpx.Client:
        """The users' shared client, made on first use; after stop() a closed one (its requests fail)."""
        with self._lock:
            if self._client is None:
                # trust_env=False: the stack is published on 127.0.0.1; a proxy from the environment would
                # turn its own failures into a fake outage.
                self._client = httpx.Client(timeout=self.request_timeout, trust_env=False)
                if self._stopping.is_set():
                    self._client.close()
            return self._client

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

    def _run(self, user: str) -> None:
        context = JourneyContext(user, self._journey.stack, self._http, self.request_timeout)
        try:
            for _ in range(self.max_requests):
                if not self._take_turn():
                    break
                self._record(self._request_once(context))
                if self._stopping.wait(self.pace):
                    break
        finally:
            with self._lock:
                self._alive -= 1
                last = self._alive == 0
            if last:
                self._log.close()

    def _request_once(self, context: JourneyContext) -> RequestSample:
        started = self._clock.now()
        try:
            attempt = self._journey.step(context)
            if not isinstance(attempt, Attempt):
                raise TypeError(f"a journey step must return an Attempt, not {type(attempt).__name__}")
        except Exception as exc:  # httpx errors, a journey's own bugs: a failed request, and the user goes on
            log.debug("journey of %s raised %s: %s", context.user, type(exc).__name__, exc)
            attempt = Attempt(ERROR_ACTION, False, None, f"{type(exc).__name__}: {exc}")
        if not attempt.ok and attempt.detail:
            log.debug("%s %s failed: %s", context.user, attempt.action, attempt.detail)
        return RequestSample(t=started, user=context.user, action=attempt.action, ok=attempt.ok,
                             status=attempt.status, latency=self._clock.now() - started)

    def _record(self, sample: RequestSample) -> None:
        self._log.append(sample)
        if self._on_sample is not None:
            try:
                self._on_sample(sample)
            except Exception:
                log.exception("on_sample failed for %s; the traffic goes on", sample)
