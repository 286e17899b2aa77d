"""An interrupted gameday still rolls back, removes its stack and says so in the journal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import docker
import pytest

from harness.stack.labels import PID
from harness.stack.waits import wait_for

ROOT = Path(__file__).resolve().parents[2]
WAIT_FOR_PHASE = 120.0
WAIT_FOR_EXIT = 60.0


def phases(journal: Path) -> list[str]:
    if not journal.exists():
        return []
    return [json.loads(line).get("phase", "") for line in journal.read_text().splitlines()
            if '"PhaseStarted"' in line]


@pytest.mark.parametrize(("sig", "phase"), [(signal.SIGTERM, "diagnose"), (signal.SIGINT, "inject")])
def test_a_signal_mid_drill_rolls_back_and_leaves_nothing(tmp_path: Path, sig: signal.Signals, phase: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "run", "-k", "db-down", "--report", str(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        def reached() -> tuple[bool, str]:
            journals = list(tmp_path.glob("gameday-*/journal.jsonl"))
            seen = phases(journals[0]) if journals else []
            return phase in seen or process.poll() is not None, f"phases so far: {seen}"

        wait_for(reached, what=f"the drill reaching {phase}", timeout=WAIT_FOR_PHASE, interval=0.1)
        assert process.poll() is None, "the gameday ended before it could be interrupted"
        process.send_signal(sig)
        output, _ = process.communicate(timeout=WAIT_FOR_EXIT)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, output
    assert "interrupted" in output
    (journal,) = tmp_path.glob("gameday-*/journal.jsonl")
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    finished = [e for e in events if e["type"] == "DrillFinished"]
    assert [e["verdict"] for e in finished] == ["interrupted"]
    faults = [e["action"] for e in events if e["type"] == "FaultRecorded"]
    if "injected" in faults:
        assert faults[-1] in ("rolled-back", "already-restored"), faults
    left = docker.from_env().containers.list(ignore_removed=True, all=True, filters={"label": f"{PID}={process.pid}"})
    assert left == [], [c.name for c in left]
    assert (journal.parent / "report.html").exists()
