"""Every benchmark of issue 7 in one run: one table (median, each run, target, met or MISSED) and
bench/results/all.json.

Usage: .venv/bin/python bench/bench_all.py [--runs 3] [--skip-cold] [--only SECTION[,SECTION...]]
       make bench

Sections, in the order they run:
  cold     no gameday/* image -> first healthy stack (`gameday check`); removes and rebuilds the images
  stack    warm stack up (every service healthy), first request, tear down
  gameday  full gameday sequential and with --jobs 2, harness peak RSS, stack containers' peak memory,
           and per drill: wall, waiting on the stack, in the runbook's commands, the harness's overhead
  lint     `gameday lint` of a 1,000-line runbook, end to end (median of at least 5)
  help     `gameday --help`, end to end (median of at least 10)
  probe    each scenario's probe interval, and the gaps the probe really leaves on a running stack
  chaos    the db-down drill beside the equivalent Chaos Toolkit experiment, alternating, on one stack
  storm    HttpStorm's request rate beside wrk's on the storm drill's endpoint, alternating
Medians of --runs runs. Exit 0 when every section ran (targets missed or not), 1 when one failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from measure import Measure, Target, fmt, measure, render, render_targets
from results_io import RESULTS, save

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the `scenarios` package, imported by the sections that drill
GAMEDAY = Path(sys.executable).with_name("gameday")

LINT_LINES = 1000
LINT_MIN_RUNS = 5
HELP_MIN_RUNS = 10
PARALLEL_JOBS = 2

# The targets of issue 7 (2-core machine, images warm).
GAMEDAY_SEQUENTIAL = Target("<=", 60)
GAMEDAY_PARALLEL = Target("<=", 35)
DRILL_OVERHEAD = Target("<", 1)
PROBE_RESOLUTION = Target("<=", 0.25)
DRILL_VS_CHAOS = Target("<=", 1)
STORM_VS_WRK = Target(">=", 0.5)
HELP_SECONDS = Target("<", 0.3)
LINT_SECONDS = Target("<", 0.5)
HARNESS_RSS_MB = Target("<", 200)
STACK_MEMORY_MB = Target("<", 600)


@dataclass
class Bench:
    """What the sections share: the number of runs, a scratch folder, a docker client, and one
    running stack for the sections that need one (made on first use, removed at the end)."""

    runs: int
    scratch: Path
    _client: Any = None
    _stack: Any = None

    def client(self) -> Any:
        if self._client is None:
            from harness.stack.docker_env import docker_client

            self._client = docker_client()
        return self._client

    def stack(self) -> Any:
        """A running reference stack (the one the scenarios drill), shared by probe, chaos and storm."""
        if self._stack is None:
            from harness.stack.launch import prepare
            from harness.stack.stack import Stack
            from scenarios.chatkit import STACK

            definition, client, images = prepare(STACK)
            self._stack = Stack(definition, images, client=client).up()
        return self._stack

    def close(self) -> None:
        if self._stack is not None:
            self._stack.down()
            self._stack = None


def say(message: str) -> None:
    print(f"  {message}", flush=True)


def timed_command(argv: Sequence[str], ok_codes: tuple[int, ...] = (0,)) -> float:
    """Wall seconds of one command, end to end (interpreter start-up included)."""
    started = time.perf_counter()
    result = subprocess.run(list(argv), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - started
    if result.returncode not in ok_codes:
        raise RuntimeError(f"{' '.join(argv)}: exit {result.returncode}: {result.stderr.decode()[-300:]}")
    return seconds


# -- sections -----------------------------------------------------------------------------------------


def section_cold(bench: Bench) -> list[Measure]:
    from cold_start import ImagesInUse, base_note, cold_starts

    client = bench.client()
    note = base_note(client)
    try:
        runs = cold_starts(client, bench.runs)
    except ImagesInUse as exc:
        return [measure("cold", "cold start: no images -> first healthy stack", "s", [], note=str(exc))]
    failed = [r for r in runs if r.exit_code != 0]
    if failed:
        note += f"; `gameday check` failed in {len(failed)} run(s): {failed[0].output_tail[-200:]}"
    return [
        measure("cold", "cold start: no images -> first healthy stack", "s", [r.to_healthy for r in runs], note=note),
        measure("cold", "cold `gameday check`, whole (health table, tear-down)", "s", [r.total for r in runs]),
    ]


def section_stack(bench: Bench) -> list[Measure]:
    from bench_stack import warm_stack

    times = warm_stack(bench.runs)
    sizes = ", ".join(f"{name} {mb} MB" for name, mb in times.image_size_mb.items())
    return [
        measure("stack", "warm stack up (every service healthy)", "s", times.ups, note=f"images: {sizes}"),
        measure("stack", "first /health request after up", "s", times.first_requests),
        measure("stack", "stack tear down", "s", times.downs),
        measure("stack", "images up-to-date check", "s", times.image_checks),
    ]


def _outcomes(runs: Sequence[Any]) -> str:
    return "; ".join(f"run {n}: {r.outcome()}" for n, r in enumerate(runs, start=1))


def section_gameday(bench: Bench) -> list[Measure]:
    from container_memory import MB, SAMPLE_INTERVAL
    from gameday_runs import gameday_has_option, run_gameday

    client = bench.client()

    def gameday(extra: list[str], name: str, history: Path | None = None) -> Any:
        if history is not None:  # an earlier gameday in the report folder, as `reports/` has in real use
            shutil.copytree(history, bench.scratch / name / history.name)
        run = run_gameday(extra, bench.scratch / name, client)
        if not run.completed:  # keep its output: the scratch folder goes at the end
            RESULTS.mkdir(exist_ok=True)
            shutil.copy(bench.scratch / name / "gameday.log", RESULTS / f"failed-{name}.log")
            say(f"{name}: {run.outcome()}; output kept in bench/results/failed-{name}.log")
        return run

    sequential = []
    for number in range(1, bench.runs + 1):
        say(f"gameday {number}/{bench.runs}, sequential")
        sequential.append(gameday([], f"gameday-sequential-{number}"))
    parallel = []
    jobs_note = ""
    # Lanes take the longest drills first by the report folder's earlier gamedays: each parallel
    # run gets the first sequential gameday's folder as its history.
    history = next(iter(sorted((bench.scratch / "gameday-sequential-1").glob("gameday-*"))), None)
    if gameday_has_option("--jobs"):
        for number in range(1, bench.runs + 1):
            say(f"gameday {number}/{bench.runs}, --jobs {PARALLEL_JOBS}")
            parallel.append(gameday(["--jobs", str(PARALLEL_JOBS)], f"gameday-jobs-{PARALLEL_JOBS}-{number}",
                                    history))
    else:
        jobs_note = "not measured: this harness's `gameday run` has no --jobs option yet"
    measures = [
        measure("gameday", "full gameday, sequential", "s", [r.wall for r in sequential if r.completed],
                GAMEDAY_SEQUENTIAL, _outcomes(sequential)),
        measure("gameday", f"full gameday, --jobs {PARALLEL_JOBS} (two stacks at once)", "s",
                [r.wall for r in parallel if r.completed], GAMEDAY_PARALLEL,
                (f"{_outcomes(parallel)}; history: one earlier gameday in the report folder" if history
                 else _outcomes(parallel)) or jobs_note),
        measure("gameday", "harness process peak RSS, sequential gameday", "MB",
                [r.harness_peak_mb for r in sequential], HARNESS_RSS_MB, "/usr/bin/time %M"),
        measure("gameday", f"harness processes peak RSS, --jobs {PARALLEL_JOBS} gameday", "MB",
                [r.stacks.processes_mb() for r in parallel], HARNESS_RSS_MB,
                (f"parent and lanes together, sampled every {SAMPLE_INTERVAL:g} s; the largest single process: "
                 + ", ".join(fmt(r.harness_peak_mb, "MB") for r in parallel)) if parallel else jobs_note),
    ]
    for label, runs in (("sequential", sequential), (f"--jobs {PARALLEL_JOBS}", parallel)):
        services: dict[str, int] = {}
        for run in runs:
            for service, peak in run.stacks.by_service.items():
                services[service] = max(services.get(service, 0), peak)
        sources = sorted({r.stacks.source for r in runs})
        detail = ", ".join(f"{s} {b / MB:.0f} MB" for s, b in sorted(services.items()))
        measures.append(measure(
            "gameday", f"one stack's containers, peak ({label})", "MB", [r.stacks.largest_stack_mb() for r in runs],
            STACK_MEMORY_MB, (f"largest stack of each run, docker-stats memory from {'/'.join(sources)}; "
                              f"per container peak: {detail}") if runs else jobs_note))
    measures.extend(_drill_measures(sequential))
    return measures


def _drill_measures(runs: Sequence[Any]) -> list[Measure]:
    """Per drill, medians over the sequential gamedays: wall, and its split when journaled."""
    drills: dict[str, list[Any]] = {}
    for run in runs:
        for split in run.drills:
            drills.setdefault(split.drill, []).append(split)
    measures = []
    for drill, splits in drills.items():
        has_split = any(s.stack is not None for s in splits)
        wall_note = "" if has_split else "stack-up mark to verdict, from the journal's timestamps"
        split_note = "" if has_split else "n/a: this harness does not journal DrillTimed yet"
        measures += [
            measure("drills", f"{drill}: wall", "s", [s.wall for s in splits], note=wall_note),
            measure("drills", f"{drill}: waiting on the stack", "s", [s.stack for s in splits], note=split_note),
            measure("drills", f"{drill}: in the runbook's commands", "s", [s.runbook for s in splits],
                    note=split_note),
            measure("drills", f"{drill}: harness overhead", "s", [s.overhead for s in splits], DRILL_OVERHEAD,
                    split_note),
        ]
    return measures


def section_lint(bench: Bench) -> list[Measure]:
    from bench_lint import big_runbook, parse_and_lint_seconds

    text = big_runbook(LINT_LINES)
    lines = text.count("\n")
    path = bench.scratch / "runbook-1000-lines.md"
    path.write_text(text)
    runs = max(bench.runs, LINT_MIN_RUNS)
    # exit 1 would be findings; the generated runbook has notes only, but lint's speed is what is measured
    cli = [timed_command([str(GAMEDAY), "lint", str(path)], ok_codes=(0, 1)) for _ in range(runs)]
    return [
        measure("lint", f"`gameday lint`, {lines:,}-line runbook, end to end", "s", cli, LINT_SECONDS),
        measure("lint", f"parse + lint in-process, {lines:,} lines", "s", parse_and_lint_seconds(text, runs),
                note="no interpreter start-up"),
    ]


def section_help(bench: Bench) -> list[Measure]:
    runs = [timed_command([str(GAMEDAY), "--help"]) for _ in range(max(bench.runs, HELP_MIN_RUNS))]
    return [measure("help", "`gameday --help`, end to end", "s", runs, HELP_SECONDS)]


def section_probe(bench: Bench) -> list[Measure]:
    from probe_gaps import OBSERVE_SECONDS, probe_gaps

    from harness.scenarios import load_scenarios

    scenarios = load_scenarios(["scenarios"])
    measures = [measure("probe", f"probe interval configured, {s.key}", "s", [s.observation.probe_interval],
                        PROBE_RESOLUTION) for s in scenarios]
    observations: dict[int, tuple[Any, list[str]]] = {}
    for s in scenarios:
        observations.setdefault(id(s.observation), (s.observation, []))[1].append(s.key)
    stack = bench.stack()
    for observation, ids in observations.values():
        medians, worst = [], 0.0
        for _ in range(bench.runs):
            gaps = probe_gaps(stack, observation)
            if gaps:
                medians.append(statistics.median(gaps))
                worst = max(worst, *gaps)
        measures.append(measure(
            "probe", f"probe gap measured ({len(ids)} scenario(s) sharing it)", "s", medians, PROBE_RESOLUTION,
            f"median gap per {OBSERVE_SECONDS:g} s of probing with the synthetic users running, healthy stack; "
            f"largest gap {worst:.3f} s; {', '.join(ids)}"))
    return measures


def section_chaos(bench: Bench) -> list[Measure]:
    from chaos_side_by_side import PAUSE_AFTER_START, ensure_chaos, run_db_down_drill, run_experiment

    chaos = ensure_chaos()
    stack = bench.stack()
    folder = bench.scratch / "chaos"
    folder.mkdir(exist_ok=True)
    drills, experiments = [], []
    for number in range(1, bench.runs + 1):
        say(f"db-down drill {number}/{bench.runs}")
        drills.append(run_db_down_drill(stack, folder, number))
        stack.wait_healthy()
        say(f"chaos toolkit experiment {number}/{bench.runs}")
        experiments.append(run_experiment(chaos, stack, folder / f"chaos-{number}"))
        stack.wait_healthy()
    completed = all(e.ok for e in experiments)
    pause = f"{PAUSE_AFTER_START:g} s pause after starting PostgreSQL" if PAUSE_AFTER_START else \
        "no pause after starting PostgreSQL"
    if not completed:
        pause += " (not enough: raise PAUSE_AFTER_START)"
    return [
        measure("chaos", "db-down drill (in-process, stack already up)", "s", [d.seconds for d in drills],
                note="verdicts: " + ", ".join(d.outcome for d in drills)),
        measure("chaos", "Chaos Toolkit experiment (`chaos run`, end to end)", "s",
                [e.seconds for e in experiments],
                note="statuses: " + ", ".join(e.outcome for e in experiments) + f"; {pause}"),
        measure("chaos", "db-down drill / Chaos Toolkit experiment", "x",
                [d.seconds / e.seconds for d, e in zip(drills, experiments, strict=True)], DRILL_VS_CHAOS,
                "" if all(d.ok for d in drills) and completed
                else "NOT all drills passed / experiments completed: see the notes above"),
    ]


def section_storm(bench: Bench) -> list[Measure]:
    from storm_vs_wrk import LOAD_SECONDS, bot_token, ensure_wrk, run_storm, run_wrk

    from scenarios.chatkit import APP_PORT
    from scenarios.chatkit.rate_limit_storm import STORM_CONCURRENCY

    wrk = ensure_wrk()
    base = bench.stack().endpoint("app", APP_PORT)
    token = bot_token(base)
    wrk_runs, storm_runs = [], []
    for number in range(1, bench.runs + 1):
        say(f"wrk {number}/{bench.runs}")
        wrk_runs.append(run_wrk(wrk, base, token))
        say(f"HttpStorm {number}/{bench.runs}")
        storm_runs.append(run_storm(base))

    def detail(runs: Sequence[Any]) -> str:
        responses = sum(r.responses for r in runs)
        not_2xx = sum(r.not_2xx for r in runs)
        return f"{responses} responses, {not_2xx / max(responses, 1):.0%} not 2xx, {sum(r.errors for r in runs)} errors"

    setting = f"POST /api/v1/chat, {STORM_CONCURRENCY} in flight, {LOAD_SECONDS:g} s"
    wrk_rate = statistics.median(r.rate for r in wrk_runs)
    return [
        measure("storm", "wrk rate", "req/s", [r.rate for r in wrk_runs], note=f"{setting}; {detail(wrk_runs)}"),
        measure("storm", "HttpStorm rate", "req/s", [r.rate for r in storm_runs], note=detail(storm_runs)),
        measure("storm", "HttpStorm / wrk", "x", [s.rate / w.rate for s, w in zip(storm_runs, wrk_runs, strict=True)],
                STORM_VS_WRK, f"wrk's rate is {1000 * STORM_CONCURRENCY / wrk_rate:.0f} ms per response per "
                "connection: near 1, the ratio says the app, not the generator, sets both rates"),
    ]


SECTIONS: dict[str, Callable[[Bench], list[Measure]]] = {
    "cold": section_cold, "stack": section_stack, "gameday": section_gameday, "lint": section_lint,
    "help": section_help, "probe": section_probe, "chaos": section_chaos, "storm": section_storm,
}


# -- the run ------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()

    return {"cpus": os.cpu_count(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "python": sys.version.split()[0], "commit": git("rev-parse", "--short", "HEAD"),
            "worktree_changed": bool(git("status", "--porcelain", "--untracked-files=no"))}


def selected(only: str, skip_cold: bool) -> list[str]:
    wanted = [s.strip() for s in only.split(",") if s.strip()] if only else list(SECTIONS)
    unknown = [s for s in wanted if s not in SECTIONS]
    if unknown:
        raise SystemExit(f"bench_all: unknown section(s) {', '.join(unknown)}; sections: {', '.join(SECTIONS)}")
    return [s for s in SECTIONS if s in wanted and not (skip_cold and s == "cold")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs per measure, medians reported (default: 3)")
    parser.add_argument("--skip-cold", action="store_true", help="skip the cold start (it removes and rebuilds "
                        "the images: ~5 min with 3 runs)")
    parser.add_argument("--only", default="", metavar="SECTION[,..]", help=f"only these: {', '.join(SECTIONS)}")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    sections = selected(args.only, args.skip_cold)
    info = machine()
    info["started"] = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.monotonic()
    measures: list[Measure] = []
    failures: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="gameday-bench-") as scratch:
        bench = Bench(args.runs, Path(scratch))
        try:
            for name in sections:
                print(f"== {name}", flush=True)
                section_started = time.monotonic()
                try:
                    measures.extend(SECTIONS[name](bench))
                except Exception as exc:  # one section failing must not lose the others' figures
                    failures[name] = f"{type(exc).__name__}: {exc}"
                    measures.append(measure(name, "section failed", "", [], note=failures[name][:300]))
                say(f"{name}: {time.monotonic() - section_started:.0f} s")
        finally:
            bench.close()
    print()
    print(render(measures))
    print("\ntargets (2-core machine, images warm):")
    print(render_targets(measures))
    info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    path = save("all" if not args.only else "only-" + "-".join(sections), {
        "seconds": round(time.monotonic() - started, 1),
        "runs": args.runs,
        "sections": sections,
        "machine": info,
        "failures": failures,
        "measures": [m.as_json() for m in measures],
    })
    print(f"\n{len(measures)} measures in {time.monotonic() - started:.0f} s; written to {path.relative_to(ROOT)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
