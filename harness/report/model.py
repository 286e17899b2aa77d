"""The report view model: what every report format shows, built from the journal alone.

Pure and deterministic: the same journal gives the same model (no clock is read here), so a
report can be re-rendered at any time without Docker, and rendered files can be compared
against golden copies.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from harness.eventlog import truncate
from harness.journal import (
    DrillFinished,
    DrillStarted,
    Event,
    FaultRecorded,
    FindingRecorded,
    GamedayFinished,
    GamedayStarted,
    ManualChecklist,
    Metrics,
    PhaseStarted,
    RunbookCovered,
    Series,
    StepRecorded,
)
from harness.vocabulary import DrillPhase, FindingKind, Priority, Verdict

MAX_RENDERED_CHARS = 20_000  # per text of a report: head and tail kept (the journal bounds them at 8,000 already)

# What to do about each finding (and about a drill that ended without a judgement).
ACTION_ITEMS: dict[FindingKind | Verdict, str] = {
    FindingKind.NOT_DETECTED: "runbook section {section}: the diagnosis step {step} does not detect the fault; make "
                              "it look at what broke and give it a fault-time `# Expected` comment",
    FindingKind.FALSE_ALARM: "runbook section {section}: the diagnosis step {step} fires on a healthy stack; fix its "
                             "expectation so that it tells healthy from broken",
    FindingKind.FIX_FAILED: "runbook section {section}: the fix does not bring the service back ({message})",
    FindingKind.SLOW_RECOVERY: "runbook section {section}: recovery is slower than its budget ({message}); speed the "
                               "fix up or agree on a larger budget",
    FindingKind.VERIFY_FAILED: "runbook section {section}: after the fix, {step} does not hold ({message})",
    FindingKind.STEP_ERROR: "runbook section {section}: step {step} cannot run as written ({message})",
    FindingKind.UNPROVEN_RECOVERY: "the drill's scenario: {message}; give it a `steady=` or `checks=` condition "
                                   "that the fault breaks and a working fix restores",
    FindingKind.HARNESS_ERROR: "gameday-harness: the drill could not complete ({message}); check the harness and "
                               "the stack",
    Verdict.INTERRUPTED: "the drill was interrupted; run it again",
}


@dataclass(frozen=True)
class FindingView:
    kind: FindingKind
    step: str
    message: str
    location: str
    expected: str
    seen: str


@dataclass(frozen=True)
class DrillView:
    drill: str
    scenario: str
    title: str
    severity: Priority
    runbook: str
    section: str
    stack: str
    mode: str
    started_at: str
    finished_at: str
    verdict: Verdict
    detect_budget: float
    recover_budget: float
    metrics: Metrics | None
    findings: tuple[FindingView, ...]
    steps: tuple[StepRecorded, ...]
    faults: tuple[FaultRecorded, ...]
    phases: tuple[PhaseStarted, ...]
    series: Series | None
    manual: tuple[tuple[str, str, int], ...]
    duration: float
    source: str = ""  # the journal it comes from
    label: str = ""  # its name in reports: the drill id, with its journal where the id is not unique
    recorded_verdict: Verdict | None = None  # what its DrillFinished said (None: no DrillFinished)
    problems: tuple[str, ...] = ()  # what does not add up in its journal; a drill with problems never passes

    @property
    def name(self) -> str:
        return self.label or self.drill

    @property
    def passed(self) -> bool:
        return self.verdict == Verdict.PASSED and not self.problems

    @property
    def action_items(self) -> tuple[str, ...]:
        items: dict[str, None] = {}
        for finding in self.findings:
            template = ACTION_ITEMS.get(finding.kind, "{kind}: {message}")
            items[template.format(section=f"#{self.section}", step=finding.step, message=finding.message,
                                  kind=finding.kind)] = None
        return tuple(items)

    @property
    def finding_kinds(self) -> list[FindingKind]:
        """The kinds of this drill's findings, each once, in order of appearance."""
        return list(dict.fromkeys(f.kind for f in self.findings))

    def steps_in(self, phase: DrillPhase) -> tuple[StepRecorded, ...]:
        return tuple(s for s in self.steps if s.phase == phase)


@dataclass(frozen=True)
class SectionVerified:
    """When a runbook section last passed a drill (and when it was last drilled at all)."""

    runbook: str
    section: str
    last_drilled: str
    last_verdict: Verdict
    last_verified: str | None


