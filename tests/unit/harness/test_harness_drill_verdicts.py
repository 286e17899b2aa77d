"""Every verdict path of a whole drill, without Docker: harness.testing's fakes on a fake clock.

The fake system: a flag fault ("the database is down"), an app host whose `check-db` reads the
flag, a db host whose `start-db` clears it (the runbook's fix), and a health check reading the
flag, probed every 0.25 s of fake time. Times below are exact: the clock starts at 100.0, the
probe samples at 100.0, 100.25, ...; the stack is warm (3 healthy samples) at 100.5, which is t0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.drill import DrillResult
from harness.errors import ExecError
from harness.journal import DrillFinished, FaultRecorded, FindingRecorded, Journal, PhaseStarted
from harness.scenarios import DrillContext, HealthCheck, Observation, Scenario
from harness.testing import (
    Answer,
    FakeClock,
    FakeHost,
    FakeStack,
    FlagFault,
    Rule,
    ScriptedTraffic,
    fake_definition,
    run_fake_drill,
)
from harness.vocabulary import DrillPhase, FaultAction, FindingKind, Verdict

FAULT = "db-down"
START = 100.0
T0 = 100.5  # three healthy samples (100.0, 100.25, 100.5): warm, the fault goes in
INTERVAL = 0.25
RECOVER_BUDGET = 5.0

RUNBOOK = """\
---
default_host: app
hosts: app, db, local
---

# Shop runbook

## 1. Database down

**Diagnosis**:

```bash
check-db
# Expected: database: up
# Expected during fault: database: down
```

**Fix**:

```bash {host=db timeout=10s}
start-db
```

**Verification**:

```bash
check-app
# Expected: status: ok
check-data
# Expected: rows: 3
```
"""
SECTION = "1-database-down"
DIAGNOSIS, FIX, VERIFICATION = f"{SECTION}[1]", f"{SECTION}[2]", f"{SECTION}[3]"


def line_of(text: str) -> int:
    """The runbook's line holding `text` (1-based)."""
    return next(n for n, line in enumerate(RUNBOOK.splitlines(), start=1) if text in line)


@dataclass
class Shop:
    clock: FakeClock
    fault: FlagFault
    app: FakeHost
    db: FakeHost
    stack: FakeStack
    runbook: Path
    journal: Journal

    def drill(self, traffic: ScriptedTraffic | None = None, **changes: object) -> DrillResult:
        return run_fake_drill(scenario(self.runbook, **changes), self.stack, self.clock, self.journal,
                              traffic=traffic, drill_id="d1")

    def finished(self) -> DrillFinished:
        return next(e for e in self.journal.events if isinstance(e, DrillFinished))


def shop(tmp_path: Path, *, diagnosis: Answer | None = None, fix: Answer | None = None, fix_takes: float = 2.0,
         verification: Answer = (0, "rows: 3\n", ""), takes_effect: bool = True) -> Shop:
    """The fake system, well-behaved unless told otherwise (each answer replaces the sane one)."""
    clock = FakeClock(START)
    fault = FlagFault(FAULT, clock=clock, takes_effect=takes_effect)
    app = FakeHost("app", clock=clock)
    app.on("check-db", diagnosis or (lambda cmd: (0, "database: down\n" if fault.broken else "database: up\n", "")))
    app.on("check-app", lambda cmd: (0, "status: degraded\n" if fault.broken else "status: ok\n", ""))
    app.on("check-data", verification)
    db = FakeHost("db", clock=clock).on("start-db", fix or (lambda cmd: fault.repair()), takes=fix_takes)
    definition = fake_definition("shop", ["db", "app"], default_host="app")
    stack = FakeStack(definition, [app, db], faults=[fault], clock=clock)
    runbook = tmp_path / "RUNBOOK.md"
    runbook.write_text(RUNBOOK, encoding="utf-8")
    return Shop(clock, fault, app, db, stack, runbook, Journal(tmp_path / "journal.jsonl"))


def health(stack: FakeStack) -> HealthCheck:
    fault = stack.fault(FAULT)
    return lambda: (False, 503, "database: disconnected") if fault.broken else (True, 200, "ok")


def flag_down(drill: DrillContext) -> Iterator[None]:
    with drill.stack.fault(FAULT):  # type: ignore[attr-defined]  # a FakeStack
        yield


def scenario(runbook: Path, *, fixture: Callable[[DrillContext], Iterator[None]] = flag_down,
             **changes: object) -> Scenario:
    values: dict[str, object] = {
        "system": "shop", "name": FAULT, "title": "the database is down", "stack": Path("fake-stack.toml"),
        "runbook": runbook,
        "section": SECTION, "severity": "P0", "detect_within": 10.0, "recover_within": RECOVER_BUDGET,
        "fixture": fixture, "observation": Observation(health=health, probe_interval=INTERVAL),
        "steady_consecutive": 5}
    return Scenario(**{**values, **changes})  # type: ignore[arg-type]


