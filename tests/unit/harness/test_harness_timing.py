"""harness.timing: where a drill's wall time goes (stack, runbook, the harness's own overhead)."""

from __future__ import annotations

import threading
import time

import pytest

from harness import timing
from harness.timing import RUNBOOK, STACK, Split


def busy(seconds: float) -> float:
    """Block for at least `seconds` (what a Docker call or a runbook command does); returns how
    long it really took, so that the assertions hold on a loaded machine too."""
    started = time.monotonic()
    while time.monotonic() < started + seconds:
        time.sleep(0.005)
    return time.monotonic() - started


def test_each_kind_is_counted_apart() -> None:
    with timing.ledger() as book:
        with timing.waiting(STACK):
            stack = busy(0.05)
        with timing.waiting(RUNBOOK):
            runbook = busy(0.03)
    assert stack <= book.seconds[STACK] < stack + 0.01
    assert runbook <= book.seconds[RUNBOOK] < runbook + 0.01


def test_a_nested_wait_counts_once_as_the_outer_kind() -> None:
    """A health check inside a runbook step is runbook time, not both."""
    with timing.ledger() as book, timing.waiting(RUNBOOK):
        with timing.waiting(STACK):
            inner = busy(0.04)
        inner += busy(0.02)
    assert book.seconds[STACK] == 0.0
    assert inner <= book.seconds[RUNBOOK] < inner + 0.01


def test_an_exception_inside_a_wait_still_counts_and_resets_nesting() -> None:
    took: list[float] = []

    def failing_docker_call() -> None:
        with timing.waiting(STACK):
            took.append(busy(0.02))
            raise RuntimeError("docker said no")

    with timing.ledger() as book:
        with pytest.raises(RuntimeError, match="docker said no"):
            failing_docker_call()
        stack = took[0]
        with timing.waiting(RUNBOOK):
            runbook = busy(0.02)
    assert book.seconds[STACK] >= stack
    assert book.seconds[RUNBOOK] >= runbook  # counted: the failed wait left no nesting behind


def test_other_threads_do_not_charge_the_drill() -> None:
    """The probe and synthetic users wait beside the drill, in threads of their own."""
    with timing.ledger() as book:
        def probe() -> None:
            with timing.waiting(STACK):
                busy(0.05)

        worker = threading.Thread(target=probe)
        worker.start()
        worker.join()
    assert book.seconds[STACK] == 0.0


def test_without_a_ledger_waiting_does_nothing() -> None:
    with timing.waiting(STACK):
        pass  # no error, nothing to count into


def test_ledgers_nest_and_restore_the_outer_one() -> None:
    with timing.ledger() as outer:
        with timing.ledger() as inner, timing.waiting(STACK):
            first = busy(0.02)
        with timing.waiting(STACK):
            second = busy(0.03)
    assert first <= inner.seconds[STACK] < first + 0.01
    assert second <= outer.seconds[STACK] < second + 0.01


def test_overhead_is_what_is_left_and_never_negative() -> None:
    assert Split(wall=10.0, stack=6.0, runbook=3.2).overhead == pytest.approx(0.8)
    assert Split(wall=1.0, stack=0.7, runbook=0.4).overhead == 0.0  # rounding across threads


def test_split_covers_the_ledger_lifetime() -> None:
    started = time.monotonic()
    with timing.ledger() as book:
        with timing.waiting(STACK):
            stack = busy(0.03)
        own = busy(0.02)  # the harness's own work
        split = book.split()
    wall = time.monotonic() - started
    assert stack + own - 0.001 <= split.wall <= wall + 0.001  # split rounds to the millisecond
    assert split.stack >= stack - 0.001
    assert own - 0.002 <= split.overhead <= wall - stack + 0.001
