"""The report text helpers: Markdown that holds together, and each way a report shows seconds."""

from __future__ import annotations

import pytest

from harness.report.text import (
    budget,
    cell,
    code,
    fence,
    junit,
    length,
    minutes,
    offset,
    one_line,
    tenths,
    terse,
    whole,
)


def test_inline_code_survives_backticks_and_line_breaks() -> None:
    assert code("a `b` c") == "``a `b` c``"
    assert code("`x`") == "`` `x` ``"
    assert code("one\ntwo") == "`one two`"
    assert code("") == "(none)"


def test_a_fence_is_longer_than_any_backtick_run_inside() -> None:
    assert fence("echo ````\n", "sh") == "`````sh\necho ````\n`````\n"
    assert fence("ls") == "```\nls\n```\n"


def test_a_table_cell_is_one_line_without_bare_pipes() -> None:
    assert cell("a | b\nc") == "a \\| b c"
    assert one_line("  x\ny  ") == "x y"


@pytest.mark.parametrize(("format_", "value", "text"), [
    (tenths, 1.25, "1.2 s"),
    (terse, 1.25, "1.2s"),
    (terse, None, "-"),
    (budget, 60.0, "60 s"),
    (offset, -0.04, "+0.0 s"),  # no negative zero
    (offset, 12.34, "+12.3 s"),
    (length, 59.94, "59.9 s"),
    (length, 3725.0, "1 h 2 min 5.0 s"),
    (minutes, -3.0, "-3.0 s"),
    (minutes, 125.0, "2 min 05 s"),
    (minutes, None, "—"),
    (whole, 12.4, "12 s"),
    (junit, float("nan"), "0.000"),
    (junit, 1.23456, "1.235"),
])
def test_each_seconds_format(format_: object, value: float | None, text: str) -> None:
    assert format_(value) == text  # type: ignore[operator]
