"""Systems under test, found by looking: adding a system is adding its folders.

A project (the current folder, `--root DIR`, `GAMEDAY_ROOT`, or pytest's rootdir) holds

    stack/<system>/                 its stack definition, RUNBOOK.md, image recipes, service code
    scenarios/<system>/__init__.py  its observation (health check, synthetic journey)
    scenarios/<system>/*.py         one module per scenario
    drills/onboarding/<system>/     its onboarding exercises (harness.train.exercise)

Discovery imports every `scenarios/*/` package (a folder with an `__init__.py`) and every module
in it (harness.scenarios.load_scenarios). Discovery imports the modules rather than the package
importing its own: a scenario is then added by adding its file, with no import list to keep in
step (a forgotten import would silently drop a drill from every gameday). A package that
registers no scenario is bad input, as is a folder of modules without an `__init__.py` or a module
directly in `scenarios/` (the layout before systems): neither would ever be drilled.

A project may instead name its own modules (pytest ini `gameday_scenarios`, `--scenarios`);
`discover` is the default of both.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import BadInput
from harness.scenarios import REGISTRY, Scenario, load_scenarios

DISCOVER = "discover"
SCENARIOS_FOLDER = "scenarios"
ROOT_ENV = "GAMEDAY_ROOT"


@dataclass(frozen=True)
class System:
    name: str
    scenarios: tuple[Scenario, ...]

    @property
    def stacks(self) -> tuple[Path, ...]:
        """The stack definitions its scenarios run on (normally one), in first-use order."""
        return tuple(dict.fromkeys(s.stack for s in self.scenarios))


def project_root(configured: Path | str | None = None) -> Path:
    """Where systems are looked for: `configured`, else $GAMEDAY_ROOT, else the current folder."""
    return Path(configured or os.environ.get(ROOT_ENV) or ".")


def system_packages(root: Path) -> list[str]:
    """The module names of the `scenarios/*/` packages under `root`, sorted."""
    folder = root / SCENARIOS_FOLDER
    if not folder.is_dir():
        return []
    loose = [p for p in sorted(folder.glob("*.py")) if not p.name.startswith("_")]
    if loose:
        raise BadInput(f"{loose[0]}: a scenario module belongs in its system's package, scenarios/<system>/ "
                       "(move it there; discovery imports only those packages)")
    names = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        if (sub / "__init__.py").is_file():
            names.append(f"{SCENARIOS_FOLDER}.{sub.name}")
        elif any(sub.glob("*.py")):
            raise BadInput(f"{sub}: holds Python modules but no __init__.py; add one (the system's observation "
                           "goes there) so that it is found as a system")
    return names


def discover(root: Path | str | None = None) -> list[Scenario]:
    """Import every system package under the project root; their scenarios, in key order."""
    root = project_root(root).resolve()
    packages = system_packages(root)
    if not packages:
        raise BadInput(f"{root}: no system found: looked for scenarios/<system>/__init__.py (run gameday in the "
                       f"project's folder, give --root DIR, or name modules with --scenarios)")
    _use_root(root)
    load_scenarios(packages)
    found: list[Scenario] = []
    for package in packages:
        mine = [s for s in REGISTRY.values() if _declared_in(s, package)]
        if not mine:
            raise BadInput(f"{root / package.replace('.', '/')}: the package registers no scenario; add a module "
                           "with an `@scenario(...)` fixture (see harness.scenarios), or remove the folder")
        found += mine
    return sorted(found, key=lambda s: s.key)


def load(modules: Sequence[str], root: Path | str | None = None) -> list[Scenario]:
    """Scenarios from `discover` (the default) or from the named modules (found on sys.path and
    under the project root)."""
    named = [m for m in modules if m != DISCOVER]
    if not named:
        return discover(root)
    folder = str(project_root(root).resolve())
    if folder not in sys.path:
        sys.path.insert(0, folder)
    scenarios = load_scenarios(named)
    if DISCOVER in modules:
        keys = {s.key for s in scenarios}
        scenarios = sorted([*scenarios, *(s for s in discover(root) if s.key not in keys)], key=lambda s: s.key)
    return scenarios


def modules_option(text: str) -> list[str]:
    """`--scenarios` words: comma-separated module names, or `discover` (an empty name is refused
    when loading, like any name that is not a module's)."""
    return [m.strip() for m in text.split(",")]


def systems_of(scenarios: Iterable[Scenario]) -> list[System]:
    by_name: dict[str, list[Scenario]] = {}
    for s in scenarios:
        by_name.setdefault(s.system, []).append(s)
    return [System(name, tuple(sorted(found, key=lambda s: s.key))) for name, found in sorted(by_name.items())]


def only_system(scenarios: Iterable[Scenario], name: str) -> list[Scenario]:
    """The scenarios of system `name`; BadInput naming the known systems when it has none."""
    systems = systems_of(scenarios)
    for system in systems:
        if system.name == name:
            return list(system.scenarios)
    raise BadInput(f"--system {name!r}: no such system (known: {', '.join(s.name for s in systems) or 'none'}; "
                   "`gameday list` shows them)")


def stack_of(scenarios: Sequence[Scenario], system: str | None) -> Path:
    """The stack definition of `system`, or of the only system there is (for `check` and `shell`)."""
    systems = systems_of(only_system(scenarios, system) if system else scenarios)
    if len(systems) != 1:
        names = ", ".join(s.name for s in systems) or "none"
        raise BadInput(f"which system? {len(systems)} found ({names}): give --system NAME or --stack FILE")
    stacks = systems[0].stacks
    if len(stacks) != 1:
        raise BadInput(f"system {systems[0].name!r} runs on {len(stacks)} stacks "
                       f"({', '.join(map(str, stacks))}): give --stack FILE")
    return stacks[0]


def _declared_in(scenario: Scenario, package: str) -> bool:
    module = scenario.fixture.__module__
    return module == package or module.startswith(package + ".")


def _use_root(root: Path) -> None:
    """Make `root/scenarios` the `scenarios` package of this process (refused when another one
    was imported already: two projects' systems cannot share a process)."""
    loaded = sys.modules.get(SCENARIOS_FOLDER)
    wanted = root / SCENARIOS_FOLDER
    if loaded is not None:
        paths = [Path(p).resolve() for p in getattr(loaded, "__path__", [])]
        if wanted not in paths:
            raise BadInput(f"{wanted}: another `scenarios` package ({', '.join(map(str, paths)) or loaded!r}) is "
                           "imported already in this process; run gameday from one project at a time")
        return
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
