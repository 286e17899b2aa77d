"""The words the harness branches on, each an enum in this one place, with its human text beside it.

They are the field types of the journal (harness.journal), so a journal line holds exactly one of
these values; their string values are what journals have always held, so older journals decode.
Reports, the CLI and the exercise debrief take their wording from `.text` here, never from a
table of their own.
"""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    """How a drill ended."""

    PASSED = "passed"
    FAILED = "failed"
    HARNESS_ERROR = "harness-error"
    INTERRUPTED = "interrupted"

    @property
    def text(self) -> str:
        return _VERDICT_TEXT[self]

    @property
    def symbol(self) -> str:
        return _VERDICT_SYMBOL[self]

    @property
    def is_error(self) -> bool:
        """The drill did not come to a judgement of the runbook (JUnit: an error, not a failure)."""
        return self in (Verdict.HARNESS_ERROR, Verdict.INTERRUPTED)


# Worst first: the overall verdict of several drills is the first of these that any of them has.
VERDICT_RANK = (Verdict.HARNESS_ERROR, Verdict.FAILED, Verdict.INTERRUPTED, Verdict.PASSED)

_VERDICT_TEXT = {
    Verdict.PASSED: "passed: the runbook found the fault and repaired it as written",
    Verdict.FAILED: "failed: the runbook did not hold up (see the findings)",
    Verdict.HARNESS_ERROR: "harness error: the drill could not complete, so it does not judge the runbook yet",
    Verdict.INTERRUPTED: "interrupted: the drill stopped before it finished",
}
_VERDICT_SYMBOL = {Verdict.PASSED: "✓", Verdict.FAILED: "✗", Verdict.HARNESS_ERROR: "⚠", Verdict.INTERRUPTED: "■"}


class FindingKind(StrEnum):
    """What a drill found wrong with the runbook (or, for HARNESS_ERROR, with the drill itself)."""

    NOT_DETECTED = "not-detected"
    FALSE_ALARM = "false-alarm"
    FIX_FAILED = "fix-failed"
    SLOW_RECOVERY = "slow-recovery"
    VERIFY_FAILED = "verify-failed"
    STEP_ERROR = "step-error"
    UNPROVEN_RECOVERY = "unproven-recovery"  # the drill cannot tell a working fix from a no-op
    HARNESS_ERROR = "harness-error"

    @property
    def text(self) -> str:
        return _FINDING_TEXT[self]


_FINDING_TEXT = {
    FindingKind.NOT_DETECTED: "the diagnosis did not detect the fault",
    FindingKind.FALSE_ALARM: "the diagnosis reports trouble on a healthy stack",
    FindingKind.FIX_FAILED: "the fix did not bring steady state back",
    FindingKind.SLOW_RECOVERY: "the fix worked, but slower than the budget",
    FindingKind.VERIFY_FAILED: "the verification does not hold after the fix",
    FindingKind.STEP_ERROR: "a runbook step could not run or timed out",
    FindingKind.UNPROVEN_RECOVERY: "the harness never saw the fault, so it cannot tell whether the fix worked",
    FindingKind.HARNESS_ERROR: "the harness could not run the drill to its end",
}


class DrillPhase(StrEnum):
    """The stages of a drill's lifecycle, in order (DESIGN.md "Drill lifecycle")."""

    STACK_UP = "stack-up"
    OBSERVE = "observe"
    BASELINE = "baseline"
    INJECT = "inject"
    DETECT = "detect"
    DIAGNOSE = "diagnose"
    FIX = "fix"
    RECOVER = "recover"
    VERIFY = "verify"
    ROLLBACK = "rollback"

    @property
    def text(self) -> str:
        return _PHASE_TEXT[self]


_PHASE_TEXT = {
    DrillPhase.STACK_UP: "Fresh stack up for this drill",
    DrillPhase.OBSERVE: "Observers start (health probe, synthetic users)",
    DrillPhase.BASELINE: "Baseline: the runbook's diagnosis runs against the healthy stack",
    DrillPhase.INJECT: "Fault injection starts",
    DrillPhase.DETECT: "Waiting for the symptom to show",
    DrillPhase.DIAGNOSE: "Diagnosis starts (runbook steps)",
    DrillPhase.FIX: "Fix starts (runbook steps)",
    DrillPhase.RECOVER: "Fix steps done; waiting for steady state",
    DrillPhase.VERIFY: "Verification starts (runbook steps)",
    DrillPhase.ROLLBACK: "Harness rollback starts",
}

# The drill phases in which the runbook's steps run, in the order a drill runs them.
STEP_PHASES = (DrillPhase.BASELINE, DrillPhase.DIAGNOSE, DrillPhase.FIX, DrillPhase.VERIFY)

# Which drill phase a finding's step ran in (to place the finding on a timeline).
FINDING_PHASE = {
    FindingKind.FALSE_ALARM: DrillPhase.BASELINE,
    FindingKind.NOT_DETECTED: DrillPhase.DIAGNOSE,
    FindingKind.FIX_FAILED: DrillPhase.FIX,
    FindingKind.VERIFY_FAILED: DrillPhase.VERIFY,
}


