"""One system's figures: cold build, warm stack up, its drills (detect, recover, wall, overhead) and
the peak memory of one of its stacks.

Usage: .venv/bin/python bench/bench_system.py --system redis-chat [--runs 3] [--cold] [--probe app:80/api/health]
Medians over --runs. `--cold` first removes the system's own images and whatever its host build
steps made (each recipe's `x-gameday.prepare` program is run with `--clean`, which must remove
its output and its downloads), then times `gameday build --stack` from there; the shared Debian base
image is kept (cold_start.py measures that one). Writes bench/results/system-SYSTEM.json.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_stack import warm_stack
from container_memory import MB
from gameday_runs import run_gameday
from results_io import publish

from harness.journal import DrillFinished, read_journal
from harness.stack.definition import ImageRecipe, load_definition
from harness.stack.docker_env import docker_client

ROOT = Path(__file__).resolve().parents[1]
GAMEDAY = Path(sys.executable).with_name("gameday")


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def cold_build(stack: Path) -> dict[str, Any]:
    """Remove the stack's own images and its host steps' output; time `gameday build` from there."""
    definition = load_definition(stack)
    client = docker_client()
    recipes = {spec.image for spec in definition.services if isinstance(spec.image, ImageRecipe)}
    for recipe in recipes:
        for image in client.images.list(name=recipe.repository):
            client.images.remove(image.id, force=True)
        if recipe.prepare:
            subprocess.run([str(recipe.context / recipe.prepare[0]), "--clean"], cwd=recipe.context, check=True)
    started = time.monotonic()
    subprocess.run([str(GAMEDAY), "build", "--stack", str(stack)], cwd=ROOT, check=True)
    return {"cold build (s)": round(time.monotonic() - started, 1),
            "images": sorted(r.repository for r in recipes)}


def drill_metrics(folder: Path) -> dict[str, dict[str, float | None]]:
    """Per scenario: time to detect and to recover after the fix, from the journals under `folder`."""
    out: dict[str, dict[str, float | None]] = {}
    for journal in folder.glob("**/journal*.jsonl"):
        for event in read_journal(journal):
            if isinstance(event, DrillFinished) and event.metrics is not None:
                out[event.scenario] = {"detect": event.metrics.time_to_detect,
                                       "recover": event.metrics.time_to_recover_after_fix}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--system", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="measure the cold build first (removes its images)")
    parser.add_argument("--probe", default="app:80/api/health", help="SERVICE:PORT/PATH for the warm stack-up")
    args = parser.parse_args()
    stack = ROOT / "stack" / args.system / "compose.yaml"
    figures: dict[str, Any] = {"system": args.system, "runs": args.runs}
    if args.cold:
        figures.update(cold_build(stack))
    times = warm_stack(args.runs, stack, args.probe)
    figures["warm stack up, median (s)"] = median(times.ups)
    figures["warm stack up, each (s)"] = [round(t, 2) for t in times.ups]
    figures["image sizes (MB)"] = times.image_size_mb
    client = docker_client()
    per_drill: dict[str, dict[str, list[float]]] = {}
    peaks: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-system-") as scratch:
        for number in range(1, args.runs + 1):
            folder = Path(scratch) / f"run-{number}"
            run = run_gameday(["--system", args.system], folder, client)
            print(f"gameday {number}/{args.runs}: {run.outcome()}", flush=True)
            peaks.append(run.stacks.largest_stack_mb() or 0.0)
            measured = drill_metrics(folder)
            for split in run.drills:
                row = per_drill.setdefault(split.drill, {})  # a gameday's drill id is its scenario key
                for name, value in (("wall", split.wall), ("overhead", split.overhead)):
                    if value is not None:
                        row.setdefault(name, []).append(value)
            for scenario, values in measured.items():
                row = per_drill.setdefault(scenario, {})
                for name, value in values.items():
                    if value is not None:
                        row.setdefault(name, []).append(value)
            figures.setdefault("verdicts", []).append(run.outcome())
    figures["one stack's containers, peak (MB)"] = max(peaks) if peaks else None
    figures["memory unit"] = f"{MB} bytes"
    for scenario, row in sorted(per_drill.items()):
        figures[scenario] = {name: median(values) for name, values in sorted(row.items())}
    publish(f"system-{args.system}", figures)


if __name__ == "__main__":
    main()
