"""Scenarios: a fault, the runbook section that handles it, budgets and recovery criteria.

A scenario is a generator fixture: the code before `yield` injects the fault (normally with a
fault context manager from `harness.faults`), the code after it (or the context manager's exit)
rolls it back. Registering one with `@scenario(...)` makes it a drill:

    @scenario("db-down", stack=STACK, runbook=RUNBOOK, section="6a-database-server-down",
              severity="P0", detect_within="10s", recover_within="60s", observation=WATCH)
    def db_down(drill):
        with ServiceStopped(drill.stack, "db", "postgresql"):
            yield

Scenarios are namespaced by system: the one above, declared in `scenarios/chatkit/db_down.py`,
is `chatkit/db-down` (its `key`, the identity everywhere: registry, drill ids, journal, history).
The system is the declaring module's package (`scenarios.chatkit` -> `chatkit`, `redis_chat` ->
`redis-chat`: Python names cannot hold a dash), or the module itself when it is in no package,
unless `system=` says otherwise. Two systems may both have a `db-down`; where a bare name is
unique across systems it is accepted for the key (`find_key`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import os
import pkgutil
import re
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from harness.durations import parse_duration
from harness.errors import BadInput, GamedayError

if TYPE_CHECKING:
    from harness.observe.traffic import Journey
    from harness.redact import Redactor
    from harness.stack.stack import Stack
    from harness.stack.waits import Clock

SEVERITIES = ("P0", "P1", "P2", "P3", "P4")
DEFAULT_STEADY_CONSECUTIVE = 5
_ID = re.compile(r"^[a-z][a-z0-9-]{1,40}$")  # a scenario's name and a system's name alike
_MODULE = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$")

HealthCheck = Callable[[], tuple[bool, int | None, str]]


@dataclass(frozen=True)
class Observation:
    """How to watch a stack during a drill: its health check and its synthetic users."""

    health: Callable[[Stack], HealthCheck]
    journey: Callable[[Stack], Journey] | None = None
    users: int = 3
    pace: float = 1.0
    probe_interval: float = 0.2


@dataclass
class DrillContext:
    """What a scenario's fixture and checks get: the stack and a place for their own state."""

    scenario: Scenario
    stack: Stack
    redactor: Redactor
    clock: Clock
    state: dict[str, Any] = field(default_factory=dict)

    def remember_secret(self, *values: str) -> None:
        """Values seen during the drill that must never reach a report (e.g. leaked tokens)."""
        self.redactor.add(*values)


Fixture = Callable[[DrillContext], Iterator[None]]
Condition = Callable[[DrillContext], tuple[bool, str]]


@dataclass(frozen=True)
class Scenario:
    system: str  # e.g. chatkit
    name: str  # e.g. db-down, unique within its system
    title: str
    stack: Path
    runbook: Path
    section: str
    severity: str
    detect_within: float
    recover_within: float
    fixture: Fixture
    observation: Observation
    variables: Callable[[DrillContext], Mapping[str, str]] | None = None
    steady: Condition | None = None  # extra steady-state condition, besides health and traffic
    checks: tuple[Condition, ...] = ()  # what must hold after the fix (beyond the runbook's own verify)
    steady_consecutive: int = DEFAULT_STEADY_CONSECUTIVE
    min_success_ratio: float | None = None  # legitimate users' success ratio after recovery
    binds: tuple[str, ...] = ()  # the names `variables` gives values for
    description: str = ""

    @property
    def key(self) -> str:
        """`system/name`, e.g. `chatkit/db-down`: the scenario's identity everywhere."""
        return f"{self.system}/{self.name}"

    def with_runbook(self, runbook: Path | str, section: str | None = None) -> Scenario:
        """The same drill against another runbook (e.g. a deliberately broken variant)."""
        return dataclasses.replace(self, runbook=Path(runbook), section=section or self.section)


REGISTRY: dict[str, Scenario] = {}  # by key


def system_of(module: str, package: str | None) -> str:
    """The system a scenario declared in `module` belongs to: its package's last name (the
    module's own when it is in no package), `_` written as `-`."""
    return (package or module).rsplit(".", 1)[-1].replace("_", "-")


