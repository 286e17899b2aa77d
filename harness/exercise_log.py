"""The exercise log: a JSON-lines record of one onboarding exercise, the only input of its debrief.

The exercise's events over the generic event log (harness.eventlog), like the gameday journal: one
typed event per line with `schema_version`, every text redacted and bounded before it is written,
so the debrief can be rendered again later from this file alone. It lives in the exercise's session
folder (`exercise.jsonl`), apart from the gamedays' journals, and reuses the journal's
FaultRecorded and Series records.

Times: `t` of commands, hints, the page and the finish are seconds since the fault was injected;
FaultRecorded and Series (the timeline) count from the start of observation, a moment before it.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.eventlog import EventLog, EventLogError, LogFormat, now_iso
from harness.journal import FaultRecorded, Series
from harness.runbook.commands import PlanStep
from harness.runbook.model import Phase
from harness.vocabulary import Outcome, Priority

MAX_LOG_BYTES = 50_000_000


@dataclass(frozen=True)
class ExerciseStarted:
    exercise: str
    scenario: str
    title: str
    runbook: str
    section: str
    section_title: str
    severity: Priority
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
    phase: Phase  # diagnose | fix | verify
    step: str
    text: str
    t: float
    at: str = field(default_factory=now_iso)


@dataclass(frozen=True)
class ReferenceTimes:
    """The runbook's own drill of the same scenario, from the newest gameday journal on record."""

    found: bool
    source: str = ""
    drill_started_at: str = ""
    verdict: str = ""  # the drill's Verdict; empty when none was found (as older logs hold it)
    time_to_detect: float | None = None
    time_to_diagnose: float | None = None
    time_to_recover: float | None = None
    time_to_recover_after_fix: float | None = None
    at: str = field(default_factory=now_iso)


@dataclass(frozen=True)
class ExerciseFinished:
    outcome: Outcome
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


class ExerciseLogError(EventLogError):
    """An exercise log that cannot be read, or a line of it that is not an exercise event."""


EXERCISE_LOG: LogFormat[Event] = LogFormat("exercise log", "exercise event", EVENT_TYPES, MAX_LOG_BYTES,
                                           ExerciseLogError)


class ExerciseLog(EventLog[Event]):
    """Appends an exercise's events to its log file and keeps them in memory. Thread-safe."""

    def __init__(self, path: Path | str, redact: Callable[[str], str] = lambda s: s) -> None:
        super().__init__(EXERCISE_LOG, path, redact)


def read_exercise_log(path: Path | str) -> list[Event]:
    """Every event of an exercise log; ExerciseLogError (file and line) on anything unreadable."""
    return EXERCISE_LOG.read(path)
