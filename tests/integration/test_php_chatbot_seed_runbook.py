"""The PHP chatbot's seed runbook, drilled as written: where its procedure cannot work on this
system, the drill fails with the finding that says why (the project's RUNBOOK.md does what works).

Each runbook under runbooks/php_chatbot/ is one section of the seed, word for word where it runs
at all; each drill runs on a fresh stack and must end with the fault rolled back by the harness.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import Run, drill_events, kinds, rolled_back_by_the_harness

from harness.journal import StepRecorded

RUNBOOKS = Path(__file__).resolve().parent / "runbooks" / "php_chatbot"


def test_deleting_logs_older_than_a_week_frees_nothing_on_a_disk_filled_today(
        gameday_run: Run, gameday_session: Any) -> None:
    result = gameday_run("php-chatbot/disk-full", runbook=RUNBOOKS / "seed_disk_space.md", recover_within=8.0)
    assert result.verdict == "failed"
    assert {"fix-failed", "verify-failed"} <= kinds(result), result.explain()
    assert rolled_back_by_the_harness(result, gameday_session)


def test_ending_only_sessions_idle_for_five_minutes_ends_none_of_a_fresh_leak(
        gameday_run: Run, gameday_session: Any) -> None:
    result = gameday_run("php-chatbot/too-many-connections", runbook=RUNBOOKS / "seed_idle_connections.md",
                         recover_within=8.0)
    assert result.verdict == "failed"
    assert "fix-failed" in kinds(result), result.explain()
    fix = [e for e in drill_events(result, gameday_session, StepRecorded) if e.phase == "fix"]
    assert "(0 rows)" in fix[0].stdout  # not one session was old enough
    assert rolled_back_by_the_harness(result, gameday_session)


def test_an_interactive_editor_cannot_change_php_ini_in_a_drill(gameday_run: Run, gameday_session: Any) -> None:
    result = gameday_run("php-chatbot/php-memory-exhausted", runbook=RUNBOOKS / "seed_php_memory.md",
                         recover_within=8.0)
    assert result.verdict == "failed"
    assert "fix-failed" in kinds(result), result.explain()
    fix = [e for e in drill_events(result, gameday_session, StepRecorded) if e.phase == "fix"]
    assert "nano" in fix[0].code
    assert fix[0].exit_code == 0  # the restart ran after nano gave up: nothing says the edit never happened
    assert rolled_back_by_the_harness(result, gameday_session)


def test_sqlite_sql_and_bare_sql_in_bash_cannot_diagnose_a_postgresql_queue(
        gameday_run: Run, gameday_session: Any) -> None:
    result = gameday_run("php-chatbot/worker-stopped", runbook=RUNBOOKS / "seed_worker_locked_up.md")
    found = {(f.step, str(f.kind)) for f in result.findings}
    assert ("background-worker-stopped[1]", "not-detected") in found, result.explain()  # a bash syntax error
    assert ("background-worker-stopped[2]", "false-alarm") in found, result.explain()  # datetime() is SQLite's
    steps = drill_events(result, gameday_session, StepRecorded)
    assert any("syntax error" in e.stderr for e in steps if e.ref == "background-worker-stopped[1]")
    assert any("function datetime" in e.stdout for e in steps if e.ref == "background-worker-stopped[2]")
