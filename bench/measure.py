"""What `bench_all.py` reports: measures (name, the individual runs, their median, a target) and
the table that prints them."""

from __future__ import annotations

import operator
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


@dataclass(frozen=True)
class Target:
    """A bound the median must meet, e.g. Target("<=", 60) for "at most 60 s"."""

    op: str
    value: float

    def __post_init__(self) -> None:
        if self.op not in _COMPARE:
            raise ValueError(f"unknown comparison {self.op!r}")

    def met_by(self, value: float) -> bool:
        return _COMPARE[self.op](value, self.value)

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}"


@dataclass(frozen=True)
class Measure:
    """One line of the table: the runs of one quantity, in `unit`; `runs` empty means not measured
    (the note says why)."""

    section: str
    name: str
    unit: str
    runs: tuple[float, ...] = ()
    target: Target | None = None
    note: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.runs) if self.runs else None

    @property
    def met(self) -> bool | None:
        """True or False against the target; None with no target or no runs."""
        median = self.median
        if self.target is None or median is None:
            return None
        return self.target.met_by(median)

    def as_json(self) -> dict[str, Any]:
        median = self.median
        return {
            "section": self.section, "name": self.name, "unit": self.unit,
            "median": None if median is None else round(median, 4),
            "runs": [round(r, 4) for r in self.runs],
            "target": None if self.target is None else {"op": self.target.op, "value": self.target.value},
            "met": self.met, "note": self.note,
        }


def measure(section: str, name: str, unit: str, runs: Sequence[float | None], target: Target | None = None,
            note: str = "") -> Measure:
    """A Measure from runs that may hold None (a run that could not be measured is left out)."""
    return Measure(section, name, unit, tuple(float(r) for r in runs if r is not None), target, note)


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    magnitude = abs(value)
    text = f"{value:.0f}" if magnitude >= 100 else f"{value:.2f}" if magnitude >= 1 else f"{value:.3f}"
    return f"{text} {unit}".rstrip() if unit in ("s", "MB", "req/s") else text


def verdict(m: Measure) -> str:
    met = m.met
    return "" if met is None else "met" if met else "MISSED"


def render(measures: Sequence[Measure]) -> str:
    """Every measure (median, each run, target, met/MISSED), grouped by section; a note goes on
    the line below its measure, so the table stays narrow."""
    headers = ("section", "measure", "median", "runs", "target", "result")
    rows = [(m.section, m.name, fmt(m.median, m.unit), ", ".join(fmt(r) for r in m.runs) if len(m.runs) > 1 else "",
             f"{m.target} {m.unit}" if m.target else "", verdict(m)) for m in measures]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip()

    lines = [line(headers), "  ".join("-" * w for w in widths)]
    for m, row in zip(measures, rows, strict=True):
        lines.append(line(row))
        if m.note:
            lines.append(f"{'':<{widths[0]}}    ({m.note})")
    return "\n".join(lines)


def render_targets(measures: Sequence[Measure]) -> str:
    """One line per measure that has a target: measured vs target, met or MISSED (n/a when unmeasured)."""
    lines = []
    for m in measures:
        if m.target is None:
            continue
        state = verdict(m) or "n/a"
        lines.append(f"  {state:<6}  {m.name}: {fmt(m.median, m.unit)} (target {m.target} {m.unit})")
    return "\n".join(lines) or "  (no targets in these sections)"
