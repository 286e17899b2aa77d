"""A SIGKILLed gameday cannot clean up after itself; the next start (`prepare()` reaps orphans) does,
and leaves the objects of live runs alone."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import docker

from harness.stack import labels as L
from harness.stack.reaper import reap_orphans
from harness.stack.waits import wait_for

ROOT = Path(__file__).resolve().parents[2]
WAIT_FOR_STACK = 120.0
WAIT_FOR_KILL = 30.0
POLL = 0.1


def start_gameday(report: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """The slow drill (its baseline lasts ~6 s, time enough to kill the run with its stack up)."""
    log = report / "gameday.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "harness.cli", "run", "--scenarios", "tests.integration.slow_scenarios",
             "-k", "slow-db-down", "--report", str(report)],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return process, log


def phases(report: Path) -> list[str]:
    journals = list(report.glob("gameday-*/journal.jsonl"))
    lines = journals[0].read_text().splitlines() if journals else []
    return [json.loads(line)["phase"] for line in lines if '"PhaseStarted"' in line]


def labelled(client: docker.DockerClient, pid: int) -> list[str]:
    """Every container, network and volume carrying gameday.pid=<pid>."""
    label = {"label": f"{L.PID}={pid}"}
    return ([f"container {c.name}" for c in client.containers.list(ignore_removed=True, all=True, filters=label)]
            + [f"network {n.name}" for n in client.networks.list(filters=label)]
            + [f"volume {v.name}" for v in client.volumes.list(filters=label)])


def test_a_sigkilled_run_leaves_its_stack_and_the_next_start_reaps_it_but_not_a_live_runs(tmp_path: Path) -> None:
    client = docker.from_env()
    process, log = start_gameday(tmp_path)
    try:
        def stack_up() -> tuple[bool, str]:
            seen = phases(tmp_path)
            return "baseline" in seen or process.poll() is not None, f"phases: {seen}"

        wait_for(stack_up, what="the stack up and the drill in its baseline", timeout=WAIT_FOR_STACK, interval=POLL)
        assert process.poll() is None, f"the gameday ended before it could be killed\n{log.read_text()}"
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=WAIT_FOR_KILL) == -signal.SIGKILL  # reaped: no zombie that looks alive
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    # That is the point: a SIGKILLed process runs no clean-up; its stack stays.
    left = labelled(client, process.pid)
    kinds = {name.split()[0] for name in left}
    assert {"container", "network"} <= kinds, left
    running = client.containers.list(ignore_removed=True,
                                     filters={"label": f"{L.PID}={process.pid}", "status": "running"})
    assert len(running) >= 2, left  # app and db, up and running without their harness

    # A volume the dead run could have left (the stack makes none today), and objects of a live run.
    network = client.networks.list(filters={"label": f"{L.PID}={process.pid}"})[0]
    dead_labels = {k: v for k, v in network.attrs["Labels"].items() if k.startswith(L.LABEL_PREFIX)}
    token = secrets.token_hex(4)
    dead_volume = client.volumes.create(name=f"gameday-test-dead-{token}", labels=dead_labels)
    live_network = client.networks.create(f"gameday-test-live-{token}", labels=L.current_run().labels())
    live_volume = client.volumes.create(name=f"gameday-test-live-{token}", labels=L.current_run().labels())
    try:
        reaped = reap_orphans(client)  # what prepare() does at every start

        assert labelled(client, process.pid) == []
        assert reaped.containers >= sum(n.startswith("container ") for n in left), reaped
        assert reaped.networks >= 1, reaped
        assert reaped.volumes >= 1, reaped
        assert dead_volume.name not in {v.name for v in client.volumes.list()}
        # This process is alive: its objects are not orphans.
        live_network.reload()
        live_volume.reload()
        assert live_network.attrs["Labels"][L.PID] == str(L.current_run().pid)
    finally:
        for obj in (live_network, live_volume):
            with contextlib.suppress(docker.errors.NotFound):
                obj.remove()
        with contextlib.suppress(docker.errors.NotFound):
            client.volumes.get(dead_volume.name).remove(force=True)
