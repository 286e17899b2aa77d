"""Machine-readable summaries of a gameday: a JSON summary and JUnit XML for CI.

Pure functions of the view model: no clock, no randomness, drills in the order they started,
keys sorted and numbers rounded to milliseconds, so the same journal always gives the same bytes.
The JUnit XML is built with `xml.etree.ElementTree`, which escapes markup; characters XML 1.0
cannot hold at all (ANSI escape sequences, other control characters) are stripped or replaced
first, so the document stays well-formed whatever a command printed.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import xml.etree.ElementTree as ET
from typing import Any

from harness.journal import Metrics
from harness.report.model import DrillView, GamedayView
from harness.report.text import junit, printable
from harness.vocabulary import FaultAction, Verdict

SCHEMA_VERSION = 1
_SURROGATE = re.compile("[\ud800-\udfff]")  # only ever inside a JSON string, where `\\uXXXX` is valid


# -- JSON ---------------------------------------------------------------------------------------


def render_json(view: GamedayView) -> str:
    """The JSON summary (`schema_version` 1): indented, keys sorted, ending with a newline (its
    strings were redacted before rendering, harness.report.redacted_journals). Text stays readable;
    a lone surrogate, which UTF-8 cannot hold, is written as its `\\u` escape."""
    counts = dict.fromkeys(Verdict, 0)
    counts.update(view.counts)
    body = {
        "schema_version": SCHEMA_VERSION,
        "run_id": view.run_id,
        "started_at": view.started_at,
        "finished_at": view.finished_at,
        "seconds": _number(view.seconds),
        "passed": view.passed,
        "not_passed": view.not_passed,
        "problems": list(view.problems),
        "counts": counts,
        "drills": [_drill_json(d) for d in view.drills],
        "sections": [
            {"runbook": s.runbook, "section": s.section, "last_drilled": s.last_drilled,
             "last_verdict": s.last_verdict, "last_verified": s.last_verified}
            for s in view.sections
        ],
    }
    text = json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def _drill_json(drill: DrillView) -> dict[str, Any]:
    return {
        "drill": drill.drill,
        "journal": drill.source,
        "label": drill.name,
        "scenario": drill.scenario,
        "title": drill.title,
        "severity": drill.severity,
        "runbook": drill.runbook,
        "section": drill.section,
        "stack": drill.stack,
        "mode": drill.mode,
        "started_at": drill.started_at,
        "finished_at": drill.finished_at,
        "duration": _number(drill.duration),
        "verdict": drill.verdict,
        "recorded_verdict": drill.recorded_verdict,
        "passed": drill.passed,
        "problems": list(drill.problems),
        "findings": [
            {"kind": f.kind, "step": f.step, "message": f.message, "location": f.location,
             "expected": f.expected, "seen": f.seen}
            for f in drill.findings
        ],
        "metrics": _metrics_json(drill.metrics),
        "fault_outcomes": _fault_outcomes(drill),
        "action_items": list(drill.action_items),
    }


def _metrics_json(metrics: Metrics | None) -> dict[str, Any] | None:
    if metrics is None:
        return None
    out: dict[str, Any] = {}
    for field in dataclasses.fields(metrics):
        value = getattr(metrics, field.name)
        if field.name == "step_seconds":
            out[field.name] = [{"step": step, "seconds": _number(seconds)} for step, seconds in value]
        elif isinstance(value, tuple):
            out[field.name] = list(value)
        elif isinstance(value, float):
            out[field.name] = _number(value)
        else:
            out[field.name] = value
    return out


def _fault_outcomes(drill: DrillView) -> dict[str, FaultAction]:
    """Each fault's last recorded action (rolled-back, already-restored, ...)."""
    last: dict[str, FaultAction] = {}
    for fault in drill.faults:
        last[fault.fault] = fault.action
    return last


def _number(value: float | None) -> float | None:
    """Milliseconds precision; NaN and infinities (not JSON) become null."""
    if value is None or not math.isfinite(value):
        return None
    return round(value, 3)


# -- JUnit XML ----------------------------------------------------------------------------------


