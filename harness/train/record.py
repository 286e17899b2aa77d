"""The exercise log: a JSON-lines record of one onboarding exercise, the only input of its debrief.

Like the gameday journal (harness.journal), one typed event per line with `schema_version`, every
text redacted and bounded before it is written, so the debrief can be rendered again later from
this file alone. It lives in the exercise's session folder (`exercise.jsonl`), apart from the
gamedays' journals, and reuses the journal's FaultRecorded and Series records.

Times: `t` of commands, hints, the page and the finish are seconds since the fault was injected;
FaultRecorded and Series (the timeline) count from the start of observation, a moment before it.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import BadInput
from harness.journal import FaultRecorded, Series, clean, decode_with, now_iso
from harness.train.match import PlanStep

SCHEMA_VERSION = 1
MAX_LOG_BYTES = 50_000_000
OUTCOMES = ("recovered", "gave-up", "time-limit", "interrupted", "harness-error")


@dataclass(frozen=True)
class ExerciseStarted:
    exercise: str
    scenario: str
    title: str
    runbook: str
    section: str
    section_title: str
    severity: str
    stack: str  # the stack definition's name
    stack_name: str  # this instance's name
    hosts: tuple[str, ...]
    fix_hosts: tuple[str, ...]  # where the runbook's fix runs: "the right host"
    time_limit: float
    hints_total: int
    plan: tuple[PlanStep, ...]
    manual: tuple[tuple[str, str, int], ...]  # section, text, line: what the runbook leaves to a person
    inject_offset: float  # the inject, in seconds since observation started (the timeline's origin)
    redaction_patterns: tuple[str, ...] = ()
    at: str = field(default_factory=now_iso)


@dataclass(frozen=True)
class PageSent:
    text: str
    t: float
    symptom_t: float | None  # when the observers first saw the fault, since the inject
    at: str = field(default_factory=now_iso)


@dataclass(frozen=True)
class TraineeCommand:
    host: str
    command: str
    t: float  # since the inject, from bash's own timestamp (whole seconds)
    typed_at: str  # wall clock, ISO
    at: str = field(default_factory=now_iso)


@dataclass(frozen=True)
class HintTaken:
    number: int
    total: int
    phase: str
    step: str
    text: str
    t: float
    at: str = field(default_factory=now_iso)


@dataclass(frozen=True)
class ReferenceTimes:
    """The runbook's own drill of the same scenario, from the newest gameday summary on record."""

    found: bool
    source: str = ""
    drill_started_at: str = ""
    verdict: str = ""
    time_to_detect: float | None = None
    time_to_diagnose: float | None = None
    time_to_recover: float | None = None
    time_to_recover_after_fix: float | None = None
    at: str = field(default_factory=now_iso)


@dataclass(frozen=True)
class ExerciseFinished:
    outcome: str  # recovered | gave-up | time-limit | interrupted | harness-error
    recovered: bool
    time_to_detect: float | None  # since the inject, all of them
    time_to_page: float | None
    time_to_first_touch: float | None  # first command on a host the fix runs on
    time_to_diagnose: float | None  # first command that ran a line of a diagnosis step
    time_to_recover: float | None  # steady state back
    duration: float  # inject to the end of the exercise
    hints: int
    message: str = ""
    at: str = field(default_factory=now_iso)


Event = (ExerciseStarted | PageSent | TraineeCommand | HintTaken | ReferenceTimes | ExerciseFinished | FaultRecorded
         | Series)
EVENT_TYPES: dict[str, type[Any]] = {cls.__name__: cls for cls in typing.get_args(Event)}


def encode(event: Event, redact: Callable[[str], str] = lambda s: s) -> str:
    body: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "type": type(event).__name__}
    body.update(clean(dataclasses.asdict(event), redact))
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


class ExerciseLog:
    """Appends events to the exercise's log file and keeps them in memory. Thread-safe."""

    def __init__(self, path: Path, redact: Callable[[str], str] = lambda s: s) -> None:
        self.path = path
        self.redact = redact
        self._lock = threading.Lock()
        self.events: list[Event] = []

    def write(self, event: Event) -> Event:
        line = encode(event, self.redact)
        written = decode(json.loads(line))
        with self._lock:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
            self.events.append(written)
        return written


def decode(body: dict[str, Any]) -> Event:
    event: Event = decode_with(EVENT_TYPES, body)
    return event


def read_log(path: Path | str) -> list[Event]:
    """Every event of an exercise log; BadInput (file:line) on anything unreadable."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_LOG_BYTES + 1)
        if len(data) > MAX_LOG_BYTES:
            raise BadInput(f"{path}: larger than {MAX_LOG_BYTES // 1_000_000} MB: not an exercise log")
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: the exercise log cannot be read ({exc})") from None
    events = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            body = json.loads(line)
            if not isinstance(body, dict) or body.get("schema_version") != SCHEMA_VERSION:
                raise ValueError(f"not an event of schema_version {SCHEMA_VERSION}")
            events.append(decode(body))
        except (ValueError, KeyError, TypeError) as exc:
            raise BadInput(f"{path}:{number}: not an exercise event ({exc})") from None
    return events
