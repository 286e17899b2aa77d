"""Labels on harness objects, and telling whether the process that made them is still alive."""

from __future__ import annotations

import os
import socket
import subprocess
from datetime import UTC, datetime, timedelta

from harness.stack.labels import RunIdentity, current_run, process_alive, process_start_ticks

EXPECTED_KEYS = {
    "gameday.run",
    "gameday.pid",
    "gameday.pid-start",
    "gameday.hostname",
    "gameday.created",
    "gameday.stack",
    "gameday.stack-id",
}


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen(["true"])
    assert child.wait(timeout=10) == 0
    return child.pid


def test_labels_carry_the_run_the_process_and_the_extras() -> None:
    identity = RunIdentity()

    labels = identity.labels(stack="x", stack_id="y")

    assert set(labels) == EXPECTED_KEYS
    assert labels["gameday.stack"] == "x"
    assert labels["gameday.stack-id"] == "y"
    assert labels["gameday.run"] == identity.run_id
    assert labels["gameday.pid"] == str(os.getpid())
    assert labels["gameday.pid-start"] == process_start_ticks(os.getpid())
    assert labels["gameday.pid-start"].isdigit()
    assert labels["gameday.hostname"] == socket.gethostname()
    assert all(isinstance(value, str) for value in labels.values())


def test_labels_record_when_the_object_was_created_in_utc() -> None:
    created = datetime.fromisoformat(RunIdentity().labels()["gameday.created"])
    assert created.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=1)


def test_every_run_has_its_own_short_hex_id() -> None:
    first, second = RunIdentity(), RunIdentity()
    assert first.run_id != second.run_id
    assert len(first.run_id) == 12
    int(first.run_id, 16)


def test_the_current_run_is_made_once_per_process() -> None:
    assert current_run() is current_run()
    assert current_run().pid == os.getpid()


def test_this_process_is_alive() -> None:
    assert process_alive(os.getpid(), process_start_ticks(os.getpid())) is True


def test_a_pid_without_a_recorded_start_is_judged_by_the_pid_alone() -> None:
    assert process_alive(os.getpid(), "") is True


def test_a_pid_with_a_different_start_time_is_a_reused_pid_and_not_alive() -> None:
    ticks = process_start_ticks(os.getpid())
    assert process_alive(os.getpid(), str(int(ticks) + 1)) is False


def test_a_pid_that_does_not_exist_is_not_alive() -> None:
    pid = dead_pid()
    assert process_alive(pid, "") is False
    assert process_alive(pid, "12345") is False


def test_the_start_time_of_a_pid_that_does_not_exist_is_unknown() -> None:
    assert process_start_ticks(dead_pid()) == ""


def test_another_live_process_is_alive_until_it_exits() -> None:
    child = subprocess.Popen(["cat"], stdin=subprocess.PIPE)  # waits on its stdin, no sleeping
    try:
        ticks = process_start_ticks(child.pid)
        assert ticks.isdigit()
        assert int(ticks) >= int(process_start_ticks(os.getpid()))
        assert process_alive(child.pid, ticks) is True
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=10)
    assert process_alive(child.pid, ticks) is False
