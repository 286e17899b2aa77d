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
from harness.redact import Redactor, redact_fields, safe_patterns
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


def render_redactor(events: Sequence[Event], where: str = "journal") -> Redactor:
    """The built-in shapes plus the stacks' patterns recorded in the journal, each checked first: a
    pattern that could hang the renderer is dropped with a warning naming `where`."""
    patterns = sorted({p for e in events if isinstance(e, DrillStarted) for p in e.redaction_patterns})
    return Redactor(patterns=safe_patterns(patterns, where))


def redacted_events(events: Sequence[Event], where: str = "journal") -> list[Event]:
    """Every string of every event redacted, before anything is rendered or encoded."""
    return redact_fields(list(events), render_redactor(events, where))


def postmortem_name(drill_id: str) -> str:
    return "postmortem-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", drill_id).strip("-") + ".md"


def write_reports(journals: Sequence[Path], folder: Path, *, index: bool = True) -> list[Path]:
    """Render every format of the gameday whose journal(s) are given into `folder`."""
    from harness.report.history import write_index
    from harness.report.html import render_html
    from harness.report.markdown import render_postmortem
    from harness.report.summary import render_json, render_junit

    events = load_events(journals)
    where = ", ".join(str(j) for j in journals)
    redact = render_redactor(events, where)
    events = redact_fields(events, redact)  # values first: no escaping (`\n`, `&quot;`) hides a secret's shape
    view: GamedayView = build_view(events)
    folder.mkdir(parents=True, exist_ok=True)
    outputs = {HTML_NAME: render_html(view), JSON_NAME: render_json(view, redact), JUNIT_NAME: render_junit(view)}
    for drill in view.drills:
        outputs[postmortem_name(drill.drill)] = render_postmortem(drill)
    written = []
    for name, text in outputs.items():
        path = folder / name
        # Text formats get one more pass over what rendering composed; the JSON's strings had theirs
        # before encoding (a pass over encoded JSON could cut an escape in two).
        path.write_text(text if name == JSON_NAME else redact(text), encoding="utf-8")
        written.append(path)
    if index:
        written.append(write_index(folder.parent))
    return written
