"""Systems are found by looking (scenarios/<system>/ packages), and scenario keys are namespaced by
system: fake projects in tmp_path, no Docker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.errors import BadInput
from harness.scenarios import find_key, get_scenario, system_of
from harness.systems import discover, load, only_system, stack_of, system_packages, systems_of

Project = Callable[..., Path]  # the `fake_project` fixture (conftest.py)
REPO = Path(__file__).resolve().parents[3]


def test_two_systems_may_both_have_a_db_down_and_each_is_known_by_its_key(fake_project: Project) -> None:
    root = fake_project({"alpha": ["db-down", "storm"], "beta": ["db-down"]})
    found = discover(root)
    assert [s.key for s in found] == ["alpha/db-down", "alpha/storm", "beta/db-down"]
    assert [(s.system, s.name) for s in found][2] == ("beta", "db-down")
    assert found[0].stack == root / "stack" / "alpha" / "stack.toml"
    assert [(s.name, [x.key for x in s.scenarios]) for s in systems_of(found)] == [
        ("alpha", ["alpha/db-down", "alpha/storm"]), ("beta", ["beta/db-down"])]


def test_a_scenario_module_is_found_by_being_in_its_system_package_not_by_being_imported(
        fake_project: Project) -> None:
    root = fake_project({"alpha": ["db-down"]})
    (root / "scenarios" / "alpha" / "late_addition.py").write_text(
        (root / "scenarios" / "alpha" / "db_down.py").read_text().replace('"db-down"', '"late-addition"')
        .replace("def db_down", "def late_addition"))
    (root / "scenarios" / "alpha" / "_helpers.py").write_text("raise RuntimeError('private: not imported')\n")
    assert [s.key for s in discover(root)] == ["alpha/db-down", "alpha/late-addition"]


def test_a_package_name_with_an_underscore_is_a_system_with_a_dash(fake_project: Project) -> None:
    root = fake_project({"redis_chat": ["db-down"]})
    assert [s.key for s in discover(root)] == ["redis-chat/db-down"]
    assert system_of("scenarios.redis_chat.db_down", "scenarios.redis_chat") == "redis-chat"
    assert system_of("loose_module", "") == "loose-module"


def test_a_declared_system_wins_over_the_package_name(fake_project: Project) -> None:
    root = fake_project({"alpha": ["db-down"]})
    module = root / "scenarios" / "alpha" / "db_down.py"
    module.write_text(module.read_text().replace('severity="P1"', 'severity="P1", system="shop"'))
    assert [s.key for s in discover(root)] == ["shop/db-down"]


def test_one_system_defining_the_same_name_twice_is_bad_input_naming_both_modules(fake_project: Project) -> None:
    root = fake_project({"alpha": ["db-down"]})
    twin = root / "scenarios" / "alpha" / "db_down_again.py"
    twin.write_text((root / "scenarios" / "alpha" / "db_down.py").read_text().replace("def db_down", "def again"))
    with pytest.raises(BadInput, match=r"scenario 'alpha/db-down' is defined twice \(scenarios\.alpha\.db_down\.db_down"
                                       r" and scenarios\.alpha\.db_down_again\.again\)"):
        discover(root)


def test_a_system_package_with_no_scenario_is_bad_input_naming_its_folder(fake_project: Project) -> None:
    root = fake_project({"alpha": ["db-down"], "empty": []})
    with pytest.raises(BadInput) as caught:
        discover(root)
    assert str(caught.value).startswith(f"{root.resolve() / 'scenarios' / 'empty'}: the package registers no scenario")


def test_a_folder_of_modules_without_an_init_is_bad_input(fake_project: Project) -> None:
    root = fake_project({"alpha": ["db-down"]})
    (root / "scenarios" / "loose").mkdir()
    (root / "scenarios" / "loose" / "db_down.py").write_text("")
    (root / "scenarios" / "__pycache__").mkdir()
    with pytest.raises(BadInput, match=r"loose: holds Python modules but no __init__\.py"):
        system_packages(root)


def test_a_scenario_module_left_directly_in_scenarios_is_bad_input_not_a_silently_missing_drill(
        fake_project: Project) -> None:
    root = fake_project({"alpha": ["db-down"]})
    (root / "scenarios" / "db_down.py").write_text("")
    with pytest.raises(BadInput, match=r"scenarios/db_down\.py: a scenario module belongs in its system's package"):
        discover(root)


def test_a_project_without_systems_says_where_it_looked(tmp_path: Path, isolated_scenarios: None) -> None:
    with pytest.raises(BadInput, match=r"no system found: looked for scenarios/<system>/__init__.py"):
        discover(tmp_path)


def test_named_modules_replace_discovery_and_discover_can_be_named_beside_them(fake_project: Project,
                                                                              tmp_path: Path) -> None:
    root = fake_project({"alpha": ["db-down"], "beta": ["storm"]})
    assert [s.key for s in load(["scenarios.beta"], root)] == ["beta/storm"]
    assert [s.key for s in load(["discover"], root)] == ["alpha/db-down", "beta/storm"]
    with pytest.raises(BadInput, match="scenario module '' is not a module name"):
        load([""], root)


def test_a_bare_name_is_accepted_only_where_it_is_unique() -> None:
    keys = ["alpha/db-down", "alpha/storm", "beta/db-down"]
    assert find_key("beta/db-down", keys) == "beta/db-down"
    assert find_key("storm", keys) == "alpha/storm"
    assert find_key("db-down", keys, system="beta") == "beta/db-down"
    with pytest.raises(BadInput, match=r"scenario 'db-down' is ambiguous: alpha/db-down, beta/db-down; give the "
                                       r"whole key"):
        find_key("db-down", keys)
    with pytest.raises(BadInput, match=r"unknown scenario 'gamma/db-down' \(known: alpha/db-down, alpha/storm"):
        find_key("gamma/db-down", keys)


def test_get_scenario_takes_a_key_or_a_unique_bare_name(fake_project: Project) -> None:
    discover(fake_project({"alpha": ["db-down", "storm"], "beta": ["db-down"]}))
    assert get_scenario("storm").key == "alpha/storm"
    assert get_scenario("beta/db-down").system == "beta"
    with pytest.raises(BadInput, match="ambiguous"):
        get_scenario("db-down")


def test_only_system_and_the_stack_of_a_system(fake_project: Project) -> None:
    root = fake_project({"alpha": ["db-down"], "beta": ["storm"]})
    found = discover(root)
    assert [s.key for s in only_system(found, "beta")] == ["beta/storm"]
    with pytest.raises(BadInput, match=r"--system 'gamma': no such system \(known: alpha, beta;"):
        only_system(found, "gamma")
    assert stack_of(found, "beta") == root / "stack" / "beta" / "stack.toml"
    with pytest.raises(BadInput, match=r"which system\? 2 found \(alpha, beta\): give --system NAME or --stack FILE"):
        stack_of(found, None)
    assert stack_of(only_system(found, "alpha"), None) == root / "stack" / "alpha" / "stack.toml"


def test_another_projects_scenarios_package_in_the_same_process_is_refused(fake_project: Project,
                                                                          tmp_path: Path) -> None:
    first = fake_project({"alpha": ["db-down"]}, root=tmp_path / "one")
    second = fake_project({"beta": ["db-down"]}, root=tmp_path / "two")
    discover(first)
    with pytest.raises(BadInput, match="another `scenarios` package"):
        discover(second)


def test_the_repository_s_systems_are_found_by_discovery(isolated_scenarios: None) -> None:
    found = discover(REPO)
    assert {s.system for s in found} >= {"chatkit", "php-chatbot"}
    assert {"chatkit/db-down", "chatkit/secret-missing", "php-chatbot/site-down"} <= {s.key for s in found}
    stacks = {system.name: system.stacks for system in systems_of(found)}
    assert stacks["chatkit"] == (REPO / "stack" / "chatkit" / "compose.yaml",)
    assert stacks["php-chatbot"] == (REPO / "stack" / "php-chatbot" / "compose.yaml",)
