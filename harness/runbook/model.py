"""What a parsed runbook is made of: sections, steps, segments, expectations, manual steps.

All records are frozen; every one keeps the file and line it came from, so that a finding,
an error or a report can point a person at the exact place in their runbook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from harness.errors import BadInput
from harness.runbook.shell import BlockReading


class Phase(StrEnum):
    DIAGNOSE = "diagnose"
    FIX = "fix"
    VERIFY = "verify"
    MANUAL = "manual"

    @property
    def text(self) -> str:
        """The phase as a noun in a sentence ("a hint (diagnosis)", "### Verification")."""
        return _PHASE_TEXT[self]


_PHASE_TEXT = {Phase.DIAGNOSE: "diagnosis", Phase.FIX: "fix", Phase.VERIFY: "verification",
               Phase.MANUAL: "manual steps"}


class ExpectationKind(StrEnum):
    HEALTHY = "healthy"  # `# Expected: ...`: on a healthy stack, or after the fix
    FAULT = "fault"  # `# Expected if DB down: ...`, `# Expected during fault: ...`


class LintLevel(StrEnum):
    """How bad a lint finding is (not a scenario's priority: harness.vocabulary.Priority)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Location:
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Expectation:
    kind: ExpectationKind
    text: str
    location: Location
    condition: str | None = None  # "DB down" in `# Expected if DB down:`
    inferred: str = ""  # how it was read when not written as `# Expected:` ("a `# Should see:` comment")


@dataclass(frozen=True)
class Segment:
    """Commands of a block up to the expectation comments that follow them."""

    code: str
    line: int  # file line of the segment's first line
    expectations: tuple[Expectation, ...] = ()

    def expectations_of(self, kind: ExpectationKind) -> tuple[Expectation, ...]:
        return tuple(e for e in self.expectations if e.kind is kind)


@dataclass(frozen=True)
class Step:
    """One code block of a runbook, with where and how it runs."""

    section: str  # anchor of the section it belongs to
    index: int  # 1-based position among the section's blocks
    language: str
    code: str
    segments: tuple[Segment, ...]
    location: Location  # the opening fence
    phase: Phase | None = None
    host: str | None = None
    name: str | None = None
    timeout: float | None = None
    within: float | None = None  # re-run until the expectation holds, for at most this long
    retry_interval: float | None = None
    skip: str | None = None  # the reason, when the step must not run
    destructive_ok: str | None = None  # why destructive commands here are accepted
    executable: bool = True
    attributes: tuple[tuple[str, str], ...] = ()
    text: str = ""  # the block as written (for a pasted session, `code` holds only its commands)
    reading: BlockReading | None = field(default=None, compare=False, repr=False)  # what is typed in it

    @property
    def ref(self) -> str:
        return self.name or f"{self.section}[{self.index}]"

    @property
    def expectations(self) -> tuple[Expectation, ...]:
        return tuple(e for s in self.segments for e in s.expectations)


@dataclass(frozen=True)
class ManualStep:
    """A prose action a person must do ("Notify all users"): a checklist item, never dropped."""

    section: str
    text: str
    location: Location
    phase: Phase | None = None


@dataclass(frozen=True)
class Problem:
    """Something the parser met and could not use as written (it never stops parsing)."""

    code: str
    message: str
    location: Location
    severity: LintLevel = LintLevel.WARNING


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    level: int
    location: Location
    parent: str | None = None
    steps: tuple[Step, ...] = ()
    manual: tuple[ManualStep, ...] = ()

    def steps_in(self, phase: Phase) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.phase is phase)


@dataclass(frozen=True)
class FrontMatter:
    default_host: str | None = None
    default_timeout: float | None = None
    hosts: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()  # names the environment provides (bound by scenarios)


class UnknownSection(BadInput):
    def __init__(self, runbook: Path | str, anchor: str, known: list[str]) -> None:
        self.anchor = anchor
        close = [a for a in known if anchor.split("-")[0] and a.startswith(anchor.split("-")[0])][:5]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        super().__init__(f"{runbook}: no section #{anchor}{hint} (`gameday lint {runbook}` lists them)")


@dataclass(frozen=True)
class Runbook:
    path: str
    sections: tuple[Section, ...]
    front_matter: FrontMatter = field(default_factory=FrontMatter)
    problems: tuple[Problem, ...] = ()
    line_count: int = 0

    @cached_property
    def _by_anchor(self) -> dict[str, Section]:
        """Sections by anchor, the first of each (looked up once per section by lint: a scan would be quadratic)."""
        index: dict[str, Section] = {}
        for section in self.sections:
            index.setdefault(section.anchor, section)
        return index

    def section(self, anchor: str) -> Section:
        anchor = anchor.lstrip("#")
        found = self._by_anchor.get(anchor)
        if found is None:
            raise UnknownSection(self.path, anchor, [s.anchor for s in self.sections])
        return found

    def parent_of(self, section: Section) -> Section | None:
        return self.section(section.parent) if section.parent else None

    def diagnosis(self, anchor: str) -> tuple[Step, ...]:
        """The section's diagnosis: what its ancestors diagnose first, then its own."""
        section = self.section(anchor)
        parent = self.parent_of(section)
        inherited = self.diagnosis(parent.anchor) if parent else ()
        return inherited + section.steps_in(Phase.DIAGNOSE)

    def steps(self) -> tuple[Step, ...]:
        return tuple(step for section in self.sections for step in section.steps)

    def manual_steps(self) -> tuple[ManualStep, ...]:
        return tuple(m for section in self.sections for m in section.manual)
