"""Ctrl-C and SIGTERM: the first interrupts, a second cuts the polite rollback short, none stops the clean-up.

`gameday run` installs `on_signal` for SIGINT and SIGTERM; it raises KeyboardInterrupt, except
inside clean-up code, which marks itself:

- `shielded()` (removing a stack, journaling a drill's end) holds every interrupt back until it
  is done, then raises it;
- `polite()` (rolling a fault back, with its waits) holds back only the first interrupt of the
  process, so that a Ctrl-C landing in a rollback does not cut it short, while a second Ctrl-C
  does (the stack is removed anyway).

Only the main thread's clean-up is marked (signal handlers run there). Without the handler
installed (a library caller, pytest) both are no-ops and Python's own Ctrl-C applies.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType


@dataclass
class _State:
    received: int = 0  # interrupts this process received
    shielded: int = 0  # depth of shielded() blocks
    polite: int = 0  # depth of polite() blocks
    pending: bool = False  # an interrupt held back, to raise when the outermost block ends


_state = _State()


def on_signal(signum: int, frame: FrameType | None) -> None:
    """The SIGINT/SIGTERM handler: KeyboardInterrupt now, or once the clean-up under way is done."""
    _state.received += 1
    if _state.shielded or (_state.polite and _state.received == 1):
        _state.pending = True
        return
    _state.pending = False
    raise KeyboardInterrupt(f"signal {signum}")


def received() -> int:
    """How many interrupts this process received (2 or more: the rollback may have been cut short)."""
    return _state.received


@contextlib.contextmanager
def _holding(kind: str) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    setattr(_state, kind, getattr(_state, kind) + 1)
    try:
        yield
    finally:
        setattr(_state, kind, getattr(_state, kind) - 1)
    if _state.pending and not _state.shielded and not _state.polite:
        _state.pending = False
        raise KeyboardInterrupt("signal received during clean-up")


def shielded() -> contextlib.AbstractContextManager[None]:
    """Every interrupt waits until the block is done (then raises)."""
    return _holding("shielded")


def polite() -> contextlib.AbstractContextManager[None]:
    """The first interrupt of the process waits until the block is done; a second one raises at once."""
    return _holding("polite")