def render_junit(view: GamedayView) -> str:
    """JUnit XML: one <testsuite name="gameday">, one <testcase> per drill; failed drills get a
    <failure>, every other drill that did not pass (harness errors, interrupted drills, a journal that
    does not add up) an <error>: failures + errors is always the number of drills not passed."""
    failures = sum(_outcome(d) == "failure" for d in view.drills)
    errors = sum(_outcome(d) == "error" for d in view.drills)
    seconds = view.seconds if view.seconds > 0 else sum(d.duration for d in view.drills)
    suite = ET.Element("testsuite", _attrs(
        ("name", "gameday"),
        ("tests", str(len(view.drills))),
        ("failures", str(failures)),
        ("errors", str(errors)),
        ("skipped", "0"),
        ("time", junit(seconds)),
        ("timestamp", view.started_at),
    ))
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", _attrs(("name", "run_id"), ("value", view.run_id)))
    for drill in view.drills:
        _testcase(suite, drill)
    ET.indent(suite, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def _outcome(drill: DrillView) -> str:
    """How JUnit counts a drill: failure (the runbook failed), error (anything else not passed) or pass."""
    if drill.passed:
        return "pass"
    return "failure" if drill.verdict == Verdict.FAILED else "error"


def _testcase(suite: ET.Element, drill: DrillView) -> None:
    case = ET.SubElement(suite, "testcase", _attrs(
        ("classname", f"gameday.{drill.stack}"),
        ("name", drill.scenario if drill.name == drill.drill else f"{drill.scenario} [{drill.name}]"),
        ("time", junit(drill.duration)),
    ))
    kinds = drill.finding_kinds
    outcome = _outcome(drill)
    if outcome != "pass":
        problem = "inconsistent-journal" if drill.problems and drill.recorded_verdict in (None, Verdict.PASSED) \
            and drill.verdict != Verdict.INTERRUPTED else None
        element = ET.SubElement(case, outcome, _attrs(
            ("message", ", ".join([*kinds, *(["inconsistent journal"] if drill.problems else [])]) or drill.verdict),
            ("type", (kinds[0] if kinds and outcome == "failure" else problem or drill.verdict)),
        ))
        text = _findings_text(drill)
        if drill.problems:
            text = "the journal does not add up:\n" + "".join(f"  {p}\n" for p in drill.problems) + "\n" + text
        element.text = printable(text)
    out = ET.SubElement(case, "system-out")
    out.text = printable(_metrics_text(drill))


def _findings_text(drill: DrillView) -> str:
    if not drill.findings:
        if drill.verdict == Verdict.INTERRUPTED:
            return "the drill was interrupted before it finished\n"
        return f"the drill ended {drill.verdict} without a finding\n"
    blocks = []
    for finding in drill.findings:
        lines = [f"{finding.kind}: {finding.message}", f"  step: {finding.step}"]
        if finding.location:
            lines.append(f"  location: {finding.location}")
        if finding.expected:
            lines.append(f"  expected: {_indented(finding.expected)}")
        if finding.seen:
            lines.append(f"  seen: {_indented(finding.seen)}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _indented(text: str) -> str:
    return text.rstrip("\n").replace("\n", "\n    ")


def _metrics_text(drill: DrillView) -> str:
    lines = [f"drill: {drill.name}", f"title: {drill.title}", f"severity: {drill.severity}",
             f"runbook: {drill.runbook}#{drill.section}", f"verdict: {drill.verdict}"]
    m = drill.metrics
    if m is None:
        lines.append("metrics: none (the drill ended before it measured anything)")
    else:
        lines += [
            f"time to detect: {_maybe(m.time_to_detect)} (budget {junit(m.detect_budget)} s)",
            f"time to diagnose: {_maybe(m.time_to_diagnose)}",
            f"time to recover: {_maybe(m.time_to_recover)}",
            f"time to recover after fix: {_maybe(m.time_to_recover_after_fix)} "
            f"(budget {junit(m.recover_budget)} s)",
            f"time degraded: {junit(m.time_degraded)} s",
            f"synthetic requests failed: {m.requests_failed} of {m.requests_total}",
            f"users affected: {len(m.users_affected)}"
            + (f" ({', '.join(m.users_affected)})" if m.users_affected else ""),
            "success ratio after recovery: "
            + ("n/a" if m.success_ratio_after_recovery is None else f"{m.success_ratio_after_recovery:.3f}"),
        ]
    for fault, action in _fault_outcomes(drill).items():
        lines.append(f"fault {fault}: {action}")
    return "\n".join(lines) + "\n"


def _maybe(value: float | None) -> str:
    return "n/a" if value is None else f"{junit(value)} s"


def _attrs(*pairs: tuple[str, str]) -> dict[str, str]:
    """Attributes in the given order (ElementTree keeps insertion order), made XML-safe."""
    return {name: printable(value) for name, value in pairs}
