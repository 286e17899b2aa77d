"""parse_duration: the durations people write in definitions (`30s`, `2m`, `500ms`, a bare number)."""

from __future__ import annotations

import math

import pytest

from harness.durations import parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30.0),
        ("2m", 120.0),
        ("500ms", 0.5),
        ("1h", 3600.0),
        ("1.5s", 1.5),
        ("0.25", 0.25),
        ("45", 45.0),
    ],
)
def test_a_duration_with_or_without_a_unit_is_read_in_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(("number", "seconds"), [(5, 5.0), (2.5, 2.5), (1, 1.0)])
def test_a_bare_number_is_seconds(number: float, seconds: float) -> None:
    result = parse_duration(number)
    assert result == seconds
    assert isinstance(result, float)


@pytest.mark.parametrize("text", [" 30s", "30s ", "  30s\t", "30 s", "\n30s\n"])
def test_whitespace_around_and_inside_a_duration_is_ignored(text: str) -> None:
    assert parse_duration(text) == 30.0


@pytest.mark.parametrize("value", [0, 0.0, "0", "0s", "0ms", "0.0m"])
def test_a_zero_duration_is_rejected(value: object) -> None:
    with pytest.raises(ValueError, match="positive"):
        parse_duration(value)


@pytest.mark.parametrize("value", [-1, -0.5, "-5s", "-1"])
def test_a_negative_duration_is_rejected(value: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(value)


@pytest.mark.parametrize(
    "value", ["abc", "10 parsecs", "", "   ", "s", "1d", "1.5.2s", "5 minutes", "1e3", "30ss", "1s2"]
)
def test_text_that_is_not_a_duration_is_rejected(value: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(value)


@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_is_not_a_duration_although_bool_is_an_int(value: bool) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(value)


@pytest.mark.parametrize("value", [None, [30], {"s": 30}, b"30s"])
def test_other_types_are_rejected_with_a_value_error(value: object) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(value)


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_nan_and_infinity_are_not_durations(value: float) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(value)