def kinds(result: DrillResult) -> list[FindingKind]:
    return [f.kind for f in result.findings]


def test_runbook_that_detects_and_fixes_the_fault_passes_with_exact_times(tmp_path: Path) -> None:
    system = shop(tmp_path)
    users = ScriptedTraffic(system.clock, users=["u1", "u2"], ok=lambda user: not system.fault.broken)
    result = system.drill(traffic=users)  # a request per user per second: 100.0, 101.0, ...
    assert result.verdict is Verdict.PASSED, result.explain()
    assert result.findings == ()
    assert result.fault_outcomes == {FAULT: FaultAction.ALREADY_RESTORED}  # the runbook's fix ended it
    assert system.db.ran == ["start-db"]
    assert system.app.ran == ["check-db", "check-db", "check-app", "check-data"]  # baseline, diagnose, verify
    metrics = result.metrics
    assert metrics is not None
    # The first sample after t0 (100.75) sees the fault; the fix runs 100.75-102.75 and the first
    # healthy sample after it is 103.0 (then 4 more in a row).
    assert metrics.time_to_detect == pytest.approx(0.25)
    assert metrics.time_to_recover == pytest.approx(103.0 - T0)
    assert metrics.time_to_recover_after_fix == pytest.approx(103.0 - 100.75)
    assert metrics.time_degraded == pytest.approx(103.0 - 100.75)
    # requests from t0 to the end of the verification (104.0): 101-104, two users; 101 and 102 failed
    assert (metrics.requests_total, metrics.requests_failed) == (8, 4)
    assert metrics.users_affected == ("u1", "u2")
    assert system.finished().verdict is Verdict.PASSED


def test_diagnosis_whose_fault_expectation_does_not_hold_during_the_fault_is_not_detected(tmp_path: Path) -> None:
    system = shop(tmp_path, diagnosis=(0, "database: up\n", ""))  # looks somewhere that stays healthy
    result = system.drill()
    assert result.verdict is Verdict.FAILED
    assert kinds(result) == [FindingKind.NOT_DETECTED]
    finding = result.findings[0]
    assert finding.step == DIAGNOSIS
    assert finding.location == f"{system.runbook}:{line_of('# Expected during fault')}"
    assert finding.expected == 'text "database: down"'
    assert result.metrics is not None
    assert result.metrics.time_to_recover == pytest.approx(103.0 - T0)  # the fix still worked


def test_diagnosis_that_fires_on_the_healthy_stack_is_a_false_alarm(tmp_path: Path) -> None:
    system = shop(tmp_path, diagnosis=(0, "database: down\n", ""))  # always says broken
    result = system.drill()
    assert result.verdict is Verdict.FAILED
    assert kinds(result) == [FindingKind.FALSE_ALARM]
    finding = result.findings[0]
    assert finding.step == DIAGNOSIS
    assert finding.location == f"{system.runbook}:{line_of('# Expected: database: up')}"
    assert finding.expected == 'text "database: up"'
    found = next(e for e in system.journal.events if isinstance(e, FindingRecorded))
    injected = next(e for e in system.journal.events if isinstance(e, PhaseStarted) and e.phase is DrillPhase.INJECT)
    assert found.t <= injected.t  # in the baseline, on the healthy stack


def test_fix_after_which_steady_state_never_returns_is_fix_failed_and_the_harness_rolls_back(
        tmp_path: Path) -> None:
    system = shop(tmp_path, fix=(0, "started\n", ""))  # says it started, changes nothing
    result = system.drill()
    assert result.verdict is Verdict.FAILED
    assert kinds(result) == [FindingKind.FIX_FAILED, FindingKind.VERIFY_FAILED]  # still down when verified
    assert result.findings[0].step == FIX
    assert result.findings[0].message == "steady state did not come back within 10s of the fix"
    assert "health not steady" in result.findings[0].seen
    assert result.fault_outcomes == {FAULT: FaultAction.ROLLED_BACK}
    assert not system.fault.broken
    assert result.metrics is not None
    assert not result.metrics.recovered
    assert result.metrics.time_to_recover is None
    # it waited twice the budget after the fix (100.75 + 2.0 of fix) before calling it failed
    assert system.clock.t >= 100.75 + 2 * RECOVER_BUDGET


