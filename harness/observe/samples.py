"""What the observers record (frozen samples) and the thread-safe log they accumulate in.

Background threads append; the drill reads copies, or waits on a condition that is notified per
sample (never a busy loop) until a predicate over the samples so far holds.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

S = TypeVar("S")


@dataclass(frozen=True)
class ProbeSample:
    """One health check: `t` is the clock reading when it started; `status` is None when no response came."""

    t: float
    ok: bool
    status: int | None
    latency: float
    detail: str


@dataclass(frozen=True)
class RequestSample:
    """One synthetic user request: `t` is the clock reading when it started; `action` names the request."""

    t: float
    user: str
    action: str
    ok: bool
    status: int | None
    latency: float


class SampleLog(Generic[S]):
    """Samples appended by producer threads; readers get copies, waiters wake on every append and on close."""

    def __init__(self) -> None:
        self._samples: list[S] = []
        self._closed = False
        self._changed = threading.Condition()

    def append(self, sample: S) -> None:
        with self._changed:
            self._samples.append(sample)
            self._changed.notify_all()

    def close(self) -> None:
        """No more samples will come: wake the waiters so they answer now instead of at their timeout."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    @property
    def closed(self) -> bool:
        with self._changed:
            return self._closed

    def snapshot(self) -> list[S]:
        with self._changed:
            return list(self._samples)

    def latest(self) -> S | None:
        with self._changed:
            return self._samples[-1] if self._samples else None

    def wait_until(self, predicate: Callable[[list[S]], bool], timeout: float) -> bool:
        """True as soon as `predicate(samples so far)` holds; False at the timeout or once the log is closed without it.

        Waits in real time (a Condition cannot wait on an injected clock). The predicate runs outside the
        lock, on a copy, so a slow predicate never holds up the producers.
        """
        if not timeout >= 0:  # also rejects NaN
            raise ValueError(f"wait_until needs a timeout >= 0, got {timeout!r}")
        deadline = time.monotonic() + timeout
        while True:
            with self._changed:
                samples, closed = list(self._samples), self._closed
            if predicate(samples):
                return True
            if closed:
                return False
            with self._changed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait_for(functools.partial(self._has_news, len(samples)), remaining)

    def _has_news(self, seen: int) -> bool:
        """Called with the lock held: a sample came since `seen` were read, or the log closed."""
        return len(self._samples) != seen or self._closed
