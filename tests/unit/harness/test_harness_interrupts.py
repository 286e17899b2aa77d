"""Interrupt handling: which Ctrl-C raises at once and which waits for the clean-up."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from harness import interrupts


@pytest.fixture(autouse=True)
def fresh_state() -> Iterator[None]:
    interrupts._state = interrupts._State()
    yield
    interrupts._state = interrupts._State()


def test_an_interrupt_outside_clean_up_raises_at_once() -> None:
    with pytest.raises(KeyboardInterrupt):
        interrupts.on_signal(signal.SIGTERM, None)
    assert interrupts.received() == 1


def test_a_shielded_block_finishes_then_the_interrupt_is_raised() -> None:
    finished = []

    def clean_up() -> None:
        with interrupts.shielded():
            interrupts.on_signal(signal.SIGINT, None)
            interrupts.on_signal(signal.SIGINT, None)  # even a second one waits
            finished.append(True)

    with pytest.raises(KeyboardInterrupt):
        clean_up()
    assert finished == [True]


def test_the_first_interrupt_waits_for_a_polite_block_a_second_cuts_it_short() -> None:
    reached = []

    def rollback() -> None:
        with interrupts.polite():
            interrupts.on_signal(signal.SIGINT, None)  # held back
            reached.append("after first")
            interrupts.on_signal(signal.SIGINT, None)  # raises here
            reached.append("after second")

    with pytest.raises(KeyboardInterrupt):
        rollback()
    assert reached == ["after first"]


def test_a_polite_block_with_one_interrupt_raises_when_it_ends() -> None:
    done = []

    def rollback_then_more() -> None:
        with interrupts.polite():
            interrupts.on_signal(signal.SIGINT, None)
            done.append("rollback finished")
        done.append("never")

    with pytest.raises(KeyboardInterrupt):
        rollback_then_more()
    assert done == ["rollback finished"]


def test_nested_blocks_raise_only_when_the_outermost_ends() -> None:
    order = []

    def nested() -> None:
        with interrupts.shielded():
            with interrupts.shielded():
                interrupts.on_signal(signal.SIGTERM, None)
                order.append("inner")
            order.append("outer still running")

    with pytest.raises(KeyboardInterrupt):
        nested()
    assert order == ["inner", "outer still running"]
