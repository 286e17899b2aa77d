"""The live progress and the end-of-gameday table of `gameday run` (pure rendering)."""

from __future__ import annotations

import io
from pathlib import Path

from harness.cli import LiveProgress, summary_table
from harness.drill import DrillResult, Finding
from harness.journal import FaultRecorded, Metrics, PhaseStarted
from harness.scenario import Observation, Scenario


def result(verdict: str, findings: list[Finding], metrics: Metrics | None) -> DrillResult:
    scenario = Scenario(id="db-down", title="t", stack=Path("s.toml"), runbook=Path("R.md"), section="6a",
                        severity="P0", detect_within=10.0, recover_within=60.0, fixture=lambda _ctx: iter(()),
                        observation=Observation(health=lambda _stack: lambda: (True, 200, "")))
    return DrillResult(scenario, "db-down", verdict, findings, metrics)


def test_summary_table_has_a_row_per_drill_with_budgets_and_finding_kinds() -> None:
    metrics = Metrics(True, True, 0.6, 1.0, 2.0, 1.4, 1.5, 10.0, 60.0, 6, 3, ("synthetic-1",), 1.0, ())
    ok = result("passed", [], metrics)
    bad = result("failed", [Finding("slow-recovery", "fix", "slow"), Finding("slow-recovery", "fix", "again"),
                            Finding("verify-failed", "v", "no")], None)
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
    assert stream.getvalue().splitlines() == ["  db-down            inject     t=  1.2s",
                                              "  db-down            fix        t=  2.5s"]
    assert "\r" not in stream.getvalue()