@dataclass(frozen=True)
class GamedayView:
    run_id: str
    started_at: str
    finished_at: str
    seconds: float
    drills: tuple[DrillView, ...]
    sections: tuple[SectionVerified, ...] = field(default=())
    coverage: tuple[RunbookCovered, ...] = ()  # per runbook: its sections, and those any journal drilled

    @property
    def passed(self) -> bool:
        return bool(self.drills) and all(d.passed for d in self.drills)

    @property
    def problems(self) -> tuple[str, ...]:
        """Everything in the journals that does not add up, drill by drill."""
        return tuple(p for d in self.drills for p in d.problems)

    @property
    def not_passed(self) -> int:
        return sum(not d.passed for d in self.drills)

    @property
    def counts(self) -> dict[Verdict, int]:
        out: dict[Verdict, int] = {}
        for drill in self.drills:
            out[drill.verdict] = out.get(drill.verdict, 0) + 1
        return out


@dataclass(frozen=True)
class JournalEvents:
    """The events of one journal file with their line numbers; `source` names the file in reports."""

    source: str
    events: tuple[tuple[int, Event], ...]
    folder: str = ""  # journals of one folder are one gameday (a parallel run's lanes beside its summary)


def build_view(events: Sequence[Event]) -> GamedayView:
    """The view of one journal's events (line numbers counted from 1 in the order given)."""
    return build_gameday([JournalEvents("", tuple(enumerate(events, start=1)))])


def build_gameday(journals: Sequence[JournalEvents]) -> GamedayView:
    """Group the events of one or more journals into drills, in the order they started.

    A drill's identity is its journal and its drill id (and, should one journal start the same id
    again after it finished, the occurrence): two journals whose drills share an id (two xdist
    workers, `gameday report old.jsonl new.jsonl`) give two drills, never one with the last verdict.
    Events that do not add up are kept as problems of the drill they concern, which then never
    passes: see `_Drill.problems`."""
    run_id, started_at, finished_at, seconds = "", "", "", 0.0
    drills: list[_Drill] = []
    summaries: list[tuple[JournalEvents, int, GamedayFinished]] = []
    coverage: dict[str, RunbookCovered] = {}
    for journal in journals:
        open_: dict[str, _Drill] = {}
        for line, event in journal.events:
            if isinstance(event, RunbookCovered):  # several journals (xdist workers, runs): what any drilled
                earlier = coverage.get(event.runbook)
                if earlier is not None:
                    event = dataclasses.replace(event, drilled=tuple(dict.fromkeys(earlier.drilled + event.drilled)))
                coverage[event.runbook] = bounded(event)
                continue
            if isinstance(event, GamedayStarted):
                if not run_id:
                    run_id, started_at = bound(event.run_id), bound(event.at)
                continue
            if isinstance(event, GamedayFinished):
                finished_at, seconds = bound(event.at), seconds + event.seconds
                summaries.append((journal, line, event))
                continue
            drill_id = getattr(event, "drill", None)
            if not isinstance(drill_id, str):
                continue
            current = open_.get(drill_id)
            if isinstance(event, DrillStarted):
                if current is not None and current.start is None and current.end is None:
                    current.start = (line, event)  # its first phase (stack-up) is journaled before it
                    continue
                if current is not None and current.end is None:
                    current.notes.append(f"started again at line {line} before it finished")
                current = open_[drill_id] = _Drill(journal, drill_id, len(drills), start=(line, event))
                drills.append(current)
                continue
            if current is None:
                current = open_[drill_id] = _Drill(journal, drill_id, len(drills), first_line=line)
                drills.append(current)
            current.add(line, event)
    _check_summaries(journals, summaries, drills)
    names = _labels(drills)
    views = tuple(d.view(names[i]) for i, d in enumerate(drills))
    if not started_at and views:
        started_at = min((v.started_at for v in views if v.started_at), default="")
    if not finished_at and views:
        finished_at = max((v.finished_at for v in views if v.finished_at), default="")
    return GamedayView(run_id, started_at, finished_at, seconds, views, verified_sections(views),
                       tuple(coverage[k] for k in sorted(coverage)))


