"""`gameday run --jobs 2`: drills on two stacks at once, one report, the same Ctrl-C guarantees."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import docker

from harness.stack.labels import PID
from harness.stack.waits import wait_for

ROOT = Path(__file__).resolve().parents[2]
WAIT_FOR_PHASE = 120.0
WAIT_FOR_EXIT = 90.0


def gameday(report: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "harness.cli", "run", "--report", str(report), *args],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def events(journal: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]


def lane_pids(folder: Path) -> set[int]:
    return {int(claim.read_text().split()[0]) for claim in (folder / "claims").glob("*.claim")}


def containers_of(pids: set[int]) -> list[str]:
    client = docker.from_env()
    return [c.name for pid in pids
            for c in client.containers.list(ignore_removed=True, all=True, filters={"label": f"{PID}={pid}"})]


def test_two_lanes_run_their_drills_at_the_same_time_into_one_report(tmp_path: Path) -> None:
    process = gameday(tmp_path, "--jobs", "2", "-k", "db-down,pool-exhausted")
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output
    assert "on 2 stacks at once" in output
    (folder,) = tmp_path.glob("gameday-*")
    lanes = sorted(folder.glob("journal-lane-*.jsonl"))
    assert [p.name for p in lanes] == ["journal-lane-1.jsonl", "journal-lane-2.jsonl"]
    spans = {}
    for lane in lanes:
        for event in events(lane):
            if event["type"] == "DrillStarted":
                spans[event["drill"]] = [event["at"], None]
            if event["type"] == "DrillFinished":
                spans[event["drill"]][1] = event["at"]
    assert set(spans) == {"chatkit/db-down", "chatkit/pool-exhausted"}  # drill ids are scenario keys
    (_, first_end), (second_start, _) = sorted(spans.values())
    assert second_start < first_end, f"the drills did not overlap: {spans}"  # ISO times of one clock sort
    summary = json.loads((folder / "summary.json").read_text())
    assert sorted(d["scenario"] for d in summary["drills"]) == ["chatkit/db-down", "chatkit/pool-exhausted"]
    assert all(d["verdict"] == "passed" for d in summary["drills"])
    gameday_events = events(folder / "journal.jsonl")
    # The gameday's own journal: its start, the coverage of each runbook it drills, its end.
    assert [e["type"] for e in gameday_events] == ["GamedayStarted", "RunbookCovered", "GamedayFinished"]
    assert gameday_events[1]["runbook"].endswith("stack/chatkit/RUNBOOK.md")
    assert sorted(v[0] for v in gameday_events[-1]["verdicts"]) == ["chatkit/db-down", "chatkit/pool-exhausted"]
    assert containers_of(lane_pids(folder)) == []


def test_ctrl_c_reaches_every_lane_once_each_rolls_back_and_nothing_is_left(tmp_path: Path) -> None:
    # Two deliberately slow drills (each runbook step waits 3 s): once both faults are in, both
    # lanes are still mid-drill when the signal comes, however the machine is loaded.
    process = gameday(tmp_path, "--jobs", "2", "--scenarios", "tests.integration.slow_scenarios",
                      "-k", "slow-db-down,twin-slow-db")
    try:
        def both_injected() -> tuple[bool, str]:
            injected = []
            for lane in tmp_path.glob("gameday-*/journal-lane-*.jsonl"):
                injected += [e["drill"] for e in events(lane) if e["type"] == "FaultRecorded"
                             and e["action"] == "verified"]
            return len(injected) == 2 or process.poll() is not None, f"faults in effect: {injected}"

        wait_for(both_injected, what="both lanes' faults in effect", timeout=WAIT_FOR_PHASE, interval=0.1)
        assert process.poll() is None, "the gameday ended before it could be interrupted"
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=WAIT_FOR_EXIT)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, output
    assert "interrupted" in output
    (folder,) = tmp_path.glob("gameday-*")
    for lane in sorted(folder.glob("journal-lane-*.jsonl")):
        lane_events = events(lane)
        assert [e["verdict"] for e in lane_events if e["type"] == "DrillFinished"] == ["interrupted"], lane
        faults = [e["action"] for e in lane_events if e["type"] == "FaultRecorded"]
        assert faults[-1] in ("rolled-back", "already-restored"), (lane, faults)
    assert events(folder / "journal.jsonl")[-1]["type"] == "GamedayFinished"
    assert (folder / "report.html").exists()
    pids = lane_pids(folder)
    assert len(pids) == 2
    assert containers_of(pids) == []
