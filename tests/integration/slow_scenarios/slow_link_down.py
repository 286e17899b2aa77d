"""slow-link-down: the link between the app and PostgreSQL cut at the stack's Toxiproxy server (a
proxy fault), with every phase stretched to a few seconds, for the interrupt matrix's proxy rows.
The same slow runbook and observers as slow-db-down; the fault is LinkDown on the `db` link."""

from __future__ import annotations

from collections.abc import Iterator

from harness.faults.proxy import LinkDown
from harness.scenarios import DrillContext, scenario
from scenarios.chatkit import STACK, variables

from .slow_db_down import RUNBOOK, SLOW_WATCH


@scenario("slow-link-down", stack=STACK, runbook=RUNBOOK, section="6c-the-network-path-to-the-database-cut",
          observation=SLOW_WATCH, variables=variables, binds=("REQUEST_ID", "DB_PASSWORD"), severity="P1",
          detect_within="10s", recover_within="60s")
def slow_link_down(drill: DrillContext) -> Iterator[None]:
    """The app's path to PostgreSQL cut at the proxy (slowly, for the interrupt tests)"""
    with LinkDown(drill.stack, "db"):
        yield
