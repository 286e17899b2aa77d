"""The HTML report: one self-contained page per gameday (inline CSS and SVG, no script, nothing fetched).

Rendered from the view model alone: no clock is read and nothing is written back, so the same
journal always gives the same page. Templates live in `harness/report/templates/`, autoescaped.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from harness.journal import FaultRecorded, Metrics, Series, StepRecorded
from harness.observe.verdict import BUDGET_EPSILON
from harness.report.model import DrillView, GamedayView
from harness.report.text import budget, seconds, tenths, terse
from harness.vocabulary import STEP_PHASES, VERDICT_RANK, DrillPhase, FaultAction, FindingKind, Mark, Verdict

REPORT_TEMPLATE = "report.html.j2"
MARK_KINDS = (Mark.INJECT, Mark.DIAGNOSED, Mark.FIX, Mark.RECOVERED)  # marks with a colour of their own
NO_SYMBOL = "•"  # for what is not a verdict

# Timeline geometry, in SVG user units (the chart scales to the page width).
CHART_WIDTH = 960.0
CHART_LEFT = 84.0  # room for the row labels
CHART_RIGHT = 16.0
MARK_ROW = 14.0  # one row of mark labels
MARK_ROWS = 3  # labels of marks close together are stacked in up to this many rows
PROBE_TOP = MARK_ROW * MARK_ROWS + 8.0
PROBE_HEIGHT = 22.0
TRAFFIC_TOP = PROBE_TOP + PROBE_HEIGHT + 12.0
TRAFFIC_HEIGHT = 100.0
AXIS_Y = TRAFFIC_TOP + TRAFFIC_HEIGHT
CHART_HEIGHT = AXIS_Y + 30.0
MAX_TICKS = 12
TICK_STEPS = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)
LABEL_CHAR_WIDTH = 6.4  # per character of an 11-unit label: enough to keep mark labels from overlapping
BAND_LABEL_MIN_WIDTH = 52.0  # a probe stretch narrower than this carries no text inside


# -- formatting --------------------------------------------------------------------------------


def when(stamp: str) -> str:
    """An ISO timestamp from the journal, to the second; UTC said as such. Unparseable text is shown as is."""
    if not stamp:
        return "—"
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    offset = moment.utcoffset()
    zone = "" if offset is None else " UTC" if not offset else moment.strftime(" %z")
    return moment.strftime("%Y-%m-%d %H:%M:%S") + zone


def elapsed(start: str, end: str) -> float | None:
    """Seconds between two journal timestamps, or None when either is missing or unreadable."""
    try:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except (ValueError, TypeError):
        return None


def anchor(index: int, drill: str) -> str:
    """A fragment id for a drill: unique by position, readable by name (drill ids may hold '#')."""
    return f"drill-{index + 1}-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", drill).strip("-") or "x")


def symbol(verdict: object) -> str:
    """The symbol of a verdict (a template may hand over any text)."""
    try:
        return Verdict(str(verdict)).symbol
    except ValueError:
        return NO_SYMBOL


def overall(verdicts: Sequence[str]) -> str:
    if not verdicts:
        return "no drills"
    for verdict in VERDICT_RANK:
        if verdict in verdicts:
            return verdict
    return sorted(verdicts)[0]


def recover_seconds(metrics: Metrics | None) -> float | None:
    """Time to recover as the budget counts it: from the fix when there was one, else from the injection."""
    if metrics is None:
        return None
    if metrics.time_to_recover_after_fix is not None:
        return metrics.time_to_recover_after_fix
    return metrics.time_to_recover


# -- the summary ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """A measured time next to its budget; state is ok, over (budget), missing (never happened) or none."""

    value: str
    budget: str
    state: str
    note: str = ""


@dataclass(frozen=True)
class SummaryRow:
    detect: Timing
    recover: Timing
    requests_failed: int
    requests_total: int
    users: tuple[str, ...]
    finding_kinds: tuple[FindingKind, ...]


def _timing(value: float | None, limit: float, missing: str, note: str = "") -> Timing:
    if value is None:
        return Timing(missing, budget(limit), "missing", note)
    state = "over" if value > limit + BUDGET_EPSILON else "ok"
    return Timing(seconds(value), budget(limit), state, note)


def summary_row(drill: DrillView) -> SummaryRow:
    kinds = tuple(dict.fromkeys(f.kind for f in drill.findings))
    m = drill.metrics
    if m is None:
        nothing = Timing("—", budget(drill.detect_budget), "none", "no metrics recorded")
        return SummaryRow(nothing, Timing("—", budget(drill.recover_budget), "none", "no metrics recorded"),
                          0, 0, (), kinds)
    detect = _timing(m.time_to_detect, m.detect_budget, "not detected")
    if not m.detected:
        recover = Timing("—", budget(m.recover_budget), "none", "nothing to recover from")
    else:
        note = "" if m.time_to_recover_after_fix is not None or not m.recovered else "from injection: no fix ran"
        recover = _timing(recover_seconds(m) if m.recovered else None, m.recover_budget, "not recovered", note)
    return SummaryRow(detect, recover, m.requests_failed, m.requests_total, m.users_affected, kinds)


# -- the timeline ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    """A stretch of time with one probe status: ok, failing or unknown (before the first probe)."""

    x: float
    width: float
    state: str
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Bar:
    """One traffic bucket: the ok share drawn from the bottom, the failed share above it."""

    x: float
    width: float
    ok_y: float
    ok_height: float
    failed_y: float
    failed_height: float
    start: float
    end: float
    ok: int
    failed: int


@dataclass(frozen=True)
class ChartMark:
    """A mark on the timeline chart, with its label placed."""

    kind: str
    css: str
    t: float
    x: float
    label: str
    label_x: float
    label_y: float
    anchor: str


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Gridline:
    y: float
    label: str


@dataclass(frozen=True)
class Timeline:
    title: str
    description: str
    empty: bool
    width: float
    height: float
    left: float
    right: float
    probe_top: float
    probe_height: float
    traffic_top: float
    traffic_height: float
    axis_y: float
    bands: tuple[Band, ...]
    bars: tuple[Bar, ...]
    marks: tuple[ChartMark, ...]
    ticks: tuple[Tick, ...]
    gridlines: tuple[Gridline, ...]


def _domain(series: Series | None, duration: float) -> float:
    ends = [duration]
    if series is not None:
        ends += [t for t, _ in series.probe]
        ends += [t + series.bucket for t, _, _ in series.traffic]
        ends += [t for _, t in series.marks]
    return max(max(ends), 1.0)


def _tick_step(end: float) -> float:
    for step in TICK_STEPS:
        if end / step <= MAX_TICKS:
            return step
    return end / MAX_TICKS


def _bands(probe: Sequence[tuple[float, bool]], end: float, scale: float) -> tuple[Band, ...]:
    stretches: list[tuple[float, float, str]] = []
    ordered = sorted(probe)
    start, state = 0.0, "unknown"
    for t, ok in ordered:
        t = min(max(t, 0.0), end)
        if t > start:
            stretches.append((start, t, state))
        start, state = t, "ok" if ok else "failing"
    if end > start:
        stretches.append((start, end, state))
    bands = []
    for a, b, s in stretches:
        width = (b - a) * scale
        text = {"ok": "ok", "failing": "failing", "unknown": "no probe yet"}[s] if width >= BAND_LABEL_MIN_WIDTH else ""
        bands.append(Band(CHART_LEFT + a * scale, width, s, a, b, text))
    return tuple(bands)


def _bars(series: Series, scale: float) -> tuple[Bar, ...]:
    bars = []
    for t, ok, failed in series.traffic:
        total = ok + failed
        if total <= 0:
            continue
        ok_height = TRAFFIC_HEIGHT * ok / total
        failed_height = TRAFFIC_HEIGHT - ok_height
        bars.append(Bar(x=CHART_LEFT + t * scale + 0.5, width=max(series.bucket * scale - 1.0, 1.0),
                        ok_y=TRAFFIC_TOP + failed_height, ok_height=ok_height, failed_y=TRAFFIC_TOP,
                        failed_height=failed_height, start=t, end=t + series.bucket, ok=ok, failed=failed))
    return tuple(bars)


def _marks(marks: Sequence[tuple[str, float]], scale: float, right: float) -> tuple[ChartMark, ...]:
    """Place each mark's label in the first row where it overlaps no other label (the last row otherwise).

    A row is free for a label that lies wholly right or wholly left of every label in it (with a gap);
    each row keeps only its leftmost and rightmost extent, so placing n marks takes linear time."""
    rows: list[tuple[float, float] | None] = [None] * MARK_ROWS  # per row: (leftmost, rightmost) extent
    placed = []
    for kind, t in sorted(marks, key=lambda m: m[1]):
        x = CHART_LEFT + t * scale
        label = f"{kind} {terse(t)}"
        width = len(label) * LABEL_CHAR_WIDTH
        if x + 3 + width <= right:
            lo, hi, label_x, text_anchor = x, x + 3 + width, x + 3, "start"
        else:
            lo, hi, label_x, text_anchor = x - 3 - width, x, x - 3, "end"
        row = next((i for i, extent in enumerate(rows)
                    if extent is None or lo > extent[1] + 4 or hi + 4 < extent[0]), MARK_ROWS - 1)
        extent = rows[row]
        rows[row] = (lo, hi) if extent is None else (min(extent[0], lo), max(extent[1], hi))
        css = f"mark-{kind}" if kind in MARK_KINDS else "mark-other"
        placed.append(ChartMark(kind, css, t, x, label, label_x, (row + 1) * MARK_ROW - 3, text_anchor))
    return tuple(placed)


def _describe(series: Series | None) -> str:
    if series is None:
        return "Nothing was observed during this drill."
    parts = []
    spans = []
    transitions = sorted(series.probe)
    next_ok: list[float | None] = [None] * len(transitions)  # per transition: when the probe is next ok
    later: float | None = None
    for i in range(len(transitions) - 1, -1, -1):
        next_ok[i] = later
        if transitions[i][1]:
            later = transitions[i][0]
    for i, (t, ok) in enumerate(transitions):
        if not ok and (i == 0 or transitions[i - 1][1]):
            until = next_ok[i]
            spans.append(f"from {tenths(t)}" + (f" to {tenths(until)}" if until is not None else " to the end"))
    parts.append("Probe failing " + ", ".join(spans) + "." if spans else "Probe never failed.")
    good = sum(n for _, n, _ in series.traffic)
    bad = sum(n for _, _, n in series.traffic)
    parts.append(f"Synthetic requests: {bad} of {good + bad} failed.")
    if series.marks:
        parts.append("Marks: " + ", ".join(f"{k} at {tenths(t)}" for k, t in series.marks) + ".")
    return " ".join(parts)


def timeline(drill: DrillView) -> Timeline:
    """The chart's geometry: x is seconds since the drill started."""
    series = drill.series
    end = _domain(series, drill.duration)
    right = CHART_WIDTH - CHART_RIGHT
    scale = (right - CHART_LEFT) / end
    step = _tick_step(end)
    ticks = []
    i = 0
    while i * step <= end + 1e-9:
        value = i * step
        ticks.append(Tick(CHART_LEFT + value * scale, f"{value:g}s"))
        i += 1
    gridlines = tuple(Gridline(TRAFFIC_TOP + TRAFFIC_HEIGHT * (1 - share), f"{share:.0%}") for share in (0, 0.5, 1))
    return Timeline(
        title=f"Timeline of drill {drill.drill} ({drill.scenario}): probe status, synthetic success ratio and marks",
        description=_describe(series),
        empty=series is None,
        width=CHART_WIDTH, height=CHART_HEIGHT, left=CHART_LEFT, right=right,
        probe_top=PROBE_TOP, probe_height=PROBE_HEIGHT, traffic_top=TRAFFIC_TOP, traffic_height=TRAFFIC_HEIGHT,
        axis_y=AXIS_Y,
        bands=_bands(series.probe, end, scale) if series else (),
        bars=_bars(series, scale) if series else (),
        marks=_marks(series.marks, scale, right) if series else (),
        ticks=tuple(ticks),
        gridlines=gridlines,
    )


