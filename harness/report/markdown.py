"""The Markdown post-mortem of one drill, in the structure of the incident-response post-mortem template.

Title, date, duration, severity and status first, then Impact, Timeline, Root cause, Resolution,
Prevention, Action items and the runbook's manual checklist. A pure function of the view model:
no clock, no randomness, times as seconds since the drill started with fixed precision, so the
same journal always gives the same text (and golden files stay stable).

Text from the journal is written as it is, through the Markdown helpers of harness.report.text
(fences, code spans and table cells that hold together). ANSI colour codes that commands printed
are dropped and other control characters shown as `\\xNN`, as in the JUnit XML.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from harness.journal import Metrics
from harness.report.model import ACTION_ITEMS, DrillView, FindingView
from harness.report.text import cell, code, escape_html, fence, length, offset, printable, prose, tenths
from harness.vocabulary import FINDING_PHASE, STEP_PHASES, DrillPhase, FaultAction, FindingKind, Mark, Verdict

PASSED_ACTIONS = "None: the runbook worked as written."
PROBLEM_ACTION = ("the journal does not add up (see Journal problems): find out how it was written, then run the "
                  "drill again")

# Fault actions that say who ended the fault: bold in the timeline.
_WHO_ENDED = (FaultAction.ROLLED_BACK, FaultAction.ALREADY_RESTORED, FaultAction.ROLLBACK_FAILED)


def render_postmortem(drill: DrillView) -> str:
    """The post-mortem of one drill as Markdown text (ends with a newline)."""
    parts = [
        _header(drill),
        _impact(drill),
        _timeline(drill),
        _root_cause(drill),
        _resolution(drill),
        _prevention(drill),
        _action_items(drill),
        _manual(drill),
        _problems(drill),
        "---\n\n"
        f"_Written by gameday-harness from the journal of drill {code(drill.name)}; times are seconds since "
        "the drill started._\n",
    ]
    return printable("\n".join(part for part in parts if part))


# -- sections -----------------------------------------------------------------------------------


def _header(drill: DrillView) -> str:
    start, end = _moment(drill.started_at), _moment(drill.finished_at)
    date = f"{start:%Y-%m-%d %H:%M:%S} UTC (drill start)" if start else _or_unknown(drill.started_at)
    if drill.finished_at:
        span = f" ({start:%H:%M:%S} to {end:%H:%M:%S} UTC)" if start and end else ""
        duration = f"{length(drill.duration)}{span}"
    else:
        duration = "unknown: the drill never finished"
    lines = [
        f"# Post-mortem: {prose(drill.title)} ({prose(drill.scenario)})",
        "",
        f"- **Date**: {date}",
        f"- **Duration**: {duration}",
        f"- **Severity**: {prose(drill.severity) or 'not set'}",
        f"- **Status**: {_status(drill)}",
        f"- **Runbook**: {code(drill.runbook)}, section {code('#' + drill.section)}",
        f"- **Drill**: {code(drill.name)} on stack {code(drill.stack)} (mode {prose(drill.mode)})",
        "",
        "> Gameday drill, not a real incident: the harness breaks the system on purpose to test the runbook, "
        "and only synthetic users are affected.",
    ]
    return "\n".join(lines) + "\n"


def _status(drill: DrillView) -> str:
    if drill.problems:
        recorded = (f", though it recorded {drill.recorded_verdict}"
                    if drill.recorded_verdict not in (None, drill.verdict) else "")
        return f"{_verdict_status(drill)}; **the journal does not add up**{recorded} (see Journal problems)"
    return _verdict_status(drill)


def _verdict_status(drill: DrillView) -> str:
    if drill.verdict == Verdict.FAILED:
        kinds = drill.finding_kinds
        count = len(drill.findings)
        return f"{Verdict.FAILED}: {count} finding{'s' if count != 1 else ''} ({', '.join(kinds)})"
    return drill.verdict.text


def _impact(drill: DrillView) -> str:
    out = ["## Impact", ""]
    m = drill.metrics
    if m is None:
        out.append(f"Nothing was measured: the drill ended ({drill.verdict}) before the harness could observe the "
                   "fault's effect.")
        return "\n".join(out) + "\n"
    share = f" ({m.requests_failed / m.requests_total:.1%})" if m.requests_total else " (no synthetic traffic)"
    users = (f"{len(m.users_affected)} synthetic user{'s' if len(m.users_affected) != 1 else ''} "
             f"({prose(', '.join(m.users_affected))})" if m.users_affected else "none")
    after = "not measured" if m.success_ratio_after_recovery is None else f"{m.success_ratio_after_recovery:.1%}"
    out += [
        f"- **Time degraded**: {tenths(m.time_degraded)} in which the health probe or the synthetic users saw "
        "failures",
        f"- **Synthetic requests failed**: {m.requests_failed} of {m.requests_total}{share}",
        f"- **Users affected**: {users}",
        f"- **Time to detect**: {_detect(m)}",
        f"- **Time to diagnose**: {_after_inject(m.time_to_diagnose, 'not reached')}",
        f"- **Time to recover**: {_recover(m)}",
        f"- **Success ratio after recovery**: {after}",
    ]
    return "\n".join(out) + "\n"


def _detect(m: Metrics) -> str:
    if not m.detected or m.time_to_detect is None:
        return f"not detected (budget {tenths(m.detect_budget)})"
    return f"{tenths(m.time_to_detect)} after injection; {_budget(m.time_to_detect, m.detect_budget)}"


def _recover(m: Metrics) -> str:
    if not m.recovered or m.time_to_recover is None:
        return f"not recovered: steady state did not come back (budget {tenths(m.recover_budget)} from the fix)"
    text = f"{tenths(m.time_to_recover)} after injection"
    if m.time_to_recover_after_fix is None:
        return f"{text} (budget {tenths(m.recover_budget)} from the fix)"
    return (f"{text}, {tenths(m.time_to_recover_after_fix)} after the fix started; "
            f"{_budget(m.time_to_recover_after_fix, m.recover_budget, 'from the fix')}")


def _budget(value: float, budget: float, what: str = "") -> str:
    where = f" {what}" if what else ""
    if value <= budget:
        return f"budget {tenths(budget)}{where}: within budget"
    return f"budget {tenths(budget)}{where}: **over budget** by {tenths(value - budget)}"


def _after_inject(value: float | None, missing: str) -> str:
    return missing if value is None else f"{tenths(value)} after injection"


def _timeline(drill: DrillView) -> str:
    rows: list[tuple[float, str]] = []
    marks = drill.series.marks if drill.series else ()
    marked = {name for name, _ in marks}
    for name, t in marks:
        rows.append((t, _mark(name)))
    inject = next((t for name, t in marks if name == Mark.INJECT),
                  next((p.t for p in drill.phases if p.phase == DrillPhase.INJECT), None))
    m = drill.metrics
    if m is not None and m.detected and m.time_to_detect is not None and inject is not None:
        rows.append((inject + m.time_to_detect, "**Detected**: the observers see the symptom"))
    for fault in drill.faults:
        action = f"**{fault.action.text}**" if fault.action in _WHO_ENDED else fault.action.text
        rows.append((fault.t, f"Fault {code(fault.fault)} {action}: {escape_html(fault.detail)}"))
    if drill.series:
        for index, (t, ok) in enumerate(drill.series.probe):
            if index == 0:
                text = f"Health probe {'healthy' if ok else 'failing'} (first sample)"
            else:
                text = "Health probe healthy again" if ok else "Health probe **failing**"
            rows.append((t, text))
    for phase in drill.phases:
        if phase.phase not in marked:
            rows.append((phase.t, phase.phase.text))
    finding_time = _finding_times(drill)
    for finding in drill.findings:
        rows.append((finding_time(finding), f"Finding **{finding.kind}** at {code(finding.step)}: "
                     f"{escape_html(finding.message)}"))
    if drill.finished_at:
        rows.append((drill.duration, f"Drill finished: {drill.verdict}"))
    rows.sort(key=lambda row: row[0])  # stable: equal times keep the order above
    start = _moment(drill.started_at)
    out = ["## Timeline", "", "| Since start | UTC | Event |", "| ---: | --- | --- |"]
    for t, text in rows:
        clock = f"{start + timedelta(seconds=t):%H:%M:%S}" if start else "-"
        out.append(f"| {offset(t)} | {clock} | {cell(text)} |")
    return "\n".join(out) + "\n"


def _mark(name: str) -> str:
    """A timeline mark in a sentence: its title in bold and what it means (unknown marks by name)."""
    try:
        mark = Mark(name)
    except ValueError:
        return f"Mark {code(name)}"
    return f"**{mark.label}**: {mark.text}"


def _finding_times(drill: DrillView) -> Callable[[FindingView], float]:
    """When each finding was made, from the journal's other records (the view does not keep its time):
    the step it names, the recovery for slow-recovery, else the end of the drill proper. The records
    are indexed once, so a drill of many findings and steps is written in linear time."""
    started: dict[str, float] = {p.phase: p.t for p in drill.phases}
    marks = dict(drill.series.marks) if drill.series else {}
    last_step: dict[tuple[str, str | None], float] = {}
    for step in drill.steps:
        last_step[(step.ref, step.phase)] = step.t
        last_step[(step.ref, None)] = step.t

    def when(finding: FindingView) -> float:
        if finding.kind == FindingKind.SLOW_RECOVERY and Mark.RECOVERED in marks:
            return marks[Mark.RECOVERED]
        if (finding.kind in (FindingKind.SLOW_RECOVERY, FindingKind.FIX_FAILED) and not finding.location
                and DrillPhase.VERIFY in started):
            return started[DrillPhase.VERIFY]  # found when the wait for steady state ended
        found = last_step.get((finding.step, FINDING_PHASE.get(finding.kind)))
        if found is not None:
            return found
        return started.get(DrillPhase.ROLLBACK, drill.duration)

    return when


def _root_cause(drill: DrillView) -> str:
    out = ["## Root cause", "",
           f"Gameday drill: deliberate fault. The harness introduces it on purpose to check that runbook "
           f"section {code('#' + drill.section)} finds and repairs this failure.", ""]
    injected = [f for f in drill.faults if f.action == FaultAction.INJECTED]
    if not injected:
        out.append("No fault was injected: the drill stopped before it got that far.")
        return "\n".join(out) + "\n"
    verified: dict[str, list[str]] = {}
    for record in drill.faults:
        if record.action == FaultAction.VERIFIED:
            verified.setdefault(record.fault, []).append(record.detail)
    for fault in injected:
        out.append(f"- Fault {code(fault.fault)}: {prose(fault.detail)}")
        for detail in verified.pop(fault.fault, ()):  # under the fault's first injection: linear in the records
            out.append(f"  - the harness confirmed it was in effect: {prose(detail)}")
    return "\n".join(out) + "\n"


def _resolution(drill: DrillView) -> str:
    out = ["## Resolution", ""]
    fixes = drill.steps_in(DrillPhase.FIX)
    if fixes:
        out += ["The runbook's fix steps that ran:", ""]
        for number, step in enumerate(fixes, start=1):
            out += [f"**Step {number}**: {code(step.ref)} on host {code(step.host)} ({code(step.location)}): "
                    f"{_outcome(step.exit_code, step.duration, step.timed_out, step.attempts, step.passed)}", "",
                    fence(step.code, "sh")]
    else:
        out += ["No fix step ran.", ""]
    out.append(_restored_by(drill))
    verifies = drill.steps_in(DrillPhase.VERIFY)
    if verifies:
        held = sum(s.passed for s in verifies)
        out += ["", f"Verification: {held} of {len(verifies)} runbook verification step"
                f"{'s' if len(verifies) != 1 else ''} held after the fix."]
    return "\n".join(out) + "\n"


def _outcome(exit_code: int, duration: float, timed_out: bool, attempts: int, passed: bool) -> str:
    text = f"timed out after {tenths(duration)}" if timed_out else f"exit {exit_code} after {tenths(duration)}"
    if attempts > 1:
        text += f", {attempts} attempts"
    return text if passed else f"{text}; **its checks did not hold**"


def _restored_by(drill: DrillView) -> str:
    last: dict[str, FaultAction] = {}
    details: dict[str, str] = {}
    for record in drill.faults:
        last[record.fault], details[record.fault] = record.action, record.detail
    m = drill.metrics
    recovered = ""
    if m is not None and m.recovered and m.time_to_recover_after_fix is not None:
        recovered = f" Steady state came back {tenths(m.time_to_recover_after_fix)} after the fix started."
    elif m is not None and not m.recovered:
        recovered = " Steady state did not come back after the fix."
    if not last:
        return "Nothing had to be restored: no fault was injected." + recovered
    recovered = f"\n\n{recovered.strip()}" if recovered else ""
    lines = []
    for fault, action in last.items():
        if action == FaultAction.ALREADY_RESTORED:
            lines.append(f"- {code(fault)}: **the runbook restored the system**; when the harness came to roll "
                         "the fault back, it was already gone.")
        elif action == FaultAction.ROLLED_BACK:
            lines.append(f"- {code(fault)}: **the harness restored the system**; the fault was still in place "
                         "after the runbook's steps, so the harness rolled it back itself.")
        elif action == FaultAction.ROLLBACK_FAILED:
            lines.append(f"- {code(fault)}: **nobody restored the system**; the harness could not roll the fault "
                         f"back ({prose(details[fault])}).")
        else:
            lines.append(f"- {code(fault)}: never rolled back during the drill (last record: {action}).")
    return "Who restored the system:\n\n" + "\n".join(lines) + recovered


def _prevention(drill: DrillView) -> str:
    out = ["## Prevention", ""]
    if drill.passed:
        counts = {phase: _steps(len(drill.steps_in(phase))) for phase in STEP_PHASES}
        out += [
            "What the drill showed about the runbook: it works as written.",
            "",
            f"- Its diagnosis ({counts[DrillPhase.DIAGNOSE]}) told the healthy stack from the broken one, at "
            "baseline and during the fault.",
            f"- Its fix ({counts[DrillPhase.FIX]}) brought the service back within the recovery budget.",
            f"- Its verification ({counts[DrillPhase.VERIFY]}) held after the fix.",
            "- Drill this scenario again whenever the runbook section or the service changes.",
        ]
        return "\n".join(out) + "\n"
    if not drill.findings:
        out.append(f"The drill ended ({drill.verdict}) without findings, so it shows nothing about the runbook "
                   "yet.")
        return "\n".join(out) + "\n"
    count = f"{len(drill.findings)} finding{'s' if len(drill.findings) != 1 else ''}"
    if drill.verdict == Verdict.FAILED:
        out.append(f"What the drill showed about the runbook: {count}.")
    else:
        out.append(f"The drill ended ({drill.verdict}) before it could judge the runbook; it recorded {count}.")
    for number, finding in enumerate(drill.findings, start=1):
        out += ["", f"### Finding {number}: {finding.kind} at {code(finding.step)}", "",
                f"- **What happened**: {prose(finding.message)}"]
        if finding.location:
            out.append(f"- **Where**: {code(finding.location)}")
        for label, text in (("Expected", finding.expected), ("Seen", finding.seen)):
            if text:
                out += ["", f"{label}:", "", fence(text, "text").rstrip("\n")]
    return "\n".join(out) + "\n"


def _steps(count: int) -> str:
    return f"{count} step{'s' if count != 1 else ''}"


def _action_items(drill: DrillView) -> str:
    items = list(drill.action_items)
    if not items and not drill.passed:
        fallback = ACTION_ITEMS.get(drill.verdict, "look at the drill's journal: it ended {kind} without a finding")
        items = [fallback.format(kind=drill.verdict, section=f"#{drill.section}", step="-", message=drill.verdict)]
    if drill.problems:
        items.append(PROBLEM_ACTION)
    out = ["## Action items", ""]
    out += [f"- [ ] {prose(item)}" for item in items] if items else [PASSED_ACTIONS]
    return "\n".join(out) + "\n"


def _problems(drill: DrillView) -> str:
    if not drill.problems:
        return ""
    out = ["## Journal problems", "", "The journal does not add up for this drill, so it does not count as passed:", ""]
    out += [f"- {prose(problem)}" for problem in drill.problems]
    return "\n".join(out) + "\n"


def _manual(drill: DrillView) -> str:
    out = ["## Manual checklist", ""]
    if not drill.manual:
        out.append("The runbook section has no manual steps: the drill exercised all of it.")
        return "\n".join(out) + "\n"
    out += ["Steps of the runbook that a person carries out; the harness does not run them, so this drill did "
            "not check them:", ""]
    out += [f"- {prose(text)} ({code('#' + section)}, line {line})" for section, text, line in drill.manual]
    return "\n".join(out) + "\n"


# -- formatting ---------------------------------------------------------------------------------


def _moment(iso: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _or_unknown(text: str) -> str:
    return prose(text) or "unknown"
