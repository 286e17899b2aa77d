"""Reports, rendered from the journal alone: HTML, Markdown post-mortems, JSON, JUnit, history.

`write_reports(journals, folder)` renders every format into the gameday's folder and refreshes
the history index in the folder above it when that folder is a reports root of the harness (it
holds a `.gameday-reports` marker). Files are written atomically and never through a link
(harness.report.output). Every rendered text passes once more through a
redactor (the default token shapes plus the stacks' own patterns recorded in the journal), so a
secret that slipped into a journal still never reaches a report.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from harness.errors import BadInput
from harness.journal import JOURNAL, DrillStarted, Event
from harness.redact import Redactor, redact_fields, safe_patterns
from harness.report.model import GamedayView, JournalEvents, build_gameday

log = logging.getLogger(__name__)

HTML_NAME = "report.html"
JSON_NAME = "summary.json"
JUNIT_NAME = "junit.xml"
SHOWN_PROBLEMS = 20  # journal problems `gameday report` prints; every one is in the reports


def load_journals(journals: Sequence[Path]) -> list[JournalEvents]:
    """Every journal's events with their line numbers; JournalError (file and line) on anything unreadable,
    BadInput when one journal is given twice (its drills would count twice)."""
    seen: dict[tuple[int, int], Path] = {}
    out = []
    for journal in journals:
        try:
            info = journal.stat()
        except OSError:
            info = None
        if info is not None:
            before = seen.setdefault((info.st_dev, info.st_ino), journal)
            if before is not journal:
                raise BadInput(f"{journal}: the same journal as {before}, given twice; give each journal once "
                               "(its drills would otherwise count twice)")
        events = tuple(JOURNAL.read_numbered(journal))
        out.append(JournalEvents(str(journal), events, str(journal.parent)))
    return out


def load_events(journals: Sequence[Path]) -> list[Event]:
    return [event for journal in load_journals(journals) for _, event in journal.events]


def render_redactor(events: Iterable[Event], where: str = "journal") -> Redactor:
    """The built-in shapes plus the stacks' patterns recorded in the journal, each checked first: a
    pattern that could hang the renderer is dropped with a warning naming `where`."""
    patterns = sorted({p for e in events if isinstance(e, DrillStarted) for p in e.redaction_patterns})
    return Redactor(patterns=safe_patterns(patterns, where))


def redacted_events(events: Sequence[Event], where: str = "journal") -> list[Event]:
    """Every string of every event redacted, before anything is rendered or encoded."""
    return redact_fields(list(events), render_redactor(events, where))


def redacted_journals(loaded: Sequence[JournalEvents], where: str,
                      redact: Redactor | None = None) -> list[JournalEvents]:
    """Journals' events with every string redacted (by `redact`, else the recorded patterns, checked,
    and the built-in shapes) before anything is rendered: no escaping (`\\n` in JSON, `&quot;` in
    HTML) hides a secret."""
    redact = redact or render_redactor((e for j in loaded for _, e in j.events), where)
    return [dataclasses.replace(j, events=tuple((line, redact_fields(e, redact)) for line, e in j.events))
            for j in loaded]


MAX_SLUG = 80  # characters of a drill id kept in a post-mortem's file name


def _slug(drill_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", drill_id).strip("-.")


def postmortem_name(drill_id: str) -> str:
    return "postmortem-" + (_slug(drill_id)[:MAX_SLUG] or "drill") + ".md"


def postmortem_names(view: GamedayView) -> list[str]:
    """A post-mortem file name per drill, in order: distinct and bounded. A name that would collide with
    another drill's, or was shortened, carries a short hash of the drill's identity (journal and id)."""
    slugs = [_slug(d.drill) for d in view.drills]
    counts: dict[str, int] = {}
    for slug in slugs:
        counts[slug[:MAX_SLUG]] = counts.get(slug[:MAX_SLUG], 0) + 1
    names = []
    for index, (drill, slug) in enumerate(zip(view.drills, slugs, strict=True)):
        short = slug[:MAX_SLUG]
        if short and short == slug and counts[short] == 1:
            names.append(f"postmortem-{slug}.md")
            continue
        identity = f"{drill.source}\0{drill.drill}\0{index}".encode("utf-8", "replace")
        digest = hashlib.sha256(identity).hexdigest()[:10]
        names.append(f"postmortem-{short or 'drill'}-{digest}.md")
    return names


def write_reports(journals: Sequence[Path], folder: Path, *, index: bool = True,
                  claim_root: bool = True) -> list[Path]:
    """Render every format of the gameday whose journal(s) are given into `folder`.

    `index`: also refresh the history index of the reports root, the folder above `folder`, but only
    when that root is the harness's own: it holds the `.gameday-reports` marker, or `claim_root` is
    true (`gameday run` and the pytest plugin, which made `folder` in that root, mark it then).
    `gameday report` passes `claim_root=False`: re-rendering a journal found anywhere never writes
    outside the folder asked for. Every file is written atomically, never through a link
    (harness.report.output); ReportOutputError (exit 2) when the folder cannot take them."""
    view, _ = render_reports(journals, folder, index=index, claim_root=claim_root)
    return view


def render_reports(journals: Sequence[Path], folder: Path, *, index: bool = True,
                   claim_root: bool = True) -> tuple[list[Path], GamedayView]:
    """write_reports, also returning the view the reports were rendered from (its verdicts give the exit code)."""
    from harness.report.history import INDEX_NAME, write_index
    from harness.report.html import render_html
    from harness.report.markdown import render_postmortem
    from harness.report.output import (
        ReportOutputError,
        check_destination,
        is_reports_root,
        mark_reports_root,
        prepare_folder,
        write_all,
    )
    from harness.report.scorecard import scorecard_outputs
    from harness.report.summary import render_json, render_junit

    where = ", ".join(str(j) for j in journals)
    loaded = load_journals(journals)
    redact = render_redactor((e for j in loaded for _, e in j.events), where)
    redacted = redacted_journals(loaded, where, redact)
    view: GamedayView = build_gameday(redacted)
    prepare_folder(folder)
    outputs = {HTML_NAME: render_html(view), JSON_NAME: render_json(view), JUNIT_NAME: render_junit(view)}
    for drill, name in zip(view.drills, postmortem_names(view), strict=True):
        outputs[name] = render_postmortem(drill)
    outputs.update(scorecard_outputs(redacted, view))  # a graded runbook's journal: its scorecard too
    root = folder.resolve().parent
    refresh = index and (is_reports_root(root) or claim_root)
    if refresh and not claim_root:
        check_destination(root / INDEX_NAME)  # refused before any file is written
    # Every value was redacted before rendering (redacted_journals): once, before any escaping or
    # encoding, where a secret still has its shape; nothing is redacted after.
    written = write_all({folder / name: text for name, text in outputs.items()})
    if refresh:
        try:
            if claim_root:
                mark_reports_root(root)
            written.append(write_index(root))
        except ReportOutputError as exc:
            if not claim_root:
                raise
            log.warning("history index not refreshed: %s", exc)  # a run's own reports stand without it
    return written, view
