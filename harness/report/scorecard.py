"""The scorecard of a graded runbook (`gameday grade`): one row per section, from the journal alone.

The journal's GradeStarted record says what the runbook holds (sections, blocks, lint findings,
what the bindings did) and which drill handles which section; the drills' own events say what
happened. A drill's findings belong to the section that holds their step (an inherited diagnosis
belongs to the parent section); findings of no step (the scenario's checks, steady state) belong
to the drilled section. Two things are read from the events beyond the drill's verdict:

- a diagnosis with side effects: a diagnosis step that starts, stops or kills (lint GD022) ran,
  and the fault ended before any fix (steady state came back during the diagnosis, or the runbook
  ended the fault while no fix step ran);
- no fix: the drilled section has no fix step a drill runs, so whatever recovered, the runbook
  did not do it;
- a fix step that failed: steady state came back, yet a fix step ended with a non-zero exit status
  that no `# Expected:` after its last command accounts for (the drill itself judges only what
  health says; an on-call engineer would see that step fail).

Pure and deterministic like every report: the same journal gives the same scorecard.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from harness.journal import GradedBlock, GradedSection, GradeStarted
from harness.report.model import DrillView, GamedayView, JournalEvents, bound
from harness.vocabulary import DrillPhase, FaultAction, FindingKind, GradeFindingKind, SectionVerdict, Verdict

SCORECARD_HTML = "scorecard.html"
SCORECARD_MD = "scorecard.md"
SCORECARD_JSON = "scorecard.json"
SCORECARD_TEMPLATE = "scorecard.html.j2"
SCORECARD_SCHEMA = 1
# The drill could not judge the section: it did not end, or nothing it watched showed the fault.
_NOT_JUDGED = (FindingKind.HARNESS_ERROR, FindingKind.UNPROVEN_RECOVERY)


@dataclass(frozen=True)
class ScoreFinding:
    kind: str  # a FindingKind or a GradeFindingKind
    drill: str
    step: str
    message: str
    location: str
    expected: str = ""
    seen: str = ""


@dataclass(frozen=True)
class SectionRow:
    anchor: str
    title: str
    line: int
    level: int
    verdict: SectionVerdict
    drilled_by: tuple[str, ...]  # drills that ran its blocks or drilled it
    target_of: tuple[str, ...]  # drills aimed at this section
    blocks: tuple[GradedBlock, ...]
    findings: tuple[ScoreFinding, ...]
    lint: tuple[tuple[str, str, str, int], ...]
    bindings: tuple[str, ...]

    @property
    def commands(self) -> int:
        """Its blocks that hold commands."""
        return sum(b.commands for b in self.blocks)

    @property
    def runnable(self) -> int:
        """Its blocks a drill runs (commands, a phase, not skipped)."""
        return sum(b.runs for b in self.blocks)

    @property
    def skipped(self) -> tuple[GradedBlock, ...]:
        return tuple(b for b in self.blocks if b.skip)

    @property
    def drilled(self) -> bool:
        return self.verdict is not SectionVerdict.NOT_DRILLED


@dataclass(frozen=True)
class GradedDrill:
    drill: str
    scenario: str
    section: str
    verdict: Verdict | None  # None: the journal holds no such drill (it never ran)


@dataclass(frozen=True)
class Scorecard:
    runbook: str
    bindings: str
    run_id: str
    started_at: str
    finished_at: str
    rows: tuple[SectionRow, ...]
    drills: tuple[GradedDrill, ...]
    problems: tuple[str, ...]

    @property
    def with_commands(self) -> int:
        return sum(1 for r in self.rows if r.commands)

    @property
    def drilled(self) -> tuple[SectionRow, ...]:
        return tuple(r for r in self.rows if r.drilled)

    @property
    def drilled_with_commands(self) -> int:
        return sum(1 for r in self.drilled if r.commands)

    @property
    def held(self) -> int:
        return sum(1 for r in self.rows if r.verdict is SectionVerdict.HELD)

    @property
    def failed(self) -> int:
        return sum(1 for r in self.rows if r.verdict is SectionVerdict.FAILED)

    @property
    def not_judged(self) -> int:
        return sum(1 for r in self.rows if r.verdict is SectionVerdict.NOT_JUDGED)

    @property
    def verdict(self) -> SectionVerdict:
        """The grade as a whole: failed when a drilled section failed, not judged when a drill could
        not judge its section (or never ran), held otherwise."""
        if self.failed:
            return SectionVerdict.FAILED
        if self.not_judged or self.problems or any(d.verdict is None for d in self.drills):
            return SectionVerdict.NOT_JUDGED
        return SectionVerdict.HELD

    @property
    def headline(self) -> str:
        return (f"coverage {self.drilled_with_commands}/{self.with_commands} sections with commands drilled; "
                f"{self.held}/{len(self.drilled)} drilled sections held")


def grade_record(journals: Sequence[JournalEvents]) -> GradeStarted | None:
    """The (last) GradeStarted of the journals, if they hold a grade."""
    found = [e for j in journals for _, e in j.events if isinstance(e, GradeStarted)]
    return found[-1] if found else None


def _state_change_finding(drill: DrillView, blocks: dict[str, GradedBlock], runbook: str,
                          fix_ran: bool) -> list[ScoreFinding]:
    """A diagnosis step that changes state ran, and the fault ended before any fix."""
    phases = {p.phase: p.t for p in drill.phases}
    start, end = phases.get(DrillPhase.DIAGNOSE), phases.get(DrillPhase.FIX)
    evidence = ""
    if drill.series is not None and start is not None:
        was_failing = False
        for t, ok in sorted(drill.series.probe):
            if t < start:
                was_failing = not ok
                continue
            if end is not None and t >= end:
                break
            if ok and was_failing:
                evidence = "the health probe saw the service healthy again during the diagnosis, before any fix ran"
                break
            was_failing = not ok
    restored = any(f.action is FaultAction.ALREADY_RESTORED for f in drill.faults)
    if not evidence and restored and not fix_ran:
        evidence = "no fix step ran, yet the fault was already gone at rollback: a step of the runbook ended it"
    if not evidence:
        return []
    out = []
    for step in drill.steps_in(DrillPhase.DIAGNOSE):
        block = blocks.get(step.ref)
        if block is None or not block.state_changes:
            continue
        lines = step.code.split("\n")
        for line in block.state_changes:
            offset = line - block.line - 1
            command = lines[offset].strip() if 0 <= offset < len(lines) else ""
            out.append(ScoreFinding(
                GradeFindingKind.DIAGNOSIS_SIDE_EFFECT, drill.drill, step.ref,
                f"a diagnosis with side effects: this diagnosis runs `{command}`, and the fault ended before any "
                f"fix: {evidence}", f"{runbook}:{line}",
                expected="a diagnosis that only looks (no start, stop or kill)", seen=command))
        break
    return out


def _failed_fix_steps(drill: DrillView, blocks: dict[str, GradedBlock], runbook: str) -> list[ScoreFinding]:
    """Fix steps that ended with a non-zero exit status nothing in their block expects, in a drill whose
    steady state came back (a drill that did not recover has its fix-failed finding already)."""
    if drill.metrics is None or not drill.metrics.recovered or drill.verdict.is_error:
        return []
    judged = {f.step for f in drill.findings}  # a step-error or a failed check already says it
    out = []
    for step in drill.steps_in(DrillPhase.FIX):
        if step.exit_code == 0 or step.timed_out or step.ref in judged:
            continue
        lines = step.code.split("\n")
        commands = [i for i, text in enumerate(lines) if text.strip() and not text.lstrip().startswith("#")]
        if not commands:
            continue
        block = blocks.get(step.ref)
        last = block.line + 1 + commands[-1] if block is not None else None
        if any(last is None or check.line > last for check in step.checks):
            continue  # an expectation reads what its last command printed: it judged the exit
        complaint = next((text.strip() for text in reversed(step.stderr.split("\n")) if text.strip()), "")
        command = lines[commands[-1]].strip()
        out.append(ScoreFinding(
            GradeFindingKind.FIX_STEP_FAILED, drill.drill, step.ref,
            f"this fix step ended with exit {step.exit_code} (its last command: `{command}`"
            + (f"; it said: {complaint}" if complaint else "")
            + "), and no expectation in the block accounts for it; health came back anyway, so the step as "
              "written is not what fixed it, or it fails for whoever runs it",
            f"{runbook}:{last}" if last is not None else step.location,
            expected="exit 0, or an `# Expected:` line after the command saying what it prints",
            seen=f"exit {step.exit_code}"))
    return out


def build_scorecard(record: GradeStarted, view: GamedayView) -> Scorecard:
    """The scorecard of a grade from its record and the view of its journal's drills."""
    owner: dict[str, str] = {}  # block ref -> section anchor
    blocks: dict[str, GradedBlock] = {}
    for section in record.sections:
        for block in section.blocks:
            owner[block.ref] = section.anchor
            blocks[block.ref] = block
    views = {d.drill: d for d in view.drills}
    findings: dict[str, list[ScoreFinding]] = {}
    reached: dict[str, list[str]] = {}
    targets: dict[str, list[str]] = {}
    unjudged: set[str] = set()
    drills = []

    def file_under(finding: ScoreFinding, anchor: str) -> None:
        """A finding belongs to the section of its step, and to the drilled section too when that differs."""
        home = owner.get(finding.step, anchor)
        findings.setdefault(home, []).append(finding)
        if home != anchor:
            findings.setdefault(anchor, []).append(finding)

    for identity, scenario, anchor in record.drills:
        drill = views.get(identity)
        drills.append(GradedDrill(bound(identity), bound(scenario), bound(anchor), drill.verdict if drill else None))
        targets.setdefault(anchor, []).append(identity)
        if drill is None:
            unjudged.add(anchor)
            continue
        touched = [anchor, *(owner[s.ref] for s in drill.steps if s.ref in owner)]
        for name in dict.fromkeys(touched):
            reached.setdefault(name, []).append(identity)
        if drill.verdict.is_error or drill.problems:
            unjudged.add(anchor)
        for f in drill.findings:
            if f.kind in _NOT_JUDGED:
                unjudged.add(anchor)
                continue
            where = f.location or (f"{record.runbook}:{blocks[f.step].line}" if f.step in blocks else "")
            file_under(ScoreFinding(f.kind, identity, f.step, f.message, where, f.expected, f.seen), anchor)
        fix_ran = bool(drill.steps_in(DrillPhase.FIX))
        for finding in _state_change_finding(drill, blocks, record.runbook, fix_ran):
            file_under(finding, anchor)
        for finding in _failed_fix_steps(drill, blocks, record.runbook):
            file_under(finding, anchor)
        if not fix_ran and not drill.verdict.is_error:
            manual = [text for _, text, _ in drill.manual]
            prose = f"; its fix is prose for a person: {'; '.join(manual)}" if manual else ""
            findings.setdefault(anchor, []).append(ScoreFinding(
                GradeFindingKind.NO_FIX, identity, "-",
                f"no fix step of #{anchor} runs in a drill (no shell block under its fix){prose}",
                f"{record.runbook}:{next((s.line for s in record.sections if s.anchor == anchor), 0)}",
                expected="a fix block whose commands end the fault", seen="no fix step ran"))
    rows = []
    for section in record.sections:
        own = tuple(findings.get(section.anchor, ()))
        drilled_by = tuple(dict.fromkeys([*reached.get(section.anchor, ()), *targets.get(section.anchor, ())]))
        if own:
            verdict = SectionVerdict.FAILED
        elif section.anchor in unjudged:
            verdict = SectionVerdict.NOT_JUDGED
        elif drilled_by:
            verdict = SectionVerdict.HELD
        else:
            verdict = SectionVerdict.NOT_DRILLED
        rows.append(SectionRow(bound(section.anchor), bound(section.title), section.line, section.level, verdict,
                               drilled_by, tuple(targets.get(section.anchor, ())), section.blocks, own,
                               section.lint, section.bindings))
    return Scorecard(bound(record.runbook), bound(record.bindings), view.run_id, view.started_at, view.finished_at,
                     tuple(rows), tuple(drills), view.problems)


