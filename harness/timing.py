"""Where a drill's wall time goes: waiting on the stack, running the runbook's commands, or the
harness itself (everything else: journaling, matching, verdicts, rendering, Python).

The thread that runs a drill installs a `Ledger`; code that blocks on something outside the
harness marks the block with `waiting(STACK)` (Docker calls, health checks, waits for a
condition, fault injection and rollback) or `waiting(RUNBOOK)` (a runbook step's commands).
Only the outermost mark counts, so a health check inside a runbook step is runbook time, and
only on the thread that owns the ledger: the probe and synthetic-user threads run beside the
drill and cost it no wall time. Without a ledger installed, `waiting` costs one attribute look-up.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

STACK = "stack"
RUNBOOK = "runbook"

_local = threading.local()


@dataclass
class Ledger:
    """Seconds spent waiting, by kind, on the thread that installed it."""

    started: float = field(default_factory=time.monotonic)
    seconds: dict[str, float] = field(default_factory=lambda: {STACK: 0.0, RUNBOOK: 0.0})
    _depth: int = 0

    def split(self, end: float | None = None) -> Split:
        wall = (end if end is not None else time.monotonic()) - self.started
        return Split(round(wall, 3), round(self.seconds[STACK], 3), round(self.seconds[RUNBOOK], 3))


@dataclass(frozen=True)
class Split:
    wall: float
    stack: float
    runbook: float

    @property
    def overhead(self) -> float:
        """Everything that was not waiting: the harness's own work."""
        return round(max(0.0, self.wall - self.stack - self.runbook), 3)


@contextlib.contextmanager
def ledger() -> Iterator[Ledger]:
    """Account this thread's waits in a new ledger for the duration of the block."""
    previous = getattr(_local, "ledger", None)
    _local.ledger = book = Ledger()
    try:
        yield book
    finally:
        _local.ledger = previous


@contextlib.contextmanager
def waiting(kind: str) -> Iterator[None]:
    """Mark a block as waiting on `kind` (STACK or RUNBOOK); nested marks count once, as the outer one."""
    book: Ledger | None = getattr(_local, "ledger", None)
    if book is None:
        yield
        return
    outer = book._depth == 0
    book._depth += 1
    started = time.monotonic()
    try:
        yield
    finally:
        book._depth -= 1
        if outer:
            book.seconds[kind] = book.seconds.get(kind, 0.0) + time.monotonic() - started
