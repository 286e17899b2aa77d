"""How the exercise's terminals find it and talk to its controller, and when it counts as recovered."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import BadInput
from harness.observe.samples import ProbeSample, RequestSample
from harness.runbook.model import Phase
from harness.testing import FakeClock, scripted_observers
from harness.train import state
from harness.train.hints import Hint

USERS = ["synthetic-1", "synthetic-2"]


def session(tmp_path: Path) -> Path:
    folder = state.new_session(tmp_path)
    state.save_hints(folder, [Hint(Phase.DIAGNOSE, "look"), Hint(Phase.FIX, "restart", "s[2]")])
    return folder


def test_hints_are_revealed_one_at_a_time_and_counted(tmp_path: Path) -> None:
    folder = session(tmp_path)
    assert state.take_hint(folder) == (1, 2, Hint(Phase.DIAGNOSE, "look"))
    assert state.take_hint(folder)[:2] == (2, 2)
    assert state.take_hint(folder) == (2, 2, None)
    assert [t["number"] for t in state.taken(folder)] == [1, 2]


def test_a_session_folder_never_names_the_scenario(tmp_path: Path) -> None:
    assert state.new_session(tmp_path).parent == tmp_path / "train"
    assert "secret" not in state.new_session(tmp_path).name


def test_an_announced_exercise_is_found_while_its_controller_lives_and_withdrawn_after(tmp_path: Path) -> None:
    folder = session(tmp_path)
    state.announce(tmp_path, folder, "gameday-chatkit-1", {"app": "c0ffee"}, 600)
    active = state.require_running(tmp_path, "hint")
    assert (active.folder, active.hosts, active.pid) == (folder.resolve(), {"app": "c0ffee"}, os.getpid())
    state.withdraw(tmp_path, folder)
    assert state.read_active(tmp_path) is None


def test_an_exercise_whose_controller_died_is_reported_as_over(tmp_path: Path) -> None:
    folder = session(tmp_path)
    state.announce(tmp_path, folder, "s", {}, 600)
    path = state.train_root(tmp_path) / state.ACTIVE_NAME
    path.write_text(path.read_text().replace(f'"pid": {os.getpid()}', '"pid": 999999999'))
    assert state.running(tmp_path) is None
    with pytest.raises(BadInput, match=r"is over: its controller \(pid 999999999\) is gone"):
        state.require_running(tmp_path, "giveup")


@pytest.mark.parametrize("command", ["hint", "giveup"])
def test_hint_and_giveup_without_an_exercise_exit_2_with_what_to_do(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"`gameday {command}`: no onboarding exercise is running under {tmp_path}" in err
    assert "gameday train SCENARIO" in err


@pytest.mark.parametrize("argv", [["train"], ["train", "db-down", "--random"]])
def test_train_needs_a_scenario_or_random_but_not_both(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "give a SCENARIO or --random" in capsys.readouterr().err


def test_train_with_an_unknown_scenario_exits_2_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "no-such-thing", "--report", str(tmp_path / "r")]) == 2
    assert "unknown exercise or scenario 'no-such-thing'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_train_with_a_bad_exercise_file_exits_2_at_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.toml").write_text('scenario = "db-down"\ntime_limit = "fortnight"\n')
    assert main(["train", "--random", "--exercises", str(tmp_path), "--report", str(tmp_path / "r")]) == 2
    assert f"{tmp_path / 'x.toml'}:2: time_limit: not a duration" in capsys.readouterr().err


def test_train_refuses_a_page_that_gives_the_fix_away(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.toml").write_text('scenario = "db-down"\n\npage = "Please run systemctl start postgresql"\n')
    assert main(["train", "db-down", "--exercises", str(tmp_path), "--report", str(tmp_path / "r")]) == 2
    assert f"{tmp_path / 'x.toml'}:3: the page must give symptoms only" in capsys.readouterr().err


def test_train_refuses_a_time_limit_it_cannot_keep(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "db-down", "--time-limit", "5h"]) == 2
    assert "--time-limit: the time limit must be between" in capsys.readouterr().err


# -- steady state -------------------------------------------------------------------------------


def probe(t: float, ok: bool) -> ProbeSample:
    return ProbeSample(t, ok, 200 if ok else None, 0.01, "")


def request(t: float, user: str, ok: bool) -> RequestSample:
    return RequestSample(t, user, "chat", ok, 200 if ok else 503, 0.01)


def seen(probes: list[ProbeSample], requests: list[RequestSample], users: list[str], at: float = 100.0):  # type: ignore[no-untyped-def]
    """Observers that have seen every sample up to `at`."""
    clock = FakeClock(at)
    return scripted_observers(clock, probes, requests, users)


def test_the_symptom_is_the_first_failure_after_the_inject() -> None:
    observers = seen([probe(9, False), probe(11, True), probe(12, False)], [request(11.5, "u", False)], ["u"])
    assert observers.symptom_since(10) == 11.5
    assert seen([probe(11, True)], [], []).symptom_since(10) is None


def test_steady_state_needs_consecutive_healthy_probes_after_the_last_failure_and_every_user_back() -> None:
    probes = [probe(10 + 0.2 * i, i >= 10) for i in range(20)]  # failing until 12.0, then ok
    requests = [request(11, "synthetic-1", False), request(12.5, "synthetic-1", True),
                request(12.6, "synthetic-2", True), request(13.0, "synthetic-1", True)]
    steady = seen(probes, requests, USERS).steady(10, 5)
    assert (steady.since, steady.why) == (12.5, "")
    assert seen(probes[:13], requests, USERS).steady(10, 5).since is None


def test_traffic_is_not_steady_while_a_user_has_not_succeeded_since_the_last_failure() -> None:
    requests = [request(11, "synthetic-2", False), request(12, "synthetic-1", True), request(13, "synthetic-1", True),
                request(14, "synthetic-1", True)]
    steady = seen([probe(10 + i, True) for i in range(6)], requests, USERS).traffic_steady(10)
    assert steady.since is None
    assert "waiting for synthetic-2" in steady.why