def scenario(name: str, *, stack: Path | str, runbook: Path | str, section: str, observation: Observation,
             system: str | None = None, severity: str = "P2", detect_within: str | float = "10s",
             recover_within: str | float = "60s", variables: Callable[[DrillContext], Mapping[str, str]] | None = None,
             steady: Condition | None = None, checks: Iterable[Condition] = (),
             steady_consecutive: int = DEFAULT_STEADY_CONSECUTIVE, min_success_ratio: float | None = None,
             binds: Iterable[str] = (), title: str | None = None) -> Callable[[Fixture], Fixture]:
    """Register a generator fixture as a scenario (see the module docstring).

    `system` defaults to the declaring module's package (`scenarios.chatkit` -> chatkit).
    `variables` gives the values of the runbook's placeholders; `binds` names them, so that a
    runbook needing one the scenario does not bind is refused before any container starts."""
    caller = sys._getframe(1)  # the module that declares the scenario, for error messages and its system
    where = f"{caller.f_code.co_filename}:{caller.f_lineno}: scenario {name!r}"
    if not _ID.match(name):
        raise BadInput(f"{where}: a name is lowercase letters, digits and dashes")
    if system is None:
        system = system_of(str(caller.f_globals.get("__name__", "")), caller.f_globals.get("__package__"))
        if not _ID.match(system):
            raise BadInput(f"{where}: its package gives the system name {system!r}, which is not lowercase letters, "
                           "digits and dashes; rename the package or declare `system=\"my-system\"`")
    elif not _ID.match(system):
        raise BadInput(f"{where}: system {system!r} is not lowercase letters, digits and dashes")
    key = f"{system}/{name}"
    where = f"{caller.f_code.co_filename}:{caller.f_lineno}: scenario {key!r}"
    if severity not in SEVERITIES:
        raise BadInput(f"{where}: severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    try:
        detect, recover = parse_duration(detect_within), parse_duration(recover_within)
    except ValueError as exc:
        raise BadInput(f"{where}: budget {exc}") from None
    if min_success_ratio is not None and not 0 < min_success_ratio <= 1:
        raise BadInput(f"{where}: min_success_ratio must be in (0, 1]")
    if steady_consecutive < 1:
        raise BadInput(f"{where}: steady_consecutive must be at least 1")

    def register(fixture: Fixture) -> Fixture:
        known = REGISTRY.get(key)
        if known is not None and _origin(known.fixture) != _origin(fixture):
            raise BadInput(f"{where} is defined twice ({'.'.join(_origin(known.fixture))} and "
                           f"{'.'.join(_origin(fixture))}); give one of them another name")
        REGISTRY[key] = Scenario(
            system=system, name=name, title=title or (fixture.__doc__ or name).strip().splitlines()[0],
            stack=Path(stack), runbook=Path(runbook), section=section.lstrip("#"), severity=severity,
            detect_within=detect, recover_within=recover, fixture=fixture, observation=observation,
            variables=variables, steady=steady, checks=tuple(checks), steady_consecutive=steady_consecutive,
            min_success_ratio=min_success_ratio, binds=tuple(binds), description=(fixture.__doc__ or "").strip(),
        )
        return fixture

    return register


def _origin(fixture: Fixture) -> tuple[str, str]:
    return fixture.__module__, fixture.__qualname__


def load_scenarios(modules: Iterable[str]) -> list[Scenario]:
    """Import the modules that register scenarios; every registered scenario, in key order.

    A module that is a package has every module in it imported too (names starting with `_`
    excepted), so a scenario module is found by being there, never by being listed. Modules are
    found on sys.path and in the current folder (a project's `scenarios/` package)."""
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    for name in modules:
        if not _MODULE.match(name):
            raise BadInput(f"scenario module {name!r} is not a module name (e.g. scenarios or my_project.scenarios)")
        _import_tree(_import(name))
    return [REGISTRY[key] for key in sorted(REGISTRY)]


def _import_tree(module: ModuleType) -> None:
    """Every module of a package, its sub-packages' too (nothing for a plain module)."""
    path = getattr(module, "__path__", None)
    if path is None:
        return
    for info in sorted(pkgutil.iter_modules(path, prefix=f"{module.__name__}."), key=lambda i: i.name):
        if not info.name.rsplit(".", 1)[-1].startswith("_"):
            _import_tree(_import(info.name))


def _import(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except BadInput:
        raise
    except SyntaxError as exc:
        raise BadInput(f"{exc.filename}:{exc.lineno}: scenario module {name!r} is not valid Python: "
                       f"SyntaxError: {exc.msg}") from None
    except ImportError as exc:
        if exc.name and name.startswith(exc.name):
            raise BadInput(f"scenario module {name!r} cannot be imported: {exc}") from None
        raise BadInput(f"{_where(exc)}scenario module {name!r} cannot be imported: {exc} "
                       f"(install {exc.name or 'it'}, or fix the import)") from None
    except Exception as exc:
        raise BadInput(f"{_where(exc)}scenario module {name!r} failed while loading: "
                       f"{type(exc).__name__}: {exc}") from None


def _where(exc: BaseException) -> str:
    """`file:line: ` of the innermost frame of the user's code (not importlib's) in a traceback."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<frozen")]
    return f"{frames[-1].filename}:{frames[-1].lineno}: " if frames else ""


def find_key(wanted: str, keys: Iterable[str], *, system: str | None = None) -> str:
    """The key `wanted` names: a key itself, or a bare name (`db-down`) that is unique across
    systems; with `system`, a bare name of that system wins. BadInput when unknown or ambiguous."""
    keys = sorted(keys)
    if wanted in keys:
        return wanted
    if "/" not in wanted:
        named = [k for k in keys if k.split("/", 1)[1] == wanted]
        own = [k for k in named if system is not None and k.split("/", 1)[0] == system]
        if len(own) == 1 or len(named) == 1:
            return (own or named)[0]
        if named:
            raise BadInput(f"scenario {wanted!r} is ambiguous: {', '.join(named)}; give the whole key")
    raise BadInput(f"unknown scenario {wanted!r} (known: {', '.join(keys) or 'none registered'})")


def get_scenario(wanted: str) -> Scenario:
    """A registered scenario by key, or by a bare name unique across systems (`find_key`)."""
    return REGISTRY[find_key(wanted, REGISTRY)]


def fault_in(scenario: Scenario, ctx: DrillContext) -> Iterator[None]:
    """Advance the scenario's fixture to its `yield`: from here on its fault is in effect (and
    proven). Hand the returned generator to `fault_out`, on every exit path."""
    fixture = scenario.fixture(ctx)
    try:
        next(fixture)
    except StopIteration:
        raise GamedayError(f"scenario {scenario.key}: its fixture must yield once") from None
    return fixture


def fault_out(fixture: Iterator[None]) -> None:
    """Resume a fixture after its `yield`: its fault context managers roll back."""
    with contextlib.suppress(StopIteration):
        next(fixture)
    close = getattr(fixture, "close", None)
    if callable(close):
        close()
