"""The debrief of an onboarding exercise, in HTML (the gameday report's look) and Markdown.

Rendered from the exercise log alone (harness.exercise_log), so it can be rendered again later.
It shows the outcome, the trainee's times against the runbook's own drill of the same scenario,
the page they got, the commands they ran (with times and the runbook steps each one ran), the
hints they took, which runbook steps they matched or skipped, what the runbook would have done,
and how the fault ended. Every rendered text goes through the redactor once more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from harness.errors import BadInput
from harness.exercise_log import (
    Event,
    ExerciseFinished,
    ExerciseStarted,
    HintTaken,
    PageSent,
    ReferenceTimes,
    TraineeCommand,
    read_exercise_log,
)
from harness.journal import FaultRecorded, Series
from harness.redact import Redactor, redact_fields, safe_patterns
from harness.report.text import cell, code, fence, minutes, one_line, printable, whole
from harness.runbook.commands import PHASES, PlanStep, StepMatch, Typed, match_plan, steps_of
from harness.runbook.model import Phase
from harness.vocabulary import Outcome, Verdict

TEMPLATE = "debrief.html.j2"
DEBRIEF_HTML = "debrief.html"
DEBRIEF_MD = "debrief.md"


@dataclass(frozen=True)
class CommandRow:
    number: int
    host: str
    command: str
    t: float
    typed_at: str
    steps: tuple[str, ...]  # refs of the runbook steps it ran a line of


@dataclass(frozen=True)
class Comparison:
    what: str
    trainee: float | None
    runbook: float | None
    note: str = ""
    compare: bool = True  # False: the same machinery measured both (monitoring), no ratio to show


@dataclass(frozen=True)
class Debrief:
    started: ExerciseStarted
    page: PageSent | None
    commands: tuple[CommandRow, ...]
    hints: tuple[HintTaken, ...]
    reference: ReferenceTimes | None
    finished: ExerciseFinished | None
    faults: tuple[FaultRecorded, ...]
    series: Series | None
    matches: tuple[StepMatch, ...]

    @property
    def outcome(self) -> Outcome:
        return self.finished.outcome if self.finished else Outcome.INTERRUPTED

    @property
    def recovered(self) -> bool:
        return self.finished is not None and self.finished.recovered

    @property
    def outcome_text(self) -> str:
        return self.outcome.text

    @property
    def hints_used(self) -> int:
        return self.finished.hints if self.finished else len(self.hints)

    @property
    def matched(self) -> tuple[StepMatch, ...]:
        return tuple(m for m in self.matches if m.matched)

    @property
    def skipped(self) -> tuple[StepMatch, ...]:
        return tuple(m for m in self.matches if not m.matched)

    def plan_in(self, phase: Phase) -> tuple[PlanStep, ...]:
        return tuple(s for s in self.started.plan if s.phase == phase)

    @property
    def comparisons(self) -> tuple[Comparison, ...]:
        f, r = self.finished, self.reference if self.reference and self.reference.found else None
        return (
            Comparison("Detected by monitoring", f.time_to_detect if f else None, r.time_to_detect if r else None,
                       "first failed health check or synthetic request", compare=False),
            Comparison("Page sent", f.time_to_page if f else None, None, "the drill pages nobody"),
            Comparison(f"First command on the fix host ({', '.join(self.started.fix_hosts)})",
                       _to_second(f.time_to_first_touch) if f else None, None,
                       "the drill goes there straight away; commands are timed to the second"),
            Comparison("Diagnosed", _to_second(f.time_to_diagnose) if f else None, r.time_to_diagnose if r else None,
                       "you: first command that ran a diagnosis step's line; drill: its diagnosis steps done"),
            Comparison("Recovered (steady state)", f.time_to_recover if f else None,
                       r.time_to_recover if r else None, "health and synthetic users steady again"),
        )

    @property
    def duration(self) -> float:
        return self.finished.duration if self.finished else (self.commands[-1].t if self.commands else 0.0)


def _to_second(value: float | None) -> float | None:
    return None if value is None else float(round(value))


def build_debrief(events: Sequence[Event]) -> Debrief:
    starts = [e for e in events if isinstance(e, ExerciseStarted)]
    if not starts:
        raise BadInput("the exercise log has no ExerciseStarted event: not the log of an exercise")
    started = starts[0]
    typed = [e for e in events if isinstance(e, TraineeCommand)]
    plan = started.plan
    commands = tuple(
        CommandRow(n, c.host, c.command, c.t, c.typed_at, tuple(steps_of(Typed(c.host, c.command, c.t), plan)))
        for n, c in enumerate(typed, start=1))
    pages = [e for e in events if isinstance(e, PageSent)]
    references = [e for e in events if isinstance(e, ReferenceTimes)]
    ends = [e for e in events if isinstance(e, ExerciseFinished)]
    series = [e for e in events if isinstance(e, Series)]
    return Debrief(
        started=started, page=pages[0] if pages else None, commands=commands,
        hints=tuple(e for e in events if isinstance(e, HintTaken)),
        reference=references[-1] if references else None, finished=ends[-1] if ends else None,
        faults=tuple(e for e in events if isinstance(e, FaultRecorded)), series=series[-1] if series else None,
        matches=tuple(match_plan(plan, [Typed(c.host, c.command, c.t) for c in typed])))


# -- Markdown -----------------------------------------------------------------------------------


def _moment(iso: str) -> str:
    """A journal timestamp to the second, in UTC (as written); unreadable text as it is."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return one_line(iso)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment.tzinfo else iso


