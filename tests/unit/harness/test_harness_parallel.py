"""Sharing a gameday between lanes (no Docker): exclusive claims, longest drills first."""

from __future__ import annotations

from pathlib import Path

from harness.gameday import Claims
from harness.journal import DrillFinished, Journal
from harness.parallel import lane_command, longest_first
from harness.scenarios import Observation, Scenario


def scenario(name: str, system: str = "sys") -> Scenario:
    return Scenario(system=system, name=name, title="t", stack=Path("s.toml"), runbook=Path("R.md"), section="s",
                    severity="P1", detect_within=10.0, recover_within=60.0, fixture=lambda _ctx: iter(()),
                    observation=Observation(health=lambda _stack: lambda: (True, 200, "")))


def ids(scenarios: list[Scenario]) -> list[str]:
    return [s.name for s in scenarios]


def test_two_lanes_never_claim_the_same_drill_and_together_claim_all(tmp_path: Path) -> None:
    drills = [scenario(f"d{n}") for n in range(7)]
    first, second = Claims(drills, tmp_path / "claims"), Claims(drills, tmp_path / "claims")
    taken: list[list[str]] = [[], []]
    for turn in range(20):  # alternate, as two processes would, until both run dry
        lane = (first, second)[turn % 2]
        claimed = lane.next()
        if claimed is not None:
            taken[turn % 2].append(claimed.name)
    assert sorted(taken[0] + taken[1]) == sorted(ids(drills))
    assert not set(taken[0]) & set(taken[1])
    assert taken[0] == ["d0", "d2", "d4", "d6"]  # each lane keeps the gameday's order
    assert first.next() is None
    assert second.next() is None


def test_without_a_folder_one_taker_gets_every_drill_in_order() -> None:
    drills = [scenario("a"), scenario("b")]
    claims = Claims(drills)
    assert [claims.next(), claims.next(), claims.next()] == [drills[0], drills[1], None]


def finished(journal: Journal, scenario_key: str, seconds: float, verdict: str = "passed") -> None:
    journal.write(DrillFinished(scenario_key, scenario_key, verdict, (), None, seconds))


def test_lanes_take_the_longest_drills_first_by_the_newest_gameday(tmp_path: Path) -> None:
    old = Journal(tmp_path / "gameday-20261101-090000" / "journal.jsonl")
    finished(old, "sys/short", 99.0)  # an old figure: the newer gameday's wins
    new = Journal(tmp_path / "gameday-20261122-090000" / "journal-lane-1.jsonl")
    finished(new, "sys/short", 2.0)
    finished(new, "sys/long", 15.0)
    finished(new, "sys/middle", 8.0)
    finished(new, "sys/broken", 50.0, verdict="failed")  # a failed drill's time says nothing
    order = longest_first([scenario(s) for s in ("short", "middle", "new", "long", "broken")], tmp_path)
    assert ids(order) == ["new", "broken", "long", "middle", "short"]  # no record first, in given order


def test_lanes_order_by_key_so_two_systems_drills_of_one_name_keep_their_own_times(tmp_path: Path) -> None:
    new = Journal(tmp_path / "gameday-20261122-090000" / "journal.jsonl")
    finished(new, "alpha/db-down", 3.0)
    finished(new, "beta/db-down", 30.0)
    finished(new, "alpha/other", 10.0)
    order = longest_first([scenario("db-down", "alpha"), scenario("other", "alpha"), scenario("db-down", "beta")],
                          tmp_path)
    assert [s.key for s in order] == ["beta/db-down", "alpha/other", "alpha/db-down"]


def test_a_journal_from_before_systems_still_orders_by_the_bare_name(tmp_path: Path) -> None:
    old = Journal(tmp_path / "gameday-20261101-090000" / "journal.jsonl")
    finished(old, "db-down", 30.0)  # bare names: journals written before scenario keys
    finished(old, "storm", 5.0)
    order = longest_first([scenario("storm", "chatkit"), scenario("db-down", "chatkit")], tmp_path)
    assert [s.key for s in order] == ["chatkit/db-down", "chatkit/storm"]


def test_a_corrupt_old_journal_only_costs_the_ordering(tmp_path: Path) -> None:
    folder = tmp_path / "gameday-20261122-090000"
    folder.mkdir()
    (folder / "journal.jsonl").write_text("{not json\n")
    assert ids(longest_first([scenario("a"), scenario("b")], tmp_path)) == ["a", "b"]


def test_a_lane_is_the_same_command_with_exact_keys_and_its_number(tmp_path: Path) -> None:
    command = lane_command(2, [scenario("db-down", "alpha"), scenario("db-down", "beta")], "discover", tmp_path)
    assert command[1:] == ["-m", "harness.cli", "run", "--scenarios", "discover",
                           "--only", "alpha/db-down,beta/db-down",
                           "--lane", "2", "--report", str(tmp_path)]
