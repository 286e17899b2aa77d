"""Drills can fail, and say why: deliberately wrong runbooks produce the right finding.

Each drill runs on its own fresh stack; afterwards the fault must be rolled back (by the runbook or
by the harness) and the stack gone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker

from harness.drill import DrillResult
from harness.journal import FaultRecorded, read_journal
from harness.stack.labels import current_run
from harness.stack.reaper import leftovers

RUNBOOKS = Path(__file__).resolve().parent / "runbooks"
Run = Callable[..., DrillResult]


def kinds(result: DrillResult) -> list[str]:
    return [f.kind for f in result.findings]


def assert_rolled_back(result: DrillResult, session: Any) -> None:
    """Every fault injected in this drill ended rolled back or restored by the runbook, and its
    stack is gone once the pool's background removals are done."""
    journal = session.journal.path
    records = [e for e in read_journal(journal) if isinstance(e, FaultRecorded) and e.drill == result.drill_id]
    assert records, "no fault records for this drill"
    injected = {r.fault for r in records if r.action == "injected"}
    ended = {r.fault for r in records if r.action in ("rolled-back", "already-restored")}
    assert injected, records
    assert injected <= ended, records
    session.gameday.pool.settle()
    mine = [o for o in leftovers(docker.from_env(), current_run().run_id) if result.stack_id in o]
    assert result.stack_id
    assert mine == []


def test_a_diagnosis_that_does_not_look_at_the_database_is_not_detected(gameday_run: Run, gameday_session: Any) -> None:
    result = gameday_run("db-down", runbook=RUNBOOKS / "db_down_blind.md")
    assert result.verdict == "failed"
    assert kinds(result) == ["not-detected"], result.explain()
    assert "still reports healthy" in result.findings[0].message
    assert_rolled_back(result, gameday_session)


def test_a_diagnosis_that_always_reports_trouble_is_a_false_alarm(gameday_run: Run, gameday_session: Any) -> None:
    result = gameday_run("db-down", runbook=RUNBOOKS / "db_down_always_alarmed.md")
    assert result.verdict == "failed"
    assert kinds(result) == ["false-alarm"], result.explain()
    assert result.findings[0].location.endswith("db_down_always_alarmed.md:14")
    assert_rolled_back(result, gameday_session)


def test_the_export_then_restart_fix_never_reaches_the_service(gameday_run: Run, gameday_session: Any) -> None:
    result = gameday_run("secret-missing", runbook=RUNBOOKS / "secret_missing_seed_fix.md", recover_within=10.0)
    assert result.verdict == "failed"
    assert "fix-failed" in kinds(result), result.explain()
    assert "verify-failed" in kinds(result), result.explain()
    assert result.metrics is not None
    assert not result.metrics.recovered
    # The harness, not the runbook, put the secret back.
    records = [e for e in read_journal(gameday_session.journal.path)
               if isinstance(e, FaultRecorded) and e.drill == result.drill_id]
    assert [r.action for r in records][-1] == "rolled-back"
    assert_rolled_back(result, gameday_session)


def test_a_fix_slower_than_the_budget_is_a_slow_recovery(gameday_run: Run, gameday_session: Any) -> None:
    result = gameday_run("db-down", runbook=RUNBOOKS / "db_down_slow_fix.md", recover_within=8.0)
    assert kinds(result) == ["slow-recovery"], result.explain()
    assert result.metrics is not None
    assert result.metrics.recovered
    assert result.metrics.time_to_recover_after_fix is not None
    assert 8.0 < result.metrics.time_to_recover_after_fix < 16.0
    assert_rolled_back(result, gameday_session)