# -- steps and faults ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StepGroup:
    phase: DrillPhase
    steps: tuple[StepRecorded, ...]


@dataclass(frozen=True)
class FaultStory:
    """One fault's records, and in a sentence who ended it: the runbook, the harness, or nobody."""

    fault: str
    records: tuple[FaultRecorded, ...]
    outcome: str
    state: str  # ok | warn | bad


def step_groups(drill: DrillView) -> tuple[StepGroup, ...]:
    phases = list(STEP_PHASES) + [p for p in dict.fromkeys(s.phase for s in drill.steps) if p not in STEP_PHASES]
    return tuple(StepGroup(p, drill.steps_in(p)) for p in phases if drill.steps_in(p))


def fault_stories(faults: Sequence[FaultRecorded]) -> tuple[FaultStory, ...]:
    by_fault: dict[str, list[FaultRecorded]] = {}
    for record in faults:
        by_fault.setdefault(record.fault, []).append(record)
    stories = []
    for fault, records in by_fault.items():
        actions = [r.action for r in records]
        if FaultAction.ROLLBACK_FAILED in actions:
            outcome, state = "The harness could not roll this fault back: it may still be in effect.", "bad"
        elif FaultAction.ROLLED_BACK in actions:
            outcome, state = ("The harness, not the runbook, had to restore this: the fault was still in effect "
                              "when the drill ended, and the harness rolled it back."), "warn"
        elif FaultAction.ALREADY_RESTORED in actions:
            outcome, state = "Restored by the runbook: the harness found it already undone at rollback.", "ok"
        else:
            outcome, state = "No rollback was recorded for this fault.", "warn"
        if FaultAction.INJECTED in actions and FaultAction.VERIFIED not in actions:
            outcome += " Its effect was never verified after injection."
        stories.append(FaultStory(fault, tuple(records), outcome, state))
    return tuple(stories)


