"""One drill: a scenario's fault on a running stack, the runbook's own steps, and a verdict.

The lifecycle (DESIGN.md "Drill lifecycle") as a script of phases over the scenario's drill plan
(harness.plan) and its observers (harness.observe.observers): observe (probes and synthetic users
for the whole drill), baseline (the negative control: the diagnosis must not fire on a healthy
stack; it runs while the observers warm up), inject once the probes see the stack healthy, detect,
diagnose (the fault-time expectations must hold), fix (the runbook's commands verbatim), recover
(steady state within the budget), verify, and ALWAYS roll back.

Each phase takes the drill's `Timeline` (frozen: the moments so far) and returns the next one.
What a phase finds is written to the journal as it happens; the `DrillResult` is built from the
drill's journal events at the end, the same way a report reads them later.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from harness import interrupts, timing
from harness.clock import SYSTEM_CLOCK, Clock
from harness.errors import BadInput, ExecError, GamedayError
from harness.faults.base import FaultRecord, listening
from harness.journal import (
    CheckRecord,
    DrillFinished,
    DrillStarted,
    Event,
    FaultRecorded,
    FindingRecorded,
    Journal,
    ManualChecklist,
    Metrics,
    PhaseStarted,
    ProbeTransition,
    Series,
    StepRecorded,
)
from harness.observe.observers import Observers
from harness.observe.samples import ProbeSample
from harness.observe.verdict import time_degraded, traffic_stats
from harness.plan import DrillPlan, PlannedStep
from harness.redact import Redactor
from harness.runbook.execute import StepRun, run_step
from harness.runbook.model import ExpectationKind
from harness.scenarios import DrillContext, fault_in, fault_out
from harness.stack.stack import Stack
from harness.vocabulary import DrillPhase, FaultAction, FindingKind, Mark, Priority, Verdict

RECOVER_WAIT_FACTOR = 2.0  # wait this many recovery budgets before calling a fix failed (slow vs failed)
RECOVER_POLL = 0.25
SERIES_BUCKET = 1.0
# bash's "bash: line 3: pm2: command not found" and dash's "sh: 1: pm2: not found"
_NOT_FOUND = re.compile(r"^(?:[^\n:]+: )?(?:line \d+: |\d+: )?([^\s:]+): (?:command )?not found$", re.MULTILINE)


def missing_commands(stderr: str) -> list[str]:
    """The commands a shell said it could not find (bash's and sh's wording), each once."""
    return list(dict.fromkeys(_NOT_FOUND.findall(stderr)))


@dataclass(frozen=True)
class DrillResult:
    """How one drill ended, read back from its journal events."""

    drill_id: str
    scenario: str
    title: str
    runbook: str
    section: str
    verdict: Verdict
    findings: tuple[FindingRecorded, ...] = ()
    metrics: Metrics | None = None
    faults: tuple[tuple[str, FaultAction], ...] = ()  # each fault's last recorded action
    stack_id: str = ""  # the stack it ran on (its objects carry this id as a label)

    @classmethod
    def from_events(cls, events: Iterable[Event], drill_id: str, *, stack_id: str = "") -> DrillResult:
        """The result of drill `drill_id` from a journal's events (GamedayError when it has not finished)."""
        started: DrillStarted | None = None
        finished: DrillFinished | None = None
        findings: list[FindingRecorded] = []
        faults: dict[str, FaultAction] = {}
        for event in events:
            if getattr(event, "drill", None) != drill_id:
                continue
            if isinstance(event, DrillStarted):
                started = event
            elif isinstance(event, DrillFinished):
                finished = event
            elif isinstance(event, FindingRecorded):
                findings.append(event)
            elif isinstance(event, FaultRecorded):
                faults[event.fault] = event.action
        if started is None or finished is None:
            raise GamedayError(f"drill {drill_id}: the journal holds no {'start' if started is None else 'end'}")
        return cls(drill_id, started.scenario, started.title, started.runbook, started.section, finished.verdict,
                   tuple(findings), finished.metrics, tuple(faults.items()), stack_id)

    @property
    def fault_outcomes(self) -> dict[str, FaultAction]:
        return dict(self.faults)

    @property
    def faults_left(self) -> list[str]:
        """Faults still in effect after the drill: always empty unless a rollback failed."""
        return [fault for fault, action in self.faults if not action.ended]

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASSED

    def assert_passed(self) -> None:
        """Fail (AssertionError) with every finding when the drill did not pass."""
        if not self.passed:
            raise AssertionError(self.explain())

    def explain(self) -> str:
        runbook = self.runbook.rsplit("/", 1)[-1]
        head = f"drill {self.scenario} ({runbook}#{self.section}): {self.verdict}"
        return "\n".join([head, *(f"  - {f.describe()}" for f in self.findings)])


