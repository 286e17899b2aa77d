"""The journal: the append-only, typed record of a gameday, and the only input of every report.

One JSON object per line, each with `schema_version` and `type`. Events are frozen dataclasses;
`read_journal` turns the lines back into the same dataclasses, so a report can be rendered later
without Docker. Every text field passes through the redactor and is truncated before it is
written: a journal never holds a secret or an unbounded output.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import threading
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.errors import BadInput
from harness.runbook.model import ExpectationKind
from harness.vocabulary import DrillPhase, FaultAction, FindingKind, Priority, Verdict

SCHEMA_VERSION = 1
MAX_TEXT_CHARS = 8_000  # per recorded output: head and tail kept
MAX_JOURNAL_BYTES = 500_000_000
TRUNCATION_MARK = "\n[... {n} characters cut ...]\n"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


# -- events -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GamedayStarted:
    run_id: str
    scenarios: tuple[str, ...]
    harness_version: str
    at: str = field(default_factory=now_iso)


@dataclass(frozen=True)
class DrillStarted:
    drill: str
    scenario: str
    title: str
    runbook: str
    section: str
    severity: Priority
    detect_within: float
    recover_within: float
    steady_consecutive: int
    stack: str
    mode: str = "auto"
    redaction_patterns: tuple[str, ...] = ()  # token shapes of the stack, re-applied when rendering
    at: str = field(default_factory=now_iso)


@dataclass(frozen=True)
class PhaseStarted:
    drill: str
    phase: DrillPhase
    t: float
    at: str = field(default_factory=now_iso)


@dataclass(frozen=True)
class CheckRecord:
    kind: ExpectationKind
    condition: str | None
    text: str
    line: int
    ok: bool
    describe: str
    diff: str


@dataclass(frozen=True)
class StepRecorded:
    drill: str
    phase: DrillPhase  # baseline | diagnose | fix | verify
    ref: str
    host: str
    location: str
    code: str
    exit_code: int
    stdout: str
    stderr: str
    duration: float
    timed_out: bool
    attempts: int
    expect: str  # which expectations had to hold: healthy | fault | none
    passed: bool
    checks: tuple[CheckRecord, ...]
    t: float
    at: str = field(default_factory=now_iso)


@dataclass(frozen=True)
class FaultRecorded:
    drill: str
    fault: str
    action: FaultAction
    detail: str
    t: float
    at: str = field(default_factory=now_iso)


@dataclass(frozen=True)
class ProbeTransition:
    drill: str
    ok: bool
    status: int | None
    detail: str
    t: float


@dataclass(frozen=True)
class Series:
    """What the observers saw, for the timeline: probe transitions and traffic per bucket."""

    drill: str
    probe: tuple[tuple[float, bool], ...]
    traffic: tuple[tuple[float, int, int], ...]  # bucket start, ok, failed
    bucket: float
    marks: tuple[tuple[str, float], ...]  # ("inject", t), ("fix", t), ("recovered", t), ...


@dataclass(frozen=True)
class ManualChecklist:
    drill: str
    items: tuple[tuple[str, str, int], ...]  # section, text, line


@dataclass(frozen=True)
class FindingRecorded:
    drill: str
    kind: FindingKind
    step: str
    message: str
    location: str
    expected: str = ""
    seen: str = ""
    t: float = 0.0

    def describe(self) -> str:
        """The finding as a person reads it: kind, step, where, what; then expected and seen."""
        where = f" ({self.location})" if self.location else ""
        text = f"{self.kind}: {self.step}{where}: {self.message}"
        if self.expected:
            text += f"\n    expected: {self.expected}"
        if self.seen:
            text += f"\n    seen: {self.seen}"
        return text


@dataclass(frozen=True)
class Metrics:
    detected: bool
    recovered: bool
    time_to_detect: float | None
    time_to_diagnose: float | None
    time_to_recover: float | None
    time_to_recover_after_fix: float | None
    time_degraded: float
    detect_budget: float
    recover_budget: float
    requests_total: int
    requests_failed: int
    users_affected: tuple[str, ...]
    success_ratio_after_recovery: float | None
    step_seconds: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class DrillFinished:
    drill: str
    scenario: str
    verdict: Verdict
    findings: tuple[FindingKind, ...]  # in order
    metrics: Metrics | None
    t: float
    at: str = field(default_factory=now_iso)


@dataclass(frozen=True)
class DrillTimed:
    """Where the drill's wall time went (harness.timing), from taking its stack to giving it back:
    waiting on the stack (containers, health, faults), in the runbook's commands, and the rest,
    the harness's own overhead."""

    drill: str
    wall: float
    stack: float
    runbook: float
    overhead: float
    at: str = field(default_factory=now_iso)


