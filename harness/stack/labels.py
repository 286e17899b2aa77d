"""The labels the harness puts on every container, network and volume it creates.

Cleanup finds objects by these labels alone: the harness never touches an object without them.
`gameday.pid` and `gameday.pid-start` identify the creating process, so a later run can tell
whether that process is gone (the pair survives pid reuse).
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

LABEL_PREFIX = "gameday."
RUN = f"{LABEL_PREFIX}run"
PID = f"{LABEL_PREFIX}pid"
PID_START = f"{LABEL_PREFIX}pid-start"
HOSTNAME = f"{LABEL_PREFIX}hostname"
CREATED = f"{LABEL_PREFIX}created"
STACK = f"{LABEL_PREFIX}stack"
STACK_ID = f"{LABEL_PREFIX}stack-id"
SERVICE = f"{LABEL_PREFIX}service"


def process_start_ticks(pid: int) -> str:
    """The kernel's start time of `pid` (field 22 of /proc/PID/stat), or "" where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # The command name (field 2) may hold spaces; fields after its closing parenthesis are plain.
    return stat.rsplit(")", 1)[1].split()[19]


def process_alive(pid: int, start_ticks: str) -> bool:
    """Whether the process that created an object still runs (same pid, same start time).

    Only a real process id counts: `kill(0, 0)` signals our own process group and `kill(-N, 0)` a
    whole group, so 0 and negative ids (a crafted label or file) are never alive."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError, ValueError):
        return False
    except PermissionError:
        return True
    return not start_ticks or process_start_ticks(pid) in ("", start_ticks)


@dataclass(frozen=True)
class RunIdentity:
    """Who is creating objects: one per harness process."""

    run_id: str = field(default_factory=lambda: secrets.token_hex(6))
    pid: int = field(default_factory=os.getpid)
    hostname: str = field(default_factory=socket.gethostname)

    def labels(self, **extra: str) -> dict[str, str]:
        return {
            RUN: self.run_id,
            PID: str(self.pid),
            PID_START: process_start_ticks(self.pid),
            HOSTNAME: self.hostname,
            CREATED: datetime.now(UTC).isoformat(timespec="seconds"),
            **{f"{LABEL_PREFIX}{k.replace('_', '-')}": v for k, v in extra.items()},
        }


_current: RunIdentity | None = None


def current_run() -> RunIdentity:
    """This process's identity (made on first use; a forked child gets its own)."""
    global _current
    if _current is None or _current.pid != os.getpid():
        _current = RunIdentity()
    return _current
