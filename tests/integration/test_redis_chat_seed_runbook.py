"""The Redis chat system's seed runbook, drilled as written: where its procedure cannot work on
this system, the drill fails with the finding that says why (the project's RUNBOOK.md does what
works). Each runbook under runbooks/redis_chat/ is one section of the seed, its commands word for
word; each drill runs on a fresh stack and must end with the fault rolled back by the harness."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import Run, drill_events, kinds, rolled_back_by_the_harness

from harness.journal import StepRecorded

RUNBOOKS = Path(__file__).resolve().parent / "runbooks" / "redis_chat"


def test_exporting_the_flag_and_restarting_under_pm2_keeps_the_broken_release(
        gameday_run: Run, gameday_session: Any) -> None:
    result = gameday_run("redis-chat/bad-release-rollback", runbook=RUNBOOKS / "seed_feature_flag.md",
                         recover_within=8.0)
    assert result.verdict == "failed"
    assert {"fix-failed", "verify-failed"} <= kinds(result), result.explain()
    fix = [e for e in drill_events(result, gameday_session, StepRecorded) if e.phase == "fix"]
    assert fix[0].exit_code == 0  # pm2 restarted the app, and nothing said the old value came with it
    verify = [e for e in drill_events(result, gameday_session, StepRecorded) if e.phase == "verify"]
    assert verify[-1].stdout.strip() == "true"  # the running app still has the new chat path on
    assert rolled_back_by_the_harness(result, gameday_session)


def test_following_the_redis_log_inside_a_fix_never_ends(gameday_run: Run, gameday_session: Any) -> None:
    result = gameday_run("redis-chat/redis-down", runbook=RUNBOOKS / "seed_redis_logs.md")
    timed_out = [f for f in result.findings if str(f.kind) == "step-error" and "timed out" in f.message]
    assert timed_out, result.explain()
    fix = [e for e in drill_events(result, gameday_session, StepRecorded) if e.phase == "fix"]
    assert fix[0].timed_out
    assert "tail -f" in fix[0].code
    assert result.verdict == "failed"


def test_clearing_every_session_frees_nothing_and_logs_every_visitor_out(
        gameday_run: Run, gameday_session: Any) -> None:
    result = gameday_run("redis-chat/redis-memory-full", runbook=RUNBOOKS / "seed_session_cleanup.md",
                         recover_within=8.0)
    assert result.verdict == "failed"
    assert "fix-failed" in kinds(result), result.explain()
    lost = [f for f in result.findings if f.step == "scenario:sessions_kept"]
    assert lost, result.explain()
    assert "sessions from before the fault are gone" in lost[0].message
    assert not lost[0].message.startswith("0 of")
    assert rolled_back_by_the_harness(result, gameday_session)
