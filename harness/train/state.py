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
import math
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.errors import BadInput
from harness.inputfile import read_regular
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


MAX_SESSION_FILE_BYTES = 5_000_000  # hints.json holds runbook blocks; the others are small


def _read(path: Path) -> str:
    """A file of the session as text: a regular file only (a FIFO put there must not block a
    terminal), at most MAX_SESSION_FILE_BYTES. OSError or ValueError (UnicodeDecodeError) otherwise."""
    data = read_regular(path, MAX_SESSION_FILE_BYTES)
    if len(data) > MAX_SESSION_FILE_BYTES:
        raise ValueError(f"{path}: larger than {MAX_SESSION_FILE_BYTES // 1_000_000} MB")
    return data.decode("utf-8")


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
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        if Path(json.loads(_read(path))["session"]) == session.resolve():
            path.unlink()


MAX_ACTIVE_BYTES = 64_000
_CONTAINER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")  # a container id or name (never an option)
_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


class BadActiveFile(BadInput):
    """`active.json` exists but is not what a controller writes: never trusted, never followed."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        super().__init__(f"{path}: {problem}; it is not an exercise's announcement (remove it if no "
                         "`gameday train` is running)")


def read_active(reports: Path) -> Active | None:
    """The announced exercise, alive or not; None when there is none. BadActiveFile when the file is
    not one a controller wrote: every field is checked (types, a real pid, container ids that cannot
    be options, a session folder that is a real folder right inside REPORTS/train, not a symlink)."""
    path = train_root(reports) / ACTIVE_NAME
    try:
        data = read_regular(path, MAX_ACTIVE_BYTES)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise BadActiveFile(path, f"cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_ACTIVE_BYTES:
        raise BadActiveFile(path, f"larger than {MAX_ACTIVE_BYTES // 1000} kB")
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadActiveFile(path, f"not JSON ({exc})") from None
    return _checked_active(path, reports, body)


def _checked_active(path: Path, reports: Path, body: object) -> Active:
    def bad(problem: str) -> BadActiveFile:
        return BadActiveFile(path, problem)

    if not isinstance(body, dict):
        raise bad("not a JSON object")
    names = {f.name for f in fields(Active)}
    unknown = sorted(set(body) - names)
    if unknown:
        raise bad(f"unknown field {unknown[0]!r}")
    for name in ("session", "pid_start", "stack", "started_at", "report"):
        if not isinstance(body.get(name), str):
            raise bad(f"{name!r} must be text")
    pid = body.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or not 0 < pid < 2**31:
        raise bad(f"'pid' must be a process id (a positive integer), got {pid!r}")
    limit = body.get("time_limit")
    if not isinstance(limit, int | float) or isinstance(limit, bool) or not math.isfinite(limit) or limit <= 0:
        raise bad(f"'time_limit' must be a positive number of seconds, got {limit!r}")
    hosts = body.get("hosts")
    if not isinstance(hosts, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and _HOST.fullmatch(k) and _CONTAINER.fullmatch(v)
            for k, v in hosts.items()):
        raise bad("'hosts' must map host names to container ids")
    extra = body.get("extra", {})
    if not isinstance(extra, dict):
        raise bad("'extra' must be an object")
    session = Path(body["session"])
    root = train_root(reports).resolve()
    if not session.is_absolute() or session.parent.resolve() != root or session.name in ("", ".", ".."):
        raise bad(f"the session folder {str(session)!r} is not a folder right inside {root}")
    try:
        mode = os.lstat(session).st_mode
    except OSError:
        raise bad(f"the session folder {str(session)!r} does not exist") from None
    if not stat.S_ISDIR(mode):  # lstat: a symlink is not a folder here, wherever it points
        raise bad(f"the session folder {str(session)!r} is not a real folder (a symlink or a file)")
    return Active(session=str(session), pid=pid, pid_start=body["pid_start"], stack=body["stack"],
                  hosts=dict(hosts), time_limit=float(limit), started_at=body["started_at"],
                  report=body["report"], extra=dict(extra))


def running(reports: Path) -> Active | None:
    """The exercise whose controller is still alive, or None (a file no controller wrote is none)."""
    try:
        active = read_active(reports)
    except BadActiveFile:
        return None
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
                for h in json.loads(_read(session / HINTS_NAME))]
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
        text = _read(path)
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
        body = json.loads(_read(session / FINISHED_NAME))
    except (OSError, ValueError):
        return None
    return body if isinstance(body, dict) else None
