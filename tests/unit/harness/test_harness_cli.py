"""The `gameday` command line through its real entry points, as a user runs it (no Docker)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.cli import build_parser, main
from harness.errors import BadInput

REPO = Path(__file__).resolve().parents[3]
GAMEDAY_SCRIPT = Path(sys.executable).parent / "gameday"
MODULE = [sys.executable, "-m", "harness.cli"]

BAD_DEFINITION = """\
name = "tiny"

[services.app]
image = "gameday/tiny"
dockerfile = "Dockerfile"
helth = { http = "/" }
"""


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def bad_definition(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    (folder / "Dockerfile").write_text("FROM scratch\n")
    path = folder / "stack.toml"
    path.write_text(BAD_DEFINITION)
    return path.resolve()


@pytest.fixture(scope="module")
def runs(bad_definition: Path) -> dict[str, Run]:
    """The invocations that must go through a real process, started at once (each start costs
    about half a second of CPU; the rest is tested in-process below).

    DOCKER_HOST points nowhere: should any of these reach for Docker, it fails with exit 3
    instead of touching the engine on this machine.
    """
    commands = {
        "help": [str(GAMEDAY_SCRIPT), "--help"],
        "unknown_command": [*MODULE, "deploy"],
        "bad_option": [*MODULE, "build", "--frobnicate"],
        "build_missing": [str(GAMEDAY_SCRIPT), "build", "--stack", "/nonexistent.toml"],
        "check_bad": [*MODULE, "check", "--stack", str(bad_definition)],
    }
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/gameday-unit-tests.sock", "PYTHONWARNINGS": ""}
    started = {
        name: subprocess.Popen(argv, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        for name, argv in commands.items()
    }
    results = {}
    for name, process in started.items():
        stdout, stderr = process.communicate(timeout=60)
        results[name] = Run(process.returncode, stdout, stderr)
    return results


def error_lines(run: Run) -> list[str]:
    return [line for line in run.stderr.splitlines() if line.startswith("gameday: error:")]


def assert_usage_error(run: Run, *mentions: str) -> None:
    assert run.returncode == 2, run
    assert "Traceback" not in run.stderr
    assert run.stdout == ""
    (line,) = error_lines(run)
    for text in mentions:
        assert text in line


def test_help_exits_0_and_shows_examples(runs: dict[str, Run]) -> None:
    assert GAMEDAY_SCRIPT.exists(), "the virtualenv has no `gameday` script; reinstall with pip install -e ."
    run = runs["help"]
    assert run.returncode == 0, run
    assert "examples:" in run.stdout
    assert "gameday build" in run.stdout
    assert "gameday check --stack" in run.stdout
    for command in ("build", "check", "clean"):
        assert command in run.stdout


def test_an_unknown_command_exits_2_with_a_one_line_error(runs: dict[str, Run]) -> None:
    assert_usage_error(runs["unknown_command"], "'deploy'", "gameday --help")


def test_a_bad_option_exits_2_with_a_one_line_error(runs: dict[str, Run]) -> None:
    assert_usage_error(runs["bad_option"], "--frobnicate")


def test_building_from_a_missing_definition_exits_2_naming_the_file(runs: dict[str, Run]) -> None:
    run = runs["build_missing"]
    assert run.returncode == 2, run
    assert run.stdout == ""
    assert "Traceback" not in run.stderr
    (line,) = run.stderr.splitlines()
    assert line.startswith("gameday: /nonexistent.toml: cannot read the stack definition")


def test_checking_a_definition_with_an_unknown_key_exits_2_at_its_line_and_does_nothing_else(
    runs: dict[str, Run], bad_definition: Path
) -> None:
    run = runs["check_bad"]
    assert run.returncode == 2, run
    assert run.stdout == ""
    assert run.stderr.splitlines() == [
        f"gameday: {bad_definition}:6: unknown key 'helth' in services.app (known: aliases, build_args, command, "
        "context, depends_on, description, dockerfile, environment, files, health, image, inputs, logs, memory, "
        "ports, setup, tmpfs, volumes)"
    ]


# --- in-process: the same parser, without an interpreter start per case -------------------------


def test_help_in_process_lists_the_commands_and_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    assert "gameday clean" in out
    assert {"build", "check", "clean"} <= set(out.split())


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    assert_usage_error(Run(2, *capsys.readouterr()), "COMMAND")


def test_a_bad_option_before_the_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--frobnicate", "build"])
    assert info.value.code == 2
    assert_usage_error(Run(2, *capsys.readouterr()), "--frobnicate")


def test_clean_takes_no_stack_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["clean", "--stack", "x.toml"])
    assert info.value.code == 2
    assert_usage_error(Run(2, *capsys.readouterr()), "--stack")


@pytest.mark.parametrize(("command", "example"), [("build", "gameday build --stack"), ("check", "gameday check"),
                                                  ("clean", "gameday clean --all")])
def test_each_command_help_shows_its_example(capsys: pytest.CaptureFixture[str], command: str, example: str) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert f"example: {example}" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["build", "check"])
def test_the_stack_option_defaults_to_the_systems_stack(command: str) -> None:
    from harness.cli import _stack, _stacks

    args = build_parser().parse_args([command, "--root", str(REPO)])
    assert args.stack is None
    systems = ("chatkit", "php-chatbot", "redis-chat")
    assert _stacks(args) == [REPO / "stack" / name / "compose.yaml" for name in systems]
    one = build_parser().parse_args([command, "--root", str(REPO), "--system", "chatkit"])
    assert _stack(one) == REPO / "stack" / "chatkit" / "compose.yaml"
    assert _stack(build_parser().parse_args([command, "--stack", "x.toml"])) == Path("x.toml")


# --- systems: fake projects with two systems that both have a db-down ------------------------------

Project = Callable[..., Path]  # the `fake_project` fixture (conftest.py)


def gameday(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return Run(code, out, err)


@pytest.fixture
def two_systems(fake_project: Project) -> Path:
    return fake_project({"alpha": ["db-down", "storm"], "beta": ["db-down", "slow-db"]},
                        severity={"storm": "P0"})


@pytest.fixture
def listable(fake_project: Project) -> Path:
    """The same two systems with stack files and runbooks: `gameday list` checks every drill plan."""
    return fake_project({"alpha": ["db-down", "storm"], "beta": ["db-down", "slow-db"]},
                        severity={"storm": "P0"}, stacks=True)


def listed(run: Run) -> list[str]:
    return [line.split()[0] for line in run.stdout.splitlines() if line.startswith("  ") and line.split()
            and "/" in line.split()[0]]


def test_list_groups_scenarios_under_a_heading_per_system(capsys: pytest.CaptureFixture[str],
                                                         listable: Path) -> None:
    run = gameday(capsys, "list", "--root", str(listable))
    assert run.returncode == 0, run
    lines = run.stdout.splitlines()
    headings = [line for line in lines if line and not line.startswith(" ")]
    assert [h.split()[0] for h in headings] == ["alpha", "beta"]
    assert headings[0].startswith("alpha (2 scenario(s); stack ")
    assert lines.index(headings[1]) > max(lines.index(line) for line in lines if "alpha/" in line)
    assert listed(run) == ["alpha/db-down", "alpha/storm", "beta/db-down", "beta/slow-db"]
    (storm,) = [line for line in lines if line.startswith("  alpha/storm")]
    assert " P0 " in storm


@pytest.mark.parametrize(("words", "keys"), [
    ("db-down", ["alpha/db-down", "beta/db-down"]),
    ("beta/db", ["beta/db-down"]),
    ("alpha/db-down,", ["alpha/db-down"]),
    (",storm,", ["alpha/storm"]),
    ("beta/", ["beta/db-down", "beta/slow-db"]),
    ("slow,alpha/storm", ["alpha/storm", "beta/slow-db"]),
])
def test_k_matches_parts_of_the_full_key_and_ignores_blank_words(capsys: pytest.CaptureFixture[str], listable: Path,
                                                                words: str, keys: list[str]) -> None:
    run = gameday(capsys, "list", "--root", str(listable), "-k", words)
    assert run.returncode == 0, run
    assert listed(run) == keys


@pytest.mark.parametrize("words", [",", " , ,"])
def test_k_made_only_of_commas_selects_nothing_and_says_so(capsys: pytest.CaptureFixture[str], two_systems: Path,
                                                          words: str) -> None:
    run = gameday(capsys, "run", "--root", str(two_systems), "-k", words, "--report", str(two_systems / "r"))
    assert run.returncode == 2, run
    assert run.stderr.startswith(f"gameday: -k {words!r}: no word to match")
    assert not (two_systems / "r").exists()


def test_system_restricts_list_and_run_to_one_system(capsys: pytest.CaptureFixture[str], listable: Path) -> None:
    run = gameday(capsys, "list", "--root", str(listable), "--system", "beta")
    assert listed(run) == ["beta/db-down", "beta/slow-db"]
    run = gameday(capsys, "list", "--root", str(listable), "--system", "beta", "-k", "db-down")
    assert listed(run) == ["beta/db-down"]


def test_an_unknown_system_is_bad_input_naming_the_known_ones_and_nothing_starts(
        capsys: pytest.CaptureFixture[str], two_systems: Path) -> None:
    run = gameday(capsys, "run", "--root", str(two_systems), "--system", "gamma", "--report", str(two_systems / "r"))
    assert run.returncode == 2, run
    assert run.stderr.splitlines() == ["gameday: --system 'gamma': no such system (known: alpha, beta; "
                                       "`gameday list` shows them)"]
    assert not (two_systems / "r").exists()


def test_lanes_get_exact_keys_so_two_systems_same_name_stay_apart(capsys: pytest.CaptureFixture[str],
                                                                   two_systems: Path) -> None:
    from harness.cli import _selected

    args = build_parser().parse_args(["run", "--root", str(two_systems), "--only", "beta/db-down,alpha/storm"])
    assert [s.key for s in _selected(args)] == ["beta/db-down", "alpha/storm"]
    args = build_parser().parse_args(["run", "--root", str(two_systems), "--only", "db-down"])
    with pytest.raises(BadInput, match="--only: no scenario db-down"):
        _selected(args)


@pytest.mark.parametrize("command", ["check", "shell"])
def test_check_and_shell_ask_which_system_when_there_are_two(capsys: pytest.CaptureFixture[str], two_systems: Path,
                                                            command: str) -> None:
    argv = [command, *(["app"] if command == "shell" else []), "--root", str(two_systems)]
    if command == "shell":
        argv += ["--report", str(two_systems / "reports")]
    run = gameday(capsys, *argv)
    assert run.returncode == 2, run
    assert run.stderr.splitlines() == ["gameday: which system? 2 found (alpha, beta): give --system NAME or "
                                       "--stack FILE"]


def test_build_without_a_stack_takes_every_systems_stack_and_reads_them_all_first(
        capsys: pytest.CaptureFixture[str], two_systems: Path) -> None:
    run = gameday(capsys, "build", "--root", str(two_systems))
    assert run.returncode == 2, run  # the fake systems' stack files do not exist: refused before any build
    assert run.stderr.startswith(f"gameday: {two_systems / 'stack' / 'alpha' / 'stack.toml'}: cannot read")
    run = gameday(capsys, "check", "--root", str(two_systems), "--system", "beta")
    assert run.returncode == 2, run
    assert run.stderr.startswith(f"gameday: {two_systems / 'stack' / 'beta' / 'stack.toml'}: cannot read")


def test_train_refuses_an_exercise_naming_a_bare_name_two_systems_share(capsys: pytest.CaptureFixture[str],
                                                                        two_systems: Path) -> None:
    exercises = two_systems / "drills" / "onboarding"
    exercises.mkdir(parents=True)
    (exercises / "outage.toml").write_text('# which db-down?\nscenario = "db-down"\n')
    run = gameday(capsys, "train", "--random", "--root", str(two_systems), "--report", str(two_systems / "r"))
    assert run.returncode == 2, run
    assert run.stderr.splitlines() == [f"gameday: {exercises / 'outage.toml'}:2: scenario 'db-down' is ambiguous: "
                                       "alpha/db-down, beta/db-down; give the whole key"]
    assert not (two_systems / "r").exists()


def test_train_picks_a_scenario_by_key_when_two_systems_share_its_name(capsys: pytest.CaptureFixture[str],
                                                                       two_systems: Path) -> None:
    run = gameday(capsys, "train", "db-down", "--root", str(two_systems), "--report", str(two_systems / "r"))
    assert run.returncode == 2, run
    assert "scenario 'db-down' is ambiguous: alpha/db-down, beta/db-down" in run.stderr
    run = gameday(capsys, "train", "beta/db-down", "--root", str(two_systems), "--report", str(two_systems / "r"))
    assert run.returncode == 2, run  # found; then refused because the fake system's stack does not exist
    assert run.stderr.startswith(f"gameday: {two_systems / 'stack' / 'beta' / 'stack.toml'}: cannot read"), run
