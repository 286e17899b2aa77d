"""Soak: N full gamedays in a row; every drill must pass every time and nothing may be left behind.

Usage: .venv/bin/python bench/soak.py [--runs 10] [--scenarios scenarios] [--keep DIR]
Each run is `python -m harness.cli run --report DIR` (every scenario, each on a fresh stack). After
each run it prints: run number, passed drills / total, flakes (drills that failed in this run but
passed in another), leftovers (containers, networks and volumes labelled with that run's pid once
it exited) and wall time; at the end `soak: N gamedays, P all-passed, F flaky drills, L leftovers`.
Writes bench/results/soak.json. Exit 0 when every gameday passed and nothing was left, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import docker
from results_io import RESULTS

from harness.stack.labels import PID

ROOT = Path(__file__).resolve().parents[1]
GAMEDAY_TIMEOUT = 1800.0  # one gameday takes ~1.5 min; a hung one must not hang the soak
STOP_TIMEOUT = 120.0  # after Ctrl-C: the gameday rolls back and removes its stack


@dataclass
class Run:
    number: int
    exit_code: int | None
    wall_seconds: float
    verdicts: dict[str, str] = field(default_factory=dict)  # scenario -> verdict
    leftovers: list[str] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(v == "passed" for v in self.verdicts.values())

    @property
    def all_passed(self) -> bool:
        return self.exit_code == 0 and bool(self.verdicts) and self.passed == len(self.verdicts)

    def failed(self) -> list[str]:
        return sorted(s for s, v in self.verdicts.items() if v != "passed")


def verdicts_of(report: Path) -> dict[str, str]:
    """scenario -> verdict, from the gameday's journal (its last DrillFinished for each)."""
    found: dict[str, str] = {}
    for journal in report.glob("gameday-*/journal.jsonl"):
        for line in journal.read_text().splitlines():
            event = json.loads(line)
            if event.get("type") == "DrillFinished":
                found[event["scenario"]] = event["verdict"]
    return found


def labelled(client: docker.DockerClient, pid: int) -> list[str]:
    label = {"label": f"{PID}={pid}"}
    return ([f"container {c.name}" for c in client.containers.list(ignore_removed=True, all=True, filters=label)]
            + [f"network {n.name}" for n in client.networks.list(filters=label)]
            + [f"volume {v.name}" for v in client.volumes.list(filters=label)])


def gameday(number: int, scenarios: str, report: Path, client: docker.DockerClient) -> Run:
    report.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with (report / "gameday.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", "--scenarios", scenarios,
                                    "--report", str(report)],
                                   cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            process.wait(timeout=GAMEDAY_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.terminate()  # SIGTERM: it rolls back and removes its stack
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        except KeyboardInterrupt:  # the gameday got the Ctrl-C too (same process group): let it clean up
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            raise
    return Run(number, process.returncode, round(time.monotonic() - started, 1), verdicts_of(report),
               labelled(client, process.pid))


def flaky(runs: list[Run]) -> set[str]:
    """Drills that failed in one run and passed in another."""
    passed = {s for r in runs for s, v in r.verdicts.items() if v == "passed"}
    failed = {s for r in runs for s, v in r.verdicts.items() if v != "passed"}
    return passed & failed


def line(run: Run, runs: list[Run]) -> str:
    flakes = sorted(set(run.failed()) & flaky(runs))
    failed = [f"{s}={run.verdicts[s]}" for s in run.failed()]
    return (f"run {run.number:>3}  passed {run.passed}/{len(run.verdicts)}  exit {run.exit_code}  "
            f"flakes {len(flakes)}{' (' + ', '.join(flakes) + ')' if flakes else ''}  "
            f"leftovers {len(run.leftovers)}  wall {run.wall_seconds:.0f}s"
            + (f"  failed: {', '.join(failed)}" if failed else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="gamedays to run (default: 10)")
    parser.add_argument("--scenarios", default="scenarios", help="modules that register scenarios")
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR",
                        help="keep each gameday's reports here (default: a temporary folder, removed)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    client = docker.from_env()
    runs: list[Run] = []
    interrupted = False
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gameday-soak-") as scratch:
        base = args.keep or Path(scratch)
        try:
            for number in range(1, args.runs + 1):
                runs.append(gameday(number, args.scenarios, base / f"run-{number:03d}", client))
                print(line(runs[-1], runs), flush=True)
        except KeyboardInterrupt:
            interrupted = True
            print("soak: interrupted", file=sys.stderr)
    flakes = flaky(runs)
    all_passed = sum(r.all_passed for r in runs)
    leftovers = sum(len(r.leftovers) for r in runs)
    print(f"soak: {len(runs)} gamedays, {all_passed} all-passed, {len(flakes)} flaky drills, {leftovers} leftovers")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "soak.json").write_text(json.dumps({
        "gamedays": len(runs),
        "runs_requested": args.runs,
        "interrupted": interrupted,
        "all_passed": all_passed,
        "flaky_drills": sorted(flakes),
        "leftovers": leftovers,
        "wall_seconds": round(time.monotonic() - started, 1),
        "runs": [{**asdict(r), "passed": r.passed, "total": len(r.verdicts), "all_passed": r.all_passed}
                 for r in runs],
    }, indent=2) + "\n")
    if interrupted:
        return 130
    return 0 if all_passed == len(runs) and not leftovers else 1


if __name__ == "__main__":
    sys.exit(main())
