"""The live progress and the end-of-gameday table of `gameday run` (pure rendering)."""

from __future__ import annotations

import io

from harness.journal import DrillFinished, FaultRecorded, FindingRecorded, Metrics, PhaseStarted
from harness.report.console import LiveProgress, summary_table

METRICS = Metrics(True, True, 0.6, 1.0, 2.0, 1.4, 1.5, 10.0, 60.0, 6, 3, ("synthetic-1",), 1.0, ())


def test_summary_table_has_a_row_per_drill_with_budgets_and_finding_kinds() -> None:
    ok = DrillFinished("db-down", "db-down", "passed", (), METRICS, 9.0)
    bad = DrillFinished("db-down#2", "db-down", "failed", ("slow-recovery", "slow-recovery", "verify-failed"),
                        None, 9.0)
    lines = summary_table([ok, bad]).splitlines()
    assert lines[0].split() == ["scenario", "verdict", "detect", "/", "budget", "recover", "/", "budget", "failed",
                                "requests", "findings"]
    assert "0.6s / 10s" in lines[1]
    assert "1.4s / 60s" in lines[1]
    assert "3/6" in lines[1]
    assert lines[1].rstrip().endswith("none")
    assert lines[2].rstrip().endswith("slow-recovery, verify-failed")


def test_live_progress_prints_phases_only_and_plain_lines_off_a_terminal() -> None:
    stream = io.StringIO()
    live = LiveProgress(stream)
    live(PhaseStarted("db-down", "inject", 1.25))
    live(FaultRecorded("db-down", "service-stopped", "injected", "x", 1.3))
    live(PhaseStarted("db-down", "fix", 2.5))
    assert stream.getvalue().splitlines() == [f"  {'db-down':<28} inject     t=  1.2s",
                                              f"  {'db-down':<28} fix        t=  2.5s"]
    assert "\r" not in stream.getvalue()


def test_live_progress_prints_each_drill_with_its_findings_when_it_ends() -> None:
    """Events, not results: the same lines whether the drill ran here or in a lane process."""
    stream = io.StringIO()
    live = LiveProgress(stream)
    live(FindingRecorded("pool#1", "fix-failed", "6b[3]", "no recovery", "RUNBOOK.md:450", "ok", "503", 4.0))
    live(DrillFinished("db-down", "db-down", "passed", (), METRICS, 9.0))
    live(DrillFinished("pool#1", "pool-exhausted", "failed", ("fix-failed",), None, 12.0))
    assert stream.getvalue().splitlines() == [
        f"  {'db-down':<28} PASSED         detect 0.6s, recover 1.4s",
        f"  {'pool-exhausted':<28} FAILED",
        "      fix-failed: 6b[3] (RUNBOOK.md:450): no recovery",
        "          expected: ok",
        "          seen: 503",
    ]
