"""The debrief of an onboarding exercise, in HTML (the gameday report's look) and Markdown.

Rendered from the exercise log alone (harness.train.record), so it can be rendered again later.
It shows the outcome, the trainee's times against the runbook's own drill of the same scenario,
the page they got, the commands they ran (with times and the runbook steps each one ran), the
hints they took, which runbook steps they matched or skipped, what the runbook would have done,
and how the fault ended. Every rendered text goes through the redactor once more.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from harness.errors import BadInput
from harness.journal import FaultRecorded, Series
from harness.redact import Redactor
from harness.report.summary import printable
from harness.train.hints import PHASE_NAMES
from harness.train.match import PHASES, PlanStep, StepMatch, Typed, match_plan, steps_of
from harness.train.record import (
    Event,
    ExerciseFinished,
    ExerciseStarted,
    HintTaken,
    PageSent,
    ReferenceTimes,
    TraineeCommand,
    read_log,
)

TEMPLATE = "debrief.html.j2"
OUTCOME_TEXT = {
    "recovered": "recovered: steady state came back",
    "gave-up": "not recovered: the trainee gave up",
    "time-limit": "not recovered: the time limit ran out",
    "interrupted": "not recovered: the exercise was interrupted",
    "harness-error": "not recovered: the harness could not run the exercise to its end",
}
FAULT_ACTIONS = {
    "injected": "injected",
    "verified": "confirmed in effect",
    "rolled-back": "rolled back by the harness (it was still in effect)",
    "already-restored": "already gone at rollback: the trainee's fix had ended it",
    "rollback-failed": "ROLLBACK FAILED",
}


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
    def outcome(self) -> str:
        return self.finished.outcome if self.finished else "interrupted"

    @property
    def recovered(self) -> bool:
        return self.finished is not None and self.finished.recovered

    @property
    def outcome_text(self) -> str:
        return OUTCOME_TEXT.get(self.outcome, self.outcome)

    @property
    def hints_used(self) -> int:
        return self.finished.hints if self.finished else len(self.hints)

    @property
    def matched(self) -> tuple[StepMatch, ...]:
        return tuple(m for m in self.matches if m.matched)

    @property
    def skipped(self) -> tuple[StepMatch, ...]:
        return tuple(m for m in self.matches if not m.matched)

    def plan_in(self, phase: str) -> tuple[PlanStep, ...]:
        return tuple(s for s in self.started.plan if s.phase == phase)

    @property
    def comparisons(self) -> tuple[Comparison, ...]:
        f, r = self.finished, self.reference if self.reference and self.reference.found else None
        return (
            Comparison("Detected by monitoring", f.time_to_detect if f else None, r.time_to_detect if r else None,
                       "first failed health check or synthetic request", compare=False),
            Comparison("Page sent", f.time_to_page if f else None, None, "the drill pages nobody"),
            Comparison(f"First command on the fix host ({', '.join(self.started.fix_hosts)})",
                       _whole(f.time_to_first_touch) if f else None, None,
                       "the drill goes there straight away; commands are timed to the second"),
            Comparison("Diagnosed", _whole(f.time_to_diagnose) if f else None, r.time_to_diagnose if r else None,
                       "you: first command that ran a diagnosis step's line; drill: its diagnosis steps done"),
            Comparison("Recovered (steady state)", f.time_to_recover if f else None,
                       r.time_to_recover if r else None, "health and synthetic users steady again"),
        )

    @property
    def duration(self) -> float:
        return self.finished.duration if self.finished else (self.commands[-1].t if self.commands else 0.0)


def _whole(value: float | None) -> float | None:
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

_BACKTICKS = re.compile(r"`+")


def _one_line(text: str) -> str:
    return " ".join(text.splitlines()).strip()


def _code(text: str) -> str:
    text = _one_line(text)
    if not text:
        return "(none)"
    ticks = "`" * (max((len(r) for r in _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _cell(text: str) -> str:
    return _one_line(text).replace("|", "\\|")


def _fence(code: str, info: str = "") -> str:
    fence = "`" * max(3, max((len(r) for r in _BACKTICKS.findall(code)), default=0) + 1)
    body = code if code.endswith("\n") or not code else code + "\n"
    return f"{fence}{info}\n{body}{fence}\n"


def _moment(iso: str) -> str:
    """A journal timestamp to the second, in UTC (as written); unreadable text as it is."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return _one_line(iso)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment.tzinfo else iso


def secs(value: float | None, missing: str = "—") -> str:
    if value is None:
        return missing
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value < 120:
        return f"{sign}{value:.1f} s"
    minutes, rest = divmod(round(value), 60)
    return f"{sign}{minutes} min {rest:02d} s"


def whole(value: float | None) -> str:
    """A command's time: bash stamps whole seconds, so no decimals are shown that do not exist."""
    return "—" if value is None else secs(float(round(value))).replace(".0 s", " s")


def _vs(c: Comparison) -> str:
    if not c.compare or c.trainee is None or c.runbook is None or c.runbook <= 0:
        return ""
    return f"{c.trainee / c.runbook:.1f}x the drill"