def _vs(c: Comparison) -> str:
    if not c.compare or c.trainee is None or c.runbook is None or c.runbook <= 0:
        return ""
    return f"{c.trainee / c.runbook:.1f}x the drill"


def render_markdown(d: Debrief) -> str:
    s, f = d.started, d.finished
    out = [
        f"# Onboarding debrief: {one_line(s.title)} ({one_line(s.scenario)})",
        "",
        f"- **Outcome**: {'RECOVERED' if d.recovered else 'NOT RECOVERED'} ({d.outcome_text})",
        f"- **Date**: {_moment(s.at)}",
        f"- **Exercise**: {code(s.exercise)}, time limit {minutes(s.time_limit)}",
        f"- **Severity**: {one_line(s.severity)}",
        f"- **Runbook**: {code(s.runbook)}, section {code('#' + s.section)} ({one_line(s.section_title)})",
        f"- **Stack**: {code(s.stack_name)} (hosts {', '.join(s.hosts)}; the fix runs on "
        f"{', '.join(s.fix_hosts)})",
        f"- **Duration**: {minutes(d.duration)} from the fault to the end of the exercise",
        f"- **Hints used**: {d.hints_used} of {s.hints_total}",
        f"- **Commands run**: {len(d.commands)}",
    ]
    if f is not None and f.message:
        out.append(f"- **Note**: {one_line(f.message)}")
    out += ["", "> Onboarding exercise, not a real incident: the harness broke the stack on purpose and rolled it "
            "back at the end. Times are seconds since the fault was injected.", ""]
    out += ["## Your times against the runbook's drill", ""]
    ref = d.reference
    if ref is not None and ref.found:
        out.append(f"The runbook's own drill of `{s.scenario}` ({one_line(ref.verdict)}, "
                   f"{_moment(ref.drill_started_at)}; from {code(ref.source)}):")
    else:
        out.append(f"No drill of `{s.scenario}` on record in the reports folder, so there is nothing to compare "
                   f"with: run one with `gameday run -k {s.scenario}` and the next debrief will.")
    out += ["", "| | You | Runbook drill | |", "|---|---|---|---|"]
    for row in d.comparisons:
        note = "; ".join(x for x in (_vs(row), row.note) if x)
        out.append(f"| {cell(row.what)} | {minutes(row.trainee)} | {minutes(row.runbook)} | {cell(note)} |")
    out += ["", "## The page you got", ""]
    out.append(fence(d.page.text, "text") if d.page else "No page was sent: the exercise ended before the fault "
               "showed.\n")
    out += ["## What you ran", ""]
    if d.commands:
        out += ["| # | Typed at | Since the fault | Host | Command | Runbook step |", "|---|---|---|---|---|---|"]
        for c in d.commands:
            steps = ", ".join(code(ref) for ref in c.steps) or "—"
            out.append(f"| {c.number} | {_moment(c.typed_at)} | {whole(c.t)} | {cell(c.host)} | "
                       f"{cell(code(c.command))} | {steps} |")
    else:
        out.append("No command was recorded (`gameday shell HOST` records them).")
    out += ["", "## Hints", ""]
    if d.hints:
        for h in d.hints:
            out.append(f"{h.number}. at {minutes(h.t)} ({h.phase.text}"
                       f"{', step ' + code(h.step) if h.step else ''})")
    else:
        out.append("No hint taken.")
    out += ["", f"Hints used: **{d.hints_used}** of {s.hints_total}.", "", "## Runbook steps: matched and skipped", ""]
    out += ["| Phase | Step | Host | You | |", "|---|---|---|---|---|"]
    for m in d.matches:
        by = f"ran it at {whole(m.t)} (command {m.command + 1})" if m.command is not None else ""
        out.append(f"| {m.step.phase} | {code(m.step.ref)} | {cell(m.step.host)} | "
                   f"{'matched' if m.matched else 'skipped'} | {by} |")
    out += ["", f"Matched {len(d.matched)} of {len(d.matches)} steps. A step is matched when you ran one of its "
            "command lines on its host (variables and placeholders match anything; see "
            "harness/runbook/commands.py).", ""]
    out += ["## What the runbook would have done", ""]
    for phase in PHASES:
        planned = d.plan_in(phase)
        if not planned:
            continue
        out += [f"### {phase.text.capitalize()}", ""]
        for step in planned:
            out += [f"{code(step.ref)} on **{step.host}** ({code(step.location)}):", "", fence(step.code, "bash")]
    if s.manual:
        out += ["The runbook also asks a person to:", ""]
        out += [f"- [ ] {one_line(text)} ({code('#' + section)}, line {line})" for section, text, line in s.manual]
        out.append("")
    out += ["## How the fault ended", ""]
    if d.faults:
        out += [f"- {minutes(r.t - s.inject_offset)}: {code(r.fault)} {r.action.text}: "
                f"{one_line(r.detail)}" for r in d.faults]
    else:
        out.append("No fault was recorded.")
    out += ["", "---", "", "_Written by gameday-harness from the exercise log (`exercise.jsonl`)._", ""]
    return printable("\n".join(out))


