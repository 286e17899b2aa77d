"""Benchmark `gameday lint` on a large runbook: parse + lint of a generated 1,000-line runbook.

Usage: .venv/bin/python bench/bench_lint.py [--lines 1000] [--runs 7]
Prints a table and writes bench/results/lint.json. Target: under 0.5 s for 1,000 lines.
`big_runbook()` also makes the runbook that bench_all.py times `gameday lint` on, end to end.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from pathlib import Path

from results_io import publish

from harness.runbook.lint import lint
from harness.runbook.parse import parse_runbook

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_RUNBOOK = ROOT / "stack" / "chatkit" / "RUNBOOK.md"
TARGET_SECONDS = 0.5
_NUMBERED_HEADING = re.compile(r"^(#{2,3}) (\d+)([a-z]?)\. ", re.MULTILINE)
_TOP_SECTION = re.compile(r"(?m)^(?=## \d+\. )")


def big_runbook(lines: int) -> str:
    """A valid runbook of at least `lines` lines (it stops at the first section boundary past them):
    the reference runbook, with copies of its numbered sections renumbered (section 1 of the first
    copy is section 7, 1a is 7a, ...) inserted before its appendix. Whole sections only, so every
    fence stays closed and every heading anchor is unique."""
    source = REFERENCE_RUNBOOK.read_text()
    first = _NUMBERED_HEADING.search(source)
    if first is None or "\n## Appendix" not in source:
        raise ValueError(f"{REFERENCE_RUNBOOK}: expected numbered sections and an appendix")
    appendix = source.index("\n## Appendix") + 1
    head, body, tail = source[:first.start()], source[first.start():appendix], source[appendix:]
    sections = [s for s in _TOP_SECTION.split(body) if s]
    parts = [head, *sections]
    total = source.count("\n")
    copy = 0
    while total < lines:
        copy += 1
        offset = copy * len(sections)
        for section in sections:
            renumbered = _NUMBERED_HEADING.sub(lambda m, o=offset: f"{m[1]} {int(m[2]) + o}{m[3]}. ", section)
            parts.append(renumbered)
            total += renumbered.count("\n")
            if total >= lines:
                break
    return "".join([*parts, tail])


def parse_and_lint_seconds(text: str, runs: int) -> list[float]:
    """In-process parse + lint of `text`, `runs` times (no interpreter start-up, no output)."""
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        lint(parse_runbook("generated.md", text=text))
        timings.append(time.perf_counter() - started)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    text = big_runbook(args.lines)
    timings = parse_and_lint_seconds(text, args.runs)
    runbook = parse_runbook("generated.md", text=text)
    findings = lint(runbook)
    figures = {
        "lines": text.count("\n"),
        "sections": len(runbook.sections),
        "steps": len(runbook.steps()),
        "findings": len(findings),
        "runs": args.runs,
        "parse_and_lint_seconds_median": round(statistics.median(timings), 4),
        "parse_and_lint_seconds_max": round(max(timings), 4),
        "target_seconds": TARGET_SECONDS,
        "meets_target": statistics.median(timings) < TARGET_SECONDS,
    }
    publish("lint", figures)


if __name__ == "__main__":
    main()