# -- formats ------------------------------------------------------------------------------------------


def scorecard_data(card: Scorecard, *, times: bool = True) -> dict[str, object]:
    """The scorecard as plain data (the JSON file); `times=False` leaves out what differs between runs."""
    data: dict[str, object] = {
        "schema_version": SCORECARD_SCHEMA,
        "runbook": card.runbook,
        "bindings": card.bindings,
        "verdict": str(card.verdict),
        "headline": {
            "sections_with_commands": card.with_commands,
            "sections_drilled": len(card.drilled),
            "sections_with_commands_drilled": card.drilled_with_commands,
            "sections_held": card.held,
            "sections_failed": card.failed,
            "sections_not_judged": card.not_judged,
        },
        "drills": [{"drill": d.drill, "scenario": d.scenario, "section": d.section,
                    "verdict": str(d.verdict) if d.verdict else None} for d in card.drills],
        "sections": [{
            "anchor": r.anchor, "title": r.title, "line": r.line, "verdict": str(r.verdict),
            "drilled_by": list(r.drilled_by), "target_of": list(r.target_of),
            "blocks_with_commands": r.commands, "blocks_run": r.runnable,
            "skipped": [{"block": b.index, "line": b.line, "reason": b.skip} for b in r.skipped],
            "findings": [{"kind": f.kind, "drill": f.drill, "step": f.step, "message": f.message,
                          "location": f.location, "expected": f.expected, "seen": f.seen} for f in r.findings],
            "lint": [{"code": c, "severity": s, "message": m, "line": n} for c, s, m, n in r.lint],
            "bindings": list(r.bindings),
        } for r in card.rows],
        "problems": list(card.problems),
    }
    if times:
        data.update({"run_id": card.run_id, "started_at": card.started_at, "finished_at": card.finished_at})
    return data


