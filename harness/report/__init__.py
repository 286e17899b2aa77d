"""Reports, rendered from the journal alone: HTML, Markdown post-mortems, JSON, JUnit, history.

`write_reports(journals, folder)` renders every format into the gameday's folder and refreshes
the history index in the folder above it. Every rendered text passes once more through a
redactor (the default token shapes plus the stacks' own patterns recorded in the journal), so a
secret that slipped into a journal still never reaches a report.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

from harness.journal import DrillStarted, Event, read_journal
from harness.redact import Redactor
from harness.report.model import GamedayView, build_view

log = logging.getLogger(__name__)

HTML_NAME = "report.html"
JSON_NAME = "summary.json"
JUNIT_NAME = "junit.xml"


def load_events(journals: Sequence[Path]) -> list[Event]:
    events: list[Event] = []
    for journal in journals:
        events.extend(read_journal(journal))
    return events


def render_redactor(events: Sequence[Event]) -> Redactor:
    patterns = sorted({p for e in events if isinstance(e, DrillStarted) for p in e.redaction_patterns})
    return Redactor(patterns=patterns)


def postmortem_name(drill_id: str) -> str:
    return "postmortem-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", drill_id).strip("-") + ".md"


def write_reports(journals: Sequence[Path], folder: Path, *, index: bool = True) -> list[Path]:
    """Render every format of the gameday whose journal(s) are given into `folder`."""
    from harness.report.history import write_index
    from harness.report.html import render_html
    from harness.report.markdown import render_postmortem
    from harness.report.summary import render_json, render_junit

    events = load_events(journals)
    view: GamedayView = build_view(events)
    redact = render_redactor(events)
    folder.mkdir(parents=True, exist_ok=True)
    outputs = {HTML_NAME: render_html(view), JSON_NAME: render_json(view), JUNIT_NAME: render_junit(view)}
    for drill in view.drills:
        outputs[postmortem_name(drill.drill)] = render_postmortem(drill)
    written = []
    for name, text in outputs.items():
        path = folder / name
        path.write_text(redact(text), encoding="utf-8")
        written.append(path)
    if index:
        written.append(write_index(folder.parent))
    return written
