"""Onboarding exercise files: the shipped ones load, bad ones are refused at their line (no Docker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import BadInput
from harness.runbook.commands import PlanStep
from harness.runbook.model import Phase
from harness.scenario import load_scenarios
from harness.train.exercise import DEFAULT_TIME_LIMIT, Exercise, check_scenarios, load_exercise, load_exercises, pick
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


def test_the_shipped_exercises_load_and_name_registered_scenarios() -> None:
    exercises = load_exercises(ONBOARDING)
    known = [s.id for s in load_scenarios(["scenarios"])]
    check_scenarios(exercises, known)
    assert {"secret-missing", "db-down"} <= {e.scenario for e in exercises}
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
        check_scenarios([load_exercise(path)], ["db-down"])


def test_two_exercises_for_one_scenario_are_refused(tmp_path: Path) -> None:
    write(tmp_path, 'scenario = "db-down"\n', "a.toml")
    write(tmp_path, 'scenario = "db-down"\n', "b.toml")
    with pytest.raises(BadInput, match="already has an exercise"):
        load_exercises(tmp_path)


def test_a_scenario_is_picked_by_id_or_exercise_name_and_one_without_a_file_gets_defaults(tmp_path: Path) -> None:
    exercises = [load_exercise(write(tmp_path, 'scenario = "db-down"\ntime_limit = "2m"\n', "database.toml"))]
    assert pick(exercises, "db-down", ["db-down", "x-y"]).time_limit == 120
    assert pick(exercises, "database", ["db-down"]).scenario == "db-down"
    assert pick(exercises, "x-y", ["db-down", "x-y"]) == Exercise("x-y", "x-y")
    with pytest.raises(BadInput, match="unknown exercise or scenario 'nope'"):
        pick(exercises, "nope", ["db-down"])


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
