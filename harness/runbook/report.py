"""Render what lint saw: a human summary, or JSON for machines."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence

from harness.runbook.lint import LintFinding, summary_counts
from harness.runbook.model import Phase, Runbook, Section

LINT_SCHEMA_VERSION = 1


def lint_json(runbook: Runbook, findings: Sequence[LintFinding]) -> str:
    sections = []
    for section in runbook.sections:
        sections.append({
            "anchor": section.anchor,
            "title": section.title,
            "line": section.location.line,
            "parent": section.parent,
            "steps": [{
                "ref": step.ref, "line": step.location.line, "phase": step.phase.value if step.phase else None,
                "host": step.host, "language": step.language, "executable": step.executable,
                "timeout": step.timeout, "within": step.within, "skip": step.skip,
                "expectations": [{"kind": e.kind.value, "condition": e.condition, "text": e.text,
                                  "line": e.location.line, "inferred": e.inferred or None}
                                 for e in step.expectations],
            } for step in section.steps],
            "manual": [{"text": m.text, "line": m.location.line} for m in section.manual],
        })
    document = {
        "schema_version": LINT_SCHEMA_VERSION,
        "path": runbook.path,
        "sections": sections,
        "findings": [{"code": f.code, "name": f.name, "severity": f.severity.value, "message": f.message,
                      "path": f.location.path, "line": f.location.line, "also": list(f.also),
                      "section": f.section} for f in findings],
        "summary": summary_counts(findings),
    }
    return json.dumps(document, indent=2)


def lint_text(runbook: Runbook, findings: Sequence[LintFinding]) -> str:
    steps = [s for s in runbook.steps() if s.executable and s.phase]
    phases = Counter(s.phase.value for s in steps if s.phase)
    hosts = sorted({s.host or "(default)" for s in steps})
    expectations = sum(len(s.expectations) for s in steps)
    lines = [
        f"{runbook.path}: {len(runbook.sections)} sections, {len(steps)} executable steps "
        f"({', '.join(f'{p.value} {phases.get(p.value, 0)}' for p in Phase if p is not Phase.MANUAL)}), "
        f"{expectations} expectations, {len(runbook.manual_steps())} manual steps; hosts: {', '.join(hosts) or '-'}",
        "",
    ]
    diagnoses: dict[str, int] = {}  # anchor -> its diagnosis, inherited included (parents come first)
    for section in runbook.sections:
        if not section.anchor:
            continue
        own = Counter(s.phase.value for s in section.steps if s.executable and s.phase)
        inherited = _inherited(runbook, section, diagnoses)
        diagnoses.setdefault(section.anchor, inherited + own.get("diagnose", 0))
        parts = [f"diagnose {own.get('diagnose', 0)}" + (f"+{inherited} inherited" if inherited else ""),
                 f"fix {own.get('fix', 0)}", f"verify {own.get('verify', 0)}"]
        if section.manual:
            parts.append(f"manual {len(section.manual)}")
        indent = "  " * max(section.level - 1, 0)
        lines.append(f"  {indent}#{section.anchor}  ({section.location.line})  {', '.join(parts)}")
    counts = summary_counts(findings)
    lines.append("")
    if findings:
        lines.append("findings:")
        lines.extend(f"  {f}" for f in findings)
        lines.append("")
    lines.append(f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s)")
    return "\n".join(terminal_safe(line) for line in lines)


# What a runbook may hold that a terminal would obey rather than show: C0 controls but tab (ESC
# sequences, CR, BEL, backspace), DEL, C1 controls, and the bidirectional overrides ("Trojan source").
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """`text` with every character a terminal would act on written as its escape (`\\x1b`, `\\u202e`)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                        text)


def _inherited(runbook: Runbook, section: Section, diagnoses: dict[str, int]) -> int:
    """How many diagnosis steps `section` inherits (as Runbook.diagnosis counts them), from counts
    already known for its parent: counting each section's whole diagnosis again is quadratic."""
    if not section.parent:
        return 0
    if section.parent not in diagnoses:
        return sum(1 for step in runbook.diagnosis(section.anchor)
                   if step.executable and step.section != section.anchor)
    return diagnoses[section.parent]
