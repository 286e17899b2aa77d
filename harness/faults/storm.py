"""Load faults: an HTTP storm (a bot flooding an API), strictly bounded in count and time.

An asyncio loop in a background thread calls `send(client, n)` for n = 0, 1, ... with at most
`concurrency` calls in flight; `send` makes the request(s) it likes with the given
`httpx.AsyncClient` and returns the HTTP status it got. Hard bounds, enforced by counting and
by cancelling: never more than `total` calls, never longer than `duration` seconds. Every
request must go to a loopback address: an event hook on the client refuses anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable

import httpx

from harness.clock import SYSTEM_CLOCK, Clock
from harness.errors import BadInput
from harness.faults.base import Fault, FaultError, FaultNotEffective, is_loopback, require_loopback
from harness.stack.waits import WaitTimeout, wait_for

log = logging.getLogger(__name__)

Send = Callable[[httpx.AsyncClient, int], Awaitable[int]]
Proof = Callable[[], tuple[bool, str]]

VERIFY_MIN_SENT = 50
VERIFY_GRACE = 5.0
JOIN_TIMEOUT = 10.0
REQUEST_TIMEOUT = 5.0
POLL_INTERVAL = 0.05
ERROR_STATUS = 0  # the key under which statuses() counts calls that got no HTTP status


class HttpStorm(Fault):
    """At most `total` calls of `send` in at most `duration` seconds, `concurrency` at a time.

    `statuses()` counts the statuses `send` returned (ERROR_STATUS, 0, for calls that raised);
    `sent()` counts the calls started. Verification waits until min(total, 50) calls were
    started, or until `proof` (e.g. "rate_limit_hits is climbing") passes.
    """

    name = "http-storm"

    def __init__(self, send: Send, *, total: int, duration: float, concurrency: int = 20,
                 base_url: Callable[[], str] | None = None, proof: Proof | None = None,
                 request_timeout: float = REQUEST_TIMEOUT, verify_timeout: float | None = None,
                 join_timeout: float = JOIN_TIMEOUT, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(clock=clock)
        if total < 1 or concurrency < 1:
            raise BadInput(f"an HTTP storm needs a positive total and concurrency, got {total} and {concurrency}")
        if not (0 < duration < math.inf and 0 < request_timeout < math.inf):
            raise BadInput(f"an HTTP storm needs a finite, positive duration, got {duration!r}")
        self.send, self.total, self.duration, self.concurrency = send, total, duration, concurrency
        self.base_url, self.proof, self.request_timeout = base_url, proof, request_timeout
        self.verify_timeout = verify_timeout if verify_timeout is not None else duration + VERIFY_GRACE
        self.join_timeout = join_timeout
        self._counts_lock = threading.Lock()
        self._sent = 0
        self._statuses: Counter[int] = Counter()
        self._errors: Counter[str] = Counter()
        self._failure: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._url = ""
        self._started = self._ended = 0.0

    def describe(self) -> str:
        target = f" against {self._url}" if self._url else ""
        return f"HTTP storm of at most {self.total} requests in {self.duration:g}s, " \
               f"{self.concurrency} in flight{target}"

    # -- counts ------------------------------------------------------------------------------------

    def sent(self) -> int:
        with self._counts_lock:
            return self._sent

    def statuses(self) -> Counter[int]:
        with self._counts_lock:
            return Counter(self._statuses)

    def errors(self) -> Counter[str]:
        """Exception type names of the calls that got no status."""
        with self._counts_lock:
            return Counter(self._errors)

    def elapsed(self) -> float:
        """Seconds the storm ran (so far, if it still runs)."""
        if not self._started:
            return 0.0
        return (self._ended or time.monotonic()) - self._started

    def summary(self) -> str:
        statuses = ", ".join(f"{status}: {n}" for status, n in sorted(self.statuses().items()))
        return f"{self.sent()} sent in {self.elapsed():.1f}s; statuses {{{statuses}}}"

    # -- the storm ---------------------------------------------------------------------------------

    def inject(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            raise FaultError(f"{self.describe()}: the previous storm is still running")
        self._url = require_loopback(self.base_url(), "an HTTP storm") if self.base_url else ""
        with self._counts_lock:
            self._sent, self._statuses, self._errors = 0, Counter(), Counter()
        self._failure, self._loop, self._task = None, None, None
        self._stop = threading.Event()
        self._started, self._ended = time.monotonic(), 0.0
        self._thread = threading.Thread(target=self._run, name="gameday-http-storm", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except asyncio.CancelledError:
            pass  # stopped by restore()
        except Exception as exc:
            log.exception("the HTTP storm failed")
            self._failure = exc
        finally:
            self._ended = time.monotonic()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _main(self) -> None:
        self._task = asyncio.current_task()
        if self._stop.is_set():
            return
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        async with httpx.AsyncClient(base_url=self._url, timeout=self.request_timeout, limits=limits,
                                     event_hooks={"request": [self._guard]}) as client:
            workers = [asyncio.create_task(self._worker(client)) for _ in range(min(self.concurrency, self.total))]
            try:
                async with asyncio.timeout(self.duration):  # the hard time bound
                    await asyncio.gather(*workers)
            except TimeoutError:
                pass
            finally:
                for worker in workers:
                    worker.cancel()
                await asyncio.gather(*workers, return_exceptions=True)

    async def _guard(self, request: httpx.Request) -> None:
        if not is_loopback(request.url.host):
            failure = BadInput(f"an HTTP storm only targets loopback; refused a request to {request.url.host!r}")
            self._failure = failure
            self._stop.set()
            raise failure

    async def _worker(self, client: httpx.AsyncClient) -> None:
        while not self._stop.is_set():
            with self._counts_lock:
                if self._sent >= self.total:  # the hard count bound
                    return
                number = self._sent
                self._sent += 1
            try:
                status = await self.send(client, number)
            except BadInput:
                return
            except Exception as exc:
                with self._counts_lock:
                    self._statuses[ERROR_STATUS] += 1
                    self._errors[type(exc).__name__] += 1
                continue
            with self._counts_lock:
                self._statuses[int(status)] += 1

    # -- the contract ------------------------------------------------------------------------------

    def verify(self) -> str:
        wanted = min(self.total, VERIFY_MIN_SENT)

        def probe() -> tuple[bool, str]:
            if self._failure is not None:
                raise self._failure
            sent = self.sent()
            if sent >= wanted:
                return True, f"{self.summary()} (at least {wanted} were wanted)"
            if self.proof is not None:
                done, seen = self.proof()
                if done:
                    return True, f"{seen}; {self.summary()}"
            if not self.is_active():
                raise FaultNotEffective(f"{self.describe()}: it ended having sent {sent} of the {wanted} "
                                        f"wanted ({self.summary()})")
            return False, self.summary()

        try:
            return wait_for(probe, what=f"{wanted} storm requests sent", timeout=self.verify_timeout,
                            interval=POLL_INTERVAL, clock=self.clock)
        except WaitTimeout as exc:
            raise FaultNotEffective(f"{self.describe()}: {exc}") from None

    def is_active(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def restore(self) -> None:
        self._stop.set()
        loop, task, thread = self._loop, self._task, self._thread
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed: the storm is over
                loop.call_soon_threadsafe(task.cancel)
        if thread is not None:
            thread.join(self.join_timeout)
            if thread.is_alive():
                raise FaultError(f"{self.describe()}: the storm did not stop within {self.join_timeout:g}s")

    def rolled_back_detail(self) -> str:
        return f"{self.describe()}: stopped by the harness; {self.summary()}"

    def ended_detail(self) -> str:
        return f"{self.describe()}: already over; {self.summary()}"