@dataclass(frozen=True)
class Timeline:
    """The moments of a drill so far (clock readings); each phase returns the next timeline."""

    t0: float | None = None  # the inject
    diagnosed: float | None = None
    fix: float | None = None
    recovered: float | None = None
    verified: float | None = None  # the end of what the metrics cover (rollback is not the drill)

    def marks(self, origin: float) -> tuple[tuple[str, float], ...]:
        moments = ((Mark.INJECT, self.t0), (Mark.DIAGNOSED, self.diagnosed), (Mark.FIX, self.fix),
                   (Mark.RECOVERED, self.recovered))
        return tuple((str(mark), round(at - origin, 3)) for mark, at in moments if at is not None)


def probe_transitions(journal: Journal, drill_id: str, origin: float) -> Callable[[ProbeSample], None]:
    """A probe listener that journals each change between healthy and not."""
    last: list[bool] = []

    def on_probe(sample: ProbeSample) -> None:
        if not last or sample.ok != last[-1]:
            last[:] = [sample.ok]
            journal.write(ProbeTransition(drill_id, sample.ok, sample.status, sample.detail,
                                          round(sample.t - origin, 3)))

    return on_probe


class Drill:
    """Runs one drill plan on one healthy stack, writing to the journal."""

    def __init__(self, plan: DrillPlan, stack: Stack, journal: Journal, redactor: Redactor, *,
                 drill_id: str | None = None, clock: Clock = SYSTEM_CLOCK,
                 observers: Observers | None = None) -> None:
        self.plan, self.stack, self.journal, self.redactor, self.clock = plan, stack, journal, redactor, clock
        self.scenario = plan.scenario
        self.id = drill_id or plan.scenario.key
        self.ctx = DrillContext(plan.scenario, stack, redactor, clock)
        self.started = clock.now()
        self._observers = observers  # built in the observe phase, unless given (scripted ones in tests)

    @property
    def observers(self) -> Observers:
        """The scenario's observers of this stack, made on first use: in the observe phase, whose
        time includes attaching them."""
        if self._observers is None:
            self._observers = Observers.watching(self.scenario.observation, self.stack, self.clock,
                                                 on_probe=probe_transitions(self.journal, self.id, self.started))
        return self._observers

    # -- records -------------------------------------------------------------------------------

    def t(self) -> float:
        return round(self.clock.now() - self.started, 3)

    def phase(self, name: DrillPhase) -> None:
        self.journal.write(PhaseStarted(self.id, name, self.t()))

    def find(self, kind: FindingKind, step: str, message: str, *, location: str = "", expected: str = "",
             seen: str = "") -> None:
        redact = self.redactor
        self.journal.write(FindingRecorded(self.id, kind, step, redact(message), location, redact(expected),
                                           redact(seen), self.t()))

    def record_fault(self, record: FaultRecord) -> None:
        self.journal.write(FaultRecorded(self.id, record.fault, record.action, record.detail,
                                         round(record.at - self.started, 3)))

    def events(self) -> list[Event]:
        return [e for e in self.journal.events if getattr(e, "drill", None) == self.id]

    def findings(self) -> list[FindingRecorded]:
        return [e for e in self.events() if isinstance(e, FindingRecorded)]

    # -- running steps -------------------------------------------------------------------------

    def run(self, planned: PlannedStep, phase: DrillPhase, expect: ExpectationKind,
            variables: Mapping[str, str]) -> StepRun | None:
        """Run a step, journal it; None when it could not run at all or did not finish in time (a
        step-error finding: its expectations were not reached, so they judge nothing)."""
        step = planned.step
        try:
            host = self.stack.host(planned.host)
            with timing.waiting(timing.RUNBOOK):
                run = run_step(step, host, variables=variables, until=expect, clock=self.clock)
        except (ExecError, BadInput) as exc:
            self.find(FindingKind.STEP_ERROR, step.ref, f"could not run on {planned.host}: {exc}",
                      location=planned.location)
            return None
        checks = tuple(
            CheckRecord(c.expectation.kind, c.expectation.condition, c.expectation.text,
                        c.expectation.location.line, c.ok, c.result.describe(), c.result.diff)
            for s in run.segments for c in s.checks)
        self.journal.write(StepRecorded(
            self.id, phase, step.ref, run.host, planned.location, step.code, run.exit_code, run.stdout,
            run.stderr, round(run.duration, 3), run.timed_out, run.attempts, expect.value, run.holds(expect),
            checks, self.t()))
        if run.timed_out:
            self.find(FindingKind.STEP_ERROR, step.ref, f"timed out after {run.duration:.1f}s",
                      location=planned.location)
            return None
        return run

    # -- the lifecycle -------------------------------------------------------------------------

    def execute(self) -> DrillResult:
        scenario = self.scenario
        self.journal.write(DrillStarted(
            self.id, scenario.key, scenario.title, str(scenario.runbook), scenario.section, Priority(scenario.severity),
            scenario.detect_within, scenario.recover_within, scenario.steady_consecutive,
            self.stack.definition.name, redaction_patterns=self.stack.definition.redaction_patterns))
        timeline, interrupted = Timeline(), False
        fixture: Iterator[None] | None = None
        try:
            with listening(self.record_fault):
                variables = self.bind_variables()
                self.phase(DrillPhase.OBSERVE)
                with self.observers:
                    self.baseline(variables)  # while the observers warm up: a healthy stack under normal traffic
                    self.observers.wait_until_warm()
                    timeline, fixture = self.inject()
                    self.detect(timeline)
                    timeline = self.diagnose(timeline, variables)
                    timeline = self.fix(timeline, variables)
                    timeline = self.recover(timeline)
                    timeline = self.verify(timeline, variables)
                    self.phase(DrillPhase.ROLLBACK)
                    rolling, fixture = fixture, None
                    fault_out(rolling)
        except GamedayError as exc:
            self.find(FindingKind.HARNESS_ERROR, "-", str(exc))
        except Exception as exc:  # a bug or an unexpected failure: still a verdict, still a rollback
            self.find(FindingKind.HARNESS_ERROR, "-", f"{type(exc).__name__}: {exc}")
        except BaseException:  # Ctrl-C, SIGTERM (raised as KeyboardInterrupt), SystemExit: roll back, then go
            interrupted = True
            raise
        finally:
            try:
                if fixture is not None:
                    with listening(self.record_fault):
                        self.phase(DrillPhase.ROLLBACK)
                        fault_out(fixture)
            except (KeyboardInterrupt, SystemExit):  # a second Ctrl-C cut the rollback short: still journal
                interrupted = True
                raise
            finally:
                with interrupts.shielded():
                    self.finish(timeline, interrupted)
        return DrillResult.from_events(self.journal.events, self.id, stack_id=self.stack.stack_id)

    def bind_variables(self) -> dict[str, str]:
        """The values of the runbook's placeholders, from the scenario (its secrets never reach a report)."""
        variables = dict(self.scenario.variables(self.ctx)) if self.scenario.variables is not None else {}
        self.redactor.add(*self.stack.secrets.values())
        missing = [name for name in self.plan.needs if name not in variables]
        if missing:
            raise BadInput(f"scenario {self.scenario.key}: its variables gave no value for {', '.join(missing)}, "
                           "which the runbook's steps read")
        return variables

    def baseline(self, variables: Mapping[str, str]) -> None:
        """The negative control: on a healthy stack the diagnosis must say healthy."""
        self.phase(DrillPhase.BASELINE)
        for planned in self.plan.diagnosis:
            run = self.run(planned, DrillPhase.BASELINE, ExpectationKind.HEALTHY, variables)
            if run is None:
                continue
            for check in run.checks_of(ExpectationKind.HEALTHY):
                if not check.ok:
                    self.find(FindingKind.FALSE_ALARM, planned.ref, "this diagnosis reports trouble on a healthy "
                              "stack: it cannot tell healthy from broken", location=str(check.expectation.location),
                              expected=check.result.expected, seen=check.result.reason)
            for check in run.checks_of(ExpectationKind.FAULT):
                if check.ok and not run.checks_of(ExpectationKind.HEALTHY):
                    self.find(FindingKind.FALSE_ALARM, planned.ref, "its fault-time expectation already holds on "
                              "a healthy stack", location=str(check.expectation.location),
                              expected=check.result.expected)

    def inject(self) -> tuple[Timeline, Iterator[None]]:
        self.phase(DrillPhase.INJECT)
        t0 = self.clock.now()
        return Timeline(t0=t0), fault_in(self.scenario, self.ctx)

    def detect(self, timeline: Timeline) -> None:
        """Give the symptom up to the detection budget to show; not seeing it is not itself a finding
        (a leak harms no health check): the runbook's diagnosis is what must detect it."""
        self.phase(DrillPhase.DETECT)
        assert timeline.t0 is not None
        self.observers.wait_for_symptom(timeline.t0, self.clock.now() + self.scenario.detect_within)

    def diagnose(self, timeline: Timeline, variables: Mapping[str, str]) -> Timeline:
        self.phase(DrillPhase.DIAGNOSE)
        for planned in self.plan.diagnosis:
            run = self.run(planned, DrillPhase.DIAGNOSE, ExpectationKind.FAULT, variables)
            if run is None:
                continue
            faults, healthy = run.checks_of(ExpectationKind.FAULT), run.checks_of(ExpectationKind.HEALTHY)
            for check in faults:
                if not check.ok:
                    self.find(FindingKind.NOT_DETECTED, planned.ref, "its fault-time expectation does not hold "
                              "during the fault", location=str(check.expectation.location),
                              expected=check.result.expected, seen=check.result.reason)
            if not faults and healthy and all(c.ok for c in healthy):
                self.find(FindingKind.NOT_DETECTED, planned.ref, "it still reports healthy during the fault: it "
                          "does not look at what broke", location=str(healthy[0].expectation.location),
                          expected=f"not {healthy[0].result.expected}")
        return dataclasses.replace(timeline, diagnosed=self.clock.now())

    def fix(self, timeline: Timeline, variables: Mapping[str, str]) -> Timeline:
        self.phase(DrillPhase.FIX)
        timeline = dataclasses.replace(timeline, fix=self.clock.now())
        for planned in self.plan.fixes:
            run = self.run(planned, DrillPhase.FIX, ExpectationKind.HEALTHY, variables)
            missing = missing_commands(run.stderr) if run is not None else []
            if missing:  # health may come back anyway (by another step, or by itself): the step still did not run
                self.find(FindingKind.STEP_ERROR, planned.ref, f"{', '.join(missing)}: command not found on "
                          f"{planned.host}: this fix step does not do what it says there", location=planned.location)
            failed = [c for c in run.checks_of(ExpectationKind.HEALTHY) if not c.ok] if run is not None else []
            if failed:
                self.find(FindingKind.FIX_FAILED, planned.ref, "a check inside the fix does not hold",
                          location=str(failed[0].expectation.location), expected=failed[0].result.expected,
                          seen=failed[0].result.reason)
        return timeline

    def recover(self, timeline: Timeline) -> Timeline:
        """Wait for steady state; slower than the budget is slow-recovery, never is fix-failed."""
        self.phase(DrillPhase.RECOVER)
        assert timeline.fix is not None
        budget = self.scenario.recover_within
        deadline = timeline.fix + budget * RECOVER_WAIT_FACTOR
        last_fix = self.plan.fixes[-1].ref if self.plan.fixes else "-"
        while True:
            steady = self.observers.steady(timeline.fix, self.scenario.steady_consecutive)
            if steady.since is not None and self.scenario.steady is not None:
                ok, why = self.scenario.steady(self.ctx)
                steady = dataclasses.replace(steady, since=max(steady.since, self.clock.now()) if ok else None,
                                             why=why)
            if steady.since is not None or self.clock.now() >= deadline:
                break
            with timing.waiting(timing.STACK):
                self.clock.sleep(RECOVER_POLL)
        if steady.since is None:
            self.find(FindingKind.FIX_FAILED, last_fix, f"steady state did not come back within "
                      f"{budget * RECOVER_WAIT_FACTOR:g}s of the fix", seen=steady.why)
            return timeline
        self.check_recovery_is_proven(timeline)
        took = steady.since - timeline.fix
        if took > budget:
            self.find(FindingKind.SLOW_RECOVERY, last_fix, f"recovered {took:.1f}s after the fix started; the "
                      f"budget is {budget:g}s", expected=f"<= {budget:g}s", seen=f"{took:.1f}s")
        return dataclasses.replace(timeline, recovered=steady.since)

    def check_recovery_is_proven(self, timeline: Timeline) -> None:
        """Steady state came back, but did it ever leave? When no probe or synthetic request failed
        between the fault and the fix, and the scenario has no condition of its own (`steady`,
        `checks`), a fix that does nothing passes just the same: unproven-recovery, not a pass."""
        assert timeline.t0 is not None
        assert timeline.fix is not None
        if self.scenario.steady is not None or self.scenario.checks:
            return
        seen = self.observers.symptom_since(timeline.t0)
        if seen is not None and seen <= timeline.fix:
            return
        self.find(FindingKind.UNPROVEN_RECOVERY, "scenario",
                  f"no health probe or synthetic user failed between the fault and the fix, and scenario "
                  f"{self.scenario.key} has no condition of its own: steady state never left, so a fix that does "
                  f"nothing would pass", expected="a symptom the observers see, or a steady= or checks= condition",
                  seen="healthy from the fault to the fix")

    def verify(self, timeline: Timeline, variables: Mapping[str, str]) -> Timeline:
        self.phase(DrillPhase.VERIFY)
        for planned in self.plan.verifies:
            run = self.run(planned, DrillPhase.VERIFY, ExpectationKind.HEALTHY, variables)
            for check in run.checks_of(ExpectationKind.HEALTHY) if run is not None else ():
                if not check.ok:
                    self.find(FindingKind.VERIFY_FAILED, planned.ref, "the verification does not hold after the "
                              "fix", location=str(check.expectation.location), expected=check.result.expected,
                              seen=check.result.reason)
        target = self.scenario.min_success_ratio
        if target is not None and timeline.recovered is not None and self.observers.users:
            after = traffic_stats(self.observers.requests(), timeline.recovered, self.clock.now())
            if after.total and after.success_ratio < target:
                self.find(FindingKind.VERIFY_FAILED, "synthetic-users",
                          f"legitimate users' success ratio after recovery is {after.success_ratio:.1%}",
                          expected=f">= {target:.0%}", seen=f"{after.total - after.failed}/{after.total} ok")
        for condition in self.scenario.checks:
            ok, why = condition(self.ctx)
            if not ok:
                self.find(FindingKind.VERIFY_FAILED, f"scenario:{getattr(condition, '__name__', 'check')}", why)
        return dataclasses.replace(timeline, verified=self.clock.now())

    # -- the end -------------------------------------------------------------------------------

    def finish(self, timeline: Timeline, interrupted: bool) -> None:
        if self._observers is not None:
            self._observers.stop()
        for fault, action in self.fault_actions().items():
            if not action.ended:
                self.find(FindingKind.HARNESS_ERROR, "rollback", f"fault {fault} is still in effect after the "
                          f"drill (last: {action})")
        findings = self.findings()
        metrics = self.metrics(timeline, findings) if timeline.t0 is not None else None
        if timeline.t0 is not None:
            probe, traffic = self.observers.series(self.clock.now(), SERIES_BUCKET)
            self.journal.write(Series(self.id, probe, traffic, SERIES_BUCKET, timeline.marks(self.started)))
        self.journal.write(ManualChecklist(self.id, tuple((m.section, m.text, m.location.line)
                                                          for m in self.plan.manual)))
        self.journal.write(DrillFinished(self.id, self.scenario.key, verdict_of(findings, interrupted),
                                         tuple(f.kind for f in findings), metrics, self.t()))

    def fault_actions(self) -> dict[str, FaultAction]:
        return {e.fault: e.action for e in self.events() if isinstance(e, FaultRecorded)}

    def metrics(self, timeline: Timeline, findings: list[FindingRecorded]) -> Metrics:
        t0 = timeline.t0
        assert t0 is not None
        end = timeline.verified or self.clock.now()
        probes, requests = self.observers.probes(), self.observers.requests()
        seen = self.observers.symptom_since(t0)
        detected_by_runbook = not any(f.kind is FindingKind.NOT_DETECTED for f in findings)
        if seen is None and detected_by_runbook and timeline.diagnosed is not None:
            seen = timeline.diagnosed  # nothing else sees this fault: the runbook's diagnosis did
        stats = traffic_stats(requests, t0, end)
        after = traffic_stats(requests, timeline.recovered, end) if timeline.recovered is not None else None
        steps = tuple((f"{e.phase}:{e.ref}", e.duration) for e in self.events() if isinstance(e, StepRecorded))

        def since(moment: float | None, origin: float | None = t0) -> float | None:
            return None if moment is None or origin is None else round(moment - origin, 3)

        return Metrics(
            detected=seen is not None,
            recovered=timeline.recovered is not None,
            time_to_detect=since(seen),
            time_to_diagnose=since(timeline.diagnosed),
            time_to_recover=since(timeline.recovered),
            time_to_recover_after_fix=since(timeline.recovered, timeline.fix),
            time_degraded=round(time_degraded(probes, t0, end), 3),
            detect_budget=self.scenario.detect_within,
            recover_budget=self.scenario.recover_within,
            requests_total=stats.total,
            requests_failed=stats.failed,
            users_affected=tuple(stats.users_affected),
            success_ratio_after_recovery=round(after.success_ratio, 4) if after and after.total else None,
            step_seconds=steps,
        )


def verdict_of(findings: Iterable[FindingRecorded], interrupted: bool) -> Verdict:
    if interrupted:
        return Verdict.INTERRUPTED
    kinds = {f.kind for f in findings}
    if FindingKind.HARNESS_ERROR in kinds:
        return Verdict.HARNESS_ERROR
    return Verdict.FAILED if kinds else Verdict.PASSED


def run_drill(plan: DrillPlan, stack: Stack, journal: Journal, redactor: Redactor, *,
              drill_id: str | None = None, clock: Clock = SYSTEM_CLOCK) -> DrillResult:
    """Run one drill on a healthy stack (the caller owns the stack's lifecycle)."""
    return Drill(plan, stack, journal, redactor, drill_id=drill_id, clock=clock).execute()
