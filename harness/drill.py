"""One drill: a scenario's fault on a running stack, the runbook's own steps, and a verdict.

The lifecycle (DESIGN.md "Drill lifecycle"): observe (probes and synthetic users for the whole
drill, from here on), baseline (the negative control: the diagnosis must not fire on a healthy
stack; it runs while the observers warm up), inject at t0 once the probes see the stack healthy
and prove it, detect, diagnose (the fault-time expectations must hold), fix (the runbook's
commands verbatim), recover (steady state within the budget), verify, and ALWAYS roll back.
Everything is journaled; the verdict is `passed` or the list of findings.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from harness import interrupts, timing
from harness.clock import SYSTEM_CLOCK, Clock
from harness.errors import BadInput, ExecError, GamedayError
from harness.faults.base import FaultRecord, listening
from harness.journal import (
    CheckRecord,
    DrillFinished,
    DrillStarted,
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
from harness.observe.probe import HealthProbe
from harness.observe.samples import ProbeSample, RequestSample
from harness.observe.traffic import SyntheticTraffic
from harness.observe.verdict import (
    probe_series,
    steady_since,
    success_ratio_series,
    time_degraded,
    traffic_stats,
)
from harness.redact import Redactor
from harness.runbook.execute import StepRun, run_step
from harness.runbook.model import ExpectationKind, ManualStep, Phase, Runbook, Step
from harness.runbook.parse import parse_runbook
from harness.runbook.variables import holes
from harness.scenario import DrillContext, Scenario, fault_in, fault_out
from harness.stack.stack import Stack

FINDING_KINDS = ("not-detected", "false-alarm", "fix-failed", "slow-recovery", "verify-failed", "step-error",
                 "harness-error")
WARMUP_TIMEOUT = 20.0  # the stack must look healthy to the probes before a fault is injected
WARMUP_OK_SAMPLES = 3
RECOVER_WAIT_FACTOR = 2.0  # wait this many recovery budgets before calling a fix failed (slow vs failed)
RECOVER_POLL = 0.25
TRAFFIC_STEADY_REQUESTS = 3  # synthetic requests in a row that must succeed for traffic to count as steady
SERIES_BUCKET = 1.0


@dataclass(frozen=True)
class Finding:
    kind: str
    step: str
    message: str
    location: str = ""
    expected: str = ""
    seen: str = ""

    def __str__(self) -> str:
        where = f" ({self.location})" if self.location else ""
        text = f"{self.kind}: {self.step}{where}: {self.message}"
        if self.expected:
            text += f"\n    expected: {self.expected}"
        if self.seen:
            text += f"\n    seen: {self.seen}"
        return text


@dataclass
class DrillResult:
    scenario: Scenario
    drill_id: str
    verdict: str = "harness-error"
    findings: list[Finding] = field(default_factory=list)
    metrics: Metrics | None = None
    fault_outcomes: dict[str, str] = field(default_factory=dict)  # fault -> its last recorded action
    stack_id: str = ""  # the stack it ran on (its objects carry this id as a label)

    @property
    def faults_left(self) -> list[str]:
        """Faults still in effect after the drill: always empty unless a rollback failed."""
        return [f for f, action in self.fault_outcomes.items() if action not in ("rolled-back", "already-restored")]

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"

    def assert_passed(self) -> None:
        """Fail (AssertionError) with every finding when the drill did not pass."""
        if not self.passed:
            raise AssertionError(self.explain())

    def explain(self) -> str:
        head = f"drill {self.scenario.id} ({self.scenario.runbook.name}#{self.scenario.section}): {self.verdict}"
        return "\n".join([head, *(f"  - {f}" for f in self.findings)])


def wait_until_warm(probe: HealthProbe) -> None:
    """Wait until the probe's last few samples are healthy (GamedayError, with the last probe's
    detail, when they are not within WARMUP_TIMEOUT): no fault goes into a stack that looks sick."""
    warm = probe.wait_until(
        lambda samples: len(samples) >= WARMUP_OK_SAMPLES and all(s.ok for s in samples[-WARMUP_OK_SAMPLES:]),
        timeout=WARMUP_TIMEOUT)
    if not warm:
        latest = probe.latest()
        raise GamedayError(f"the stack did not look healthy to the probes before the fault "
                           f"(last probe: {latest.detail if latest else 'none'})")


def resolve_runbook(scenario: Scenario) -> tuple[Runbook, list[Step], list[Step], list[Step]]:
    """Parse the runbook and pick the section's steps; BadInput before anything starts."""
    if not scenario.runbook.exists():
        raise BadInput(f"scenario {scenario.id}: runbook {scenario.runbook} does not exist")
    runbook = parse_runbook(scenario.runbook)
    section = runbook.section(scenario.section)

    def runnable(steps: tuple[Step, ...]) -> list[Step]:
        return [s for s in steps if s.executable and not s.skip]

    return (runbook, runnable(runbook.diagnosis(section.anchor)), runnable(section.steps_in(Phase.FIX)),
            runnable(section.steps_in(Phase.VERIFY)))


