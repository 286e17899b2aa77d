"""Benchmark the drill suite: `pytest drills/` wall time and each drill's measured times.

Usage: .venv/bin/python bench/bench_drills.py [--runs 3]
Runs the drill suite --runs times (each drill on a fresh stack), reads the journals, and prints
medians: suite wall time, and per drill its time to detect and time to recover after the fix.
Writes bench/results/drills.json.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from results_io import publish

from harness.journal import DrillFinished, read_journal

ROOT = Path(__file__).resolve().parents[1]


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    walls: list[float] = []
    detect: dict[str, list[float]] = defaultdict(list)
    recover: dict[str, list[float]] = defaultdict(list)
    verdicts: dict[str, list[str]] = defaultdict(list)
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="gameday-bench-") as folder:
            started = time.monotonic()
            subprocess.run([sys.executable, "-m", "pytest", "drills", "-q", "-p", "no:cacheprovider",
                            "--gameday-report", folder], cwd=ROOT, check=False, capture_output=True)
            walls.append(time.monotonic() - started)
            for journal in Path(folder).glob("journal-*.jsonl"):
                for event in read_journal(journal):
                    if isinstance(event, DrillFinished):
                        verdicts[event.scenario].append(event.verdict)
                        if event.metrics and event.metrics.time_to_detect is not None:
                            detect[event.scenario].append(event.metrics.time_to_detect)
                        if event.metrics and event.metrics.time_to_recover_after_fix is not None:
                            recover[event.scenario].append(event.metrics.time_to_recover_after_fix)
    figures: dict[str, object] = {
        "runs": args.runs,
        "pytest_drills_wall_seconds_median": median(walls),
        "pytest_drills_wall_seconds_all": [round(w, 1) for w in walls],
    }
    for scenario in sorted(verdicts):
        figures[f"{scenario}: verdicts"] = verdicts[scenario]
        figures[f"{scenario}: time_to_detect_median_s"] = median(detect[scenario])
        figures[f"{scenario}: time_to_recover_after_fix_median_s"] = median(recover[scenario])
    publish("drills", figures)


if __name__ == "__main__":
    main()
