"""The runbook's path for a scenario: its section's diagnosis, fix and verification, each on its host.

The same steps a drill runs (harness.drill.resolve_runbook: executable, not skipped; a section
inherits its parents' diagnosis), resolved here from the runbook alone so that hints, matching
and the page's forbidden words need no Docker.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.runbook.commands import PlanStep
from harness.runbook.model import Phase, Runbook, Section, Step
from harness.runbook.parse import parse_runbook
from harness.scenario import Scenario


def shown(path: str | Path) -> str:
    """A path as a person in this folder would type it: relative when it is below the current folder."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


@dataclass(frozen=True)
class RunbookPath:
    runbook: Runbook
    section: Section
    steps: tuple[PlanStep, ...]

    @property
    def fix_hosts(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.host for s in self.steps if s.phase == Phase.FIX))

    @property
    def section_titles(self) -> tuple[str, ...]:
        """The section's title and its parents' (a page must name none of them)."""
        titles, section = [], self.section
        while True:
            titles.append(section.title)
            parent = self.runbook.parent_of(section)
            if parent is None:
                return tuple(titles)
            section = parent

    @property
    def manual(self) -> tuple[tuple[str, str, int], ...]:
        parent = self.runbook.parent_of(self.section)
        items = [*(parent.manual if parent else ()), *self.section.manual]
        return tuple((m.section, m.text, m.location.line) for m in items)


def runbook_path(scenario: Scenario, default_host: str) -> RunbookPath:
    """The scenario's runbook path; `default_host` is where a step without a host runs when the
    runbook's front matter names none (a drill uses the stack's last service)."""
    runbook = parse_runbook(scenario.runbook)
    section = runbook.section(scenario.section)
    host = runbook.front_matter.default_host or default_host

    def plan(phase: Phase, steps: tuple[Step, ...]) -> list[PlanStep]:
        return [PlanStep(phase, s.ref, s.host or host, s.section, f"{shown(s.location.path)}:{s.location.line}", s.code)
                for s in steps if s.executable and not s.skip]

    steps = [*plan(Phase.DIAGNOSE, runbook.diagnosis(section.anchor)), *plan(Phase.FIX, section.steps_in(Phase.FIX)),
             *plan(Phase.VERIFY, section.steps_in(Phase.VERIFY))]
    return RunbookPath(runbook, section, tuple(steps))
