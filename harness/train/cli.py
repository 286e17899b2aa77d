"""`gameday train`, `gameday hint`, `gameday giveup`, and `gameday shell` during an exercise.

Registered by harness.cli; everything heavy (Docker, scenarios, reports) is imported inside the
command functions, so `gameday --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from harness.errors import EXIT_FINDINGS, EXIT_OK, BadInput, InfrastructureError
from harness.systems import ROOT_ENV
from harness.train.exercise import DEFAULT_EXERCISES

GIVEUP_WAIT = 180.0  # rollback, stack removal and the debrief take far less
GIVEUP_POLL = 0.2
TRAIN_EPILOG = """\
exit codes: 0 recovered, 1 not recovered (gave up, time limit), 2 bad input (nothing started),
3 infrastructure, 130 interrupted (the fault is rolled back and the stack removed in every case)
examples:
  gameday train secret-missing        break a fresh stack with this scenario and page you
                                      (or chatkit/secret-missing: a key, needed when two systems have one)
  gameday train --random              a random exercise of drills/onboarding/<system>/
  gameday shell app                   (another terminal) a shell on the exercise's app host
  gameday hint                        (another terminal) the next runbook hint
  gameday giveup                      (another terminal) end it; the debrief shows the runbook's path
"""


def _suffix(reports: Path, default: Path) -> str:
    """What the trainee must add to `gameday shell|hint|giveup` to find this exercise."""
    return "" if reports == default else f" --report {reports}"


def add_parsers(sub: Any, *, reports: Path, scenarios: str) -> None:
    """The `train`, `hint` and `giveup` sub-commands, on `gameday`'s sub-parsers."""
    p = sub.add_parser("train", help="an onboarding exercise: break a fresh stack, page you, debrief you",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=TRAIN_EPILOG)
    p.add_argument("scenario", nargs="?", metavar="SCENARIO",
                   help="a scenario key (chatkit/db-down), a name unique across systems, or an exercise name "
                        "(`gameday list`)")
    p.add_argument("--random", action="store_true", help="a random exercise of the exercises folder")
    p.add_argument("--time-limit", metavar="DURATION", default=None,
                   help="end the exercise unrecovered after this long from the page (e.g. 10m; default: the "
                        "exercise's own, else 15m)")
    p.add_argument("--report", type=Path, default=reports, metavar="DIR",
                   help=f"reports root: the session goes to DIR/train/, drill times come from DIR (default: {reports})")
    p.add_argument("--exercises", type=Path, default=None, metavar="DIR",
                   help=f"onboarding exercise files, DIR/<system>/*.toml (default: {DEFAULT_EXERCISES} under --root)")
    p.add_argument("--root", type=Path, metavar="DIR", default=None,
                   help=f"project folder whose scenarios/<system>/ packages are the systems (default: ${ROOT_ENV}, "
                        "else the current folder)")
    p.add_argument("--scenarios", metavar="MODULES", default=scenarios,
                   help=f"modules that register scenarios, comma-separated (default: {scenarios}: every system found "
                        "under --root)")
    p.set_defaults(func=cmd_train, default_reports=reports)
    p = sub.add_parser("hint", help="the next runbook hint of the running onboarding exercise (each is counted)",
                       epilog="example: gameday hint")
    p.add_argument("--report", type=Path, default=reports, metavar="DIR",
                   help=f"reports root the exercise was started with (default: {reports})")
    p.set_defaults(func=cmd_hint, default_reports=reports)
    p = sub.add_parser("giveup", help="end the running onboarding exercise unrecovered; wait for its debrief",
                       epilog="example: gameday giveup")
    p.add_argument("--report", type=Path, default=reports, metavar="DIR",
                   help=f"reports root the exercise was started with (default: {reports})")
    p.set_defaults(func=cmd_giveup, default_reports=reports)


