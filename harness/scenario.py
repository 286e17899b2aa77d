"""Scenarios: a fault, the runbook section that handles it, budgets and recovery criteria.

A scenario is a generator fixture: the code before `yield` injects the fault (normally with a
fault context manager from `harness.faults`), the code after it (or the context manager's exit)
rolls it back. Registering one with `@scenario(...)` makes it a drill:

    @scenario("db-down", stack=STACK, runbook=RUNBOOK, section="6a-database-server-down",
              severity="P0", detect_within="10s", recover_within="60s", observation=WATCH)
    def db_down(drill):
        with ServiceStopped(drill.stack, "db", "postgresql"):
            yield
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
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
_ID = re.compile(r"^[a-z][a-z0-9-]{1,40}$")
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
    id: str
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

    def with_runbook(self, runbook: Path | str, section: str | None = None) -> Scenario:
        """The same drill against another runbook (e.g. a deliberately broken variant)."""
        return dataclasses.replace(self, runbook=Path(runbook), section=section or self.section)


REGISTRY: dict[str, Scenario] = {}


def scenario(id: str, *, stack: Path | str, runbook: Path | str, section: str, observation: Observation,
             severity: str = "P2", detect_within: str | float = "10s", recover_within: str | float = "60s",
             variables: Callable[[DrillContext], Mapping[str, str]] | None = None,
             steady: Condition | None = None, checks: Iterable[Condition] = (),
             steady_consecutive: int = DEFAULT_STEADY_CONSECUTIVE, min_success_ratio: float | None = None,
             binds: Iterable[str] = (), title: str | None = None) -> Callable[[Fixture], Fixture]:
    """Register a generator fixture as a scenario (see the module docstring).

    `variables` gives the values of the runbook's placeholders; `binds` names them, so that a
    runbook needing one the scenario does not bind is refused before any container starts."""
    caller = sys._getframe(1)  # the module that declares the scenario, for error messages
    where = f"{caller.f_code.co_filename}:{caller.f_lineno}: scenario {id!r}"
    if not _ID.match(id):
        raise BadInput(f"{where}: an id is lowercase letters, digits and dashes")
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
        if id in REGISTRY and REGISTRY[id].fixture.__qualname__ != fixture.__qualname__:
            raise BadInput(f"{where} is defined twice ({REGISTRY[id].fixture.__module__} and {fixture.__module__})")
        REGISTRY[id] = Scenario(
            id=id, title=title or (fixture.__doc__ or id).strip().splitlines()[0], stack=Path(stack),
            runbook=Path(runbook), section=section.lstrip("#"), severity=severity, detect_within=detect,
            recover_within=recover, fixture=fixture, observation=observation, variables=variables,
            steady=steady, checks=tuple(checks), steady_consecutive=steady_consecutive,
            min_success_ratio=min_success_ratio, binds=tuple(binds),
            description=(fixture.__doc__ or "").strip(),
        )
        return fixture

    return register


def load_scenarios(modules: Iterable[str]) -> list[Scenario]:
    """Import the modules that register scenarios; every registered scenario, in id order.

    Modules are found on sys.path and in the current folder (a project's `scenarios/` package)."""
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    for name in modules:
        if not _MODULE.match(name):
            raise BadInput(f"scenario module {name!r} is not a module name (e.g. scenarios or my_project.scenarios)")
        try:
            importlib.import_module(name)
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
    return [REGISTRY[key] for key in sorted(REGISTRY)]


def _where(exc: BaseException) -> str:
    """`file:line: ` of the innermost frame of the user's code (not importlib's) in a traceback."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<frozen")]
    return f"{frames[-1].filename}:{frames[-1].lineno}: " if frames else ""


def get_scenario(id: str) -> Scenario:
    try:
        return REGISTRY[id]
    except KeyError:
        known = ", ".join(sorted(REGISTRY)) or "none registered"
        raise BadInput(f"unknown scenario {id!r} (known: {known})") from None


def fault_in(scenario: Scenario, ctx: DrillContext) -> Iterator[None]:
    """Advance the scenario's fixture to its `yield`: from here on its fault is in effect (and
    proven). Hand the returned generator to `fault_out`, on every exit path."""
    fixture = scenario.fixture(ctx)
    try:
        next(fixture)
    except StopIteration:
        raise GamedayError(f"scenario {scenario.id}: its fixture must yield once") from None
    return fixture


def fault_out(fixture: Iterator[None]) -> None:
    """Resume a fixture after its `yield`: its fault context managers roll back."""
    with contextlib.suppress(StopIteration):
        next(fixture)
    close = getattr(fixture, "close", None)
    if callable(close):
        close()
