"""Interrupt matrix: SIGINT or SIGTERM in every phase of a drill rolls back, removes the stack,
journals the drill as interrupted, renders a report and exits 130.

Each case runs the deliberately slow `slow-db-down` drill (tests/integration/slow_scenarios) in a
`gameday run` subprocess, waits until its journal shows the target phase, sends the signal and
checks what is left. `pytest -s` shows one table row per case; the table is also written to
bench/results/interrupts.md.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest

from harness.stack.labels import PID
from harness.stack.waits import wait_for

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results" / "interrupts.md"
SCENARIOS = "tests.integration.slow_scenarios"
SCENARIO = "slow-db-down"
PROXY_SCENARIO = "slow-link-down"  # a proxy fault (the link to PostgreSQL cut at the stack's Toxiproxy)
WAIT_FOR_PHASE = 120.0  # a fresh stack (~5 s) and the slow drill up to its last phase (~35 s), with room
WAIT_FOR_EXIT = 90.0  # roll back (a slow status check), remove the stack, render the report
SECOND_SIGNAL_AFTER = 0.5
EXIT_AFTER_SECOND_SIGNAL = 15.0  # removing the stack and rendering the report; not the polite rollback
POLL = 0.1
ROLLED_BACK = ("rolled-back", "already-restored")

# (phase, signal). "stack-up": the stack is coming up (a container exists, the drill has not started).
CASES = [
    ("stack-up", signal.SIGINT),
    ("stack-up", signal.SIGTERM),
    ("baseline", signal.SIGTERM),
    ("observe", signal.SIGINT),
    ("inject", signal.SIGTERM),
    ("diagnose", signal.SIGINT),
    ("diagnose", signal.SIGTERM),
    ("fix", signal.SIGINT),
    ("fix", signal.SIGTERM),
    ("verify", signal.SIGINT),
    ("rollback", signal.SIGINT),
    ("rollback", signal.SIGTERM),
]
# The proxy-fault rows: the same contract when the fault lives in the stack's Toxiproxy server.
PROXY_CASES = [
    ("diagnose", signal.SIGTERM),
    ("fix", signal.SIGINT),
]


@dataclass
class Row:
    phase: str
    signal: str
    drill: str = SCENARIO
    signalled_in: str = "-"
    exit_code: int | None = None
    seconds_to_exit: float | None = None
    leftovers: int | None = None
    verdict: str = "-"
    last_fault: str = "-"
    report: bool = False

    HEADER = ("drill", "phase", "signal", "signalled in", "exit", "exit after", "leftovers", "journal verdict",
              "last fault record", "report.html")

    def cells(self) -> tuple[str, ...]:
        return (self.drill, self.phase, self.signal, self.signalled_in,
                "-" if self.exit_code is None else str(self.exit_code),
                "-" if self.seconds_to_exit is None else f"{self.seconds_to_exit:.1f}s",
                "-" if self.leftovers is None else str(self.leftovers), self.verdict, self.last_fault,
                "yes" if self.report else "no")


ROWS: list[Row] = []


def markdown_row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(cells) + " |"


@pytest.fixture(scope="module", autouse=True)
def interrupt_table() -> Iterator[None]:
    """Prints the header now and, once every case ran, the whole table; writes it to bench/results."""
    print("\n" + markdown_row(Row.HEADER))
    yield
    lines = [markdown_row(Row.HEADER), markdown_row(tuple("---" for _ in Row.HEADER)),
             *(markdown_row(row.cells()) for row in ROWS)]
    print("\ninterrupt matrix:\n" + "\n".join(lines))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        "# Interrupt matrix\n\n"
        f"`{SCENARIO}` and `{PROXY_SCENARIO}` (tests/integration/slow_scenarios) in a `gameday run` subprocess, "
        "signalled when its journal "
        "shows the phase; written by tests/integration/test_interrupt_matrix.py "
        f"on {time.strftime('%Y-%m-%d %H:%M')}.\n"
        "Leftovers: containers, networks and volumes labelled `gameday.pid=<the run's pid>` after it exited.\n\n"
        + "\n".join(lines) + "\n")


# -- the gameday subprocess and its journal -----------------------------------------------------------


def start_gameday(report: Path, scenario: str = SCENARIO) -> tuple[subprocess.Popen[bytes], Path]:
    log = report / "gameday.log"
    report.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "harness.cli", "run", "--scenarios", SCENARIOS, "-k", scenario,
             "--report", str(report)],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            # A shell that runs pytest in the background ignores SIGINT, and a child inherits that.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    return process, log


def events(report: Path) -> list[dict[str, Any]]:
    journals = list(report.glob("gameday-*/journal.jsonl"))
    if not journals:
        return []
    found = []
    for line in journals[0].read_text().splitlines():
        try:
            found.append(json.loads(line))
        except json.JSONDecodeError:  # a line being written right now
            break
    return found


def phases(report: Path) -> list[str]:
    return [e["phase"] for e in events(report) if e["type"] == "PhaseStarted"]


def labelled(client: docker.DockerClient, pid: int) -> list[str]:
    """Every container, network and volume carrying gameday.pid=<pid>."""
    label = {"label": f"{PID}={pid}"}
    return ([f"container {c.name}" for c in client.containers.list(ignore_removed=True, all=True, filters=label)]
            + [f"network {n.name}" for n in client.networks.list(filters=label)]
            + [f"volume {v.name}" for v in client.volumes.list(filters=label)])


def wait_for_phase(process: subprocess.Popen[bytes], report: Path, phase: str, client: docker.DockerClient) -> str:
    """Poll the journal until `phase` has started (for stack-up: until a container of the run exists
    and the drill has not started yet); returns the phase the drill is in."""

    def reached() -> tuple[bool, str]:
        seen = phases(report)
        if process.poll() is not None:
            return True, f"exited {process.returncode}; phases: {seen}"
        if phase == "stack-up":
            containers = client.containers.list(ignore_removed=True, all=True,
                                                filters={"label": f"{PID}={process.pid}"})
            return bool(containers) and seen == ["stack-up"], f"phases: {seen}, containers: {len(containers)}"
        return phase in seen, f"phases: {seen}"

    wait_for(reached, what=f"the drill reaching {phase}", timeout=WAIT_FOR_PHASE, interval=POLL)
    seen = phases(report)
    return seen[-1] if seen else "-"


def wait_exit(process: subprocess.Popen[bytes], timeout: float) -> int | None:
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


def record(row: Row, process: subprocess.Popen[bytes], report: Path, client: docker.DockerClient,
           signalled: float) -> tuple[list[str], list[dict[str, Any]]]:
    """Fill the row from what the run left behind; print it."""
    row.exit_code = process.returncode
    row.seconds_to_exit = time.monotonic() - signalled
    left = labelled(client, process.pid)
    row.leftovers = len(left)
    written = events(report)
    finished = [e for e in written if e["type"] == "DrillFinished"]
    row.verdict = finished[-1]["verdict"] if finished else "(no DrillFinished)"
    faults = [e["action"] for e in written if e["type"] == "FaultRecorded"]
    row.last_fault = faults[-1] if faults else "(no fault)"
    row.report = any(report.glob("gameday-*/report.html"))
    ROWS.append(row)
    print(markdown_row(row.cells()))
    return left, written


def check_outcome(row: Row, left: list[str], written: list[dict[str, Any]], log: Path) -> None:
    output = tail(log)
    assert row.exit_code == 130, f"exit {row.exit_code}\n{output}"
    assert left == [], left
    started = [e for e in written if e["type"] == "DrillStarted"]
    finished = [e for e in written if e["type"] == "DrillFinished"]
    if started:
        assert finished, f"the drill started but the journal has no DrillFinished\n{output}"
        assert finished[-1]["verdict"] == "interrupted", finished[-1]
    else:
        assert [e["verdict"] for e in finished if e["verdict"] != "interrupted"] == []
    faults = [e["action"] for e in written if e["type"] == "FaultRecorded"]
    if "injected" in faults:
        assert faults[-1] in ROLLED_BACK, faults
    assert row.report, f"no report.html\n{output}"


# -- the cases --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("drill", "phase", "sig"),
                         [*((SCENARIO, p, s) for p, s in CASES), *((PROXY_SCENARIO, p, s) for p, s in PROXY_CASES)],
                         ids=[*(f"{p}-{s.name}" for p, s in CASES), *(f"proxy-{p}-{s.name}" for p, s in PROXY_CASES)])
def test_a_signal_in_any_phase_rolls_back_removes_everything_and_says_so(
        tmp_path: Path, drill: str, phase: str, sig: signal.Signals) -> None:
    client = docker.from_env()
    row = Row(phase, sig.name, drill)
    process, log = start_gameday(tmp_path, drill)
    try:
        row.signalled_in = wait_for_phase(process, tmp_path, phase, client)
        assert process.poll() is None, f"the gameday ended before it could be interrupted\n{tail(log)}"
        assert row.signalled_in == phase, f"meant to interrupt {phase}, but the drill was in {row.signalled_in}"
        process.send_signal(sig)
        signalled = time.monotonic()
        wait_exit(process, WAIT_FOR_EXIT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    left, written = record(row, process, tmp_path, client, signalled)
    check_outcome(row, left, written, log)


def test_a_second_ctrl_c_aborts_the_rollback_but_still_removes_the_stack(tmp_path: Path) -> None:
    """DESIGN.md: a second Ctrl-C aborts the wait but still removes containers."""
    client = docker.from_env()
    row = Row("fix", "SIGINT x2")
    process, log = start_gameday(tmp_path)
    try:
        row.signalled_in = wait_for_phase(process, tmp_path, "fix", client)
        assert process.poll() is None, f"the gameday ended before it could be interrupted\n{tail(log)}"
        process.send_signal(signal.SIGINT)
        wait_exit(process, SECOND_SIGNAL_AFTER)  # the polite rollback is under way (unless it already exited)
        assert process.poll() is None, "the gameday ended before the second Ctrl-C"
        process.send_signal(signal.SIGINT)
        signalled = time.monotonic()
        wait_exit(process, EXIT_AFTER_SECOND_SIGNAL)
        took = time.monotonic() - signalled
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    left, written = record(row, process, tmp_path, client, signalled)
    assert took < EXIT_AFTER_SECOND_SIGNAL, f"still running {took:.1f}s after the second Ctrl-C\n{tail(log)}"
    assert row.exit_code == 130, f"exit {row.exit_code}\n{tail(log)}"
    assert left == [], left
    finished = [e for e in written if e["type"] == "DrillFinished"]
    assert finished, f"the drill's end is not journaled\n{tail(log)}"
    assert finished[-1]["verdict"] == "interrupted", finished[-1]
    assert row.report, f"no report.html\n{tail(log)}"
