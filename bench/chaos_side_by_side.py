"""The db-down drill beside the equivalent Chaos Toolkit experiment, on the same stack.

The experiment does what the drill's fault does, the Chaos Toolkit way: steady state (`GET /health`
answers 200), method (stop PostgreSQL, probe /health, start PostgreSQL, probe /health), steady
state again, and a rollback that starts PostgreSQL whatever happened. Chaos Toolkit checks the
steady state after the method and *before* the rollbacks, so the start is in the method; the
rollback is the safety net. It does not run a runbook, observe users, or time a recovery: the
comparison is of wall time for the same fault on the same stack.

Chaos Toolkit lives in its own virtualenv, bench/.venv-chaos/ (made on first use, from PyPI).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.drill import run_drill
from harness.journal import Journal
from harness.plan import build_plan
from harness.redact import Redactor
from harness.scenarios import get_scenario, load_scenarios
from harness.stack.stack import Stack
from scenarios.chatkit import APP_PORT

BENCH = Path(__file__).resolve().parent
CHAOS_VENV = BENCH / ".venv-chaos"
CHAOSTOOLKIT = "chaostoolkit==1.19.0"  # pinned: the comparison should not move with a release
INSTALL_TIMEOUT = 600.0
CHAOS_TIMEOUT = 300.0
HTTP_TIMEOUT = 3  # seconds, per /health probe of the experiment
PROCESS_TIMEOUT = 60  # seconds, per `docker exec` action
PAUSE_AFTER_START = 0.0  # seconds after `systemctl start postgresql` before the steady state is checked
DB_UNIT = "postgresql"  # the db image's supervisor program, behind its systemctl shim


@dataclass(frozen=True)
class Timed:
    seconds: float
    outcome: str  # the drill's verdict, or the experiment's status
    ok: bool


def ensure_chaos() -> Path:
    """The `chaos` command of bench/.venv-chaos/, made with `python3 -m venv` + pip when missing."""
    chaos = CHAOS_VENV / "bin" / "chaos"
    if chaos.exists():
        return chaos
    python = shutil.which("python3") or sys.executable
    print(f"  installing {CHAOSTOOLKIT} into {CHAOS_VENV}", flush=True)
    subprocess.run([python, "-m", "venv", str(CHAOS_VENV)], check=True, timeout=INSTALL_TIMEOUT)
    subprocess.run([str(CHAOS_VENV / "bin" / "pip"), "install", "-q", CHAOSTOOLKIT], check=True,
                   timeout=INSTALL_TIMEOUT)
    return chaos


def _docker_exec(name: str, container: str, verb: str) -> dict[str, Any]:
    docker = shutil.which("docker") or "docker"
    return {"type": "action", "name": name,
            "provider": {"type": "process", "path": docker, "timeout": PROCESS_TIMEOUT,
                         "arguments": ["exec", container, "systemctl", verb, DB_UNIT]}}


def _health(name: str, url: str, tolerance: int | None = None) -> dict[str, Any]:
    probe: dict[str, Any] = {"type": "probe", "name": name,
                             "provider": {"type": "http", "url": url, "timeout": HTTP_TIMEOUT}}
    if tolerance is not None:
        probe["tolerance"] = tolerance
    return probe


def experiment(health_url: str, db_container: str, pause_after_start: float = PAUSE_AFTER_START) -> dict[str, Any]:
    start = _docker_exec("start-postgresql", db_container, "start")
    if pause_after_start:
        start["pauses"] = {"after": pause_after_start}
    return {
        "version": "1.0.0",
        "title": "PostgreSQL down: /health degrades, and is healthy again once PostgreSQL is started",
        "description": "The gameday harness's db-down fault, as a Chaos Toolkit experiment (bench/bench_all.py).",
        "steady-state-hypothesis": {"title": "the app answers /health with 200",
                                    "probes": [_health("health-is-200", health_url, 200)]},
        "method": [
            _docker_exec("stop-postgresql", db_container, "stop"),
            _health("health-while-postgresql-is-down", health_url),
            start,
            _health("health-after-postgresql-is-started", health_url),
        ],
        "rollbacks": [_docker_exec("start-postgresql-if-still-down", db_container, "start")],
    }


def run_experiment(chaos: Path, stack: Stack, folder: Path) -> Timed:
    """`chaos run` end to end (a subprocess, wall time) and the status from its journal."""
    folder.mkdir(parents=True, exist_ok=True)
    path, journal = folder / "experiment.json", folder / "journal.json"
    health = f"{stack.endpoint('app', APP_PORT)}/health"
    path.write_text(json.dumps(experiment(health, stack.container("db").name), indent=2) + "\n")
    started = time.monotonic()
    result = subprocess.run([str(chaos), "--no-version-check", "run", "--journal-path", str(journal), str(path)],
                            cwd=folder, capture_output=True, text=True, timeout=CHAOS_TIMEOUT, check=False)
    seconds = time.monotonic() - started
    (folder / "chaos.log").write_text(result.stdout + result.stderr)
    status = json.loads(journal.read_text()).get("status", "no status") if journal.exists() else "no journal"
    return Timed(seconds, str(status), status == "completed")


def run_db_down_drill(stack: Stack, folder: Path, number: int) -> Timed:
    """The db-down drill in this process on the running stack, journaled to a file in `folder`
    (what `gameday run -k db-down` does once the stack is up)."""
    load_scenarios(["scenarios"])
    scenario = get_scenario("db-down")
    redactor = Redactor(patterns=stack.definition.redaction_patterns)
    redactor.add(*stack.secrets.values())
    journal = Journal(folder / f"journal-db-down-{number}.jsonl", redactor)
    started = time.monotonic()
    result = run_drill(build_plan(scenario, stack.definition), stack, journal, redactor, drill_id=f"db-down-{number}")
    return Timed(time.monotonic() - started, result.verdict, result.passed)