class _Drill:
    """The events of one drill while they are gathered, and what does not add up about them."""

    def __init__(self, journal: JournalEvents, drill: str, order: int, *,
                 start: tuple[int, DrillStarted] | None = None, first_line: int = 0, ghost: bool = False) -> None:
        self.journal, self.drill, self.order, self.ghost = journal, drill, order, ghost
        self.start = start
        self.first_line = start[0] if start else first_line
        self.end: tuple[int, DrillFinished] | None = None
        self.bucket: dict[type[Event], list[Event]] = {}
        self.notes: list[str] = []  # problems found while gathering

    def add(self, line: int, event: Event) -> None:
        if isinstance(event, DrillFinished):
            if self.end is not None:
                self.notes.append(f"finished twice (lines {self.end[0]} and {line})")
                if event.verdict == Verdict.PASSED:
                    return  # never let a later pass hide an earlier judgement
            self.end = (line, event)
            return
        self.bucket.setdefault(type(event), []).append(event)

    @property
    def scenario(self) -> str:
        if self.start is not None:
            return self.start[1].scenario
        return self.end[1].scenario if self.end else self.drill

    @property
    def recorded(self) -> Verdict | None:
        return self.end[1].verdict if self.end else None

    def problems(self) -> tuple[str, ...]:
        out = list(self.notes)
        if self.start is None and self.end is not None:
            out.insert(0, f"finished (line {self.end[0]}) without a DrillStarted: the journal lost its start")
        elif self.start is None and not self.ghost:
            out.insert(0, f"events from line {self.first_line} without a DrillStarted or a DrillFinished")
        elif self.start is not None and self.end is None:
            out.insert(0, f"started (line {self.start[0]}) but never finished: the run was cut short")
        if self.start is not None and self.end is not None and self.end[1].scenario != self.start[1].scenario:
            out.append(f"started as scenario {self.start[1].scenario!r} but finished as {self.end[1].scenario!r}")
        if self.end is not None and self.end[1].verdict == Verdict.PASSED:
            kinds = list(dict.fromkeys([*self.end[1].findings,
                                        *(f.kind for f in self.bucket.get(FindingRecorded, ())
                                          if isinstance(f, FindingRecorded))]))
            if kinds:
                out.append(f"recorded as passed, yet it holds findings ({', '.join(kinds)})")
        return tuple(out)

    def view(self, label: str) -> DrillView:
        problems = self.problems()
        where = f"{self.journal.source}: " if self.journal.source else ""
        problems = tuple(f"{where}drill {bound(self.drill)}: {p}" for p in problems)
        verdict = self.recorded or Verdict.INTERRUPTED
        if problems and verdict == Verdict.PASSED:
            verdict = Verdict.HARNESS_ERROR  # a journal that does not add up judges nothing
        start = self.start[1] if self.start else None
        end = self.end[1] if self.end else None
        b = self.bucket
        series = [s for s in b.get(Series, ()) if isinstance(s, Series)]
        manual = [m for m in b.get(ManualChecklist, ()) if isinstance(m, ManualChecklist)]
        metrics = end.metrics if end else None
        return DrillView(
            drill=bound(self.drill), scenario=bound(self.scenario),
            title=bound(start.title) if start else "(no DrillStarted in the journal)",
            severity=start.severity if start else Priority.P0,
            runbook=bound(start.runbook) if start else "", section=bound(start.section) if start else "",
            stack=bound(start.stack) if start else "", mode=bound(start.mode) if start else "",
            started_at=bound(start.at) if start else "", finished_at=bound(end.at) if end else "",
            verdict=verdict,
            detect_budget=start.detect_within if start else (metrics.detect_budget if metrics else 0.0),
            recover_budget=start.recover_within if start else (metrics.recover_budget if metrics else 0.0),
            metrics=bounded(metrics),
            findings=tuple(FindingView(f.kind, bound(f.step), bound(f.message), bound(f.location),
                                       bound(f.expected), bound(f.seen))
                           for f in b.get(FindingRecorded, ()) if isinstance(f, FindingRecorded)),
            steps=tuple(bounded(s) for s in b.get(StepRecorded, ()) if isinstance(s, StepRecorded)),
            faults=tuple(bounded(f) for f in b.get(FaultRecorded, ()) if isinstance(f, FaultRecorded)),
            phases=tuple(bounded(p) for p in b.get(PhaseStarted, ()) if isinstance(p, PhaseStarted)),
            series=bounded(series[-1]) if series else None,
            manual=bounded(manual[-1].items) if manual else (),
            duration=end.t if end else 0.0,
            source=self.journal.source,
            label=label,
            recorded_verdict=self.recorded,
            problems=problems,
        )


