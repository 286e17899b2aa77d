"""What a gameday prints on a terminal, from the journal's events: live progress while the drills
run (a spinner line per phase on a terminal, plain lines elsewhere; a line per drill as it ends,
with its findings) and the end-of-gameday summary table."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from harness.journal import DrillFinished, Event, FindingRecorded, PhaseStarted
from harness.report.text import terse


def summary_table(drills: Sequence[DrillFinished]) -> str:
    """The end-of-gameday table: one row per drill (from the journal, whichever process ran it)."""
    rows = [("scenario", "verdict", "detect / budget", "recover / budget", "failed requests", "findings")]
    for d in drills:
        m = d.metrics
        rows.append((
            d.scenario, d.verdict,
            f"{terse(m.time_to_detect)} / {m.detect_budget:g}s" if m else "-",
            f"{terse(m.time_to_recover_after_fix)} / {m.recover_budget:g}s" if m else "-",
            f"{m.requests_failed}/{m.requests_total}" if m else "-",
            ", ".join(dict.fromkeys(d.findings)) or "none",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows)


class LiveProgress:
    """Which drill and phase is running: a spinner line on a terminal, plain lines elsewhere; a
    line per drill with its verdict and findings as each one ends."""

    SPINNER = "|/-\\"

    def __init__(self, stream: TextIO = sys.stdout) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.ticks = 0
        self.findings: dict[str, list[str]] = {}

    def __call__(self, event: Event) -> None:
        if isinstance(event, FindingRecorded):
            self.findings.setdefault(event.drill, []).append(event.describe())
        elif isinstance(event, DrillFinished):
            self.drill_ended(event)
        if not isinstance(event, PhaseStarted):
            return
        self.ticks += 1
        text = f"  {event.drill:<28} {event.phase:<10} t={event.t:5.1f}s"
        if self.tty:
            self.stream.write(f"\r{self.SPINNER[self.ticks % 4]}{text}\033[K")
        else:
            self.stream.write(f"{text}\n")
        self.stream.flush()

    def clear(self) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def drill_ended(self, event: DrillFinished) -> None:
        self.clear()
        m = event.metrics
        times = f"detect {terse(m.time_to_detect)}, recover {terse(m.time_to_recover_after_fix)}" if m else ""
        lines = [f"  {event.scenario:<28} {event.verdict.upper():<14} {times}".rstrip()]
        lines += ["      " + text.replace("\n", "\n      ") for text in self.findings.pop(event.drill, [])]
        self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()