def cmd_train(args: argparse.Namespace) -> int:
    import random

    from harness.durations import parse_duration
    from harness.gameday import make_plans
    from harness.scenarios import get_scenario
    from harness.systems import load, modules_option, project_root
    from harness.train import state
    from harness.train.exercise import check_time_limit, load_exercises, pick, resolve_scenarios
    from harness.train.page import forbidden_words, leaks
    from harness.train.session import Trainer

    if bool(args.scenario) == bool(args.random):
        raise BadInput("give a SCENARIO or --random, not both and not neither (`gameday list` shows the scenarios)")
    reports: Path = args.report
    if reports.exists() and not reports.is_dir():
        raise BadInput(f"--report {reports}: is a file; give a folder for the reports")
    limit = None
    if args.time_limit is not None:
        try:
            limit = check_time_limit(parse_duration(args.time_limit), "--time-limit")
        except ValueError as exc:
            raise BadInput(f"--time-limit: {exc}") from None
    known = [s.key for s in load(modules_option(args.scenarios), args.root)]
    folder: Path = args.exercises or project_root(args.root) / DEFAULT_EXERCISES
    # A folder given on the command line must be one; the default may be absent.
    exercises = load_exercises(folder) if args.random or args.exercises or folder.is_dir() else []
    exercises = resolve_scenarios(exercises, known)
    if args.random:
        if not exercises:
            raise BadInput(f"{folder}: no exercise (<system>/*.toml) to pick from")
        exercise = random.choice(exercises)
    else:
        exercise = pick(exercises, args.scenario, known)
    exercise = exercise.with_time_limit(limit)
    scenario = get_scenario(exercise.scenario)
    plan = make_plans([scenario])[0]
    forbidden = forbidden_words(scenario.name, scenario.title, scenario.section, plan.section_titles,
                                [p.step.code for p in plan.fixes])
    told = leaks(exercise.page, forbidden)
    if told:
        raise BadInput(f"{exercise.where_is('page')}: the page must give symptoms only, and this one says "
                       f"{told[0]!r} (the scenario, its runbook section or its fix)")
    active = state.running(reports)
    if active is not None:
        raise BadInput(f"an exercise is already running under {reports} (controller pid {active.pid}); "
                       f"end it with `gameday giveup{_suffix(reports, args.default_reports)}` or use another --report")
    try:
        state.train_root(reports).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"--report {reports}: cannot write there ({exc.strerror or exc})") from None
    suffix = _suffix(reports, args.default_reports)
    print("gameday train: bringing a fresh stack up; you will be paged when something breaks", flush=True)

    def say(text: str) -> None:
        print(text, flush=True)

    def progress(text: str) -> None:
        print(f"  {text}", file=sys.stderr, flush=True)

    result = Trainer(exercise, plan, reports, say=say, progress=progress, command_suffix=suffix).run()
    print(f"exercise over: {scenario.key} ({scenario.title}): "
          f"{'RECOVERED' if result.recovered else 'NOT RECOVERED'} ({result.outcome})", flush=True)
    return EXIT_OK if result.recovered else EXIT_FINDINGS


def cmd_hint(args: argparse.Namespace) -> int:
    from harness.train import state
    from harness.train.hints import format_hint

    active = state.require_running(args.report, "hint")
    number, total, hint = state.take_hint(active.folder)
    suffix = _suffix(args.report, args.default_reports)
    if hint is None:
        print(f"No more hints: all {total} were shown. `gameday giveup{suffix}` ends the exercise and its debrief "
              "shows the runbook's whole path.")
        return EXIT_OK
    print(format_hint(hint, number, total, suffix), end="")
    return EXIT_OK


def cmd_giveup(args: argparse.Namespace) -> int:
    from harness.stack.waits import WaitTimeout, wait_for
    from harness.train import state

    active = state.require_running(args.report, "giveup")
    state.give_up(active.folder)
    print("giving up: the exercise ends; the fault is rolled back, the stack removed and the debrief written",
          flush=True)

    def over() -> tuple[bool, str]:
        done = state.finished(active.folder)
        return done is not None or not active.is_alive(), "the controller is still finishing"

    try:
        wait_for(over, what="the end of the exercise", timeout=GIVEUP_WAIT, interval=GIVEUP_POLL)
    except WaitTimeout as exc:
        raise InfrastructureError(f"the exercise's controller (pid {active.pid}) did not finish: {exc}") from None
    done = state.finished(active.folder) or {}
    if done.get("debrief_html"):
        print(f"debrief: {done['debrief_html']}  (Markdown: {done.get('debrief_md', '')})")
    else:
        print(f"the controller ended without a debrief; see {active.folder}")
    return EXIT_OK


def shell_into_exercise(args: argparse.Namespace) -> int | None:
    """`gameday shell HOST` while an exercise runs: a recorded shell on that host of its stack.

    None when no exercise is running (the caller starts a fresh stack, as before)."""
    import shutil
    import subprocess

    from harness.train import state
    from harness.train.shell_history import RC_FILE

    active = state.read_active(args.report)
    if active is None:
        return None
    if not active.is_alive():
        print(f"(the exercise under {args.report} is over; starting a fresh stack instead)", file=sys.stderr)
        return None
    if args.host not in active.hosts:
        raise BadInput(f"unknown host {args.host!r}; the exercise's stack has: {', '.join(sorted(active.hosts))}")
    docker_cli = shutil.which("docker")
    if docker_cli is None:
        raise BadInput("`gameday shell` needs the docker command line client on PATH")
    print(f"{args.host} of stack {active.stack} (onboarding exercise): your commands are recorded for the debrief; "
          "exit the shell when you are done (the exercise goes on)", flush=True)
    completed = subprocess.run([docker_cli, "exec", "-it", active.hosts[args.host], "bash", "--rcfile", RC_FILE, "-i"],
                               check=False)
    if completed.returncode not in (0, 130) and not active.is_alive():
        print("(the exercise ended while you were in the shell)", file=sys.stderr)
    return EXIT_OK
