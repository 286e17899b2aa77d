"""The `gameday` command line.

Exit codes: 0 all good, 1 findings, 2 bad input (nothing started), 3 infrastructure failure.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness import interrupts
from harness.errors import (
    EXIT_BAD_INPUT,
    EXIT_BROKEN_PIPE,
    EXIT_FINDINGS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    BadInput,
    GamedayError,
)
from harness.stack.definition import load_definition
from harness.systems import ROOT_ENV
from harness.train import cli as train_cli

if TYPE_CHECKING:
    from harness.scenarios import Scenario

DEFAULT_SCENARIOS = "discover"  # every scenarios/<system>/ package of the project (harness.systems)
DEFAULT_REPORTS = Path("reports")

EXAMPLES = """\
examples:
  gameday run                         the gameday: every system's scenarios, each on a fresh stack
  gameday run -k db-down              only the scenarios whose key (chatkit/db-down) contains db-down
  gameday run --system chatkit        only one system's scenarios
  gameday run --jobs 2                the gameday on two stacks at once
  gameday list                        scenarios by system, and the runbook sections they drill
  gameday build                       make every system's images (only what changed)
  gameday check                       bring the system's stack up, show its health, tear it down
  gameday check --stack compose.yaml  the same for your own stack (a Compose file, or the TOML format)
  gameday lint RUNBOOK.md             check a runbook without Docker (exit 1 on findings)
  gameday report reports/gameday-X/   re-render a gameday's reports from its journal
  gameday grade RUNBOOK.md --bindings B.toml   drill a team's runbook as written; a scorecard per section
  gameday shell app                   a fresh stack, and a shell on its app host (during an
                                      exercise: a recorded shell on the exercise's app host)
  gameday train secret-missing        an onboarding exercise: you are paged and fix it (also --random)
  gameday hint                        the next runbook hint of the running exercise
  gameday giveup                      end the running exercise; its debrief shows the runbook's path
  gameday clean                       remove every container and network the harness left
"""


def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def _stacks(args: argparse.Namespace) -> list[Path]:
    """`--stack FILE`, else the stacks of every discovered system (of `--system NAME` only)."""
    if args.stack is not None:
        return [args.stack]
    from harness.systems import only_system, systems_of

    scenarios = _loaded(args)
    if args.system:
        scenarios = only_system(scenarios, args.system)
    return list(dict.fromkeys(stack for system in systems_of(scenarios) for stack in system.stacks))


def _stack(args: argparse.Namespace) -> Path:
    """`--stack FILE`, else the stack of `--system NAME` or of the only system there is."""
    if args.stack is not None:
        return Path(args.stack)
    from harness.systems import stack_of

    return stack_of(_loaded(args), args.system or None)


def cmd_build(args: argparse.Namespace) -> int:
    from harness.stack.docker_env import docker_client
    from harness.stack.images import ensure_stack_images

    definitions = [load_definition(path) for path in _stacks(args)]  # every one read before any build
    client = docker_client()
    for definition in definitions:
        for warning in definition.warnings:
            _progress(f"warning: {warning}")
        built = ensure_stack_images(client, definition, _progress)
        for name, image in built.items():
            state = f"built in {image.seconds:.0f}s" if image.rebuilt else "up to date"
            print(f"{name:<12} {image.tag:<45} {state}")
        if definition.links:
            from harness.stack.links import proxy_server

            print(f"{'(links)':<12} {proxy_server(client, _progress).describe()}")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from harness.stack.launch import prepare
    from harness.stack.stack import Stack

    definition, client, images = prepare(_stack(args), progress=_progress)
    started = time.monotonic()
    with Stack(definition, images, client=client) as stack:
        print(f"stack {stack.name} healthy in {time.monotonic() - started:.1f}s")
        if stack.proxy_server is not None:
            links = ", ".join(f"{link.name} ({link.upstream})" for link in definition.links)
            print(f"  links    {links} through {stack.proxy_server.describe()}")
        for spec in definition.services:
            healthy, seen = stack.check_health(spec.name)
            ports = ", ".join(f"{p}->127.0.0.1:{stack.port(spec.name, p)}" for p in spec.ports)
            print(f"  {spec.name:<8} {'healthy' if healthy else 'UNHEALTHY':<10} {ports:<32} {seen[:80]}")
    print("stack removed")
    return EXIT_OK


def cmd_lint(args: argparse.Namespace) -> int:
    from harness.runbook.lint import lint, summary_counts
    from harness.runbook.parse import parse_runbook
    from harness.runbook.report import lint_json, lint_text

    hosts = [h for h in (args.hosts or "").split(",") if h]
    if args.stack is not None:
        hosts += list(load_definition(args.stack).hosts)
    bound = [v for v in (args.bound or "").split(",") if v]
    exit_code = EXIT_OK
    for path in args.runbooks:
        runbook = parse_runbook(path)
        findings = lint(runbook, hosts=hosts, bound=bound)
        print(lint_json(runbook, findings) if args.format == "json" else lint_text(runbook, findings))
        counts = summary_counts(findings)
        if counts["error"] or counts["warning"]:
            exit_code = EXIT_FINDINGS
    return exit_code


def _loaded(args: argparse.Namespace) -> list[Scenario]:
    """The scenarios `--scenarios` names (default: every discovered system's, under `--root`)."""
    from harness.systems import load, modules_option

    return load(modules_option(args.scenarios), args.root)


def keywords(text: str) -> list[str]:
    """`-k` words: comma-separated, blanks dropped (`-k db-down,` is `-k db-down`)."""
    return [word.strip() for word in text.split(",") if word.strip()]


def _selected(args: argparse.Namespace) -> list[Scenario]:
    from harness.systems import only_system

    scenarios = _loaded(args)
    if not scenarios:
        raise BadInput(f"the modules {args.scenarios!r} register no scenario (see `@scenario` in harness.scenarios)")
    if args.system:
        scenarios = only_system(scenarios, args.system)
    if args.k:
        words = keywords(args.k)
        if not words:
            raise BadInput(f"-k {args.k!r}: no word to match; give parts of scenario keys, e.g. -k db-down or "
                           "-k chatkit/db-down,storm")
        scenarios = [s for s in scenarios if any(word in s.key for word in words)]
        if not scenarios:
            raise BadInput(f"-k {args.k!r} selects no scenario (`gameday list` shows them)")
    if getattr(args, "only", ""):
        by_key = {s.key: s for s in scenarios}
        wanted = keywords(args.only)
        unknown = [k for k in wanted if k not in by_key]
        if unknown:
            raise BadInput(f"--only: no scenario {', '.join(unknown)} (`gameday list` shows them)")
        scenarios = [by_key[k] for k in wanted]
    return scenarios


def cmd_list(args: argparse.Namespace) -> int:
    """A heading per system, then its scenarios by key, each with its drill plan (checked: a
    scenario whose plan is wrong is refused here as in a run)."""
    from harness.coverage import coverage_of
    from harness.gameday import make_plans
    from harness.plan import shown
    from harness.systems import systems_of

    for number, system in enumerate(systems_of(_selected(args))):
        if number:
            print()
        print(f"{system.name} ({len(system.scenarios)} scenario(s); stack {', '.join(map(shown, system.stacks))})")
        plans = make_plans(system.scenarios)
        for plan in plans:
            s = plan.scenario
            steps = ", ".join(f"{len(steps)} {phase} ({', '.join(dict.fromkeys(p.host for p in steps))})"
                              for phase, steps in (("diagnose", plan.diagnosis), ("fix", plan.fixes),
                                                   ("verify", plan.verifies)) if steps)
            print(f"  {s.key:<32} {s.severity}  detect <= {s.detect_within:g}s  recover <= {s.recover_within:g}s  "
                  f"{s.runbook.name}#{s.section}")
            print(f"  {'':<32} {s.title}")
            print(f"  {'':<32} steps: {steps or 'none'}; manual: {len(plan.manual)}")
        for covered in coverage_of(plans):
            print(f"  runbook {shown(covered.runbook)}: {covered}")
            if covered.not_drilled:
                print(f"  {'':<32} not drilled: {', '.join('#' + a for a in covered.not_drilled)}")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    import time as _time

    from harness.gameday import run_gameday
    from harness.parallel import MAX_JOBS, run_lane, run_parallel
    from harness.report import HTML_NAME, write_reports
    from harness.report.console import LiveProgress, summary_table

    scenarios = _selected(args)
    if args.root is not None:  # lanes (processes of their own) discover under the same root
        os.environ[ROOT_ENV] = str(Path(args.root).resolve())
    if args.report.exists() and not args.report.is_dir():
        raise BadInput(f"--report {args.report}: is a file; give a folder for the gameday reports")
    if not 1 <= args.jobs <= MAX_JOBS:
        raise BadInput(f"--jobs {args.jobs}: give 1 to {MAX_JOBS} stacks at once")
    if args.lane:  # one lane of `--jobs N`: the parent made the folder and renders the reports
        return run_lane(scenarios, args.report, args.lane)
    folder = args.report / _time.strftime("gameday-%Y%m%d-%H%M%S")
    jobs = min(args.jobs, len(scenarios))
    on = f" on {jobs} stacks at once" if jobs > 1 else ""
    print(f"gameday: {len(scenarios)} drill(s){on}; journal in {folder}/journal.jsonl", flush=True)
    live = LiveProgress()
    try:
        if jobs > 1:
            result = run_parallel(scenarios, folder, jobs, modules=args.scenarios, progress=_progress, on_event=live)
        else:
            result = run_gameday(scenarios, folder, progress=_progress, on_event=live)
    except KeyboardInterrupt:
        live.clear()
        journals = sorted(folder.glob("journal*.jsonl"))
        if journals:
            write_reports(journals, folder)
            print(f"report of what ran: {folder / HTML_NAME}", file=sys.stderr)
        raise
    live.clear()
    passed = sum(d.verdict == "passed" for d in result.finished)
    write_reports(result.journals, folder)
    print(f"\n{summary_table(result.finished)}\n")
    if result.missing:
        print(f"gameday: never ran to an end: {', '.join(result.missing)}", file=sys.stderr)
    print(f"gameday: {passed}/{len(scenarios)} drill(s) passed in {result.seconds:.0f}s")
    print(f"report: {folder / HTML_NAME}  (history: {args.report / 'index.html'})")
    return result.exit_code


def cmd_grade(args: argparse.Namespace) -> int:
    """Grade a runbook as written: every scenario its bindings map to a section, each on a fresh
    stack; the scorecard beside the gameday reports. Exit 0 when every drilled section held, 1 when
    one failed, 2 bad input (nothing started), 3 when a drill could not judge its section."""
    import time as _time

    from harness.grade import default_bindings, plan_grade, run_grade
    from harness.report import write_reports
    from harness.report.console import LiveProgress
    from harness.report.scorecard import SCORECARD_HTML, build_scorecard, grade_record
    from harness.vocabulary import SectionVerdict

    bindings = args.bindings if args.bindings is not None else default_bindings(args.runbook)
    grade = plan_grade(args.runbook, bindings, _loaded(args))  # everything checked before anything starts
    if args.report.exists() and not args.report.is_dir():
        raise BadInput(f"--report {args.report}: is a file; give a folder for the reports")
    folder = args.report / _time.strftime("grade-%Y%m%d-%H%M%S")
    print(f"gameday grade: {args.runbook}: {len(grade.drills)} drill(s); journal in {folder}/journal.jsonl",
          flush=True)
    live = LiveProgress()
    try:
        result = run_grade(grade, folder, progress=_progress, on_event=live)
    except KeyboardInterrupt:
        live.clear()
        if (folder / "journal.jsonl").is_file():
            write_reports([folder / "journal.jsonl"], folder)
            print(f"scorecard of what ran: {folder / SCORECARD_HTML}", file=sys.stderr)
        raise
    live.clear()
    write_reports(result.journals, folder)
    from harness.report import load_journals, redacted_journals
    from harness.report.model import build_gameday

    loaded = redacted_journals(load_journals(result.journals), str(folder))
    record = grade_record(loaded)
    assert record is not None
    card = build_scorecard(record, build_gameday(loaded))
    for row in card.rows:
        if row.drilled:
            kinds = ", ".join(dict.fromkeys(str(f.kind) for f in row.findings))
            print(f"  #{row.anchor:<44} {row.verdict:<11} {kinds}")
    print(f"gameday grade: {card.verdict}: {card.headline}")
    print(f"scorecard: {folder / SCORECARD_HTML}")
    if card.verdict is SectionVerdict.FAILED:
        return EXIT_FINDINGS
    return EXIT_OK if card.verdict is SectionVerdict.HELD else result.exit_code or EXIT_FINDINGS


def cmd_report(args: argparse.Namespace) -> int:
    """Re-render reports from journals. Exit 0 when every drill passed, 1 when a drill did not pass
    (failed, harness error, interrupted, or its journal does not add up) or there is no drill at all,
    2 for input it cannot read or an output it must not write (nothing is written then)."""
    from harness.report import SHOWN_PROBLEMS, render_reports
    from harness.report.output import ReportOutputError

    journals: list[Path] = []
    for path in args.journals:
        if path.is_dir():
            found = sorted(p for p in path.glob("journal*.jsonl") if not p.is_dir())
            if not found:
                raise BadInput(f"{path}: no journal*.jsonl in this folder")
            journals.extend(found)
        else:
            journals.append(path)
    folder = args.out if args.out is not None else journals[0].parent
    if args.out is not None and (args.out.is_symlink() or args.out.exists()) and not args.out.is_dir():
        raise ReportOutputError(args.out, "not a folder; give --out a folder for the reports")
    written, view = render_reports(journals, folder, claim_root=False)
    for path in written:
        print(path)
    problems = view.problems
    for problem in problems[:SHOWN_PROBLEMS]:
        print(f"gameday: journal problem: {problem}", file=sys.stderr)
    if len(problems) > SHOWN_PROBLEMS:
        print(f"gameday: ... and {len(problems) - SHOWN_PROBLEMS} more journal problems (see the report)",
              file=sys.stderr)
    if not view.drills:
        print("gameday: the journals hold no drill: nothing was verified", file=sys.stderr)
    elif view.not_passed:
        print(f"gameday: {view.not_passed} of {len(view.drills)} drill(s) did not pass", file=sys.stderr)
    return EXIT_OK if view.passed else EXIT_FINDINGS


def cmd_shell(args: argparse.Namespace) -> int:
    import shutil
    import subprocess

    from harness.stack.launch import prepare
    from harness.stack.stack import Stack
    from harness.train.cli import shell_into_exercise

    in_exercise = shell_into_exercise(args)
    if in_exercise is not None:
        return in_exercise

    path = _stack(args)
    definition = load_definition(path)
    if args.host not in {s.name for s in definition.services}:
        raise BadInput(f"{path}: unknown host {args.host!r}; this stack has: "
                       f"{', '.join(s.name for s in definition.services)}")
    definition, client, images = prepare(definition, progress=_progress)
    docker_cli = shutil.which("docker")
    if docker_cli is None:
        raise BadInput("`gameday shell` needs the docker command line client on PATH")
    with Stack(definition, images, client=client) as stack:
        ports = ", ".join(f"{s.name}:{p} -> {stack.endpoint(s.name, p)}" for s in definition.services for p in s.ports)
        print(f"stack {stack.name} is up ({ports}); exit the shell to tear it down", flush=True)
        container = stack.container(args.host)
        subprocess.run([docker_cli, "exec", "-it", container.id, "bash", "-l"], check=False)
    print("stack removed")
    return EXIT_OK


def cmd_clean(args: argparse.Namespace) -> int:
    from harness.stack.docker_env import docker_client
    from harness.stack.reaper import reap_orphans, remove_all

    client = docker_client()
    reaped = remove_all(client) if args.all else reap_orphans(client)
    print(f"removed {reaped.containers} container(s), {reaped.networks} network(s), {reaped.volumes} volume(s)")
    return EXIT_OK


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"gameday: error: {message} (see `gameday --help`)", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gameday", description="Executable runbooks and chaos drills.",
                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the harness does")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def systems_args(p: argparse.ArgumentParser, system: str) -> None:
        p.add_argument("--system", metavar="NAME", default="", help=system)
        p.add_argument("--root", type=Path, metavar="DIR", default=None,
                       help=f"project folder whose scenarios/<system>/ packages are the systems (default: "
                            f"${ROOT_ENV}, else the current folder)")
        p.add_argument("--scenarios", metavar="MODULES", default=DEFAULT_SCENARIOS,
                       help=f"modules that register scenarios, comma-separated (default: {DEFAULT_SCENARIOS}: "
                            "every system found under --root)")

    def stack_arg(p: argparse.ArgumentParser, what: str) -> None:
        p.add_argument("--stack", type=Path, default=None, metavar="FILE",
                       help=f"stack definition (default: {what})")
        systems_args(p, "take this system's stack")

    def scenario_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("-k", metavar="WORDS", default="", help="only scenarios whose key (system/name, e.g. "
                       "chatkit/db-down) contains one of these comma-separated words")
        systems_args(p, "only this system's scenarios (default: every system's)")

    p = sub.add_parser("run", help="run a gameday: each scenario's drill on a fresh stack",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="exit codes: 0 every drill passed, 1 findings, 2 bad input (nothing started), "
                              "3 infrastructure\nexamples:\n  gameday run\n  gameday run -k db-down,secret")
    scenario_args(p)
    p.add_argument("--report", type=Path, default=DEFAULT_REPORTS, metavar="DIR",
                   help=f"where the gameday folder goes (default: {DEFAULT_REPORTS})")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                   help="run drills on N stacks at once, each drill still on a fresh stack (default: 1)")
    p.add_argument("--only", metavar="IDS", default="", help=argparse.SUPPRESS)  # exact ids, for lanes
    p.add_argument("--lane", type=int, default=0, help=argparse.SUPPRESS)  # a lane process of --jobs
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("list", help="list scenarios and the runbook sections they drill",
                       epilog="example: gameday list -k storm")
    scenario_args(p)
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("build", help="build the stacks' images (only those whose recipe changed)",
                       epilog="example: gameday build --stack stack/chatkit/compose.yaml")
    stack_arg(p, "every system's stack")
    p.set_defaults(func=cmd_build)
    p = sub.add_parser("check", help="bring the stack up, check every service is healthy, tear it down",
                       epilog="example: gameday check")
    stack_arg(p, "the stack of --system, or of the only system")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser(
        "lint", help="check a runbook without Docker: sections, steps, expectations, findings",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit codes: 0 clean, 1 findings (errors or warnings), 2 unreadable input\n"
               "examples:\n  gameday lint stack/chatkit/RUNBOOK.md\n"
               "  gameday lint --stack stack/chatkit/compose.yaml --format json RUNBOOK.md")
    p.add_argument("runbooks", nargs="+", type=Path, metavar="RUNBOOK", help="markdown runbook(s)")
    p.add_argument("--format", choices=["text", "json"], default="text", help="output format (default: text)")
    p.add_argument("--hosts", metavar="A,B", help="host names steps may use (besides front matter `hosts:`)")
    p.add_argument("--stack", type=Path, metavar="FILE", default=None,
                   help="take the host names from this stack definition")
    p.add_argument("--bound", metavar="X,Y", help="variable names a scenario binds (besides front matter)")
    p.set_defaults(func=cmd_lint)
    p = sub.add_parser(
        "grade", help="grade a runbook as written: drill every section its bindings map a scenario to; a scorecard",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit codes: 0 every drilled section held, 1 a drilled section failed, 2 bad input (nothing "
               "started), 3 a drill could not judge its section\n"
               "example: gameday grade ../shared/seeds/OPS_RUNBOOK.chatkit.md --bindings "
               "bindings/OPS_RUNBOOK.chatkit.toml")
    p.add_argument("runbook", type=Path, metavar="RUNBOOK", help="the markdown runbook, as the team wrote it")
    p.add_argument("--bindings", type=Path, default=None, metavar="FILE",
                   help="the bindings file (default: RUNBOOK's name with .bindings.toml, beside it)")
    p.add_argument("--report", type=Path, default=DEFAULT_REPORTS, metavar="DIR",
                   help=f"where the grade folder goes (default: {DEFAULT_REPORTS})")
    p.add_argument("--root", type=Path, metavar="DIR", default=None,
                   help=f"project folder whose scenarios/<system>/ packages hold the scenarios the bindings name "
                        f"(default: ${ROOT_ENV}, else the current folder)")
    p.add_argument("--scenarios", metavar="MODULES", default=DEFAULT_SCENARIOS,
                   help=f"modules that register scenarios, comma-separated (default: {DEFAULT_SCENARIOS})")
    p.set_defaults(func=cmd_grade)
    p = sub.add_parser("report", help="re-render a gameday's reports from its journal (no Docker needed)",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="exit codes: 0 every drill passed, 1 a drill did not pass (failed, harness error, "
                              "interrupted, a journal\nthat does not add up) or no drill at all, 2 unreadable input "
                              "or an output it must not write\n"
                              "the history index (../index.html) is refreshed only in a reports root the harness "
                              "made\n(it holds .gameday-reports)\n"
                              "example: gameday report reports/gameday-20261122-063713/journal.jsonl")
    p.add_argument("journals", nargs="+", type=Path, metavar="JOURNAL", help="journal file(s) or gameday folder")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="where to write (default: beside the first journal); created when missing")
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("shell", help="bring a fresh stack up and open a shell on one of its hosts (during an "
                       "onboarding exercise: a recorded shell on the exercise's host)",
                       epilog="example: gameday shell app")
    p.add_argument("host", help="a host (service) of the stack, e.g. app or db")
    stack_arg(p, "the stack of --system, or of the only system")
    p.add_argument("--report", type=Path, default=DEFAULT_REPORTS, metavar="DIR",
                   help=f"reports root where a running exercise is announced (default: {DEFAULT_REPORTS})")
    p.set_defaults(func=cmd_shell)
    train_cli.add_parsers(sub, reports=DEFAULT_REPORTS, scenarios=DEFAULT_SCENARIOS)
    p = sub.add_parser("clean", help="remove harness containers/networks/volumes left by dead runs",
                       epilog="example: gameday clean --all")
    p.add_argument("--all", action="store_true", help="remove every harness object, even of live runs")
    p.set_defaults(func=cmd_clean)
    return parser


def _check_input_files(args: argparse.Namespace) -> None:
    """A stack definition named on the command line must be a regular file: a FIFO would block its
    reader forever, a device never end. Told before anything is read or started."""
    from harness.inputfile import NotARegularFile, require_regular

    stack = getattr(args, "stack", None)
    if stack is None:
        return
    try:
        require_regular(stack)
    except NotARegularFile as exc:  # a folder, a missing file: the definition's reader says so itself
        raise BadInput(f"--stack {stack}: {exc.strerror}; give a stack definition (.toml)") from None
    except (IsADirectoryError, PermissionError):
        return


def _interrupted(command: object) -> str:
    """What an interrupt did: only commands that inject a fault can say it was rolled back, and only
    those that bring a stack up that it was removed."""
    name = getattr(command, "__name__", "")
    if name in FAULT_COMMANDS:
        rollback = "cut short by a second interrupt" if interrupts.received() > 1 else "rolled back"
        return f"interrupted; the active fault was {rollback} and the stack removed"
    if name in STACK_COMMANDS:
        return "interrupted; the stack was removed"
    return "interrupted"


FAULT_COMMANDS = frozenset({"cmd_run", "cmd_train", "cmd_grade"})  # may have a fault injected when interrupted
STACK_COMMANDS = frozenset({"cmd_check", "cmd_shell"})  # bring a stack up, inject nothing


def main(argv: Sequence[str] | None = None) -> int:
    import signal

    args = build_parser().parse_args(argv)
    # SIGTERM unwinds like Ctrl-C; a second one cuts a rollback short; neither stops removing the stack.
    signal.signal(signal.SIGINT, interrupts.on_signal)
    signal.signal(signal.SIGTERM, interrupts.on_signal)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        _check_input_files(args)
        code: int = args.func(args)
    except GamedayError as exc:
        print(f"gameday: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"gameday: {_interrupted(args.func)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader (`| head`, a pager) stopped reading: stop quietly, as shell tools do. What is
        # still buffered goes nowhere, so flushing at exit cannot raise the same error again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return code


if __name__ == "__main__":
    sys.exit(main())