def _labels(drills: Sequence[_Drill]) -> list[str]:
    """How each drill is named in reports: its id, and its journal (and occurrence) where the id is not unique."""
    sources: dict[str, set[str]] = {}
    seen: dict[tuple[str, str], int] = {}
    for d in drills:
        sources.setdefault(d.drill, set()).add(d.journal.source)
    counts: dict[tuple[str, str], int] = {}
    for d in drills:
        counts[(d.journal.source, d.drill)] = counts.get((d.journal.source, d.drill), 0) + 1
    out = []
    for d in drills:
        key = (d.journal.source, d.drill)
        seen[key] = seen.get(key, 0) + 1
        label = bound(d.drill)
        if len(sources[d.drill]) > 1:
            label += f" ({d.journal.source or 'journal'})"
        if counts[key] > 1:
            label += f" [{seen[key]}]"
        out.append(label)
    return out


def _check_summaries(journals: Sequence[JournalEvents], summaries: Sequence[tuple[JournalEvents, int,
                     GamedayFinished]], drills: list[_Drill]) -> None:
    """A gameday summary (GamedayFinished) must list the verdicts its drills recorded: it is checked
    against the drills of its own journal and of the journals beside it (same folder) that have no
    summary of their own (the lanes of a parallel run). Where they disagree, every drill concerned
    gets a problem; verdicts the summary lists for drills that are not there become one drill of their
    own per scenario, with that problem. One summary per journal is checked, its last."""
    last: dict[int, tuple[JournalEvents, int, GamedayFinished]] = {id(j): (j, n, e) for j, n, e in summaries}
    by_journal: dict[int, list[_Drill]] = {}
    for d in drills:
        by_journal.setdefault(id(d.journal), []).append(d)
    for journal, line, summary in last.values():
        members = [journal] + [j for j in journals if j.folder == journal.folder and id(j) not in last]
        listed: dict[str, Counter[str]] = {}
        for scenario, verdict in summary.verdicts:
            listed.setdefault(scenario, Counter())[str(verdict)] += 1
        found: dict[str, list[_Drill]] = {}
        for member in members:
            for d in by_journal.get(id(member), ()):
                if d.recorded is not None:  # an unfinished drill has a problem of its own; no summary can list it
                    found.setdefault(d.scenario, []).append(d)
        for scenario in dict.fromkeys([*listed, *found]):
            said = listed.get(scenario, Counter())
            concerned = found.get(scenario, [])
            seen = Counter(str(d.recorded) for d in concerned)
            if said == seen:
                continue
            note = (f"the gameday summary (GamedayFinished, {journal.source or 'journal'} line {line}) lists "
                    f"scenario {bound(scenario)} as {_tally(said)}, its drills recorded {_tally(seen)}")
            for d in concerned:
                d.notes.append(note)
            missing = sum(said.values()) - sum(seen.values())
            if missing > 0:
                ghost = _Drill(journal, scenario, len(drills), first_line=line, ghost=True)
                ghost.notes.append(note + (f" ({missing} drills missing)" if missing > 1 else ""))
                drills.append(ghost)


def _tally(counts: Counter[str]) -> str:
    return ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items())) or "nothing"


def bound(text: str) -> str:
    """A text read back from a journal, bounded again (head and tail kept), whatever the journal holds."""
    return truncate(text, MAX_RENDERED_CHARS)


T = TypeVar("T")


def bounded(value: T) -> T:
    """`value` (an event, a tuple, a text) with every text in it bounded; the same object when nothing was too long."""
    out: object = value
    if isinstance(value, str):
        out = bound(value) if len(value) > MAX_RENDERED_CHARS else value
    elif isinstance(value, tuple):
        items = tuple(v if isinstance(v, int | float | None) else bounded(v) for v in value)
        out = value if all(a is b for a, b in zip(items, value, strict=True)) else items
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for name in _field_names(type(value)):
            old = getattr(value, name)
            if isinstance(old, int | float | None):
                continue
            new = bounded(old)
            if new is not old:
                changes[name] = new
        out = dataclasses.replace(value, **changes) if changes else value
    return typing.cast(T, out)


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def verified_sections(drills: Iterable[DrillView]) -> tuple[SectionVerified, ...]:
    """Per runbook section: when it was last drilled, with what verdict, and when it last passed."""
    latest: dict[tuple[str, str], SectionVerified] = {}
    for drill in sorted(drills, key=lambda d: d.started_at):
        key = (drill.runbook, drill.section)
        before = latest.get(key)
        last_verified = drill.finished_at if drill.passed else (before.last_verified if before else None)
        latest[key] = SectionVerified(drill.runbook, drill.section, drill.started_at, drill.verdict, last_verified)
    return tuple(latest[k] for k in sorted(latest))