def render_markdown(d: Debrief) -> str:
    s, f = d.started, d.finished
    out = [
        f"# Onboarding debrief: {_one_line(s.title)} ({_one_line(s.scenario)})",
        "",
        f"- **Outcome**: {'RECOVERED' if d.recovered else 'NOT RECOVERED'} ({d.outcome_text})",
        f"- **Date**: {_moment(s.at)}",
        f"- **Exercise**: {_code(s.exercise)}, time limit {secs(s.time_limit)}",
        f"- **Severity**: {_one_line(s.severity)}",
        f"- **Runbook**: {_code(s.runbook)}, section {_code('#' + s.section)} ({_one_line(s.section_title)})",
        f"- **Stack**: {_code(s.stack_name)} (hosts {', '.join(s.hosts)}; the fix runs on "
        f"{', '.join(s.fix_hosts)})",
        f"- **Duration**: {secs(d.duration)} from the fault to the end of the exercise",
        f"- **Hints used**: {d.hints_used} of {s.hints_total}",
        f"- **Commands run**: {len(d.commands)}",
    ]
    if f is not None and f.message:
        out.append(f"- **Note**: {_one_line(f.message)}")
    out += ["", "> Onboarding exercise, not a real incident: the harness broke the stack on purpose and rolled it "
            "back at the end. Times are seconds since the fault was injected.", ""]
    out += ["## Your times against the runbook's drill", ""]
    ref = d.reference
    if ref is not None and ref.found:
        out.append(f"The runbook's own drill of `{s.scenario}` ({_one_line(ref.verdict)}, "
                   f"{_moment(ref.drill_started_at)}; from {_code(ref.source)}):")
    else:
        out.append(f"No drill of `{s.scenario}` on record in the reports folder, so there is nothing to compare "
                   f"with: run one with `gameday run -k {s.scenario}` and the next debrief will.")
    out += ["", "| | You | Runbook drill | |", "|---|---|---|---|"]
    for row in d.comparisons:
        note = "; ".join(x for x in (_vs(row), row.note) if x)
        out.append(f"| {_cell(row.what)} | {secs(row.trainee)} | {secs(row.runbook)} | {_cell(note)} |")
    out += ["", "## The page you got", ""]
    out.append(_fence(d.page.text, "text") if d.page else "No page was sent: the exercise ended before the fault "
               "showed.\n")
    out += ["## What you ran", ""]
    if d.commands:
        out += ["| # | Typed at | Since the fault | Host | Command | Runbook step |", "|---|---|---|---|---|---|"]
        for c in d.commands:
            steps = ", ".join(_code(ref) for ref in c.steps) or "—"
            out.append(f"| {c.number} | {_moment(c.typed_at)} | {whole(c.t)} | {_cell(c.host)} | "
                       f"{_cell(_code(c.command))} | {steps} |")
    else:
        out.append("No command was recorded (`gameday shell HOST` records them).")
    out += ["", "## Hints", ""]
    if d.hints:
        for h in d.hints:
            out.append(f"{h.number}. at {secs(h.t)} ({PHASE_NAMES.get(h.phase, h.phase)}"
                       f"{', step ' + _code(h.step) if h.step else ''})")
    else:
        out.append("No hint taken.")
    out += ["", f"Hints used: **{d.hints_used}** of {s.hints_total}.", "", "## Runbook steps: matched and skipped", ""]
    out += ["| Phase | Step | Host | You | |", "|---|---|---|---|---|"]
    for m in d.matches:
        by = f"ran it at {whole(m.t)} (command {m.command + 1})" if m.command is not None else ""
        out.append(f"| {m.step.phase} | {_code(m.step.ref)} | {_cell(m.step.host)} | "
                   f"{'matched' if m.matched else 'skipped'} | {by} |")
    out += ["", f"Matched {len(d.matched)} of {len(d.matches)} steps. A step is matched when you ran one of its "
            "command lines on its host (variables and placeholders match anything; see harness/train/match.py).", ""]
    out += ["## What the runbook would have done", ""]
    for phase in PHASES:
        planned = d.plan_in(phase)
        if not planned:
            continue
        out += [f"### {PHASE_NAMES[phase].capitalize()}", ""]
        for step in planned:
            out += [f"{_code(step.ref)} on **{step.host}** ({_code(step.location)}):", "", _fence(step.code, "bash")]
    if s.manual:
        out += ["The runbook also asks a person to:", ""]
        out += [f"- [ ] {_one_line(text)} ({_code('#' + section)}, line {line})" for section, text, line in s.manual]
        out.append("")
    out += ["## How the fault ended", ""]
    if d.faults:
        out += [f"- {secs(r.t - s.inject_offset)}: {_code(r.fault)} {FAULT_ACTIONS.get(r.action, r.action)}: "
                f"{_one_line(r.detail)}" for r in d.faults]
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
        finished_at=d.finished.at if d.finished else "", verdict="passed" if d.recovered else "failed",
        detect_budget=0.0, recover_budget=0.0, metrics=None, findings=(), steps=(), faults=d.faults, phases=(),
        series=d.series, manual=s.manual, duration=d.duration + s.inject_offset)
    chart = SimpleNamespace(anchor="exercise", timeline=timeline(drill))
    env = environment()
    env.filters["secs"] = secs
    env.filters["whole"] = whole
    return env.get_template(TEMPLATE).render(d=d, s=s, p=chart, fault_actions=FAULT_ACTIONS, phases=PHASES,
                                             phase_names=PHASE_NAMES, vs=_vs)


def write_debrief(log: Path, folder: Path) -> tuple[Path, Path]:
    """Render the debrief of the exercise whose log is given: (HTML path, Markdown path)."""
    from harness.train.state import DEBRIEF_HTML, DEBRIEF_MD

    events = read_log(log)
    debrief = build_debrief(events)
    redact = Redactor(patterns=debrief.started.redaction_patterns)
    folder.mkdir(parents=True, exist_ok=True)
    html, md = folder / DEBRIEF_HTML, folder / DEBRIEF_MD
    html.write_text(redact(render_html(debrief)), encoding="utf-8")
    md.write_text(redact(render_markdown(debrief)), encoding="utf-8")
    return html, md