class Mark(StrEnum):
    """Moments marked on a drill's or an exercise's timeline."""

    INJECT = "inject"
    DIAGNOSED = "diagnosed"
    FIX = "fix"
    RECOVERED = "recovered"
    PAGE = "page"

    @property
    def text(self) -> str:
        return _MARK_TEXT[self]

    @property
    def label(self) -> str:
        """The mark's name as a label ("Fix started")."""
        return _MARK_LABEL[self]


_MARK_TEXT = {
    Mark.INJECT: "the harness breaks the system on purpose",
    Mark.DIAGNOSED: "the runbook's diagnosis steps are done",
    Mark.FIX: "the first runbook fix step runs",
    Mark.RECOVERED: "steady state is back",
    Mark.PAGE: "the trainee is paged",
}
_MARK_LABEL = {Mark.INJECT: "Inject", Mark.DIAGNOSED: "Diagnosed", Mark.FIX: "Fix started", Mark.RECOVERED: "Recovered",
               Mark.PAGE: "Paged"}


class FaultAction(StrEnum):
    """What happened to a fault, as the fault records it (harness.faults.base)."""

    INJECTED = "injected"
    VERIFIED = "verified"
    ROLLED_BACK = "rolled-back"
    ALREADY_RESTORED = "already-restored"
    ROLLBACK_FAILED = "rollback-failed"

    @property
    def text(self) -> str:
        return _FAULT_TEXT[self]

    @property
    def ended(self) -> bool:
        """The fault is no longer in effect after this action."""
        return self in (FaultAction.ROLLED_BACK, FaultAction.ALREADY_RESTORED)


_FAULT_TEXT = {
    FaultAction.INJECTED: "injected",
    FaultAction.VERIFIED: "confirmed in effect",
    FaultAction.ROLLED_BACK: "rolled back by the harness (it was still in effect)",
    FaultAction.ALREADY_RESTORED: "already gone at rollback: the fix had ended it",
    FaultAction.ROLLBACK_FAILED: "rollback failed",
}


class Outcome(StrEnum):
    """How an onboarding exercise ended."""

    RECOVERED = "recovered"
    GAVE_UP = "gave-up"
    TIME_LIMIT = "time-limit"
    INTERRUPTED = "interrupted"
    HARNESS_ERROR = "harness-error"

    @property
    def text(self) -> str:
        return _OUTCOME_TEXT[self]

    @property
    def is_error(self) -> bool:
        """The exercise was cut short: neither the trainee nor the clock ended it."""
        return self in (Outcome.INTERRUPTED, Outcome.HARNESS_ERROR)


_OUTCOME_TEXT = {
    Outcome.RECOVERED: "recovered: steady state came back",
    Outcome.GAVE_UP: "not recovered: the trainee gave up",
    Outcome.TIME_LIMIT: "not recovered: the time limit ran out",
    Outcome.INTERRUPTED: "not recovered: the exercise was interrupted",
    Outcome.HARNESS_ERROR: "not recovered: the harness could not run the exercise to its end",
}


class Priority(StrEnum):
    """A scenario's incident priority (P0 the worst); not to be confused with a lint finding's level."""

    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @property
    def marker(self) -> str:
        """The pytest marker that selects drills of this priority (`-m p0`)."""
        return self.value.lower()


class SectionVerdict(StrEnum):
    """How a runbook section fared when graded (`gameday grade`)."""

    HELD = "held"
    FAILED = "failed"
    NOT_JUDGED = "not-judged"
    NOT_DRILLED = "not-drilled"

    @property
    def text(self) -> str:
        return _SECTION_TEXT[self]


_SECTION_TEXT = {
    SectionVerdict.HELD: "held: its steps ran in a drill and did what they say",
    SectionVerdict.FAILED: "failed: a drill found it does not work as written",
    SectionVerdict.NOT_JUDGED: "not judged: its drill could not run to its end, or could not judge its fix",
    SectionVerdict.NOT_DRILLED: "not drilled: no scenario reaches it",
}


class GradeFindingKind(StrEnum):
    """What grading finds about a section beyond its drill's own findings (read from the journal)."""

    DIAGNOSIS_SIDE_EFFECT = "diagnosis-side-effect"
    NO_FIX = "no-fix"
    FIX_STEP_FAILED = "fix-step-failed"

    @property
    def text(self) -> str:
        return _GRADE_FINDING_TEXT[self]


_GRADE_FINDING_TEXT = {
    GradeFindingKind.DIAGNOSIS_SIDE_EFFECT: "a diagnosis with side effects: looking at the fault changed the system",
    GradeFindingKind.NO_FIX: "the section has no fix a drill can run: whatever recovered, the runbook did not do it",
    GradeFindingKind.FIX_STEP_FAILED: "a fix step failed (an exit status nothing in its block expects), and health "
                                      "came back anyway: the step as written is not what fixed it",
}