def render_scorecard_json(card: Scorecard) -> str:
    return json.dumps(scorecard_data(card), indent=2, ensure_ascii=False) + "\n"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_scorecard_markdown(card: Scorecard) -> str:
    out = [f"# Scorecard: `{card.runbook}`", "",
           f"**{card.verdict}**: {card.headline}.", "",
           f"Bindings: `{card.bindings}`. Reproduce: `gameday grade {card.runbook} --bindings {card.bindings}`", ""]
    if card.problems:
        out += ["**The journal does not add up:**", "", *(f"- {_cell(p)}" for p in card.problems), ""]
    out += ["| section | line | verdict | drilled by | blocks with commands / runnable | findings | lint |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in card.rows:
        kinds = ", ".join(dict.fromkeys(f"`{f.kind}`" for f in r.findings)) or "—"
        by = ", ".join(r.drilled_by) or "—"
        out.append(f"| {'&nbsp;' * 2 * max(r.level - 2, 0)}`#{r.anchor}` | {r.line} | {r.verdict} | {_cell(by)} | "
                   f"{r.commands} / {r.runnable} | {kinds} | {len(r.lint)} |")
    for r in card.rows:
        if not (r.findings or (r.drilled and (r.lint or r.bindings))):
            continue
        out += ["", f"## #{r.anchor} ({r.verdict})", ""]
        for f in r.findings:
            out.append(f"- **{f.kind}** ({f.drill}, `{f.step}`, {f.location or 'no line'}): {_cell(f.message)}")
            if f.expected:
                out.append(f"  - expected: `{_cell(f.expected)}`")
            if f.seen:
                out.append(f"  - seen: `{_cell(f.seen)}`")
        for code, severity, message, line in r.lint:
            out.append(f"- lint {code} {severity} (line {line}): {_cell(message)}")
        for words in r.bindings:
            out.append(f"- bindings: {_cell(words)}")
    not_drilled = [r for r in card.rows if not r.drilled and r.commands]
    if not_drilled:
        out += ["", "## Not drilled, with commands", "",
                *(f"- `#{r.anchor}` (line {r.line}): {r.commands} block(s) with commands" for r in not_drilled)]
    return "\n".join(out) + "\n"


def render_scorecard_html(card: Scorecard) -> str:
    from harness.report.html import environment

    return environment().get_template(SCORECARD_TEMPLATE).render(card=card, Verdicts=SectionVerdict)


def scorecard_outputs(journals: Sequence[JournalEvents], view: GamedayView) -> dict[str, str]:
    """The scorecard files of a grade's journals (none when they hold no grade)."""
    record = grade_record(journals)
    if record is None:
        return {}
    card = build_scorecard(record, view)
    return {SCORECARD_HTML: render_scorecard_html(card), SCORECARD_MD: render_scorecard_markdown(card),
            SCORECARD_JSON: render_scorecard_json(card)}


__all__ = ["GradedSection", "Scorecard", "SectionRow", "build_scorecard", "scorecard_outputs"]
