"""Hints, revealed one at a time: the exercise's own nudges, the runbook's diagnosis, then its fix.

Order: the exercise's `hints`, the runbook section's diagnosis steps (its parents' first), the
exercise's `fix_hints`, the section's fix steps, then its verification (how to know it worked).
A runbook hint is the step's block as written (commands with their `# Expected` comments) and
the host it runs on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.runbook.commands import PlanStep
from harness.runbook.model import Phase
from harness.train.exercise import Exercise


@dataclass(frozen=True)
class Hint:
    phase: Phase  # diagnose | fix | verify
    text: str
    step: str = ""  # the runbook step's ref, when the hint is one


def build_hints(exercise: Exercise, plan: Sequence[PlanStep]) -> list[Hint]:
    hints = [Hint(Phase.DIAGNOSE, text) for text in exercise.hints]
    hints += [_from_step(step) for step in plan if step.phase == Phase.DIAGNOSE]
    hints += [Hint(Phase.FIX, text) for text in exercise.fix_hints]
    hints += [_from_step(step) for step in plan if step.phase == Phase.FIX]
    hints += [_from_step(step) for step in plan if step.phase == Phase.VERIFY]
    return hints


def _from_step(step: PlanStep) -> Hint:
    code = "\n".join(f"    {line}" if line.strip() else "" for line in step.code.rstrip("\n").splitlines())
    return Hint(step.phase, f"The runbook ({step.location}) runs this on host {step.host}:\n\n{code}", step.ref)


def format_hint(hint: Hint, number: int, total: int, command_suffix: str = "") -> str:
    more = (f"`gameday hint{command_suffix}` for the next one" if number < total
            else "that was the last hint")
    return (f"Hint {number} of {total} ({hint.phase.text}):\n\n{hint.text}\n\n"
            f"({more}; `gameday giveup{command_suffix}` ends the exercise. Hints used: {number}.)\n")