def test_a_fix_step_whose_command_is_not_on_its_host_is_a_step_error_even_when_health_returns(
        tmp_path: Path) -> None:
    system = shop(tmp_path)

    def half_a_fix(command: str) -> tuple[int, str, str]:
        system.fault.repair()  # the part that ran brought health back ...
        return 0, "", "bash: line 2: pm2: command not found\n"  # ... the part for another host did not run

    system.db.rules.insert(0, Rule("start-db", half_a_fix, takes=2.0))  # before the sane rule: the first match wins
    result = system.drill()
    assert result.verdict is Verdict.FAILED
    assert kinds(result) == [FindingKind.STEP_ERROR]
    assert result.findings[0].step == FIX
    assert result.findings[0].message.startswith("pm2: command not found on db")
    assert result.metrics is not None
    assert result.metrics.recovered


def test_fix_that_works_after_the_budget_is_slow_recovery(tmp_path: Path) -> None:
    system = shop(tmp_path, fix_takes=8.0)  # within the step's 10 s timeout, beyond the 5 s budget
    result = system.drill()
    assert result.verdict is Verdict.FAILED
    assert kinds(result) == [FindingKind.SLOW_RECOVERY]
    finding = result.findings[0]
    assert finding.step == FIX
    assert (finding.expected, finding.seen) == ("<= 5s", "8.2s")  # 100.75 -> first healthy sample at 109.0
    assert result.metrics is not None
    assert result.metrics.recovered
    assert result.metrics.time_to_recover_after_fix == pytest.approx(109.0 - 100.75)
    assert result.fault_outcomes == {FAULT: FaultAction.ALREADY_RESTORED}


BLIND = Observation(health=lambda stack: (lambda: (True, 200, "ok")), probe_interval=INTERVAL)  # sees no fault


def test_a_fault_the_observers_never_see_with_no_condition_of_its_own_is_unproven_recovery(tmp_path: Path) -> None:
    """Health never leaves steady state, so steady state coming back proves nothing about the fix."""
    system = shop(tmp_path)
    result = system.drill(observation=BLIND)
    assert result.verdict is Verdict.FAILED
    assert kinds(result) == [FindingKind.UNPROVEN_RECOVERY]  # the runbook itself did everything right
    finding = result.findings[0]
    assert finding.step == "scenario"
    assert "shop/db-down has no condition of its own" in finding.message
    assert finding.seen == "healthy from the fault to the fix"
    assert result.metrics is not None
    assert result.metrics.time_to_detect is not None  # the runbook's diagnosis saw it
    assert "unproven-recovery" in result.explain()


def test_a_fix_that_does_nothing_is_not_a_pass_when_the_observers_are_blind(tmp_path: Path) -> None:
    system = shop(tmp_path, fix=(0, "started\n", ""), verification=(0, "rows: 3\n", ""))
    system.app.rules.insert(0, Rule("check-app", lambda cmd: (0, "status: ok\n", "")))  # a verification that looks away
    result = system.drill(observation=BLIND)
    assert result.verdict is Verdict.FAILED
    assert kinds(result) == [FindingKind.UNPROVEN_RECOVERY]
    assert result.fault_outcomes == {FAULT: FaultAction.ROLLED_BACK}  # the fault was still there


@pytest.mark.parametrize(("fix", "expected"), [
    pytest.param(None, [], id="a-working-fix-passes"),
    pytest.param((0, "started\n", ""), [FindingKind.FIX_FAILED, FindingKind.VERIFY_FAILED], id="a-no-op-fails"),
])
def test_a_steady_condition_the_fault_breaks_proves_the_fix_where_the_observers_are_blind(
        tmp_path: Path, fix: Answer | None, expected: list[FindingKind]) -> None:
    system = shop(tmp_path, fix=fix)

    def database_up(drill: DrillContext) -> tuple[bool, str]:
        return not system.fault.broken, "the database is down"

    assert kinds(system.drill(observation=BLIND, steady=database_up)) == expected


def test_a_scenario_check_is_proof_enough_where_the_observers_are_blind(tmp_path: Path) -> None:
    system = shop(tmp_path)

    def database_up(drill: DrillContext) -> tuple[bool, str]:
        return not system.fault.broken, "the database is down"

    result = system.drill(observation=BLIND, checks=(database_up,))
    assert result.verdict is Verdict.PASSED, result.explain()


def test_verification_that_does_not_hold_after_the_fix_is_verify_failed(tmp_path: Path) -> None:
    system = shop(tmp_path, verification=(0, "rows: 0\n", ""))  # back up, but the data is gone
    result = system.drill()
    assert result.verdict is Verdict.FAILED
    assert kinds(result) == [FindingKind.VERIFY_FAILED]
    finding = result.findings[0]
    assert finding.step == VERIFICATION
    assert finding.location == f"{system.runbook}:{line_of('# Expected: rows: 3')}"
    assert result.metrics is not None
    assert result.metrics.recovered


