"""The pytest plugin finds every system's scenarios under the rootdir and ids its drills by key:
a fake project with two systems that both have a db-down, collected by a real pytest (no Docker)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

Project = Callable[..., Path]  # the `fake_project` fixture (conftest.py)

DRILLS = '''\
def test_drill(gameday_drill):
    gameday_drill.assert_passed()
'''


@pytest.fixture
def project(pytester: pytest.Pytester, fake_project: Project) -> pytest.Pytester:
    fake_project({"alpha": ["db-down", "storm"], "beta": ["db-down"]}, severity={"storm": "P0"}, root=pytester.path)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    (pytester.path / "drills").mkdir()
    (pytester.path / "drills" / "test_drills.py").write_text(DRILLS)
    return pytester


def collected(pytester: pytest.Pytester, *args: str) -> list[str]:
    result = pytester.runpytest_subprocess("--collect-only", "-q", "drills", *args)
    return [line for line in result.outlines if "::" in line]


def test_every_systems_scenario_is_a_drill_with_its_key_as_id(project: pytest.Pytester) -> None:
    assert collected(project) == ["drills/test_drills.py::test_drill[alpha/db-down]",
                                  "drills/test_drills.py::test_drill[alpha/storm]",
                                  "drills/test_drills.py::test_drill[beta/db-down]"]


@pytest.mark.parametrize(("args", "keys"), [
    (("-k", "alpha/db-down"), ["alpha/db-down"]),
    (("-k", "db-down"), ["alpha/db-down", "beta/db-down"]),
    (("-m", "p0"), ["alpha/storm"]),
])
def test_k_and_markers_select_by_key_and_severity(project: pytest.Pytester, args: tuple[str, ...],
                                                   keys: list[str]) -> None:
    assert collected(project, *args) == [f"drills/test_drills.py::test_drill[{key}]" for key in keys]


def test_the_ini_option_may_still_name_modules(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\naddopts = -p no:cacheprovider\ngameday_scenarios = scenarios.beta\n")
    assert collected(project) == ["drills/test_drills.py::test_drill[beta/db-down]"]


def test_a_system_package_with_no_scenario_fails_collection_naming_it(project: pytest.Pytester) -> None:
    (project.path / "scenarios" / "empty").mkdir()
    (project.path / "scenarios" / "empty" / "__init__.py").write_text("")
    result = project.runpytest_subprocess("--collect-only", "-q", "drills")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*scenarios/empty: the package registers no scenario*"])
