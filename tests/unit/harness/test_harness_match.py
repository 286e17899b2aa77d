"""match: does a command's output satisfy the `# Expected: ...` comment written after it in a runbook?"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from harness.runbook.match import ExpectationError, MatchResult, is_empty_expectation, match, mode_of

HEALTH_EXPECTED = '{"status": "ok", "database": "connected", "uptime_seconds": ...}'

# `curl -s localhost:8080/health | jq .` on a healthy service: other key order, extra keys, pretty-printed.
HEALTHY_JQ = """\
{
  "version": "1.4.2",
  "uptime_seconds": 5123.7,
  "database": "connected",
  "checks": {
    "redis": "ok",
    "disk_free_bytes": 12884901888
  },
  "status": "ok"
}
"""

DEGRADED_JQ = """\
{
  "version": "1.4.2",
  "uptime_seconds": 5130.2,
  "database": "disconnected",
  "status": "degraded"
}
"""

PSQL_REFUSED = """\
psql: error: connection to server at "db.internal" (10.0.3.7), port 5432 failed: Connection refused
\tIs the server running on that host and accepting TCP/IP connections?
"""

DIFF_BUDGET = 4200  # 4 KB plus the truncation marker

# 20,000 lines, 6 MB: a log dump nobody wants pasted into a report.
HUGE_OUTPUT = "".join(f"2024-05-01T10:00:{i % 60:02d}Z worker-{i} processed batch {'x' * 300}\n" for i in range(20_000))


# --- JSON ------------------------------------------------------------------------------------------------------


def test_json_subset_matches_pretty_printed_jq_output_in_another_key_order_with_extra_keys() -> None:
    result = match(HEALTH_EXPECTED, HEALTHY_JQ)
    assert result == MatchResult(
        ok=True, mode="json", negated=False, diff="", expected=f"JSON subset {HEALTH_EXPECTED}", reason=""
    )


def test_json_subset_ignores_extra_keys_in_the_output() -> None:
    assert match('{"database": "connected"}', '{"database": "connected", "pool": {"size": 20}, "replicas": 2}').ok


def test_json_subset_names_every_differing_path_for_a_degraded_body() -> None:
    result = match(HEALTH_EXPECTED, DEGRADED_JQ)
    assert not result.ok
    assert result.mode == "json"
    assert result.diff.splitlines() == [
        '$.status: expected "ok", got "degraded"',
        '$.database: expected "connected", got "disconnected"',
    ]


def test_describe_is_one_line_naming_the_expectation_and_the_first_difference() -> None:
    result = match('{"database": "connected"}', '{"database": "disconnected", "status": "degraded"}')
    assert result.describe() == (
        'expected JSON subset {"database": "connected"}; $.database: expected "connected", got "disconnected"'
    )


def test_describe_of_a_satisfied_expectation_says_ok() -> None:
    assert match('{"database": "connected"}', '{"database": "connected"}').describe() == (
        'expected JSON subset {"database": "connected"}; ok'
    )


def test_a_key_whose_value_may_be_anything_must_still_be_present() -> None:
    result = match(HEALTH_EXPECTED, '{"status": "ok", "database": "connected"}')
    assert not result.ok
    assert result.diff == "$.uptime_seconds: missing"


def test_any_value_matches_null_too() -> None:
    assert match('{"replica_lag": ...}', '{"replica_lag": null}').ok


def test_any_value_works_inside_nested_objects_and_lists() -> None:
    expected = '{"db": {"pool": {"size": ..., "in_use": 3}, "replicas": [{"lag": ...}, ...]}}'
    actual = json.dumps({"db": {"pool": {"size": 20, "in_use": 3, "idle": 17}, "replicas": [{"lag": 0.2}, {"lag": 3}]}})
    assert match(expected, actual).ok
    wrong = json.dumps({"db": {"pool": {"size": 20, "in_use": 4}, "replicas": [{"lag": 0.2}]}})
    assert match(expected, wrong).diff == "$.db.pool.in_use: expected 3, got 4"


def test_an_ellipsis_as_an_object_member_allows_other_keys_like_the_default() -> None:
    assert match('{"status": "ok", ...}', '{"status": "ok", "version": "2"}').ok
    assert match("{...}", '{"anything": [1, 2]}').ok
    assert not match('{"status": "ok", ...}', '{"status": "down"}').ok


def test_an_ellipsis_inside_a_json_string_is_literal_text() -> None:
    assert match('{"message": "loading..."}', '{"message": "loading..."}').ok
    result = match('{"message": "loading..."}', '{"message": "loading 50%"}')
    assert result.diff == '$.message: expected "loading...", got "loading 50%"'


@pytest.mark.parametrize(
    ("expected", "actual"),
    [("1", "1.0"), ('{"replicas": 1}', '{"replicas": 1.0}'), ('{"ratio": 0.5}', '{"ratio": 5e-1}'), ("true", "true")],
)
def test_numbers_compare_numerically(expected: str, actual: str) -> None:
    assert match(expected, actual).ok


@pytest.mark.parametrize(
    ("expected", "actual", "diff"),
    [
        ('{"enabled": true}', '{"enabled": 1}', "$.enabled: expected true, got 1"),
        ('{"enabled": 1}', '{"enabled": true}', "$.enabled: expected 1, got true"),
        ('{"count": 0}', '{"count": false}', "$.count: expected 0, got false"),
        ('{"count": 0}', '{"count": "0"}', '$.count: expected 0, got "0"'),
        ('{"owner": null}', '{"owner": "alice"}', '$.owner: expected null, got "alice"'),
    ],
)
def test_a_bool_is_not_a_number_and_types_are_not_coerced(expected: str, actual: str, diff: str) -> None:
    result = match(expected, actual)
    assert not result.ok
    assert result.diff == diff


def test_a_list_without_trailing_ellipsis_must_have_the_same_length() -> None:
    assert match('{"nodes": ["a", "b"]}', '{"nodes": ["a", "b"]}').ok
    result = match('{"nodes": ["a", "b"]}', '{"nodes": ["a", "b", "c"]}')
    assert result.diff == "$.nodes: expected 2 elements, got 3"


def test_a_list_ending_in_ellipsis_allows_more_elements() -> None:
    assert match('{"nodes": ["a", ...]}', '{"nodes": ["a", "b", "c"]}').ok
    assert match('{"nodes": ["a", ...]}', '{"nodes": ["a"]}').ok
    assert match('{"nodes": [...]}', '{"nodes": []}').ok


def test_a_list_ending_in_ellipsis_still_needs_its_leading_elements() -> None:
    result = match('{"nodes": ["a", "b", ...]}', '{"nodes": ["x"]}')
    assert result.diff.splitlines() == [
        "$.nodes: expected at least 2 elements, got 1",
        '$.nodes[0]: expected "a", got "x"',
    ]


def test_lists_compare_element_by_element_with_indexed_paths() -> None:
    result = match("[1, 2, 3]", "[1, 2, 4]")
    assert result.diff == "$[2]: expected 3, got 4"


def test_a_key_that_is_not_an_identifier_is_quoted_in_the_path() -> None:
    result = match('{"headers": {"x-request-id": ...}}', '{"headers": {}}')
    assert result.diff == '$.headers["x-request-id"]: missing'


def test_an_object_where_a_list_is_expected_is_reported_with_both_values() -> None:
    result = match('{"items": [1]}', '{"items": {"a": 1}}')
    assert result.diff == '$.items: expected [1], got {"a": 1}'


def test_a_json_string_matches_jq_output_of_that_string() -> None:
    assert match('"connected"', '"connected"\n').ok


def test_a_json_string_matches_raw_jq_r_output() -> None:
    assert match('"connected"', "connected\n").ok


def test_a_json_string_reports_the_other_value_of_jq_output() -> None:
    result = match('"degraded"', '"connected"\n')
    assert not result.ok
    assert result.diff == '$: expected "degraded", got "connected"'


def test_a_json_string_reports_the_other_value_of_raw_output() -> None:
    result = match('"degraded"', "connected\n")
    assert not result.ok
    assert result.diff == '$: expected "degraded", got "connected" (raw text)'


def test_a_json_string_matches_one_line_of_raw_jq_r_output_over_several_records() -> None:
    assert match('"degraded"', "connected\ndegraded\n").ok


def test_a_stream_of_jq_records_matches_when_any_record_matches() -> None:
    stream = "\n".join(
        json.dumps({"name": name, "status": status}, indent=2)
        for name, status in [("api", "ok"), ("db", "degraded"), ("cache", "ok")]
    )
    assert match('{"name": "db", "status": "degraded"}', stream).ok


def test_json_lines_output_is_read_as_a_stream() -> None:
    lines = '{"level": "info", "msg": "start"}\n{"level": "error", "msg": "pool exhausted"}\n'
    assert match('{"level": "error"}', lines).ok


def test_a_stream_without_a_matching_record_shows_the_closest_record() -> None:
    stream = '{"name": "api", "status": "ok"}\n{"name": "db", "status": "ok"}\n'
    result = match('{"name": "db", "status": "degraded"}', stream)
    assert not result.ok
    assert result.diff.splitlines() == [
        "none of the 2 JSON values in the output matches; the closest is value #2:",
        '$.status: expected "degraded", got "ok"',
    ]


def test_output_that_is_not_json_is_a_mismatch_showing_its_first_lines() -> None:
    result = match(HEALTH_EXPECTED, "curl: (7) Failed to connect to localhost port 8080: Connection refused\n")
    assert not result.ok
    assert result.mode == "json"
    assert result.diff.splitlines() == [
        "the output is not JSON (1 line); first lines:",
        "  curl: (7) Failed to connect to localhost port 8080: Connection refused",
    ]
    assert result.describe().endswith("; the output is not JSON (1 line)")


def test_empty_output_against_a_json_expectation_says_so() -> None:
    result = match(HEALTH_EXPECTED, "")
    assert result.diff == "the output is empty, not JSON"


def test_json_differences_are_capped_at_twenty_lines() -> None:
    expected = json.dumps({f"key{i}": i for i in range(30)})
    result = match(expected, "{}")
    lines = result.diff.splitlines()
    assert len(lines) == 21
    assert lines[0] == "$.key0: missing"
    assert lines[-1] == "... (10 more differences)"


def test_long_values_are_clipped_in_json_differences() -> None:
    result = match('{"token": "redacted"}', json.dumps({"token": "x" * 5000}))
    assert len(result.diff) < 200
    assert result.diff.startswith('$.token: expected "redacted", got "xxx')


# --- empty -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expected",
    [
        "no results",
        "No results",
        "nothing",
        "Nothing.",
        "no output",
        '"no output"',
        "empty",
        "(empty)",
        "no lines",
        "None",
        "NONE.",
        "No results (all tokens should be redacted)",
        "nothing - grep exits 1 when every token is masked",
        "None: the queue is drained",
        "No output\n(the cron job is paused)",
    ],
)
def test_phrases_for_no_output_are_empty_expectations(expected: str) -> None:
    assert is_empty_expectation(expected)
    assert mode_of(expected) == "empty"


@pytest.mark.parametrize(
    "expected",
    ["None of the replicas lag", "Empty set (0.00 sec)", "no results found for token", "! no output", "0"],
)
def test_sentences_that_merely_mention_nothing_are_not_empty_expectations(expected: str) -> None:
    assert not is_empty_expectation(expected)


def test_an_empty_expectation_matches_blank_output() -> None:
    for output in ("", "\n", "  \n\t\n"):
        result = match("No results (all tokens should be redacted)", output)
        assert result.ok
        assert result.mode == "empty"
        assert result.diff == ""


def test_an_empty_expectation_shows_the_unexpected_lines() -> None:
    output = (
        "2024-05-01T10:00:01Z INFO login user=alice token=eyJhbGciOi\n"
        "2024-05-01T10:00:02Z INFO login user=bob token=eyJ0eXAiOi\n"
    )
    result = match("No results (all tokens should be redacted)", output)
    assert not result.ok
    assert result.diff.splitlines() == [
        "expected no output, got 2 lines:",
        "  2024-05-01T10:00:01Z INFO login user=alice token=eyJhbGciOi",
        "  2024-05-01T10:00:02Z INFO login user=bob token=eyJ0eXAiOi",
    ]
    assert result.describe() == (
        "expected no output; got 2 lines: 2024-05-01T10:00:01Z INFO login user=alice token=eyJhbGciOi"
    )


def test_an_empty_expectation_shows_at_most_twenty_lines() -> None:
    result = match("nothing", "".join(f"line {i}\n" for i in range(50)))
    lines = result.diff.splitlines()
    assert len(lines) == 22
    assert lines[-1] == "  ... (30 more lines)"


# --- regex -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "output",
    [
        "psql: error: FATAL:  sorry, too many clients already\n",
        "psql: error: FATAL:  remaining connection slots are reserved for non-replication superuser connections\n",
        "FATAL:  Sorry, Too Many Clients already\n",
    ],
)
def test_a_regex_is_searched_in_the_output_with_its_flags(output: str) -> None:
    result = match("/too many clients|remaining connection slots/i", output)
    assert result.ok
    assert result.mode == "regex"


def test_a_regex_without_the_i_flag_is_case_sensitive() -> None:
    assert not match("/too many clients/", "FATAL:  Too Many Clients\n").ok


def test_a_regex_anchors_at_line_boundaries() -> None:
    assert match("/^ERROR: disk full$/", "INFO: starting\nERROR: disk full\nINFO: retrying\n").ok


def test_a_regex_mismatch_shows_the_first_lines_of_the_output() -> None:
    result = match("/too many clients|remaining connection slots/i", " count \n-------\n    12\n(1 row)\n")
    assert not result.ok
    assert result.diff.splitlines() == [
        "no match for regex /too many clients|remaining connection slots/i in the output (4 lines); first lines:",
        "   count ",
        "  -------",
        "      12",
        "  (1 row)",
    ]


@pytest.mark.parametrize("expected", ["/([a-z]+/", "/*oops/i", "!/[unclosed/"])
def test_an_invalid_regex_raises_expectation_error_instead_of_matching(expected: str) -> None:
    with pytest.raises(ExpectationError, match="invalid regular expression"):
        match(expected, "anything")
    with pytest.raises(ExpectationError, match="invalid regular expression"):
        mode_of(expected)


def test_expectation_error_is_a_value_error() -> None:
    assert issubclass(ExpectationError, ValueError)


def test_a_path_with_flag_like_last_component_is_text_not_a_regex() -> None:
    assert mode_of("/usr/bin/x") == "text"
    assert mode_of("/var/lib/postgresql/data") == "text"
    assert mode_of("/https?://db.internal/") == "regex"


# --- negation --------------------------------------------------------------------------------------------------


def test_negation_passes_when_the_output_does_not_match() -> None:
    result = match('! {"status": "degraded"}', HEALTHY_JQ)
    assert result.ok
    assert result.negated
    assert result.mode == "json"


def test_negation_fails_showing_the_json_that_must_not_appear() -> None:
    result = match('!{"status": "degraded"}', DEGRADED_JQ)
    assert not result.ok
    assert result.negated
    assert result.diff.startswith('the output matches JSON subset {"status": "degraded"}, which must not appear: {')
    assert '"status": "degraded"' in result.diff
    assert result.describe().startswith('expected output not matching JSON subset {"status": "degraded"}; ')


def test_negation_of_a_regex_fails_showing_the_matching_line() -> None:
    output = "LOG:  checkpoint starting\nFATAL:  sorry, too many clients already\nLOG:  checkpoint complete\n"
    result = match("! /too many clients/", output)
    assert not result.ok
    assert result.mode == "regex"
    assert result.diff == (
        "the output matches regex /too many clients/, which must not appear: line 2: "
        "FATAL:  sorry, too many clients already"
    )
    assert match("! /too many clients/", "LOG:  checkpoint complete\n").ok


def test_negation_of_text_fails_showing_the_line_and_the_matching_part() -> None:
    result = match("!Connection refused", PSQL_REFUSED)
    assert not result.ok
    assert result.diff.splitlines()[0].startswith(
        'the output contains text "Connection refused", which must not appear at line 1: psql: error:'
    )
    assert result.diff.splitlines()[1] == '  matched: "Connection refused"'


def test_negation_of_no_output_demands_some_output() -> None:
    assert match("! no output", "1 row\n").ok
    result = match("! no output", "\n")
    assert not result.ok
    assert result.mode == "empty"
    assert result.diff == "the output is empty, but some output was expected"
    assert result.describe() == "expected some output; the output is empty"


@pytest.mark.parametrize("expected", ["", "   \n  ", "!", "  !  "])
def test_an_expectation_with_nothing_to_compare_raises(expected: str) -> None:
    with pytest.raises(ExpectationError, match="no output"):
        match(expected, "")


# --- text ------------------------------------------------------------------------------------------------------


def test_text_wildcard_spans_lines_of_a_real_psql_error() -> None:
    result = match("psql: error: ... Connection refused", PSQL_REFUSED)
    assert result.ok
    assert result.mode == "text"


def test_text_wildcard_across_a_line_break_in_the_expectation_too() -> None:
    assert match("Connection refused\n... accepting TCP/IP connections?", PSQL_REFUSED).ok


def test_text_mismatch_is_a_unified_diff_of_expected_and_actual_lines() -> None:
    result = match("psql: error: ... Connection timed out", PSQL_REFUSED)
    assert not result.ok
    assert result.diff.splitlines() == [
        "--- expected",
        "+++ actual",
        "@@ -1 +1,2 @@",
        "-psql: error: ... Connection timed out",
        '+psql: error: connection to server at "db.internal" (10.0.3.7), port 5432 failed: Connection refused',
        "+\tIs the server running on that host and accepting TCP/IP connections?",
    ]
    assert result.describe() == (
        'expected text "psql: error: ... Connection timed out"; text not found in the output (2 lines)'
    )


def test_text_is_searched_anywhere_in_the_output_with_whitespace_normalised() -> None:
    output = "NAME     READY   STATUS    RESTARTS\napi-7d9   1/1     Running   0\n"
    assert match("1/1 Running", output).ok
    assert match("READY STATUS\n  RESTARTS api-7d9", output).ok


def test_text_is_case_sensitive() -> None:
    assert not match("running", "api-7d9   1/1     Running   0\n").ok


def test_quotes_around_text_are_part_of_the_text() -> None:
    assert mode_of('"ready" and "serving"') == "text"
    assert match('"ready" and "serving"', 'state: "ready" and "serving" since 10:02').ok
    assert not match('"ready" and "serving"', "state: ready and serving").ok


def test_a_single_quoted_string_is_a_json_string_not_text() -> None:
    assert mode_of('"connected"') == "json"


@pytest.mark.parametrize(
    ("expected", "output", "ok"),
    [
        ("a ... b", "a b", True),
        ("a ... b", "a x y b", True),
        ("a ... b", "ab", False),
        ("a ... b", "a xb", False),
        ("a...b", "ab", True),
        ("a...b", "a-b", True),
        ("... done", "all done", True),
        ("starting ...", "starting", True),
        ("...", "", True),
        ("wait...", "wait...", True),
    ],
)
def test_the_text_wildcard_matches_any_text_including_none(expected: str, output: str, ok: bool) -> None:
    assert match(expected, output).ok is ok


def test_a_text_diff_is_limited_to_thirty_lines() -> None:
    expected = "\n".join(f"expected line {i}" for i in range(40))
    result = match(expected, "something else\n")
    lines = result.diff.splitlines()
    assert len(lines) == 31
    assert lines[-1].startswith("... (")
    assert lines[-1].endswith(" more lines)")


# --- mode selection and result shape ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "mode"),
    [
        ('{"status": "ok"}', "json"),
        ("[1, 2, ...]", "json"),
        ('"connected"', "json"),
        ("42", "json"),
        ("true", "json"),
        ("/ready/", "regex"),
        ("/ready/im", "regex"),
        ("no output", "empty"),
        ("! no output", "empty"),
        ("!/x/", "regex"),
        ("Connection refused", "text"),
        ("...", "text"),
        ('{"status": "ok"} (uptime varies)', "text"),
        ("NaN", "text"),
    ],
)
def test_mode_of_names_the_mode_match_would_use(expected: str, mode: str) -> None:
    assert mode_of(expected) == mode


def test_a_match_result_is_immutable() -> None:
    result = match("x", "x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.ok = False  # type: ignore[misc]


@pytest.mark.parametrize(
    "expected",
    [
        "psql: error: ... Connection timed out",
        "no output",
        "/never matches here/",
        HEALTH_EXPECTED,
        '"connected"',
    ],
)
def test_diffs_stay_bounded_for_a_huge_output(expected: str) -> None:
    result = match(expected, HUGE_OUTPUT)
    assert not result.ok
    assert 0 < len(result.diff) <= DIFF_BUDGET
    assert "\n" not in result.describe()
    assert len(result.describe()) < 500


def test_negated_diffs_stay_bounded_for_a_huge_match() -> None:
    huge_json = json.dumps({"status": "degraded", "blob": ["y" * 1000] * 1000}, indent=2)
    result = match('!{"status": "degraded"}', huge_json)
    assert not result.ok
    assert len(result.diff) <= DIFF_BUDGET


# --- properties ------------------------------------------------------------------------------------------------

json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=8,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=6)
indents = st.sampled_from([None, 0, 1, 2, 4, "\t"])
FAST = settings(max_examples=40, deadline=None)


def _superset(data: st.DataObject, value: Any) -> Any:
    """`value` with extra keys added to every object (lists keep their length); keys come out in a new order."""
    if isinstance(value, dict):
        extra = data.draw(st.dictionaries(st.text(max_size=8), json_scalars, max_size=3))
        merged = {key: item for key, item in extra.items() if key not in value}
        merged.update({key: _superset(data, item) for key, item in value.items()})
        keys = data.draw(st.permutations(list(merged)))
        return {key: merged[key] for key in keys}
    if isinstance(value, list):
        return [_superset(data, item) for item in value]
    return value


@FAST
@given(value=json_objects, indent=indents, sort_keys=st.booleans(), ensure_ascii=st.booleans())
def test_any_json_object_matches_itself_however_it_is_serialised(
    value: dict[str, Any], indent: int | str | None, sort_keys: bool, ensure_ascii: bool
) -> None:
    actual = json.dumps(value, indent=indent, sort_keys=sort_keys, ensure_ascii=ensure_ascii)
    result = match(json.dumps(value), actual)
    assert result.ok, result.diff
    assert result.mode == "json"


@FAST
@given(value=json_objects, data=st.data(), indent=indents)
def test_any_json_object_matches_a_superset_of_itself(
    value: dict[str, Any], data: st.DataObject, indent: int | str | None
) -> None:
    actual = json.dumps(_superset(data, value), indent=indent)
    assert match(json.dumps(value), actual).ok


@FAST
@given(expected=json_objects, other=json_objects, same=st.booleans(), data=st.data())
def test_negation_inverts_a_json_match(
    expected: dict[str, Any], other: dict[str, Any], same: bool, data: st.DataObject
) -> None:
    actual = json.dumps(_superset(data, expected) if same else other, indent=2)
    plain = match(json.dumps(expected), actual)
    negated = match("!" + json.dumps(expected), actual)
    assert negated.ok is not plain.ok
    assert negated.negated
    assert negated.mode == plain.mode == "json"
    assert (negated.diff == "") is negated.ok


words = st.text(
    alphabet=st.characters(exclude_categories=["Cc", "Cs", "Zs", "Zl", "Zp"]), min_size=1, max_size=8
).filter(lambda word: word.split() == [word])
whitespace = st.lists(st.sampled_from([" ", "\t", "\n", "\r\n", "  ", "\u00a0", "\u2003"]), min_size=1, max_size=3).map(
    "".join
)


def _plain_text(expected: str) -> bool:
    """Read as plain text: not negated, not a regex, JSON or "no output" phrase."""
    if expected.strip().startswith("!"):
        return False
    try:
        return mode_of(expected) == "text"
    except ExpectationError:  # e.g. `/(/`, an invalid regex
        return False


@st.composite
def spaced(draw: st.DrawFn, tokens: list[str]) -> str:
    """`tokens` joined by arbitrary whitespace, with arbitrary whitespace around them."""
    gaps = draw(st.lists(whitespace, min_size=len(tokens) - 1, max_size=len(tokens) - 1))
    lead, trail = draw(st.sampled_from(["", " ", "\n\t"])), draw(st.sampled_from(["", "\n", " \r\n"]))
    return lead + "".join(token + gap for token, gap in zip(tokens, [*gaps, ""], strict=True)) + trail


@FAST
@given(tokens=st.lists(words, min_size=1, max_size=8), data=st.data())
def test_text_matches_itself_with_arbitrary_whitespace_changes(tokens: list[str], data: st.DataObject) -> None:
    expected = data.draw(spaced(tokens))
    assume(_plain_text(expected))
    actual = data.draw(spaced(tokens))
    noisy = data.draw(st.sampled_from(["", "header line\n"])) + actual + data.draw(st.sampled_from(["", "\ntrailer"]))
    assert match(expected, actual).ok
    assert match(expected, noisy).ok


@FAST
@given(tokens=st.lists(words, min_size=1, max_size=6), output=st.text(max_size=60), data=st.data())
def test_negation_inverts_a_text_match(tokens: list[str], output: str, data: st.DataObject) -> None:
    expected = " ".join(tokens)
    assume(_plain_text(expected))
    actual = data.draw(st.sampled_from([output, output + " " + expected, data.draw(spaced(tokens))]))
    plain = match(expected, actual)
    negated = match("!" + expected, actual)
    assert negated.ok is not plain.ok
    assert negated.mode == plain.mode == "text"
    assert (negated.diff == "") is negated.ok
