"""The `gameday` command line through its real entry points, as a user runs it (no Docker)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.cli import build_parser, main

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
        f"gameday: {bad_definition}:6: unknown key 'helth' in services.app (known: aliases, build_args, context, "
        "depends_on, description, dockerfile, environment, files, health, image, inputs, logs, ports, setup)"
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
def test_the_stack_option_defaults_to_the_reference_stack(command: str) -> None:
    args = build_parser().parse_args([command])
    assert args.stack == Path("stack/chatkit/stack.toml")
    assert (REPO / args.stack).is_file()
