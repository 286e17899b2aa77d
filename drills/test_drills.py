"""The gameday drills of every system the project has: one test per scenario, by key
(`pytest drills/ -k chatkit/db-down`, `-k db-down`, `-k chatkit`, `-m p0`)."""

from __future__ import annotations

from harness.drill import DrillResult


def test_drill(gameday_drill: DrillResult) -> None:
    gameday_drill.assert_passed()
    assert gameday_drill.fault_outcomes, "the scenario injected no fault"
    assert gameday_drill.faults_left == []
