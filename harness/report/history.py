"""The history index: every gameday folder under a reports root, with trends per scenario across gamedays.

Journals are only read. One that cannot be read is skipped with a warning, so a crashed run never
hides the others; the index is one self-contained page like the reports it links to.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from harness.journal import Event, JournalError, read_journal
from harness.report import HTML_NAME
from harness.report.html import environment, overall, recover_seconds
from harness.report.model import GamedayView, build_view, verified_sections
from harness.report.text import seconds
from harness.vocabulary import VERDICT_RANK, Verdict

log = logging.getLogger(__name__)

INDEX_NAME = "index.html"
INDEX_TEMPLATE = "index.html.j2"
JOURNAL_GLOB = "journal*.jsonl"  # `journal.jsonl` from `gameday run`, `journal-<worker>.jsonl` from pytest
SPARK_WIDTH = 180.0
SPARK_HEIGHT = 36.0
SPARK_PAD = 5.0


def _read_folder(folder: Path, journals: Sequence[Path]) -> GamedayView | None:
    events: list[Event] = []
    readable = 0
    for journal in journals:
        try:
            events.extend(read_journal(journal))
        except JournalError as exc:
            log.warning("history: skipping an unreadable journal: %s", exc)
            continue
        readable += 1
    if not readable:
        return None
    from harness.report import redacted_events  # this module is imported by harness.report's writer

    events = redacted_events(events, str(folder))  # the index shows journal text too: redacted first
    try:
        return build_view(events)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:  # events well-formed one by one, not together
        log.warning("history: skipping %s: its journals do not make a gameday (%s: %s)", folder,
                    type(exc).__name__, exc)
        return None


def _started(view: GamedayView) -> str:
    stamps = [s for s in (view.started_at, *(d.started_at for d in view.drills)) if s]
    return min(stamps) if stamps else ""


def discover(reports_root: Path) -> list[tuple[Path, GamedayView]]:
    """Every sub-folder holding journals, oldest first; a folder's journals are merged in name order."""
    if not reports_root.is_dir():
        return []
    found = []
    for folder in sorted(p for p in reports_root.iterdir() if p.is_dir()):
        journals = sorted(p for p in folder.glob(JOURNAL_GLOB) if p.is_file())
        if not journals:
            continue
        view = _read_folder(folder, journals)
        if view is not None:
            found.append((folder, view))
    return sorted(found, key=lambda entry: (_started(entry[1]), entry[0].name))


# -- the page model ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GamedayRow:
    folder: str
    href: str
    has_report: bool
    started: str
    view: GamedayView
    counts: tuple[tuple[Verdict, int], ...]
    verdict: str  # the overall verdict, or "no drills"


@dataclass(frozen=True)
class TrendPoint:
    folder: str
    started: str
    drill: str
    verdict: Verdict
    recover: float | None
    budget: float


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    verdict: Verdict
    text: str
    missing: bool


@dataclass(frozen=True)
class Sparkline:
    """Time to recover per gameday, oldest left; a cross on top where the drill never recovered."""

    width: float
    height: float
    lines: tuple[str, ...]  # polyline point lists, broken where a value is missing
    dots: tuple[Dot, ...]
    budget_y: float | None  # the recover budget, drawn only when a value reaches it
    title: str


@dataclass(frozen=True)
class Trend:
    scenario: str
    points: tuple[TrendPoint, ...]
    spark: Sparkline
    latest: str
    best: str
    worst: str


def _counts(view: GamedayView) -> tuple[tuple[Verdict, int], ...]:
    rank = {v: i for i, v in enumerate(VERDICT_RANK)}
    return tuple(sorted(view.counts.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))


def sparkline(scenario: str, points: Sequence[TrendPoint]) -> Sparkline:
    values = [p.recover for p in points if p.recover is not None]
    top = max(values, default=0.0) or 1.0
    span_x = SPARK_WIDTH - 2 * SPARK_PAD
    span_y = SPARK_HEIGHT - 2 * SPARK_PAD

    def x_of(i: int) -> float:
        return SPARK_WIDTH / 2 if len(points) == 1 else SPARK_PAD + i * span_x / (len(points) - 1)

    def y_of(value: float) -> float:
        return SPARK_HEIGHT - SPARK_PAD - min(value / top, 1.0) * span_y

    lines: list[str] = []
    run: list[str] = []
    dots = []
    for i, p in enumerate(points):
        text = f"{p.folder} ({p.started or 'no date'}): {p.verdict}, time to recover {seconds(p.recover, 'never')}"
        if p.recover is None:
            dots.append(Dot(x_of(i), SPARK_PAD, p.verdict, text, True))
            if len(run) > 1:
                lines.append(" ".join(run))
            run = []
            continue
        dots.append(Dot(x_of(i), y_of(p.recover), p.verdict, text, False))
        run.append(f"{x_of(i):.1f},{y_of(p.recover):.1f}")
    if len(run) > 1:
        lines.append(" ".join(run))
    budget = points[-1].budget if points else 0.0
    budget_y = y_of(budget) if values and budget <= top else None
    title = f"{scenario}: time to recover over {len(points)} gameday drill(s), latest budget {budget:g} s"
    return Sparkline(SPARK_WIDTH, SPARK_HEIGHT, tuple(lines), tuple(dots), budget_y, title)


def trends(entries: Sequence[tuple[Path, GamedayView]]) -> tuple[Trend, ...]:
    by_scenario: dict[str, list[TrendPoint]] = {}
    for folder, view in entries:
        for drill in view.drills:
            by_scenario.setdefault(drill.scenario, []).append(TrendPoint(
                folder.name, drill.started_at, drill.drill, drill.verdict,
                recover_seconds(drill.metrics) if drill.metrics and drill.metrics.recovered else None,
                drill.recover_budget))
    out = []
    for scenario in sorted(by_scenario):
        points = by_scenario[scenario]
        values = [p.recover for p in points if p.recover is not None]
        out.append(Trend(scenario, tuple(points), sparkline(scenario, points),
                         latest=seconds(points[-1].recover, "not recovered"),
                         best=seconds(min(values, default=None)), worst=seconds(max(values, default=None))))
    return tuple(out)


def _rows(entries: Sequence[tuple[Path, GamedayView]]) -> tuple[GamedayRow, ...]:
    rows = [GamedayRow(folder.name, f"{quote(folder.name)}/{HTML_NAME}", (folder / HTML_NAME).is_file(),
                       _started(view), view, _counts(view), overall([d.verdict for d in view.drills]))
            for folder, view in entries]
    return tuple(reversed(rows))  # newest first


def render_index(reports_root: Path) -> str:
    """The history page for every gameday under `reports_root`, with links relative to it."""
    entries = discover(reports_root)
    drills = [d for _, view in entries for d in view.drills]
    return environment().get_template(INDEX_TEMPLATE).render(
        rows=_rows(entries),
        trends=trends(entries),
        sections=verified_sections(drills),
        drills=len(drills),
    )


def write_index(reports_root: Path) -> Path:
    """Write `reports_root/index.html` (and nothing else); returns its path."""
    reports_root.mkdir(parents=True, exist_ok=True)
    path = reports_root / INDEX_NAME
    path.write_text(render_index(reports_root), encoding="utf-8")
    return path
