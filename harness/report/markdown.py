"""The Markdown post-mortem of one drill, in the structure of the incident-response post-mortem template.

Title, date, duration, severity and status first, then Impact, Timeline, Root cause, Resolution,
Prevention, Action items and the runbook's manual checklist. A pure function of the view model:
no clock, no randomness, times as seconds since the drill started with fixed precision, so the
same journal always gives the same text (and golden files stay stable).

Text from the journal is written as it is; only code goes into fences (longer than any backtick
run inside it), inline code gets a long enough backtick run, and table cells lose their line
breaks and pipes so the table holds together. ANSI colour codes that commands printed are dropped
and other control characters shown as `\\xNN`, as in the JUnit XML.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from harness.journal import Metrics
from harness.report.model import ACTION_ITEMS, DrillView, FindingView
from harness.report.summary import printable

PASSED_ACTIONS = "None: the runbook worked as written."

_VERDICTS = {
    "passed": "passed: the runbook found the fault and repaired it as written",
    "harness-error": "harness error: the drill could not complete, so it does not judge the runbook yet",
    "interrupted": "interrupted: the drill stopped before it finished",
}

_PHASES = {
    "stack-up": "Fresh stack up for this drill",
    "baseline": "Baseline: the runbook's diagnosis runs against the healthy stack",
    "observe": "Observers start (health probe, synthetic users)",
    "inject": "Fault injection starts",
    "detect": "Waiting for the symptom to show",
    "diagnose": "Diagnosis starts (runbook steps)",
    "fix": "Fix starts (runbook steps)",
    "recover": "Fix steps done; waiting for steady state",
    "verify": "Verification starts (runbook steps)",
    "rollback": "Harness rollback starts",
}

_MARKS = {
    "inject": "**Inject**: the harness breaks the system on purpose",
    "diagnosed": "**Diagnosed**: the runbook's diagnosis steps are done",
    "fix": "**Fix started**: the first runbook fix step runs",
    "recovered": "**Recovered**: steady state is back",
}

_FAULT_ACTIONS = {
    "injected": "injected",
    "verified": "confirmed in effect",
    "rolled-back": "**rolled back** by the harness",
    "already-restored": "already gone at rollback (**the runbook restored it**)",
    "rollback-failed": "**rollback failed**",
}

# Which phase a finding's step ran in, to place the finding on the timeline.
_FINDING_PHASE = {"false-alarm": "baseline", "not-detected": "diagnose", "fix-failed": "fix",
                  "verify-failed": "verify"}


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
        "---\n\n"
        f"_Written by gameday-harness from the journal of drill {_code(drill.drill)}; times are seconds since "
        "the drill started._\n",
    ]
    return printable("\n".join(parts))


# -- sections -----------------------------------------------------------------------------------


def _header(drill: DrillView) -> str:
    start, end = _moment(drill.started_at), _moment(drill.finished_at)
    date = f"{start:%Y-%m-%d %H:%M:%S} UTC (drill start)" if start else _or_unknown(drill.started_at)
    if drill.finished_at:
        span = f" ({start:%H:%M:%S} to {end:%H:%M:%S} UTC)" if start and end else ""
        duration = f"{_length(drill.duration)}{span}"
    else:
        duration = "unknown: the drill never finished"
    lines = [
        f"# Post-mortem: {_one_line(drill.title)} ({_one_line(drill.scenario)})",
        "",
        f"- **Date**: {date}",
        f"- **Duration**: {duration}",
        f"- **Severity**: {_one_line(drill.severity) or 'not set'}",
        f"- **Status**: {_status(drill)}",
        f"- **Runbook**: {_code(drill.runbook)}, section {_code('#' + drill.section)}",
        f"- **Drill**: {_code(drill.drill)} on stack {_code(drill.stack)} (mode {_one_line(drill.mode)})",
        "",
        "> Gameday drill, not a real incident: the harness breaks the system on purpose to test the runbook, "
        "and only synthetic users are affected.",
    ]
    return "\n".join(lines) + "\n"


def _status(drill: DrillView) -> str:
    if drill.verdict == "failed":
        kinds = drill.finding_kinds
        count = len(drill.findings)
        return f"failed: {count} finding{'s' if count != 1 else ''} ({', '.join(kinds)})"
    return _VERDICTS.get(drill.verdict, _one_line(drill.verdict))


def _impact(drill: DrillView) -> str:
    out = ["## Impact", ""]
    m = drill.metrics
    if m is None:
        out.append(f"Nothing was measured: the drill ended ({drill.verdict}) before the harness could observe the "
                   "fault's effect.")
        return "\n".join(out) + "\n"
    share = f" ({m.requests_failed / m.requests_total:.1%})" if m.requests_total else " (no synthetic traffic)"
    users = (f"{len(m.users_affected)} synthetic user{'s' if len(m.users_affected) != 1 else ''} "
             f"({', '.join(m.users_affected)})" if m.users_affected else "none")
    after = "not measured" if m.success_ratio_after_recovery is None else f"{m.success_ratio_after_recovery:.1%}"
    out += [
        f"- **Time degraded**: {_secs(m.time_degraded)} in which the health probe or the synthetic users saw "
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
        return f"not detected (budget {_secs(m.detect_budget)})"
    return f"{_secs(m.time_to_detect)} after injection; {_budget(m.time_to_detect, m.detect_budget)}"


def _recover(m: Metrics) -> str:
    if not m.recovered or m.time_to_recover is None:
        return f"not recovered: steady state did not come back (budget {_secs(m.recover_budget)} from the fix)"
    text = f"{_secs(m.time_to_recover)} after injection"
    if m.time_to_recover_after_fix is None:
        return f"{text} (budget {_secs(m.recover_budget)} from the fix)"
    return (f"{text}, {_secs(m.time_to_recover_after_fix)} after the fix started; "
            f"{_budget(m.time_to_recover_after_fix, m.recover_budget, 'from the fix')}")


def _budget(value: float, budget: float, what: str = "") -> str:
    where = f" {what}" if what else ""
    if value <= budget:
        return f"budget {_secs(budget)}{where}: within budget"
    return f"budget {_secs(budget)}{where}: **over budget** by {_secs(value - budget)}"


def _after_inject(value: float | None, missing: str) -> str:
    return missing if value is None else f"{_secs(value)} after injection"


def _timeline(drill: DrillView) -> str:
    rows: list[tuple[float, str]] = []
    marks = drill.series.marks if drill.series else ()
    marked = {name for name, _ in marks}
    for name, t in marks:
        rows.append((t, _MARKS.get(name, f"Mark {_code(name)}")))
    inject = next((t for name, t in marks if name == "inject"),
                  next((p.t for p in drill.phases if p.phase == "inject"), None))
    m = drill.metrics
    if m is not None and m.detected and m.time_to_detect is not None and inject is not None:
        rows.append((inject + m.time_to_detect, "**Detected**: the observers see the symptom"))
    for fault in drill.faults:
        action = _FAULT_ACTIONS.get(fault.action, fault.action)
        rows.append((fault.t, f"Fault {_code(fault.fault)} {action}: {fault.detail}"))
    if drill.series:
        for index, (t, ok) in enumerate(drill.series.probe):
            if index == 0:
                text = f"Health probe {'healthy' if ok else 'failing'} (first sample)"
            else:
                text = "Health probe healthy again" if ok else "Health probe **failing**"
            rows.append((t, text))
    for phase in drill.phases:
        if phase.phase not in marked:
            rows.append((phase.t, _PHASES.get(phase.phase, f"Phase {_code(phase.phase)} starts")))
    for finding in drill.findings:
        rows.append((_finding_time(drill, finding), f"Finding **{finding.kind}** at {_code(finding.step)}: "
                     f"{finding.message}"))
    if drill.finished_at:
        rows.append((drill.duration, f"Drill finished: {drill.verdict}"))
    rows.sort(key=lambda row: row[0])  # stable: equal times keep the order above
    start = _moment(drill.started_at)
    out = ["## Timeline", "", "| Since start | UTC | Event |", "| ---: | --- | --- |"]
    for t, text in rows:
        clock = f"{start + timedelta(seconds=t):%H:%M:%S}" if start else "-"
        out.append(f"| {_offset(t)} | {clock} | {_cell(text)} |")
    return "\n".join(out) + "\n"


def _finding_time(drill: DrillView, finding: FindingView) -> float:
    """When a finding was made, from the journal's other records (the view does not keep its time):
    the step it names, the recovery for slow-recovery, else the end of the drill proper."""
    started: dict[str, float] = {p.phase: p.t for p in drill.phases}
    marks = dict(drill.series.marks) if drill.series else {}
    if finding.kind == "slow-recovery" and "recovered" in marks:
        return marks["recovered"]
    if finding.kind in ("slow-recovery", "fix-failed") and not finding.location and "verify" in started:
        return started["verify"]  # found when the wait for steady state ended
    phase = _FINDING_PHASE.get(finding.kind)
    steps = [s for s in drill.steps if s.ref == finding.step and (phase is None or s.phase == phase)]
    if steps:
        return steps[-1].t
    return started.get("rollback", drill.duration)


def _root_cause(drill: DrillView) -> str:
    out = ["## Root cause", "",
           f"Gameday drill: deliberate fault. The harness introduces it on purpose to check that runbook "
           f"section {_code('#' + drill.section)} finds and repairs this failure.", ""]
    injected = [f for f in drill.faults if f.action == "injected"]
    if not injected:
        out.append("No fault was injected: the drill stopped before it got that far.")
        return "\n".join(out) + "\n"
    for fault in injected:
        out.append(f"- Fault {_code(fault.fault)}: {_one_line(fault.detail)}")
        for record in drill.faults:
            if record.fault == fault.fault and record.action == "verified":
                out.append(f"  - the harness confirmed it was in effect: {_one_line(record.detail)}")
    return "\n".join(out) + "\n"


def _resolution(drill: DrillView) -> str:
    out = ["## Resolution", ""]
    fixes = drill.steps_in("fix")
    if fixes:
        out += ["The runbook's fix steps that ran:", ""]
        for number, step in enumerate(fixes, start=1):
            out += [f"**Step {number}**: {_code(step.ref)} on host {_code(step.host)} ({_code(step.location)}): "
                    f"{_outcome(step.exit_code, step.duration, step.timed_out, step.attempts, step.passed)}", "",
                    _fence(step.code, "sh")]
    else:
        out += ["No fix step ran.", ""]
    out.append(_restored_by(drill))
    verifies = drill.steps_in("verify")
    if verifies:
        held = sum(s.passed for s in verifies)
        out += ["", f"Verification: {held} of {len(verifies)} runbook verification step"
                f"{'s' if len(verifies) != 1 else ''} held after the fix."]
    return "\n".join(out) + "\n"


def _outcome(exit_code: int, duration: float, timed_out: bool, attempts: int, passed: bool) -> str:
    text = f"timed out after {_secs(duration)}" if timed_out else f"exit {exit_code} after {_secs(duration)}"
    if attempts > 1:
        text += f", {attempts} attempts"
    return text if passed else f"{text}; **its checks did not hold**"


def _restored_by(drill: DrillView) -> str:
    last: dict[str, str] = {}
    details: dict[str, str] = {}
    for record in drill.faults:
        last[record.fault], details[record.fault] = record.action, record.detail
    m = drill.metrics
    recovered = ""
    if m is not None and m.recovered and m.time_to_recover_after_fix is not None:
        recovered = f" Steady state came back {_secs(m.time_to_recover_after_fix)} after the fix started."
    elif m is not None and not m.recovered:
        recovered = " Steady state did not come back after the fix."
    if not last:
        return "Nothing had to be restored: no fault was injected." + recovered
    recovered = f"\n\n{recovered.strip()}" if recovered else ""
    lines = []
    for fault, action in last.items():
        if action == "already-restored":
            lines.append(f"- {_code(fault)}: **the runbook restored the system**; when the harness came to roll "
                         "the fault back, it was already gone.")
        elif action == "rolled-back":
            lines.append(f"- {_code(fault)}: **the harness restored the system**; the fault was still in place "
                         "after the runbook's steps, so the harness rolled it back itself.")
        elif action == "rollback-failed":
            lines.append(f"- {_code(fault)}: **nobody restored the system**; the harness could not roll the fault "
                         f"back ({_one_line(details[fault])}).")
        else:
            lines.append(f"- {_code(fault)}: never rolled back during the drill (last record: {action}).")
    return "Who restored the system:\n\n" + "\n".join(lines) + recovered


def _prevention(drill: DrillView) -> str:
    out = ["## Prevention", ""]
    if drill.passed:
        counts = {phase: len(drill.steps_in(phase)) for phase in ("baseline", "diagnose", "fix", "verify")}
        out += [
            "What the drill showed about the runbook: it works as written.",
            "",
            f"- Its diagnosis ({counts['diagnose']} step{'s' if counts['diagnose'] != 1 else ''}) told the "
            "healthy stack from the broken one, at baseline and during the fault.",
            f"- Its fix ({counts['fix']} step{'s' if counts['fix'] != 1 else ''}) brought the service back "
            "within the recovery budget.",
            f"- Its verification ({counts['verify']} step{'s' if counts['verify'] != 1 else ''}) held after "
            "the fix.",
            "- Drill this scenario again whenever the runbook section or the service changes.",
        ]
        return "\n".join(out) + "\n"
    if not drill.findings:
        out.append(f"The drill ended ({drill.verdict}) without findings, so it shows nothing about the runbook "
                   "yet.")
        return "\n".join(out) + "\n"
    count = f"{len(drill.findings)} finding{'s' if len(drill.findings) != 1 else ''}"
    if drill.verdict == "failed":
        out.append(f"What the drill showed about the runbook: {count}.")
    else:
        out.append(f"The drill ended ({drill.verdict}) before it could judge the runbook; it recorded {count}.")
    for number, finding in enumerate(drill.findings, start=1):
        out += ["", f"### Finding {number}: {finding.kind} at {_code(finding.step)}", "",
                f"- **What happened**: {_one_line(finding.message)}"]
        if finding.location:
            out.append(f"- **Where**: {_code(finding.location)}")
        for label, text in (("Expected", finding.expected), ("Seen", finding.seen)):
            if text:
                out += ["", f"{label}:", "", _fence(text, "text").rstrip("\n")]
    return "\n".join(out) + "\n"


def _action_items(drill: DrillView) -> str:
    items = list(drill.action_items)
    if not items and not drill.passed:
        fallback = ACTION_ITEMS.get(drill.verdict, "look at the drill's journal: it ended {kind} without a finding")
        items = [fallback.format(kind=drill.verdict, section=f"#{drill.section}", step="-", message=drill.verdict)]
    out = ["## Action items", ""]
    out += [f"- [ ] {_one_line(item)}" for item in items] if items else [PASSED_ACTIONS]
    return "\n".join(out) + "\n"


def _manual(drill: DrillView) -> str:
    out = ["## Manual checklist", ""]
    if not drill.manual:
        out.append("The runbook section has no manual steps: the drill exercised all of it.")
        return "\n".join(out) + "\n"
    out += ["Steps of the runbook that a person carries out; the harness does not run them, so this drill did "
            "not check them:", ""]
    out += [f"- {_one_line(text)} ({_code('#' + section)}, line {line})" for section, text, line in drill.manual]
    return "\n".join(out) + "\n"


# -- formatting ---------------------------------------------------------------------------------

_BACKTICKS = re.compile(r"`+")


def _longest_backticks(text: str) -> int:
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0)


def _fence(code: str, info: str = "") -> str:
    """A fenced code block that nothing inside `code` can close."""
    fence = "`" * max(3, _longest_backticks(code) + 1)
    body = code if code.endswith("\n") or not code else code + "\n"
    return f"{fence}{info}\n{body}{fence}\n"


def _code(text: str) -> str:
    """Inline code that survives backticks inside it."""
    text = _one_line(text)
    if not text:
        return "(none)"
    ticks = "`" * (_longest_backticks(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _one_line(text: str) -> str:
    return " ".join(text.splitlines()).strip()


def _cell(text: str) -> str:
    return _one_line(text).replace("|", "\\|")


def _secs(value: float) -> str:
    return f"{value:.1f} s"


def _offset(t: float) -> str:
    return f"{round(t, 1) + 0.0:+.1f} s"


def _length(seconds: float) -> str:
    """A drill's length: seconds below a minute, then minutes and seconds."""
    tenths = round(seconds * 10)
    if tenths < 600:
        return f"{tenths / 10:.1f} s"
    minutes, rest = divmod(tenths, 600)
    hours, minutes = divmod(minutes, 60)
    text = f"{minutes} min {rest / 10:.1f} s"
    return f"{hours} h {text}" if hours else text


def _moment(iso: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _or_unknown(text: str) -> str:
    return _one_line(text) or "unknown"