@dataclass(frozen=True)
class GamedayFinished:
    run_id: str
    verdicts: tuple[tuple[str, Verdict], ...]  # scenario, verdict
    seconds: float
    at: str = field(default_factory=now_iso)


Event = (GamedayStarted | DrillStarted | PhaseStarted | StepRecorded | FaultRecorded | ProbeTransition | Series
         | ManualChecklist | FindingRecorded | DrillFinished | DrillTimed | GamedayFinished)
EVENT_TYPES: dict[str, type[Any]] = {cls.__name__: cls for cls in typing.get_args(Event)}


# -- writing ------------------------------------------------------------------------------------


def truncate(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Keep the head and the tail of a long text, saying how much was cut."""
    if len(text) <= limit:
        return text
    keep = limit // 2
    return text[:keep] + TRUNCATION_MARK.format(n=len(text) - 2 * keep) + text[-keep:]


def clean(value: Any, redact: Callable[[str], str]) -> Any:
    """`value` with every string redacted and truncated, tuples as lists (what goes into a line)."""
    if isinstance(value, str):
        return truncate(redact(value))
    if isinstance(value, tuple | list):
        return [clean(v, redact) for v in value]
    if isinstance(value, dict):
        return {k: clean(v, redact) for k, v in value.items()}
    return value


def encode(event: Event, redact: Callable[[str], str] = lambda s: s) -> str:
    body = {"schema_version": SCHEMA_VERSION, "type": type(event).__name__}
    body.update(clean(dataclasses.asdict(event), redact))
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


class Journal:
    """Appends events to a JSON-lines file (and keeps them in memory). Thread-safe."""

    def __init__(self, path: Path | str, redact: Callable[[str], str] = lambda s: s,
                 listener: Callable[[Event], None] | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.redact = redact
        self.listener = listener  # told of every event once it is written (live progress)
        self._lock = threading.Lock()
        self.events: list[Event] = []

    def write(self, event: Event) -> None:
        line = encode(event, self.redact)
        with self._lock:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
            written = decode(json.loads(line))
            self.events.append(written)
        if self.listener is not None:
            self.listener(written)


# -- reading ------------------------------------------------------------------------------------


class JournalError(BadInput):
    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path, self.line = Path(path), line
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")


def build(tp: Any, value: Any) -> Any:
    """A JSON value turned back into type `tp` (dataclasses, optionals, tuples), checking scalar types."""
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = typing.get_type_hints(tp)
        if not isinstance(value, dict):
            raise ValueError(f"{tp.__name__} must be an object")
        kwargs = {f.name: build(hints[f.name], value[f.name]) for f in dataclasses.fields(tp) if f.name in value}
        return tp(**kwargs)
    if origin in (types.UnionType, typing.Union):
        if value is None:
            return None
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return build(inner[0], value) if len(inner) == 1 else value
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, list):
            raise ValueError("expected a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(build(args[0], v) for v in value)
        return tuple(build(a, v) for a, v in zip(args, value, strict=True))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a {tp.__name__} ({', '.join(str(m.value) for m in tp)})") from None
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (str, int, float, bool) and (type(value) is not tp):
        raise ValueError(f"expected {tp.__name__}, got {type(value).__name__}")
    return value


def decode_with(types: dict[str, type[Any]], body: dict[str, Any]) -> Any:
    """The event a decoded JSON line stands for, by its `type` in `types` (ValueError if unknown)."""
    cls = types.get(str(body.get("type")))
    if cls is None:
        raise ValueError(f"unknown event type {body.get('type')!r}")
    return build(cls, body)


def decode(body: dict[str, Any]) -> Event:
    event: Event = decode_with(EVENT_TYPES, body)
    return event


def read_journal(path: Path | str) -> list[Event]:
    """Every event of a journal file; JournalError (file and line) on anything unreadable."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_JOURNAL_BYTES + 1)
        if len(data) > MAX_JOURNAL_BYTES:
            raise JournalError(path, None, f"larger than {MAX_JOURNAL_BYTES // 1_000_000} MB: not a journal")
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise JournalError(path, None, "no such journal file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise JournalError(path, None, f"cannot be read: {exc}") from None
    return list(_events(path, text))


def _events(path: Path, text: str) -> Iterator[Event]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            body = json.loads(line)
            if not isinstance(body, dict):
                raise ValueError("not a JSON object")
            if body.get("schema_version") != SCHEMA_VERSION:
                raise ValueError(f"schema_version {body.get('schema_version')!r}, this harness reads "
                                 f"{SCHEMA_VERSION}")
            yield decode(body)
        except (ValueError, KeyError, TypeError) as exc:
            raise JournalError(path, number, f"not a journal event ({exc})") from None
