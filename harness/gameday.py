"""A gameday: several drills, each on a fresh stack, into one journal.

A composition root: it loads stack definitions and runbooks, checks every input before any
container starts, builds images once per stack definition, and for each drill brings a stack
up, runs the drill and always tears the stack down.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import docker

from harness import __version__
from harness.drill import DrillResult, check_bound, resolve_runbook, run_drill
from harness.errors import BadInput
from harness.journal import Event, GamedayFinished, GamedayStarted, Journal, PhaseStarted
from harness.redact import Redactor
from harness.scenario import Scenario
from harness.stack.definition import LOCAL_HOST, StackDefinition, load_definition
from harness.stack.launch import prepare
from harness.stack.stack import Stack

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


def check_inputs(scenarios: Sequence[Scenario]) -> dict[Path, StackDefinition]:
    """Every stack definition, runbook, section and host, checked before anything starts."""
    definitions: dict[Path, StackDefinition] = {}
    for scenario in scenarios:
        path = scenario.stack.resolve()
        if path not in definitions:
            definitions[path] = load_definition(path)
        hosts = set(definitions[path].hosts)
        runbook, diagnosis, fixes, verifies = resolve_runbook(scenario)
        check_bound(scenario, runbook, [*diagnosis, *fixes, *verifies], scenario.binds)
        for step in [*diagnosis, *fixes, *verifies]:
            if step.host and step.host not in hosts:
                raise BadInput(f"{step.location}: host {step.host!r} is not in stack {definitions[path].name} "
                               f"(hosts: {', '.join(sorted(hosts - {LOCAL_HOST}))}, local)")
    return definitions


@dataclass
class StackPool:
    """Definitions, a client and built images, made once and shared by the drills of a gameday."""

    progress: Progress = log.info
    _prepared: dict[Path, tuple[StackDefinition, docker.DockerClient, dict[str, str]]] = field(default_factory=dict)

    def stack_for(self, scenario: Scenario) -> Stack:
        path = scenario.stack.resolve()
        if path not in self._prepared:
            self._prepared[path] = prepare(path, progress=self.progress)
        definition, client, images = self._prepared[path]
        return Stack(definition, images, client=client)


def drill_on_fresh_stack(scenario: Scenario, pool: StackPool, journal: Journal, redactor: Redactor,
                         drill_id: str | None = None) -> DrillResult:
    """Bring a stack up for one drill, run it, and always take the stack down."""
    stack = pool.stack_for(scenario)
    drill_id = drill_id or scenario.id
    redactor.add(*stack.secrets.values())
    try:
        journal.write(PhaseStarted(drill_id, "stack-up", 0.0))
        stack.up()
        return run_drill(scenario, stack, journal, redactor, drill_id=drill_id)
    finally:
        stack.down()


@dataclass
class GamedayResult:
    run_id: str
    journal: Path
    results: list[DrillResult]
    seconds: float

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)


def run_gameday(scenarios: Sequence[Scenario], report_dir: Path, *, progress: Progress = log.info,
                on_drill: Callable[[DrillResult], None] | None = None,
                on_event: Callable[[Event], None] | None = None) -> GamedayResult:
    """Run the scenarios one after the other, each on its own fresh stack."""
    definitions = check_inputs(scenarios)
    patterns = sorted({p for d in definitions.values() for p in d.redaction_patterns})
    redactor = Redactor(patterns=patterns)
    run_id = secrets.token_hex(6)
    journal = Journal(report_dir / "journal.jsonl", redactor, listener=on_event)
    started = time.monotonic()
    journal.write(GamedayStarted(run_id, tuple(s.id for s in scenarios), __version__))
    pool = StackPool(progress)
    results = []
    try:
        for scenario in scenarios:
            progress(f"drill {scenario.id}: {scenario.title}")
            result = drill_on_fresh_stack(scenario, pool, journal, redactor)
            results.append(result)
            if on_drill is not None:
                on_drill(result)
    finally:
        journal.write(GamedayFinished(run_id, tuple((r.scenario.id, r.verdict) for r in results),
                                      round(time.monotonic() - started, 3)))
    return GamedayResult(run_id, journal.path, results, time.monotonic() - started)