# -- the page ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrillPage:
    drill: DrillView
    anchor: str
    row: SummaryRow
    timeline: Timeline
    step_groups: tuple[StepGroup, ...]
    faults: tuple[FaultStory, ...]


@functools.cache
def environment() -> Environment:
    """The one jinja2 environment of the reports: autoescaped everywhere, undefined names are errors."""
    env = Environment(loader=PackageLoader("harness.report", "templates"), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["seconds"] = seconds
    env.filters["budget"] = budget
    env.filters["when"] = when
    env.filters["symbol"] = symbol
    env.filters["num"] = lambda value: f"{float(value):.1f}"
    return env


def drill_pages(view: GamedayView) -> tuple[DrillPage, ...]:
    return tuple(DrillPage(d, anchor(i, d.drill), summary_row(d), timeline(d), step_groups(d), fault_stories(d.faults))
                 for i, d in enumerate(view.drills))


def render_html(view: GamedayView) -> str:
    """The gameday's report as one self-contained HTML document."""
    duration = view.seconds or elapsed(view.started_at, view.finished_at)
    counts = sorted(view.counts.items(), key=lambda kv: (VERDICT_RANK.index(kv[0]) if kv[0] in VERDICT_RANK
                                                         else len(VERDICT_RANK), kv[0]))
    return environment().get_template(REPORT_TEMPLATE).render(
        view=view,
        pages=drill_pages(view),
        duration=duration,
        counts=counts,
        verdict=overall([d.verdict for d in view.drills]),
    )
