"""Fake projects for the discovery tests: folders with scenarios/<system>/ packages, imported in
this process without leaking into the other tests (the `scenarios` modules, sys.path and the
scenario registry are put back as they were)."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness import scenarios as scenario_module
from harness.testing import write_fake_stack

SYSTEM_INIT = '''\
"""{system}: a fake system for the discovery tests."""
import functools
from pathlib import Path

from harness.scenarios import Observation, scenario

ROOT = Path(__file__).resolve().parents[2]
WATCH = Observation(health=lambda stack: (lambda: (True, 200, "ok")))
{system_var}_scenario = functools.partial(scenario, stack=ROOT / "stack" / "{folder}" / "stack.toml",
                                   runbook=ROOT / "stack" / "{folder}" / "RUNBOOK.md", observation=WATCH)
'''

SCENARIO_MODULE = '''\
from {package} import {system_var}_scenario


@{system_var}_scenario("{name}", section="1-{name}", severity="{severity}")
def {function}(drill):
    """{title}"""
    yield
'''

Project = Callable[..., Path]


def _forget_scenarios() -> dict[str, object]:
    gone = {name: sys.modules.pop(name) for name in list(sys.modules)
            if name == "scenarios" or name.startswith("scenarios.")}
    return gone


@pytest.fixture
def isolated_scenarios() -> Iterator[None]:
    """The test may import another project's `scenarios` package; afterwards the process has its own back."""
    saved_modules = _forget_scenarios()
    saved_path = list(sys.path)
    saved_registry = dict(scenario_module.REGISTRY)
    scenario_module.REGISTRY.clear()
    try:
        yield
    finally:
        _forget_scenarios()
        sys.modules.update(saved_modules)  # type: ignore[arg-type]
        sys.path[:] = saved_path
        scenario_module.REGISTRY.clear()
        scenario_module.REGISTRY.update(saved_registry)


@pytest.fixture
def fake_project(tmp_path: Path, isolated_scenarios: None) -> Project:
    """`fake_project({"alpha": ["db-down", "storm"], "redis_chat": ["db-down"]})` -> the project folder:
    scenarios/<system>/__init__.py (observation) and one module per scenario; `severity` per name."""

    def make(systems: dict[str, list[str]], severity: dict[str, str] | None = None, root: Path = tmp_path,
             stacks: bool = False) -> Path:
        (root / "scenarios").mkdir(parents=True, exist_ok=True)
        (root / "scenarios" / "__init__.py").write_text('"""Fake systems."""\n')
        for folder, names in systems.items():
            package = root / "scenarios" / folder
            package.mkdir()
            system_var = folder.replace("-", "_")
            (package / "__init__.py").write_text(SYSTEM_INIT.format(system=folder, folder=folder.replace("_", "-"),
                                                                    system_var=system_var))
            if stacks:  # a stack file and a runbook for each system (`gameday list` checks every plan)
                stack_folder = root / "stack" / folder.replace("_", "-")
                write_fake_stack(stack_folder, folder.replace("_", "-"))
                (stack_folder / "RUNBOOK.md").write_text("".join(f"## 1 {n}\n\nWhat to do.\n\n" for n in names))
            for name in names:
                module = name.replace("-", "_")
                (package / f"{module}.py").write_text(textwrap.dedent(SCENARIO_MODULE.format(
                    package=f"scenarios.{folder}", system_var=system_var, name=name, function=module,
                    severity=(severity or {}).get(name, "P1"), title=f"{folder} {name}")))
        return root

    return make
