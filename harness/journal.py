"""The journal: the append-only, typed record of a gameday, and the only input of every report.

The gameday's events (frozen dataclasses) over the generic event log (harness.eventlog): one JSON
line each, with `schema_version` and `type`, every text redacted and bounded before it is written;
`read_journal` turns the lines back into the same dataclasses, so a report can be rendered later
without Docker.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.eventlog import EventLog, EventLogError, LogFormat, now_iso
from harness.runbook.model import ExpectationKind
from harness.vocabulary import DrillPhase, FaultAction, FindingKind, Priority, Verdict

MAX_JOURNAL_BYTES = 500_000_000


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


@dataclass(frozen=True)
class RunbookCovered:
    """Which sections of a runbook the gameday's drills reach (harness.coverage), written at its start."""

    runbook: str
    with_commands: tuple[str, ...]  # anchors of sections holding blocks with commands
    drilled: tuple[str, ...]  # anchors of sections the drills reach
    at: str = field(default_factory=now_iso)


@dataclass(frozen=True)
class GradedBlock:
    """A code block of a graded runbook, as its drills run it (bindings applied)."""

    ref: str
    index: int
    line: int
    phase: str  # diagnose | fix | verify | manual, or "" when under no phase
    commands: bool  # it holds commands a shell runs
    runs: bool  # a drill of its section runs it (commands, a phase, not skipped)
    host: str
    skip: str
    state_changes: tuple[int, ...]  # lines of a diagnosis command that starts, stops or kills (lint GD022)


@dataclass(frozen=True)
class GradedSection:
    """A section of a graded runbook: what it holds, what lint says of it, what the bindings did."""

    anchor: str
    title: str
    line: int
    level: int
    parent: str
    blocks: tuple[GradedBlock, ...]
    lint: tuple[tuple[str, str, str, int], ...]  # code, severity, message, line
    bindings: tuple[str, ...]  # what the bindings did to its blocks, in words


@dataclass(frozen=True)
class GradeStarted:
    """`gameday grade`: a runbook graded as written, its sections, and which drill handles which section."""

    runbook: str
    bindings: str
    sections: tuple[GradedSection, ...]
    drills: tuple[tuple[str, str, str], ...]  # drill id, scenario key, section anchor
    harness_version: str
    at: str = field(default_factory=now_iso)


Event = (GamedayStarted | DrillStarted | PhaseStarted | StepRecorded | FaultRecorded | ProbeTransition | Series
         | ManualChecklist | FindingRecorded | DrillFinished | DrillTimed | GamedayFinished | GradeStarted
         | RunbookCovered)
EVENT_TYPES: dict[str, type[Any]] = {cls.__name__: cls for cls in typing.get_args(Event)}


# -- the file -----------------------------------------------------------------------------------


class JournalError(EventLogError):
    """A journal that cannot be read, or a line of it that is not a journal event."""


JOURNAL: LogFormat[Event] = LogFormat("journal", "journal event", EVENT_TYPES, MAX_JOURNAL_BYTES, JournalError)


class Journal(EventLog[Event]):
    """Appends gameday events to a JSON-lines file (and keeps them in memory). Thread-safe."""

    def __init__(self, path: Path | str, redact: Callable[[str], str] = lambda s: s,
                 listener: Callable[[Event], None] | None = None) -> None:
        super().__init__(JOURNAL, path, redact, listener)


def decode(body: dict[str, Any]) -> Event:
    """The journal event a decoded JSON line stands for (ValueError if it is none)."""
    return JOURNAL.decode(body)


def read_journal(path: Path | str) -> list[Event]:
    """Every event of a journal file; JournalError (file and line) on anything unreadable."""
    return JOURNAL.read(path)
