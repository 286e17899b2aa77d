"""The history index: every gameday folder under a reports root, with trends per scenario across gamedays.

Journals are only read. One that cannot be read is skipped with a warning and a note on the
page, so one bad journal never hides the others (nor breaks every later report); the index is
one self-contained page like the reports it links to.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from harness.journal import JOURNAL, JournalError
from harness.report import HTML_NAME
from harness.report.html import environment, overall, recover_seconds
from harness.report.model import GamedayView, JournalEvents, build_gameday, verified_sections
from harness.report.output import prepare_folder, write_atomic
from harness.report.text import seconds
from harness.vocabulary import VERDICT_RANK, Verdict

log = logging.getLogger(__name__)

INDEX_NAME = "index.html"
INDEX_TEMPLATE = "index.html.j2"
JOURNAL_GLOB = "journal*.jsonl"  # `journal.jsonl` from `gameday run`, `journal-<worker>.jsonl` from pytest
SPARK_WIDTH = 180.0
SPARK_HEIGHT = 36.0
SPARK_PAD = 5.0


def _read_folder(folder: Path, journals: Sequence[Path], skipped: list[str]) -> GamedayView | None:
    loaded: list[JournalEvents] = []
    for journal in journals:
        try:
            loaded.append(JournalEvents(str(journal.relative_to(folder.parent)), tuple(JOURNAL.read_numbered(journal)),
                                        folder.name))
        except JournalError as exc:
            note = f"{folder.name}/{journal.name}: skipped, it cannot be read ({_after_path(str(exc), journal)})"
            log.warning("history: %s", note)
            skipped.append(note)
    if not loaded:
        return None
    from harness.report import redacted_journals  # this module is imported by harness.report's writer

    try:
        return build_gameday(redacted_journals(loaded, str(folder)))  # the index shows journal text too
    except Exception as exc:  # events well-formed one by one, not together: never break the index
        note = f"{folder.name}: skipped, its journals do not make a gameday ({type(exc).__name__}: {exc})"
        log.warning("history: %s", note)
        skipped.append(note)
        return None


def _after_path(message: str, journal: Path) -> str:
    """An error message without the journal's absolute path (the index names it relative to the root)."""
    return message[len(str(journal)):].lstrip(": ") if message.startswith(str(journal)) else message


def _started(view: GamedayView) -> str:
    stamps = [s for s in (view.started_at, *(d.started_at for d in view.drills)) if s]
    return min(stamps) if stamps else ""


def discover(reports_root: Path, skipped: list[str] | None = None) -> list[tuple[Path, GamedayView]]:
    """Every sub-folder holding journals, oldest first; a folder's journals are merged in name order.
    A journal that cannot be read is skipped, with a note in `skipped`."""
    skipped = [] if skipped is None else skipped
    if not reports_root.is_dir():
        return []
    found = []
    for folder in sorted(p for p in reports_root.iterdir() if p.is_dir() and not p.is_symlink()):
        journals = sorted(p for p in folder.glob(JOURNAL_GLOB) if p.is_file() and not p.is_symlink())
        if not journals:
            continue
        view = _read_folder(folder, journals, skipped)
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


def trend_keys(scenarios: Iterable[str]) -> dict[str, str]:
    """Which trend each scenario of the journals belongs to: its key (`chatkit/db-down`). A bare
    name from a journal written before systems (`db-down`) joins the one key of that name when
    there is exactly one, and stays a trend of its own otherwise."""
    scenarios = set(scenarios)
    keys = [s for s in scenarios if "/" in s]
    joined = {}
    for name in scenarios - set(keys):
        same = [k for k in keys if k.split("/", 1)[1] == name]
        joined[name] = same[0] if len(same) == 1 else name
    return {**{k: k for k in keys}, **joined}


def trends(entries: Sequence[tuple[Path, GamedayView]]) -> tuple[Trend, ...]:
    """One trend per scenario key across gamedays, oldest point first. A scenario drilled against
    runbooks of different names (its own, and a team's runbook graded with `gameday grade`) has a
    trend per runbook, named `key (RUNBOOK.md)`: a graded runbook's drills never blur its own."""
    trend_of = trend_keys(d.scenario for _, view in entries for d in view.drills)
    runbooks: dict[str, set[str]] = {}
    for _, view in entries:
        for drill in view.drills:
            runbooks.setdefault(trend_of[drill.scenario], set()).add(_runbook_name(drill.runbook))

    def trend_name(scenario: str, runbook: str) -> str:
        key = trend_of[scenario]
        return key if len(runbooks[key]) == 1 else f"{key} ({_runbook_name(runbook) or 'no runbook'})"

    by_scenario: dict[str, list[TrendPoint]] = {}
    for folder, view in entries:
        for drill in view.drills:
            by_scenario.setdefault(trend_name(drill.scenario, drill.runbook), []).append(TrendPoint(
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


def _runbook_name(runbook: str) -> str:
    return runbook.replace("\\", "/").rsplit("/", 1)[-1]


def _rows(entries: Sequence[tuple[Path, GamedayView]]) -> tuple[GamedayRow, ...]:
    rows = [GamedayRow(folder.name, f"{quote(folder.name)}/{HTML_NAME}", (folder / HTML_NAME).is_file(),
                       _started(view), view, _counts(view), overall([d.verdict for d in view.drills]))
            for folder, view in entries]
    return tuple(reversed(rows))  # newest first


def render_index(reports_root: Path) -> str:
    """The history page for every gameday under `reports_root`, with links relative to it."""
    skipped: list[str] = []
    entries = discover(reports_root, skipped)
    drills = [d for _, view in entries for d in view.drills]
    return environment().get_template(INDEX_TEMPLATE).render(
        skipped=skipped,
        problems=[p for _, view in entries for p in view.problems],
        rows=_rows(entries),
        trends=trends(entries),
        sections=verified_sections(drills),
        coverage=tuple({c.runbook: c for _, view in entries for c in view.coverage}.values()),
        drills=len(drills),
    )


def write_index(reports_root: Path) -> Path:
    """Write `reports_root/index.html` (and nothing else, atomically, never through a link); returns its path."""
    prepare_folder(reports_root)
    path = reports_root / INDEX_NAME
    write_atomic(path, render_index(reports_root))
    return path