# -- HTML ---------------------------------------------------------------------------------------


def render_html(d: Debrief) -> str:
    from harness.report.html import environment, timeline
    from harness.report.model import DrillView

    s = d.started
    drill = DrillView(
        drill=s.exercise, scenario=s.scenario, title=s.title, severity=s.severity, runbook=s.runbook,
        section=s.section, stack=s.stack, mode="train", started_at=s.at,
        finished_at=d.finished.at if d.finished else "", verdict=Verdict.PASSED if d.recovered else Verdict.FAILED,
        detect_budget=0.0, recover_budget=0.0, metrics=None, findings=(), steps=(), faults=d.faults, phases=(),
        series=d.series, manual=s.manual, duration=d.duration + s.inject_offset)
    chart = SimpleNamespace(anchor="exercise", timeline=timeline(drill))
    env = environment()
    env.filters["secs"] = minutes
    env.filters["whole"] = whole
    return env.get_template(TEMPLATE).render(d=d, s=s, p=chart, phases=PHASES, vs=_vs)


def write_debrief(log: Path, folder: Path) -> tuple[Path, Path]:
    """Render the debrief of the exercise whose log is given: (HTML path, Markdown path)."""
    events = read_exercise_log(log)
    redact = Redactor(patterns=safe_patterns(build_debrief(events).started.redaction_patterns, str(log)))
    debrief = build_debrief(redact_fields(events, redact))  # values redacted before anything is encoded
    folder.mkdir(parents=True, exist_ok=True)
    html, md = folder / DEBRIEF_HTML, folder / DEBRIEF_MD
    html.write_text(redact(render_html(debrief)), encoding="utf-8")
    md.write_text(redact(render_markdown(debrief)), encoding="utf-8")
    return html, md
