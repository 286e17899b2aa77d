"""The gameday drills of the reference stack: one test per scenario (`pytest drills/ -k db-down`)."""

from __future__ import annotations

from harness.drill import DrillResult


def test_drill(gameday_drill: DrillResult) -> None:
    gameday_drill.assert_passed()
    assert gameday_drill.fault_outcomes, "the scenario injected no fault"
    assert gameday_drill.faults_left == []