def check_bound(scenario: Scenario, runbook: Runbook, steps: Iterable[Step], bound: Iterable[str]) -> None:
    """BadInput (step's file:line) when a step reads a variable the runbook declares in front matter
    and the scenario does not bind."""
    declared, given = set(runbook.front_matter.variables), set(bound)
    for step in steps:
        for hole in holes(step.code):
            if hole.name in declared and hole.name not in given:
                raise BadInput(f"{step.location}: the runbook needs {hole.name}, which scenario {scenario.id} "
                               "does not bind (add it to the scenario's variables and binds)")


class Drill:
    """Runs one scenario on one healthy stack, writing to the journal."""

    def __init__(self, scenario: Scenario, stack: Stack, journal: Journal, redactor: Redactor, *,
                 drill_id: str | None = None, clock: Clock = SYSTEM_CLOCK) -> None:
        self.scenario = scenario
        self.stack = stack
        self.journal = journal
        self.clock = clock
        self.result = DrillResult(scenario, drill_id or scenario.id, stack_id=stack.stack_id)
        self.ctx = DrillContext(scenario, stack, redactor, clock)
        self.runbook, self.diagnosis, self.fixes, self.verifies = resolve_runbook(scenario)
        self.variables: dict[str, str] = {}
        self.started = clock.now()
        self.t0: float | None = None
        self.fix_started: float | None = None
        self.diagnosed_at: float | None = None
        self.recovered_at: float | None = None
        self.verified_at: float | None = None  # the end of what the metrics cover (rollback is not the drill)
        self.marks: list[tuple[str, float]] = []
        self.step_seconds: list[tuple[str, float]] = []
        self.probe: HealthProbe | None = None
        self.traffic: SyntheticTraffic | None = None
        self._last_probe_ok: bool | None = None
        self.users: list[str] = []
        self.interrupted = False

    # -- helpers -------------------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self.result.drill_id

    def t(self) -> float:
        return round(self.clock.now() - self.started, 3)

    def phase(self, name: str) -> None:
        self.journal.write(PhaseStarted(self.id, name, self.t()))

    def mark(self, name: str) -> None:
        self.marks.append((name, self.t()))

    def find(self, kind: str, step: str, message: str, *, location: str = "", expected: str = "",
             seen: str = "") -> None:
        redact = self.ctx.redactor
        finding = Finding(kind, step, redact(message), location, redact(expected), redact(seen))
        self.result.findings.append(finding)
        self.journal.write(FindingRecorded(self.id, kind, step, finding.message, location, finding.expected,
                                           finding.seen, self.t()))

    def record_fault(self, record: FaultRecord) -> None:
        self.result.fault_outcomes[record.fault] = record.action
        self.journal.write(FaultRecorded(self.id, record.fault, record.action, record.detail,
                                         round(record.at - self.started, 3)))

    def on_probe(self, sample: ProbeSample) -> None:
        if sample.ok != self._last_probe_ok:
            self._last_probe_ok = sample.ok
            self.journal.write(ProbeTransition(self.id, sample.ok, sample.status, sample.detail,
                                               round(sample.t - self.started, 3)))

    # -- running steps -------------------------------------------------------------------------

    def run(self, step: Step, phase: str, expect: ExpectationKind | None) -> StepRun | None:
        """Run a step, journal it; None when it could not run at all (a step-error finding)."""
        host_name = step.host or self.runbook.front_matter.default_host or self.stack.definition.services[-1].name
        try:
            host = self.stack.host(host_name)
            with timing.waiting(timing.RUNBOOK):
                run = run_step(step, host, variables=self.variables, until=expect, clock=self.clock)
        except (ExecError, BadInput) as exc:
            self.find("step-error", step.ref, f"could not run on {host_name}: {exc}", location=str(step.location))
            return None
        self.step_seconds.append((f"{phase}:{step.ref}", round(run.duration, 3)))
        checks = tuple(
            CheckRecord(c.expectation.kind.value, c.expectation.condition, c.expectation.text,
                        c.expectation.location.line, c.ok, c.result.describe(), c.result.diff)
            for s in run.segments for c in s.checks)
        passed = run.holds(expect) if expect else not run.timed_out
        self.journal.write(StepRecorded(
            self.id, phase, step.ref, run.host, str(step.location), step.code, run.exit_code, run.stdout,
            run.stderr, round(run.duration, 3), run.timed_out, run.attempts, expect.value if expect else "none",
            passed, checks, self.t()))
        if run.timed_out:
            self.find("step-error", step.ref, f"timed out after {run.duration:.1f}s", location=str(step.location))
        return run

    # -- the lifecycle -------------------------------------------------------------------------

    def execute(self) -> DrillResult:
        scenario = self.scenario
        self.journal.write(DrillStarted(
            self.id, scenario.id, scenario.title, str(scenario.runbook), scenario.section, scenario.severity,
            scenario.detect_within, scenario.recover_within, scenario.steady_consecutive,
            self.stack.definition.name, redaction_patterns=self.stack.definition.redaction_patterns))
        fixture: Iterator[None] | None = None
        try:
            with listening(self.record_fault):
                self.bind_variables()
                with self.observing():
                    self.baseline()  # while the observers warm up: a healthy stack under normal traffic
                    self.warmed_up()
                    fixture = self.inject()
                    self.detect()
                    self.diagnose()
                    self.fix()
                    self.recover()
                    self.verify()
                    self.roll_back(fixture)
                    fixture = None
        except GamedayError as exc:
            self.find("harness-error", "-", str(exc))
        except Exception as exc:  # a bug or an unexpected failure: still a verdict, still a rollback
            self.find("harness-error", "-", f"{type(exc).__name__}: {exc}")
        except BaseException:  # Ctrl-C, SIGTERM (raised as KeyboardInterrupt), SystemExit: roll back, then go
            self.interrupted = True
            raise
        finally:
            try:
                if fixture is not None:
                    with listening(self.record_fault):
                        self.roll_back(fixture)
            except (KeyboardInterrupt, SystemExit):  # a second Ctrl-C cut the rollback short: still journal
                self.interrupted = True
                raise
            finally:
                with interrupts.shielded():
                    for fault in self.result.faults_left:
                        self.find("harness-error", "rollback", f"fault {fault} is still in effect after the drill "
                                  f"(last: {self.result.fault_outcomes[fault]})")
                    self.finish()
        return self.result

    def bind_variables(self) -> None:
        if self.scenario.variables is not None:
            self.variables = dict(self.scenario.variables(self.ctx))
        self.ctx.redactor.add(*self.stack.secrets.values())
        check_bound(self.scenario, self.runbook, [*self.diagnosis, *self.fixes, *self.verifies], self.variables)

    def baseline(self) -> None:
        """The negative control: on a healthy stack the diagnosis must say healthy."""
        self.phase("baseline")
        for step in self.diagnosis:
            run = self.run(step, "baseline", ExpectationKind.HEALTHY)
            if run is None:
                continue
            for check in run.checks_of(ExpectationKind.HEALTHY):
                if not check.ok:
                    self.find("false-alarm", step.ref, "this diagnosis reports trouble on a healthy stack: it cannot "
                              "tell healthy from broken", location=str(check.expectation.location),
                              expected=check.result.expected, seen=check.result.reason)
            for check in run.checks_of(ExpectationKind.FAULT):
                if check.ok and not run.checks_of(ExpectationKind.HEALTHY):
                    self.find("false-alarm", step.ref, "its fault-time expectation already holds on a healthy "
                              "stack", location=str(check.expectation.location), expected=check.result.expected)

    @contextlib.contextmanager
    def observing(self) -> Iterator[None]:
        observation = self.scenario.observation
        self.phase("observe")
        check = observation.health(self.stack)
        self.probe = HealthProbe(check, interval=observation.probe_interval, clock=self.clock,
                                 on_sample=self.on_probe)
        if observation.journey is not None:
            self.users = [f"synthetic-{n}" for n in range(1, observation.users + 1)]
            self.traffic = SyntheticTraffic(observation.journey(self.stack), self.users, pace=observation.pace,
                                            clock=self.clock)
        with contextlib.ExitStack() as stack:
            close = getattr(check, "close", None)
            if callable(close):
                stack.callback(close)
            stack.enter_context(self.probe)
            if self.traffic is not None:
                stack.enter_context(self.traffic)
            yield

    def warmed_up(self) -> None:
        """The probes must see a healthy stack before the fault goes in."""
        assert self.probe is not None
        wait_until_warm(self.probe)

    def inject(self) -> Iterator[None]:
        self.phase("inject")
        self.t0 = self.clock.now()
        self.mark("inject")
        return fault_in(self.scenario, self.ctx)

    def roll_back(self, fixture: Iterator[None]) -> None:
        """Resume the scenario's fixture after its yield: its fault context managers roll back."""
        self.phase("rollback")
        fault_out(fixture)

    def symptom_seen(self) -> float | None:
        """When the observers first saw the fault: a failed probe or a failed synthetic request."""
        assert self.t0 is not None
        times = [s.t for s in self.probe_samples() if s.t >= self.t0 and not s.ok]
        times += [r.t for r in self.request_samples() if r.t >= self.t0 and not r.ok]
        return min(times) if times else None

    def probe_samples(self) -> list[ProbeSample]:
        return self.probe.samples() if self.probe else []

    def request_samples(self) -> list[RequestSample]:
        return self.traffic.samples() if self.traffic else []

    def detect(self) -> None:
        """Give the symptom up to the detection budget to show; not seeing it is not itself a finding
        (a leak harms no health check): the runbook's diagnosis is what must detect it."""
        self.phase("detect")
        assert self.probe is not None
        deadline = self.clock.now() + self.scenario.detect_within
        while self.symptom_seen() is None and self.clock.now() < deadline:
            self.probe.wait_until(lambda samples: bool(samples) and not samples[-1].ok, timeout=RECOVER_POLL)

    def diagnose(self) -> None:
        self.phase("diagnose")
        for step in self.diagnosis:
            run = self.run(step, "diagnose", ExpectationKind.FAULT)
            if run is None:
                continue
            faults, healthy = run.checks_of(ExpectationKind.FAULT), run.checks_of(ExpectationKind.HEALTHY)
            for check in faults:
                if not check.ok:
                    self.find("not-detected", step.ref, "its fault-time expectation does not hold during the fault",
                              location=str(check.expectation.location), expected=check.result.expected,
                              seen=check.result.reason)
            if not faults and healthy and all(c.ok for c in healthy):
                self.find("not-detected", step.ref, "it still reports healthy during the fault: it does not look "
                          "at what broke", location=str(healthy[0].expectation.location),
                          expected=f"not {healthy[0].result.expected}")
        self.diagnosed_at = self.clock.now()
        self.mark("diagnosed")

    def fix(self) -> None:
        self.phase("fix")
        self.fix_started = self.clock.now()
        self.mark("fix")
        for step in self.fixes:
            run = self.run(step, "fix", ExpectationKind.HEALTHY)
            if run is not None and not run.holds(ExpectationKind.HEALTHY):
                failed = [c for c in run.checks_of(ExpectationKind.HEALTHY) if not c.ok]
                if failed:
                    self.find("fix-failed", step.ref, "a check inside the fix does not hold",
                              location=str(failed[0].expectation.location), expected=failed[0].result.expected,
                              seen=failed[0].result.reason)

    def steady_state(self) -> tuple[bool, str, float | None]:
        """(steady, why not, since when) from the probes, the synthetic users and the scenario."""
        assert self.fix_started is not None
        consecutive = self.scenario.steady_consecutive
        probes = self.probe_samples()
        since = steady_since(probes, self.fix_started, consecutive)
        if since is None:
            latest = probes[-1].detail if probes else "no probe yet"
            return False, f"health not steady ({consecutive} healthy probes in a row); last: {latest}", None
        if self.traffic is not None:
            traffic_since, why = self.traffic_steady_since()
            if traffic_since is None:
                return False, why, None
            since = max(since, traffic_since)
        if self.scenario.steady is not None:
            ok, why = self.scenario.steady(self.ctx)
            if not ok:
                return False, why, None
            since = max(since, self.recovered_at or self.clock.now())
        return True, "", since

    def traffic_steady_since(self) -> tuple[float | None, str]:
        """Synthetic users are steady from their last failure on, once every one of them has
        succeeded since (a user whose session was revoked must have logged in again)."""
        assert self.fix_started is not None
        requests = sorted((r for r in self.request_samples() if r.t >= self.fix_started), key=lambda r: r.t)
        failures = [r for r in requests if not r.ok]
        since = failures[-1].t if failures else self.fix_started
        after = [r for r in requests if r.t > since]
        waiting = set(self.users) - {r.user for r in after if r.ok}
        if len(after) < TRAFFIC_STEADY_REQUESTS or waiting:
            last = f"{failures[-1].user} {failures[-1].action} -> {failures[-1].status}" if failures else "none"
            return None, f"synthetic users not steady yet (waiting for {', '.join(sorted(waiting)) or 'requests'}; " \
                         f"last failure: {last})"
        return after[0].t, ""

    def recover(self) -> None:
        """Wait for steady state; slower than the budget is slow-recovery, never is fix-failed."""
        self.phase("recover")
        assert self.fix_started is not None
        budget = self.scenario.recover_within
        deadline = self.fix_started + budget * RECOVER_WAIT_FACTOR
        why = ""
        while True:
            steady, why, since = self.steady_state()
            if steady and since is not None:
                self.recovered_at = since
                break
            if self.clock.now() >= deadline:
                break
            with timing.waiting(timing.STACK):
                self.clock.sleep(RECOVER_POLL)
        if self.recovered_at is None:
            self.find("fix-failed", self.fixes[-1].ref if self.fixes else "-",
                      f"steady state did not come back within {budget * RECOVER_WAIT_FACTOR:.0f}s of the fix", seen=why)
            return
        self.mark("recovered")
        took = self.recovered_at - self.fix_started
        if took > budget:
            self.find("slow-recovery", self.fixes[-1].ref if self.fixes else "-",
                      f"recovered {took:.1f}s after the fix started; the budget is {budget:.0f}s",
                      expected=f"<= {budget:.0f}s", seen=f"{took:.1f}s")

    def verify(self) -> None:
        self.phase("verify")
        for step in self.verifies:
            run = self.run(step, "verify", ExpectationKind.HEALTHY)
            if run is None:
                continue
            for check in run.checks_of(ExpectationKind.HEALTHY):
                if not check.ok:
                    self.find("verify-failed", step.ref, "the verification does not hold after the fix",
                              location=str(check.expectation.location), expected=check.result.expected,
                              seen=check.result.reason)
        target = self.scenario.min_success_ratio
        if target is not None and self.recovered_at is not None and self.traffic is not None:
            after = traffic_stats(self.request_samples(), self.recovered_at, self.clock.now())
            if after.total and after.success_ratio < target:
                self.find("verify-failed", "synthetic-users",
                          f"legitimate users' success ratio after recovery is {after.success_ratio:.1%}",
                          expected=f">= {target:.0%}", seen=f"{after.total - after.failed}/{after.total} ok")
        for condition in self.scenario.checks:
            ok, why = condition(self.ctx)
            if not ok:
                name = getattr(condition, "__name__", "check")
                self.find("verify-failed", f"scenario:{name}", why)
        self.verified_at = self.clock.now()

    def finish(self) -> None:
        for probe_or_traffic in (self.probe, self.traffic):
            if probe_or_traffic is not None:
                probe_or_traffic.stop()
        self.result.verdict = self.verdict()
        self.result.metrics = self.metrics() if self.t0 is not None else None
        if self.t0 is not None:
            self.journal.write(Series(
                self.id, tuple(probe_series(self.probe_samples(), self.started)),
                tuple(success_ratio_series(self.request_samples(), self.started, self.clock.now(), SERIES_BUCKET)),
                SERIES_BUCKET, tuple(self.marks)))
        section = self.runbook.section(self.scenario.section)
        items = [*self._manual_of(section.parent), *section.manual]
        self.journal.write(ManualChecklist(self.id, tuple((m.section, m.text, m.location.line) for m in items)))
        self.journal.write(DrillFinished(self.id, self.scenario.id, self.result.verdict,
                                         tuple(f.kind for f in self.result.findings), self.result.metrics, self.t()))

    def _manual_of(self, anchor: str | None) -> list[ManualStep]:
        return [] if anchor is None else list(self.runbook.section(anchor).manual)

    def verdict(self) -> str:
        if self.interrupted:
            return "interrupted"
        kinds = {f.kind for f in self.result.findings}
        if "harness-error" in kinds:
            return "harness-error"
        return "failed" if kinds else "passed"

    def metrics(self) -> Metrics:
        assert self.t0 is not None
        end = self.verified_at or self.clock.now()
        probes, requests = self.probe_samples(), self.request_samples()
        seen = self.symptom_seen()
        detected_by_runbook = not any(f.kind == "not-detected" for f in self.result.findings)
        if seen is None and detected_by_runbook and self.diagnosed_at is not None:
            seen = self.diagnosed_at  # nothing else sees this fault: the runbook's diagnosis did
        stats = traffic_stats(requests, self.t0, end)
        after = traffic_stats(requests, self.recovered_at, end) if self.recovered_at is not None else None

        def since_t0(moment: float | None, origin: float | None = None) -> float | None:
            base = self.t0 if origin is None else origin
            return None if moment is None or base is None else round(moment - base, 3)

        return Metrics(
            detected=seen is not None,
            recovered=self.recovered_at is not None,
            time_to_detect=since_t0(seen),
            time_to_diagnose=since_t0(self.diagnosed_at),
            time_to_recover=since_t0(self.recovered_at),
            time_to_recover_after_fix=since_t0(self.recovered_at, self.fix_started),
            time_degraded=round(time_degraded(probes, self.t0, end), 3),
            detect_budget=self.scenario.detect_within,
            recover_budget=self.scenario.recover_within,
            requests_total=stats.total,
            requests_failed=stats.failed,
            users_affected=tuple(stats.users_affected),
            success_ratio_after_recovery=round(after.success_ratio, 4) if after and after.total else None,
            step_seconds=tuple(self.step_seconds),
        )


def run_drill(scenario: Scenario, stack: Stack, journal: Journal, redactor: Redactor, *,
              drill_id: str | None = None, clock: Clock = SYSTEM_CLOCK) -> DrillResult:
    """Run one drill on a healthy stack (the caller owns the stack's lifecycle)."""
    return Drill(scenario, stack, journal, redactor, drill_id=drill_id, clock=clock).execute()

