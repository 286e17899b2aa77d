"""Benchmark `gameday lint` on a large runbook: parse + lint of a generated 1,000-line runbook.

Usage: .venv/bin/python bench/bench_lint.py [--lines 1000] [--runs 7]
Prints a table and writes bench/results/lint.json. Target: under 0.5 s for 1,000 lines.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from results_io import publish

from harness.runbook.lint import lint
from harness.runbook.parse import parse_runbook

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 0.5


def big_runbook(lines: int) -> str:
    """The reference runbook's sections repeated (headings renamed) until `lines` long."""
    source = (ROOT / "stack" / "chatkit" / "RUNBOOK.md").read_text()
    body = source.split("---\n", 2)[2]
    parts, copy = [source], 1
    while sum(p.count("\n") for p in parts) < lines:
        copy += 1
        parts.append(body.replace("## ", f"## Copy {copy} ").replace("### ", f"### Copy {copy} "))
    return "".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    text = big_runbook(args.lines)
    timings = []
    for _ in range(args.runs):
        started = time.perf_counter()
        runbook = parse_runbook("generated.md", text=text)
        findings = lint(runbook)
        timings.append(time.perf_counter() - started)
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
