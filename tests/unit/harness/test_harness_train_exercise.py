"""Onboarding exercise files: the shipped ones load, bad ones are refused at their line (no Docker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import BadInput
from harness.runbook.commands import PlanStep
from harness.runbook.model import Phase
from harness.scenarios import load_scenarios
from harness.train.exercise import (
    DEFAULT_TIME_LIMIT,
    Exercise,
    load_exercise,
    load_exercises,
    pick,
    resolve_scenarios,
)
from harness.train.hints import build_hints, format_hint

REPO = Path(__file__).resolve().parents[3]
ONBOARDING = REPO / "drills" / "onboarding"


def write(tmp_path: Path, text: str, name: str = "ex.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def refused(path: Path) -> str:
    with pytest.raises(BadInput) as caught:
        load_exercise(path)
    return str(caught.value)


def test_the_shipped_exercises_load_and_name_registered_scenarios_by_key() -> None:
    exercises = load_exercises(ONBOARDING)
    known = [s.key for s in load_scenarios(["scenarios"])]
    assert {"chatkit/secret-missing", "chatkit/db-down"} <= {e.scenario for e in exercises}  # as written: keys
    assert resolve_scenarios(exercises, known) == exercises
    assert {e.name for e in exercises} >= {"chatkit/secret-missing", "chatkit/db-down"}
    assert {e.system for e in exercises} >= {"chatkit", "php-chatbot"}
    for exercise in exercises:
        assert exercise.page, f"{exercise.path}: give the trainee a reporter's words"
        assert 60 <= exercise.time_limit <= 1800


def test_a_minimal_exercise_takes_the_defaults(tmp_path: Path) -> None:
    exercise = load_exercise(write(tmp_path, 'scenario = "db-down"\n'))
    assert exercise == Exercise("ex", "db-down", DEFAULT_TIME_LIMIT, path=str(tmp_path / "ex.toml"), line=1)


def test_an_unknown_key_is_refused_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'scenario = "db-down"\n\nhint = ["x"]\n')
    assert refused(path) == (f"{path}:3: unknown key 'hint' "
                             "(an exercise has: scenario, time_limit, page, hints, fix_hints)")


def test_a_bad_time_limit_is_refused_at_its_line(tmp_path: Path) -> None:
    assert refused(write(tmp_path, 'scenario = "db-down"\ntime_limit = "soon"\n')).startswith(
        f"{tmp_path / 'ex.toml'}:2: time_limit: not a duration")
    assert ":2: the time limit must be between" in refused(write(tmp_path, 'scenario = "x"\ntime_limit = "3h"\n'))


def test_text_that_is_not_toml_is_refused_with_the_parsers_line(tmp_path: Path) -> None:
    message = refused(write(tmp_path, 'scenario = "db-down"\npage = \n'))
    assert message.startswith(f"{tmp_path / 'ex.toml'}:2: not valid TOML")


def test_an_exercise_without_a_scenario_says_how_to_write_one(tmp_path: Path) -> None:
    assert "an exercise needs `scenario = \"SCENARIO-ID\"`" in refused(write(tmp_path, 'page = "x"\n'))


def test_hints_must_be_a_list_of_texts(tmp_path: Path) -> None:
    path = write(tmp_path, 'scenario = "db-down"\nfix_hints = "restart it"\n')
    assert refused(path).startswith(f"{path}:2: fix_hints must be a list of texts")


def test_an_exercise_for_an_unknown_scenario_is_refused_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, '# about\nscenario = "no-such"\n')
    with pytest.raises(BadInput, match=rf"^{path}:2: unknown scenario 'no-such'"):
        resolve_scenarios([load_exercise(path)], ["chatkit/db-down"])


def test_two_exercises_for_one_scenario_are_refused(tmp_path: Path) -> None:
    write(tmp_path, 'scenario = "chatkit/db-down"\n', "a.toml")
    write(tmp_path, 'scenario = "db-down"\n', "b.toml")
    with pytest.raises(BadInput, match=r"b.toml:1: scenario 'chatkit/db-down' already has an exercise"):
        resolve_scenarios(load_exercises(tmp_path), ["chatkit/db-down"])


KEYS = ["alpha/db-down", "alpha/storm", "beta/db-down"]


def system_folder(tmp_path: Path, system: str, name: str, text: str) -> Path:
    (tmp_path / system).mkdir(exist_ok=True)
    return write(tmp_path / system, text, name)


def test_exercises_are_found_in_system_folders_and_named_by_system(tmp_path: Path) -> None:
    system_folder(tmp_path, "alpha", "db-down.toml", 'scenario = "alpha/db-down"\n')
    system_folder(tmp_path, "beta", "db-down.toml", 'scenario = "beta/db-down"\n')
    write(tmp_path, 'scenario = "storm"\n', "storm.toml")
    (tmp_path / ".hidden").mkdir()
    write(tmp_path / ".hidden", 'scenario = "x"\n', "x.toml")
    exercises = resolve_scenarios(load_exercises(tmp_path), KEYS)
    assert [(e.name, e.system, e.scenario) for e in exercises] == [
        ("storm", "", "alpha/storm"), ("alpha/db-down", "alpha", "alpha/db-down"),
        ("beta/db-down", "beta", "beta/db-down")]


def test_a_bare_name_in_a_system_folder_is_that_systems_scenario(tmp_path: Path) -> None:
    system_folder(tmp_path, "beta", "outage.toml", 'scenario = "db-down"\n')
    (exercise,) = resolve_scenarios(load_exercises(tmp_path), KEYS)
    assert exercise.scenario == "beta/db-down"


def test_an_exercise_naming_an_ambiguous_bare_name_is_refused_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, '# which one?\nscenario = "db-down"\n', "outage.toml")
    with pytest.raises(BadInput) as caught:
        resolve_scenarios(load_exercises(tmp_path), KEYS)
    assert str(caught.value) == (f"{path}:2: scenario 'db-down' is ambiguous: alpha/db-down, beta/db-down; "
                                 "give the whole key")
    system_folder(tmp_path, "gamma", "outage.toml", 'scenario = "db-down"\n')  # gamma has no db-down of its own
    path.unlink()
    with pytest.raises(BadInput, match=r"gamma/outage\.toml:1: scenario 'db-down' is ambiguous"):
        resolve_scenarios(load_exercises(tmp_path), KEYS)


def test_a_scenario_is_picked_by_key_name_or_exercise_name_and_one_without_a_file_gets_defaults(
        tmp_path: Path) -> None:
    system_folder(tmp_path, "alpha", "database.toml", 'scenario = "db-down"\ntime_limit = "2m"\n')
    exercises = resolve_scenarios(load_exercises(tmp_path), KEYS)
    assert pick(exercises, "alpha/db-down", KEYS).time_limit == 120
    assert pick(exercises, "alpha/database", KEYS).scenario == "alpha/db-down"
    assert pick(exercises, "database", KEYS).scenario == "alpha/db-down"
    assert pick(exercises, "storm", KEYS) == Exercise("alpha/storm", "alpha/storm", system="alpha")
    assert pick(exercises, "beta/db-down", KEYS) == Exercise("beta/db-down", "beta/db-down", system="beta")
    with pytest.raises(BadInput, match="scenario 'db-down' is ambiguous"):
        pick(exercises, "db-down", KEYS)
    with pytest.raises(BadInput, match="unknown exercise or scenario 'nope'"):
        pick(exercises, "nope", KEYS)


def test_hints_come_in_order_exercise_then_diagnosis_then_fix_then_verification() -> None:
    plan = [PlanStep(Phase.DIAGNOSE, "d1", "app", "s", "R.md:1", "systemctl is-active x\n"),
            PlanStep(Phase.FIX, "f1", "db", "s", "R.md:9", "systemctl start x\n"),
            PlanStep(Phase.VERIFY, "v1", "app", "s", "R.md:20", "curl -s localhost\n")]
    exercise = Exercise("e", "s", hints=("look first",), fix_hints=("files, not exports",))
    hints = build_hints(exercise, plan)
    assert [(h.phase, h.step or h.text) for h in hints] == [
        ("diagnose", "look first"), ("diagnose", "d1"), ("fix", "files, not exports"), ("fix", "f1"), ("verify", "v1")]
    text = format_hint(hints[3], 4, 5, " --report /tmp/r")
    assert text.startswith("Hint 4 of 5 (fix):")
    assert "runs this on host db" in text
    assert "    systemctl start x" in text
    assert "`gameday hint --report /tmp/r` for the next one" in text
