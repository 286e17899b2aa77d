"""The reference runbook, executed for real: its diagnosis must tell healthy from broken."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from harness.runbook.execute import StepRun, run_step
from harness.runbook.model import ExpectationKind, Phase, Runbook
from harness.runbook.parse import parse_runbook
from harness.stack.stack import Stack
from harness.stack.waits import wait_for

RUNBOOK = Path(__file__).resolve().parents[2] / "stack" / "chatkit" / "RUNBOOK.md"


@pytest.fixture(scope="module")
def runbook() -> Runbook:
    return parse_runbook(RUNBOOK)


def explain(run: StepRun, kind: ExpectationKind) -> str:
    lines = [f"{run.step.ref} ({run.step.location}) on {run.host}: exit {run.exit_code}"]
    for check in run.checks_of(kind):
        lines.append(f"  {check.expectation.location}: {check.result.describe()}")
        if not check.ok:
            lines.append("    " + check.result.diff.replace("\n", "\n    "))
    return "\n".join(lines)


def bindings(stack: Stack) -> dict[str, str]:
    """What a scenario would bind: a real request ID from the log, the database password."""
    request_id = f"oncall-{uuid.uuid4().hex[:12]}"
    response = httpx.post(f"{stack.endpoint('app', 8000)}/auth/login", json={"user_id": "runbook-reader"},
                          headers={"X-Request-ID": request_id}, timeout=5)
    assert response.status_code == 200
    return {"REQUEST_ID": request_id, "DB_PASSWORD": stack.secrets["DB_PASSWORD"]}


def test_every_diagnosis_step_meets_its_healthy_expectation_on_a_healthy_stack(
        runbook: Runbook, fresh_chatkit: Stack) -> None:
    variables = bindings(fresh_chatkit)
    steps = [s for s in runbook.steps() if s.phase is Phase.DIAGNOSE and s.executable and not s.skip]
    assert len(steps) >= 15
    failures = []
    for step in steps:
        run = run_step(step, fresh_chatkit.host(step.host or "app"), variables=variables)
        assert run.checks_of(ExpectationKind.HEALTHY), f"{step.ref} has no healthy expectation"
        if not run.holds(ExpectationKind.HEALTHY):
            failures.append(explain(run, ExpectationKind.HEALTHY))
    assert not failures, "\n\n".join(failures)


def test_database_diagnosis_meets_its_fault_expectations_with_postgresql_stopped(
        runbook: Runbook, fresh_chatkit: Stack) -> None:
    variables = bindings(fresh_chatkit)
    assert fresh_chatkit.host("db").exec("systemctl stop postgresql").ok
    wait_for(lambda: (httpx.get(f"{fresh_chatkit.endpoint('app', 8000)}/health", timeout=2).status_code == 503, ""),
             what="health degraded", timeout=15, interval=0.2)
    steps = runbook.diagnosis("6a-database-server-down")
    assert [s.host or "app" for s in steps] == ["app", "app", "db"]
    health_step = steps[0]
    assert "/health" in health_step.code
    failures = []
    for step in steps:
        run = run_step(step, fresh_chatkit.host(step.host or "app"), variables=variables)
        if not run.checks_of(ExpectationKind.FAULT) or not run.holds(ExpectationKind.FAULT):
            failures.append(explain(run, ExpectationKind.FAULT))
        # ... and the healthy expectation no longer holds: the diagnosis tells the two apart.
        assert not run.holds(ExpectationKind.HEALTHY), explain(run, ExpectationKind.HEALTHY)
    assert not failures, "\n\n".join(failures)


def test_variables_do_not_survive_from_one_block_to_the_next(runbook: Runbook, chatkit: Stack) -> None:
    """A block runs in one shell (its own assignments hold), the next block in a fresh one."""
    fix = runbook.section("1a-missing-secret_key").steps_in(Phase.FIX)[0]
    assert "NEW_KEY=" in fix.code
    app = chatkit.host("app")
    first = app.exec("NEW_KEY=abc; echo ${NEW_KEY:-unset}")
    second = app.exec("echo ${NEW_KEY:-unset}")
    assert (first.stdout, second.stdout) == ("abc\n", "unset\n")
