"""`gameday grade`: a team's runbook drilled as written, every section scored.

A composition root like harness.gameday: the runbook is parsed and linted, its bindings file
(harness.bindings) read and checked against it and the registered scenarios, and every drill
planned, all before anything starts (BadInput with `file:line`, exit 2). Then each bound scenario
runs on a fresh stack against the bound section, its fault and checks unchanged, into one journal
whose first record (GradeStarted) says what the runbook holds; the scorecard
(harness.report.scorecard) is rendered from that journal alone.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness import __version__
from harness.bindings import Applied, Bindings, apply_bindings, load_bindings, rebound
from harness.coverage import coverage_of
from harness.errors import BadInput
from harness.gameday import Gameday, GamedayResult, Progress, StackPool
from harness.journal import (
    DrillFinished,
    Event,
    GamedayFinished,
    GamedayStarted,
    GradedBlock,
    GradedSection,
    GradeStarted,
    RunbookCovered,
)
from harness.plan import DrillPlan, build_plan
from harness.runbook.lint import LintFinding, lint
from harness.runbook.model import Runbook, Section, Step
from harness.runbook.parse import parse_runbook
from harness.scenarios import Scenario
from harness.stack.definition import StackDefinition, load_definition

log = logging.getLogger(__name__)
BINDINGS_SUFFIX = ".bindings.toml"  # RUNBOOK.md -> RUNBOOK.bindings.toml beside it, when --bindings is not given
STATE_CHANGE = "GD022"  # lint's code for a diagnosis that starts, stops or kills


def default_bindings(runbook: Path) -> Path:
    return runbook.with_name(runbook.stem + BINDINGS_SUFFIX)


@dataclass(frozen=True)
class GradePlan:
    """Everything a grade runs, checked: the runbook as bound, each drill's id and plan, and the
    journal record that describes the runbook to the scorecard."""

    runbook: Runbook  # as the drills run it (bindings applied)
    bindings: Bindings
    drills: tuple[tuple[str, DrillPlan], ...]  # drill id, plan
    record: GradeStarted

    @property
    def scenarios(self) -> tuple[str, ...]:
        return tuple(plan.scenario.key for _, plan in self.drills)


def drill_id(key: str, anchor: str, bindings: Bindings) -> str:
    """A scenario bound to one section is drilled as its key; bound to several, as `key@anchor`."""
    sections = [a for a, k in bindings.drills if k == key]
    return key if len(sections) == 1 else f"{key}@{anchor}"


def plan_grade(runbook_path: Path, bindings_path: Path, scenarios: Sequence[Scenario]) -> GradePlan:
    """Parse, bind, lint and plan (BadInput with `file:line` for anything wrong; nothing starts)."""
    if not runbook_path.is_file():
        raise BadInput(f"{runbook_path}: no such runbook (give the markdown file to grade)")
    if not bindings_path.exists():
        raise BadInput(f"{bindings_path}: no bindings file; write one beside the runbook (README: \"Grade a "
                       "runbook as written\") or give --bindings FILE")
    runbook = parse_runbook(runbook_path)
    by_key = {s.key: s for s in scenarios}
    definitions: dict[Path, StackDefinition] = {}
    for scenario in scenarios:
        path = scenario.stack.resolve()
        if path not in definitions:
            definitions[path] = load_definition(path)
    hosts_of = {s.key: definitions[s.stack.resolve()].hosts for s in scenarios}
    bindings = load_bindings(bindings_path, runbook, scenarios, hosts_of)
    if not bindings.drills:
        raise BadInput(f"{bindings_path}: no section names a scenario (`scenario = \"system/name\"` under "
                       "[sections.\"ANCHOR\"]): there is nothing to drill")
    bound, applied = apply_bindings(runbook, bindings)
    drills = []
    for anchor, key in bindings.drills:
        section = bindings.section(anchor)
        assert section is not None
        scenario = rebound(by_key[key], runbook_path, section)
        drills.append((drill_id(key, anchor, bindings), build_plan(scenario, definitions[scenario.stack.resolve()],
                                                                   bound)))
    hosts = {h for s in {k for _, k in bindings.drills} for h in hosts_of[s]}
    binds = {b for _, k in bindings.drills for b in by_key[k].binds}
    findings = lint(runbook, hosts=hosts, bound=binds)
    record = GradeStarted(str(runbook_path), str(bindings_path), graded_sections(bound, findings, applied, drills),
                          tuple((i, p.scenario.key, p.section.anchor) for i, p in drills), __version__)
    return GradePlan(bound, bindings, tuple(drills), record)


def _block_end(step: Step) -> int:
    return step.location.line + step.text.count("\n") + 1


def _section_of_line(sections: Sequence[Section], line: int) -> str:
    owner = ""
    for section in sections:
        if section.location.line <= line:
            owner = section.anchor
    return owner


def graded_sections(runbook: Runbook, findings: Sequence[LintFinding], applied: Sequence[Applied],
                    drills: Sequence[tuple[str, DrillPlan]]) -> tuple[GradedSection, ...]:
    """Each section of the runbook with its blocks (as bound), its lint findings and bindings."""
    sections = [s for s in runbook.sections if s.anchor or s.steps]
    runs = {planned.ref for _, plan in drills for planned in plan.steps}
    out = []
    for section in sections:
        blocks = []
        for step in section.steps:
            changes = tuple(f.location.line for f in findings if f.code == STATE_CHANGE
                            and step.location.line < f.location.line <= _block_end(step))
            blocks.append(GradedBlock(step.ref, step.index, step.location.line,
                                      step.phase.value if step.phase else "", step.executable,
                                      step.ref in runs or (step.executable and step.phase is not None
                                                           and not step.skip),
                                      step.host or "", step.skip or "", changes))
        own = tuple((f.code, f.severity.value, f.message, f.location.line) for f in findings
                    if (f.section or _section_of_line(sections, f.location.line)) == section.anchor)
        words = tuple(f"block {a.index} (line {a.line}): {a.what}" for a in applied if a.section == section.anchor)
        out.append(GradedSection(section.anchor, section.title, section.location.line, section.level,
                                 section.parent or "", tuple(blocks), own, words))
    return tuple(out)


def run_grade(grade: GradePlan, folder: Path, *, progress: Progress = log.info,
              on_event: Callable[[Event], None] | None = None, pool: StackPool | None = None) -> GamedayResult:
    """Run every drill of the grade, one after the other, each on a fresh stack (from `pool`, a
    Docker StackPool by default), into `folder/journal.jsonl` (the GradeStarted record first)."""
    run_id = secrets.token_hex(6)
    started = time.monotonic()
    with Gameday(folder / "journal.jsonl", (), progress=progress, listener=on_event, pool=pool) as gameday:
        for _, plan in grade.drills:
            for pattern in plan.definition.redaction_patterns:
                gameday.redactor.add_pattern(pattern)
        journal = gameday.journal
        journal.write(GamedayStarted(run_id, grade.scenarios, __version__))
        journal.write(grade.record)
        for covered in coverage_of([plan for _, plan in grade.drills]):
            journal.write(RunbookCovered(covered.runbook, covered.with_commands, covered.drilled))
        queue: Iterator[tuple[str, DrillPlan]] = iter(grade.drills)
        upcoming: list[tuple[str, DrillPlan] | None] = [next(queue, None)]

        def ahead() -> Scenario | None:
            upcoming.append(next(queue, None))
            nxt = upcoming[-1]
            return nxt[1].scenario if nxt is not None else None

        try:
            while upcoming[-1] is not None:
                current = upcoming[-1]
                assert current is not None
                identity, plan = current
                progress(f"drill {identity}: {plan.scenario.title} -> #{plan.section.anchor}")
                gameday.drill(plan, drill_id=identity, ahead=ahead)
                if upcoming[-1] is current:  # ahead() was not called (the drill failed before its stack)
                    upcoming.append(next(queue, None))
        finally:
            finished = [e for e in journal.events if isinstance(e, DrillFinished)]
            journal.write(GamedayFinished(run_id, tuple((f.scenario, f.verdict) for f in finished),
                                          round(time.monotonic() - started, 3)))
    return GamedayResult(run_id, [journal.path], grade.scenarios, finished, time.monotonic() - started)
