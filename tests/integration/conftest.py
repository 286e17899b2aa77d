"""Integration tier: real Docker, the real images, the real service over real HTTP.

These tests never skip for want of Docker: CI provisions it, and a missing engine is a
failure that says how to get one (`make docker`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import docker
import httpx
import pytest

from harness.drill import DrillResult
from harness.journal import FaultRecorded, read_journal
from harness.stack.labels import current_run
from harness.stack.launch import Prepared, prepare
from harness.stack.reaper import leftovers
from harness.stack.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
CHATKIT = ROOT / "stack" / "chatkit" / "compose.yaml"
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.docker)


@pytest.fixture(scope="session")
def chatkit_parts() -> Prepared:
    """The reference definition, a client and its images (built only if their recipe changed)."""
    return prepare(CHATKIT)


@pytest.fixture(scope="session")
def chatkit(chatkit_parts: Prepared) -> Iterator[Stack]:
    """One healthy chatkit stack shared by tests that leave it as they found it."""
    definition, client, images = chatkit_parts
    with Stack(definition, images, client=client) as stack:
        yield stack


@pytest.fixture
def fresh_chatkit(chatkit_parts: Prepared) -> Iterator[Stack]:
    """A stack of its own, for tests that break it."""
    definition, client, images = chatkit_parts
    with Stack(definition, images, client=client) as stack:
        yield stack


@pytest.fixture
def api(chatkit: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=chatkit.endpoint("app", 8000), timeout=5.0) as client:
        yield client


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After the session, nothing this run created may remain."""
    try:
        left = leftovers(docker.from_env(), current_run().run_id)
    except docker.errors.DockerException:
        return
    if left:
        print(f"\nLEAK: harness objects of this run survived the session: {left}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


class Stoppable(Protocol):
    def stop(self) -> None: ...


@pytest.fixture
def cleanup() -> Iterator[list[Stoppable]]:
    """What a test started (a controller, a terminal), stopped in reverse however the test ends."""
    started: list[Stoppable] = []
    yield started
    for thing in reversed(started):
        thing.stop()


# -- a drill's result and its journal (the seed-runbook tests) ---------------------------------------

Run = Callable[..., DrillResult]  # the gameday_run fixture: run one scenario's drill, get its result


def kinds(result: DrillResult) -> set[str]:
    """The kinds of the drill's findings."""
    return {str(f.kind) for f in result.findings}


def drill_events(result: DrillResult, session: Any, kind: type) -> list[Any]:
    """The journal events of one kind that the session wrote for this drill."""
    return [e for e in read_journal(session.journal.path)
            if isinstance(e, kind) and getattr(e, "drill", None) == result.drill_id]


def rolled_back_by_the_harness(result: DrillResult, session: Any) -> bool:
    """The drill's last fault record is the harness's own rollback (the runbook did not end the fault)."""
    actions = [r.action for r in drill_events(result, session, FaultRecorded)]
    return bool(actions) and actions[-1] == "rolled-back"
