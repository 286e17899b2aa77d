"""The gameday pytest plugin (entry point `pytest11`): scenarios become drill tests.

- Scenarios: every `scenarios/<system>/` package under pytest's rootdir (harness.systems), or
  the modules the ini option `gameday_scenarios` names (`discover` is the default; the words may
  mix both).
- A test that asks for the `gameday_drill` fixture is run once per scenario, every system's (ids
  are scenario keys, `test_drill[chatkit/db-down]`, so `-k db-down` or `-k chatkit` select by
  part of the key; markers `drill` and the severity `p0`..`p4` select by kind).
  The fixture takes a fresh stack, runs the drill and tears the stack down: faults never
  bleed between drills, and pytest-xdist workers each get their own stacks. When the next test
  of the process is a drill too, its stack starts in the background while this one runs.
- `gameday_run(scenario_or_key, runbook=..., section=...)` runs a drill on demand (for tests of
  deliberately broken runbooks); a bare name unique across systems is accepted for the key.
- `--gameday-report DIR`: where the journal and reports go (default `reports/pytest-<time>`); one
  journal file per xdist worker (then `gameday report DIR` renders the merged reports).
- `gameday_stacks` (session fixture): where drills take their fresh stacks from, by default a
  `harness.gameday.StackPool` (real Docker). A conftest may override it to run the drills on
  fakes, e.g. `harness.testing.FakeStackPool` (see README, "Testing your scenarios without Docker").
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

SEVERITY_MARKERS = ("p0", "p1", "p2", "p3", "p4")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gameday", "gameday drills")
    group.addoption("--gameday-report", metavar="DIR", default=None,
                    help="folder for the drills' journal (default: reports/pytest-<time>)")
    parser.addini("gameday_scenarios", type="args", default=["discover"],
                  help="modules that register gameday scenarios, imported at collection (default: discover: "
                       "every scenarios/<system>/ package under the rootdir)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "docker: needs a Docker engine and the stack images")
    config.addinivalue_line("markers", "drill: a gameday drill (one scenario on a fresh stack)")
    for name in SEVERITY_MARKERS:
        config.addinivalue_line("markers", f"{name}: a drill of severity {name.upper()}")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "gameday_scenario" not in metafunc.fixturenames:
        return
    from harness.systems import load

    scenarios = load(metafunc.config.getini("gameday_scenarios"), metafunc.config.rootpath)
    params = [pytest.param(s, id=s.key, marks=[pytest.mark.drill, pytest.mark.docker,
                                               getattr(pytest.mark, s.severity.lower())])
              for s in scenarios]
    metafunc.parametrize("gameday_scenario", params)


class GamedaySession:
    """What the drills of one pytest process share (a harness.gameday.Gameday: plans, journal,
    redactor, stack pool), and how a test asks for a drill."""

    def __init__(self, report_dir: Path, scenario_modules: list[str] | None = None, stacks: Any = None,
                 root: Path | None = None) -> None:
        from harness.gameday import Gameday

        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.report_dir = report_dir
        self.gameday = Gameday(report_dir / f"journal-{worker}.jsonl", pool=stacks)  # see gameday_stacks
        self.journal = self.gameday.journal
        self.count = 0
        self.plans: list[Any] = []  # what this process drilled: its runbook coverage, journaled at the end
        self.scenario_modules = list(scenario_modules or ["discover"])
        self.root = root

    def run(self, scenario: Any, runbook: Path | str | None = None, section: str | None = None,
            *, ahead: Any = None, **changes: Any) -> Any:
        from harness.scenarios import get_scenario
        from harness.systems import load

        if isinstance(scenario, str):
            load(self.scenario_modules, self.root)
            scenario = get_scenario(scenario)
        if runbook is not None:
            scenario = scenario.with_runbook(runbook, section)
        if changes:
            scenario = dataclasses.replace(scenario, **changes)
        (plan,) = self.gameday.plan([scenario])
        self.plans.append(plan)
        self.count += 1
        return self.gameday.drill(plan, drill_id=f"{scenario.key}#{self.count}", ahead=ahead)

    def close(self) -> None:
        try:
            if self.plans:
                self.gameday.write_coverage(self.plans)
        finally:
            self.gameday.close()


@pytest.fixture(scope="session")
def gameday_stacks() -> Any:
    """Where the drills of this process take fresh stacks from: an object with the methods of
    `harness.gameday.StackPool` that drills use, `take(scenario, *, ahead=None)` (a fresh, healthy
    stack), `give_back(stack)` and `close()` (called once, when the session ends). The default is
    a real StackPool (Docker); override this fixture in a conftest to run drills on something
    else, e.g. `harness.testing.FakeStackPool` for drills of a fake system without Docker."""
    from harness.gameday import StackPool

    return StackPool()


@pytest.fixture(scope="session")
def gameday_session(request: pytest.FixtureRequest, gameday_stacks: Any) -> Iterator[GamedaySession]:
    """Shared by the drills of this process; at the end, the reports are rendered from its journal
    (one set per xdist worker: `gameday report FOLDER` merges them)."""
    option = request.config.getoption("--gameday-report")
    folder = Path(option) if option else Path("reports") / time.strftime("pytest-%Y%m%d-%H%M%S")
    session = GamedaySession(folder, request.config.getini("gameday_scenarios"), gameday_stacks,
                             request.config.rootpath)
    try:
        yield session
    finally:
        session.close()
    if session.journal.path.exists() and "PYTEST_XDIST_WORKER" not in os.environ:
        from harness.report import write_reports

        write_reports([session.journal.path], folder)


@pytest.fixture
def gameday_run(gameday_session: GamedaySession) -> Callable[..., Any]:
    """Run a drill: `gameday_run("db-down", runbook=path)` -> DrillResult."""
    return gameday_session.run


_next_item: dict[str, pytest.Item | None] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Remember which test runs next in this process (a drill's stack can start ahead)."""
    _next_item["next"] = nextitem


def _upcoming_scenario() -> Any:
    """The scenario of the next test of this process, when it is a drill too."""
    nextitem = _next_item.get("next")
    callspec = getattr(nextitem, "callspec", None)
    if nextitem is None or callspec is None or "gameday_drill" not in getattr(nextitem, "fixturenames", ()):
        return None
    return callspec.params.get("gameday_scenario")


@pytest.fixture
def gameday_drill(gameday_session: GamedaySession, gameday_scenario: Any) -> Any:
    """The result of this test's scenario, run on a fresh stack."""
    return gameday_session.run(gameday_scenario, ahead=_upcoming_scenario)