def test_step_whose_host_cannot_run_it_is_a_step_error_and_the_drill_goes_on(tmp_path: Path) -> None:
    fault: list[FlagFault] = []

    def check_db(command: str) -> tuple[int, str, str]:
        if fault[0].broken:  # the app container is unreachable while the database is down
            raise ExecError("cannot exec: container is restarting", host="app", command=command)
        return 0, "database: up\n", ""

    system = shop(tmp_path, diagnosis=check_db)
    fault.append(system.fault)
    result = system.drill()
    assert result.verdict is Verdict.FAILED
    assert kinds(result) == [FindingKind.STEP_ERROR]
    finding = result.findings[0]
    assert finding.step == DIAGNOSIS
    assert "could not run on app" in finding.message
    assert "container is restarting" in finding.message
    assert finding.location == f"{system.runbook}:{line_of('```bash')}"
    assert system.db.ran == ["start-db"]  # the fix still ran


def test_step_that_outlives_its_timeout_is_a_step_error(tmp_path: Path) -> None:
    system = shop(tmp_path, fix_takes=60.0)  # the block says timeout=10s
    result = system.drill()
    assert result.verdict is Verdict.FAILED
    # cut off before it fixed anything: still down after it, and when verified
    assert kinds(result) == [FindingKind.STEP_ERROR, FindingKind.FIX_FAILED, FindingKind.VERIFY_FAILED]
    timeout = result.findings[0]
    assert timeout.step == FIX
    assert timeout.message == "timed out after 10.0s"
    assert timeout.location == f"{system.runbook}:{line_of('{host=db timeout=10s}')}"
    assert system.fault.repairs == 0
    assert result.fault_outcomes == {FAULT: FaultAction.ROLLED_BACK}


def test_diagnosis_that_times_out_is_a_step_error_and_nothing_else(tmp_path: Path) -> None:
    """Its expectations were never reached, so they judge nothing: no false alarm in the baseline,
    no not-detected during the fault."""
    system = shop(tmp_path)
    system.app.rules.insert(0, Rule("check-db", (0, "", ""), takes=45.0))  # hangs; the default timeout is 30 s
    result = system.drill()
    assert result.verdict is Verdict.FAILED
    assert kinds(result) == [FindingKind.STEP_ERROR, FindingKind.STEP_ERROR]  # baseline, diagnose
    assert {f.message for f in result.findings} == {"timed out after 30.0s"}
    assert result.metrics is not None
    assert result.metrics.recovered  # the fix still ran and worked


def test_fault_whose_proof_fails_is_a_harness_error_and_nothing_of_the_runbook_runs_after(
        tmp_path: Path) -> None:
    system = shop(tmp_path, takes_effect=False)
    result = system.drill()
    assert result.verdict is Verdict.HARNESS_ERROR
    assert kinds(result) == [FindingKind.HARNESS_ERROR]
    assert "the flag is still clear" in result.findings[0].message
    assert system.db.ran == []
    assert system.app.ran == ["check-db"]  # the baseline only
    assert result.metrics is None  # no t0: the fault never went in
    assert result.fault_outcomes == {FAULT: FaultAction.ALREADY_RESTORED}  # its own rollback, nothing to undo


def test_fixture_that_raises_is_a_harness_error_naming_the_exception(tmp_path: Path) -> None:
    def broken_fixture(drill: DrillContext) -> Iterator[None]:
        raise RuntimeError("no such service: postgres")
        yield  # a generator fixture, as scenarios are

    system = shop(tmp_path)
    result = system.drill(fixture=broken_fixture)
    assert result.verdict is Verdict.HARNESS_ERROR
    assert kinds(result) == [FindingKind.HARNESS_ERROR]
    assert result.findings[0].message == "RuntimeError: no such service: postgres"
    assert system.db.ran == []
    assert result.faults == ()


def test_interrupt_during_the_fix_rolls_the_fault_back_journals_interrupted_and_propagates(
        tmp_path: Path) -> None:
    def ctrl_c(command: str) -> tuple[int, str, str]:
        raise KeyboardInterrupt

    system = shop(tmp_path, fix=ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        system.drill()
    assert not system.fault.broken
    result = DrillResult.from_events(system.journal.events, "d1")
    assert result.verdict is Verdict.INTERRUPTED
    assert result.fault_outcomes == {FAULT: FaultAction.ROLLED_BACK}
    assert result.findings == ()  # no "fault still in effect after the drill"
    events = system.journal.events
    rolled_back = next(i for i, e in enumerate(events)
                       if isinstance(e, FaultRecorded) and e.action is FaultAction.ROLLED_BACK)
    assert rolled_back < events.index(system.finished())  # by the drill, before it ended
    assert system.app.ran == ["check-db", "check-db"]  # no verification after the interrupt
