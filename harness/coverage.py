"""Runbook coverage: which sections of a runbook the drills reach, and which hold commands nobody drills.

A section is drilled when a drill is aimed at it or runs one of its blocks (a parent's diagnosis,
inherited by the drilled subsection). A section "with commands" holds at least one block a shell
runs. Read from drill plans (`gameday list`) before anything starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.plan import DrillPlan
from harness.runbook.model import Runbook


@dataclass(frozen=True)
class Coverage:
    runbook: str
    with_commands: tuple[str, ...]  # anchors of sections holding blocks with commands, in document order
    drilled: tuple[str, ...]  # anchors of sections the drills reach, in document order

    @property
    def not_drilled(self) -> tuple[str, ...]:
        """Sections with commands that no drill reaches."""
        return tuple(a for a in self.with_commands if a not in self.drilled)

    @property
    def covered(self) -> int:
        return sum(1 for a in self.with_commands if a in self.drilled)

    def __str__(self) -> str:
        return f"{self.covered}/{len(self.with_commands)} sections with commands drilled"


def runbook_coverage(runbook: Runbook, plans: Sequence[DrillPlan]) -> Coverage:
    reached = {p.section.anchor for p in plans} | {s.step.section for p in plans for s in p.steps}
    anchors = [s.anchor for s in runbook.sections]
    with_commands = tuple(s.anchor for s in runbook.sections if any(step.executable for step in s.steps))
    return Coverage(runbook.path, with_commands, tuple(a for a in anchors if a in reached))


def coverage_of(plans: Sequence[DrillPlan]) -> list[Coverage]:
    """One coverage per runbook the plans drill, in the order first drilled."""
    by_runbook: dict[str, list[DrillPlan]] = {}
    for plan in plans:
        by_runbook.setdefault(plan.runbook.path, []).append(plan)
    return [runbook_coverage(group[0].runbook, group) for group in by_runbook.values()]
