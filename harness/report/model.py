"""The report view model: what every report format shows, built from the journal alone.

Pure and deterministic: the same journal gives the same model (no clock is read here), so a
report can be re-rendered at any time without Docker, and rendered files can be compared
against golden copies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

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
    Series,
    StepRecorded,
)
from harness.vocabulary import DrillPhase, FindingKind, Priority, Verdict

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

    @property
    def passed(self) -> bool:
        return self.verdict == Verdict.PASSED

    @property
    def action_items(self) -> tuple[str, ...]:
        items = []
        for finding in self.findings:
            template = ACTION_ITEMS.get(finding.kind, "{kind}: {message}")
            item = template.format(section=f"#{self.section}", step=finding.step, message=finding.message,
                                   kind=finding.kind)
            if item not in items:
                items.append(item)
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

    @property
    def passed(self) -> bool:
        return bool(self.drills) and all(d.passed for d in self.drills)

    @property
    def counts(self) -> dict[Verdict, int]:
        out: dict[Verdict, int] = {}
        for drill in self.drills:
            out[drill.verdict] = out.get(drill.verdict, 0) + 1
        return out


def build_view(events: Sequence[Event]) -> GamedayView:
    """Group a journal's events into drills, in the order they started."""
    run_id, started_at, finished_at, seconds = "", "", "", 0.0
    starts: dict[str, DrillStarted] = {}
    order: list[str] = []
    buckets: dict[str, dict[str, list[object]]] = {}
    finished: dict[str, DrillFinished] = {}
    for event in events:
        if isinstance(event, GamedayStarted):
            run_id, started_at = event.run_id, event.at
        elif isinstance(event, GamedayFinished):
            finished_at, seconds = event.at, event.seconds
        elif isinstance(event, DrillStarted):
            starts[event.drill] = event
            order.append(event.drill)
        drill = getattr(event, "drill", None)
        if drill is None:
            continue
        bucket = buckets.setdefault(drill, {})
        bucket.setdefault(type(event).__name__, []).append(event)
        if isinstance(event, DrillFinished):
            finished[drill] = event
    drills = tuple(_drill(starts[d], buckets.get(d, {}), finished.get(d)) for d in order)
    if not started_at and drills:
        started_at = drills[0].started_at
    if not finished_at and drills:
        finished_at = drills[-1].finished_at
    return GamedayView(run_id, started_at, finished_at, seconds, drills, verified_sections(drills))


def _of(bucket: dict[str, list[object]], kind: type[Event]) -> list[object]:
    return bucket.get(kind.__name__, [])


def _drill(start: DrillStarted, bucket: dict[str, list[object]], end: DrillFinished | None) -> DrillView:
    findings = tuple(FindingView(f.kind, f.step, f.message, f.location, f.expected, f.seen)
                     for f in _of(bucket, FindingRecorded) if isinstance(f, FindingRecorded))
    series = [s for s in _of(bucket, Series) if isinstance(s, Series)]
    manual = [m for m in _of(bucket, ManualChecklist) if isinstance(m, ManualChecklist)]
    return DrillView(
        drill=start.drill, scenario=start.scenario, title=start.title, severity=start.severity,
        runbook=start.runbook, section=start.section, stack=start.stack, mode=start.mode,
        started_at=start.at, finished_at=end.at if end else "",
        verdict=end.verdict if end else Verdict.INTERRUPTED,
        detect_budget=start.detect_within, recover_budget=start.recover_within,
        metrics=end.metrics if end else None,
        findings=findings,
        steps=tuple(s for s in _of(bucket, StepRecorded) if isinstance(s, StepRecorded)),
        faults=tuple(f for f in _of(bucket, FaultRecorded) if isinstance(f, FaultRecorded)),
        phases=tuple(p for p in _of(bucket, PhaseStarted) if isinstance(p, PhaseStarted)),
        series=series[-1] if series else None,
        manual=manual[-1].items if manual else (),
        duration=end.t if end else 0.0,
    )


def verified_sections(drills: Iterable[DrillView]) -> tuple[SectionVerified, ...]:
    """Per runbook section: when it was last drilled, with what verdict, and when it last passed."""
    latest: dict[tuple[str, str], SectionVerified] = {}
    for drill in sorted(drills, key=lambda d: d.started_at):
        key = (drill.runbook, drill.section)
        before = latest.get(key)
        last_verified = drill.finished_at if drill.passed else (before.last_verified if before else None)
        latest[key] = SectionVerified(drill.runbook, drill.section, drill.started_at, drill.verdict, last_verified)
    return tuple(latest[k] for k in sorted(latest))
