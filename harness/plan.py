"""The drill plan: what one scenario will run, resolved once from its runbook and stack definition.

Built before anything starts (so a wrong host or an unbound placeholder is refused with the
step's `file:line` while no container exists), and then the one description of the runbook's
path that the drill, the onboarding exercise and `gameday list` all read: the section, its
diagnosis (inherited from its parents first), fix and verification steps, each with the host it
runs on, the manual checklist, and the placeholders the scenario must bind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.errors import BadInput
from harness.runbook.model import ManualStep, Phase, Runbook, Section, Step
from harness.runbook.parse import parse_runbook
from harness.runbook.variables import holes
from harness.scenarios import Scenario
from harness.stack.definition import LOCAL_HOST, StackDefinition


def shown(path: str | Path) -> str:
    """A path as a person in this folder would type it: relative when it is below the current folder."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


@dataclass(frozen=True)
class PlannedStep:
    """A runbook step in the phase it runs in, on the host it runs on."""

    phase: Phase
    step: Step
    host: str

    @property
    def ref(self) -> str:
        return self.step.ref

    @property
    def location(self) -> str:
        return str(self.step.location)


@dataclass(frozen=True)
class DrillPlan:
    scenario: Scenario
    definition: StackDefinition
    runbook: Runbook
    section: Section
    diagnosis: tuple[PlannedStep, ...]
    fixes: tuple[PlannedStep, ...]
    verifies: tuple[PlannedStep, ...]
    manual: tuple[ManualStep, ...]  # the parent section's checklist, then the section's own
    needs: tuple[str, ...]  # placeholders the runbook declares that these steps read

    @property
    def steps(self) -> tuple[PlannedStep, ...]:
        return (*self.diagnosis, *self.fixes, *self.verifies)

    @property
    def fix_hosts(self) -> tuple[str, ...]:
        """Where the fix runs ("the right host" for a trainee), in order of first use."""
        return tuple(dict.fromkeys(s.host for s in self.fixes))

    @property
    def section_titles(self) -> tuple[str, ...]:
        """The section's title and its ancestors' (an exercise's page must name none of them)."""
        titles, section = [], self.section
        while True:
            titles.append(section.title)
            parent = self.runbook.parent_of(section)
            if parent is None:
                return tuple(titles)
            section = parent


def build_plan(scenario: Scenario, definition: StackDefinition, runbook: Runbook | None = None) -> DrillPlan:
    """The scenario's plan on this stack; BadInput (with file and line) for a missing runbook or
    section, a host the stack does not have, or a placeholder the scenario does not bind.
    `runbook`: the scenario's runbook already parsed (and bound: harness.bindings), else read now."""
    if runbook is None:
        if not scenario.runbook.is_file():
            raise BadInput(f"scenario {scenario.key}: runbook {scenario.runbook} does not exist")
        runbook = parse_runbook(scenario.runbook)
    section = runbook.section(scenario.section)
    default = runbook.front_matter.default_host or definition.default_host
    hosts = set(definition.hosts)

    def planned(phase: Phase, steps: Iterable[Step]) -> tuple[PlannedStep, ...]:
        out = []
        for step in steps:
            if not step.executable or step.skip:
                continue
            host = step.host or default
            if host not in hosts:
                known = ", ".join(sorted(hosts - {LOCAL_HOST}))
                raise BadInput(f"{step.location}: host {host!r} is not in stack {definition.name} "
                               f"(hosts: {known}, {LOCAL_HOST})")
            out.append(PlannedStep(phase, step, host))
        return tuple(out)

    diagnosis = planned(Phase.DIAGNOSE, runbook.diagnosis(section.anchor))
    fixes = planned(Phase.FIX, section.steps_in(Phase.FIX))
    verifies = planned(Phase.VERIFY, section.steps_in(Phase.VERIFY))
    declared, bound = set(runbook.front_matter.variables), set(scenario.binds)
    needs: dict[str, None] = {}
    for planned_step in (*diagnosis, *fixes, *verifies):
        for hole in holes(planned_step.step.code):
            if hole.name not in declared:
                continue
            if hole.name not in bound:
                raise BadInput(f"{planned_step.location}: the runbook needs {hole.name}, which scenario "
                               f"{scenario.key} does not bind (add it to the scenario's variables and binds)")
            needs[hole.name] = None
    parent = runbook.parent_of(section)
    manual = (*(parent.manual if parent else ()), *section.manual)
    return DrillPlan(scenario, definition, runbook, section, diagnosis, fixes, verifies, manual, tuple(needs))
