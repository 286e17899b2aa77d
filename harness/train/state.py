"""The files through which the exercise's terminals talk to its controller.

The controller (`gameday train`) owns a session folder, `REPORTS/train/<time>-<random>/`, and
announces it in `REPORTS/train/active.json` (its pid, the stack, each host's container). Other
terminals find the exercise there: `gameday shell HOST` opens a shell in the host's container,
`gameday hint` appends to `hints-taken.jsonl` (under a lock), `gameday giveup` drops a `giveup`
file. The controller polls them, journals what it sees, and at the end writes `finished.json`
and removes `active.json`.

Nothing here names the scenario: a trainee reading these files learns no more than the page says.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.errors import BadInput
from harness.runbook.model import Phase
from harness.stack.labels import process_alive, process_start_ticks
from harness.train.hints import Hint

TRAIN_FOLDER = "train"
ACTIVE_NAME = "active.json"
HINTS_NAME = "hints.json"
TAKEN_NAME = "hints-taken.jsonl"
GIVEUP_NAME = "giveup"
FINISHED_NAME = "finished.json"
LOG_NAME = "exercise.jsonl"
PAGE_NAME = "page.txt"


@dataclass(frozen=True)
class Active:
    """What `active.json` says about the running exercise."""

    session: str
    pid: int
    pid_start: str
    stack: str
    hosts: dict[str, str]  # host name -> container id
    time_limit: float
    started_at: str
    report: str  # the reports root the exercise was started with
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return Path(self.session)

    def is_alive(self) -> bool:
        """Whether the controller that announced the exercise still runs."""
        return process_alive(self.pid, self.pid_start)


def train_root(reports: Path) -> Path:
    return reports / TRAIN_FOLDER


def new_session(reports: Path) -> Path:
    """A fresh session folder; its name says when, never what."""
    folder = train_root(reports) / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    folder.mkdir(parents=True)
    return folder


def _write_json(path: Path, body: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def announce(reports: Path, session: Path, stack: str, hosts: dict[str, str], time_limit: float) -> Active:
    active = Active(session=str(session.resolve()), pid=os.getpid(), pid_start=process_start_ticks(os.getpid()),
                    stack=stack, hosts=dict(hosts), time_limit=time_limit,
                    started_at=datetime.now(UTC).isoformat(timespec="seconds"), report=str(reports))
    _write_json(train_root(reports) / ACTIVE_NAME, asdict(active))
    return active


def withdraw(reports: Path, session: Path) -> None:
    """Remove `active.json` if it still announces this session."""
    path = train_root(reports) / ACTIVE_NAME
    with contextlib.suppress(OSError, ValueError, KeyError):
        if Path(json.loads(path.read_text("utf-8"))["session"]) == session.resolve():
            path.unlink()


def read_active(reports: Path) -> Active | None:
    """The announced exercise, alive or not; None when there is none (or the file is unreadable)."""
    path = train_root(reports) / ACTIVE_NAME
    try:
        body = json.loads(path.read_text("utf-8"))
        return Active(**body)
    except (OSError, ValueError, TypeError):
        return None


def running(reports: Path) -> Active | None:
    """The exercise whose controller is still alive, or None."""
    active = read_active(reports)
    return active if active is not None and active.is_alive() else None


def require_running(reports: Path, command: str) -> Active:
    """The running exercise; BadInput saying what to do when there is none."""
    active = read_active(reports)
    if active is None:
        raise BadInput(f"`gameday {command}`: no onboarding exercise is running under {reports} "
                       "(start one with `gameday train SCENARIO` or `gameday train --random`)")
    if not active.is_alive():
        raise BadInput(f"`gameday {command}`: the exercise under {reports} is over: its controller (pid "
                       f"{active.pid}) is gone (a stack it left is removed by the next run or `gameday clean`)")
    return active


# -- hints --------------------------------------------------------------------------------------


def save_hints(session: Path, hints: list[Hint]) -> None:
    _write_json(session / HINTS_NAME, [asdict(h) for h in hints])


def load_hints(session: Path) -> list[Hint]:
    try:
        return [Hint(Phase(h["phase"]), h["text"], h.get("step", ""))
                for h in json.loads((session / HINTS_NAME).read_text("utf-8"))]
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise BadInput(f"{session / HINTS_NAME}: the exercise's hints cannot be read ({exc})") from None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with (path.parent / f".{path.name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def taken(session: Path) -> list[dict[str, Any]]:
    """The hints taken so far, in order: {"number", "epoch"}."""
    path = session / TAKEN_NAME
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return []
    out = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            body = json.loads(line)
            if isinstance(body, dict) and isinstance(body.get("number"), int):
                out.append(body)
    return out


def take_hint(session: Path) -> tuple[int, int, Hint | None]:
    """Reveal the next hint: (its number, how many there are, the hint); None when all were shown."""
    hints = load_hints(session)
    path = session / TAKEN_NAME
    with _locked(path):
        number = len(taken(session)) + 1
        if number > len(hints):
            return len(hints), len(hints), None
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"number": number, "epoch": time.time()}) + "\n")
    return number, len(hints), hints[number - 1]


# -- giving up and finishing ------------------------------------------------------------------


def give_up(session: Path) -> None:
    (session / GIVEUP_NAME).write_text(datetime.now(UTC).isoformat(timespec="seconds") + "\n", encoding="utf-8")


def gave_up(session: Path) -> bool:
    return (session / GIVEUP_NAME).exists()


def finish(session: Path, body: dict[str, Any]) -> None:
    _write_json(session / FINISHED_NAME, body)


def finished(session: Path) -> dict[str, Any] | None:
    try:
        body = json.loads((session / FINISHED_NAME).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return body if isinstance(body, dict) else None
