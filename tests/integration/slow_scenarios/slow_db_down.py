"""slow-db-down: db-down with every phase stretched to a few seconds, for the interrupt tests.

The same stack, observation and variables as `scenarios.chatkit`, the same fault as `db-down`,
but a runbook whose steps each wait 3 s first, observers that take 3 s to attach, and a
PostgreSQL status command that takes 3 s to answer (so injecting, which waits for the unit to
be inactive, and rolling back, which asks whether it is still stopped, are slow too).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

from harness.faults.service import ServiceStopped
from harness.scenarios import DrillContext, HealthCheck, scenario
from harness.stack.stack import Stack
from scenarios.chatkit import STACK, WATCH, variables

RUNBOOK = Path(__file__).resolve().parent / "SLOW_RUNBOOK.md"
SLOW_SECONDS = 3.0
SLOW_ACTIVE = f"sleep {SLOW_SECONDS:g}; systemctl is-active postgresql"


def slow_health(stack: Stack) -> HealthCheck:
    """WATCH's health check, handed over after a pause: the observe phase lasts a few seconds."""
    time.sleep(SLOW_SECONDS)
    return WATCH.health(stack)


SLOW_WATCH = dataclasses.replace(WATCH, health=slow_health)


@scenario("slow-db-down", stack=STACK, runbook=RUNBOOK, section="6a-database-server-down",
          observation=SLOW_WATCH, variables=variables, binds=("REQUEST_ID", "DB_PASSWORD"), severity="P0",
          detect_within="10s", recover_within="60s")
def slow_db_down(drill: DrillContext) -> Iterator[None]:
    """PostgreSQL stops on the database server (slowly, for the interrupt tests)"""
    with ServiceStopped(drill.stack, drill.stack.host("db"), "postgresql", active_command=SLOW_ACTIVE):
        yield


@scenario("twin-slow-db", stack=STACK, runbook=RUNBOOK, section="6a-database-server-down",
          observation=SLOW_WATCH, variables=variables, binds=("REQUEST_ID", "DB_PASSWORD"), severity="P0",
          detect_within="10s", recover_within="60s")
def twin_slow_db(drill: DrillContext) -> Iterator[None]:
    """The same slow drill under another id (`-k slow-db-down` does not pick it): two lanes each
    stay long enough in a drill for the parallel interrupt test"""
    yield from slow_db_down(drill)
