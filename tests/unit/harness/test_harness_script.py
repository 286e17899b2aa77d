"""`build_script` and `split_output`: how a block becomes one marked bash script and how its output is cut back
into per-segment pieces. Pure functions; bash itself is run only where the marker format must hold for real."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from harness.runbook.execute import build_script, split_output
from harness.runbook.model import Step
from harness.runbook.parse import parse_runbook

MARKER = "__GAMEDAY_test__"


def step_of(*code: str) -> Step:
    text = "\n".join(["## S", "", "**Check**:", "", "```bash", *code, "```", ""])
    [step] = parse_runbook("inline.md", text=text).steps()
    return step


THREE_SEGMENTS = step_of(
    'REQUEST_ID="abc123..."',
    'grep -c "$REQUEST_ID" /var/log/app.log',
    '# Expected: "1"',
    "echo second",
    '# Expected: "second"',
    "echo tail",
)


# --- build_script ---------------------------------------------------------------------------------------------------


def test_script_has_each_segments_code_in_order() -> None:
    script = build_script(THREE_SEGMENTS, MARKER, {})
    positions = [script.index(segment.code) for segment in THREE_SEGMENTS.segments]
    assert len(THREE_SEGMENTS.segments) == 3
    assert positions == sorted(positions)


def test_script_has_one_marker_per_segment_after_its_code() -> None:
    script = build_script(THREE_SEGMENTS, MARKER, {})
    for number, segment in enumerate(THREE_SEGMENTS.segments):
        stdout_marker = f"printf '\\n{MARKER} {number} %d\\n'"
        stderr_marker = f"printf '\\n{MARKER} {number}\\n' >&2"
        assert script.count(stdout_marker) == 1
        assert script.count(stderr_marker) == 1
        assert script.index(segment.code) < script.index(stdout_marker)
    assert script.count(MARKER) == 2 * len(THREE_SEGMENTS.segments)
    assert f"{MARKER} 3" not in script


def test_script_keeps_the_exit_status_after_each_marker() -> None:
    script = build_script(THREE_SEGMENTS, MARKER, {})
    assert script.count("__gd_rc=$?") == 3
    assert script.count("(exit $__gd_rc)") == 3
    assert "set -e" not in script
    assert "pipefail" not in script
    assert script.endswith("\n")


def test_script_binds_placeholders_but_not_references() -> None:
    script = build_script(THREE_SEGMENTS, MARKER, {"REQUEST_ID": "req-42"})
    assert "REQUEST_ID=req-42\n" in script
    assert 'grep -c "$REQUEST_ID"' in script
    assert "abc123" not in script


def test_script_of_a_block_without_segments_is_empty() -> None:
    text = "## S\n\n**Check**:\n\n```bash\n# only a comment\n```\n"
    [step] = parse_runbook("inline.md", text=text).steps()
    assert step.segments == ()
    assert build_script(step, MARKER, {}) == "\n"


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_script_output_splits_back_into_segments_when_bash_runs_it() -> None:
    step = step_of("printf 'one\\n'", '# Expected: "one"', "printf two; false", '# Expected: "two"', "echo three",
                   "exit 7", "echo never")
    script = build_script(step, MARKER, {})
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=10, check=False)
    outputs, codes = split_output("\n" + done.stdout, MARKER, len(step.segments))
    assert done.returncode == 7
    assert [o.removeprefix("\n") for o in outputs] == ["one\n", "two", "three\n"]
    assert codes == [0, 1, None]


# --- split_output -----------------------------------------------------------------------------------------------------


def marked(number: int, code: int | None = None) -> str:
    return f"\n{MARKER} {number}" + ("" if code is None else f" {code}") + "\n"


def test_split_gives_each_segment_its_output_and_exit_code() -> None:
    text = "\n" + "first\n" + marked(0, 0) + "second\n" + marked(1, 3)
    assert split_output(text, MARKER, 2) == (["\nfirst\n", "second\n"], [0, 3])


def test_split_handles_empty_outputs() -> None:
    text = "\n" + marked(0, 0) + marked(1, 0) + marked(2, 1)
    outputs, codes = split_output(text, MARKER, 3)
    assert [o.removeprefix("\n") for o in outputs] == ["", "", ""]
    assert codes == [0, 0, 1]


def test_split_handles_output_without_a_trailing_newline() -> None:
    text = "\n" + "no newline" + marked(0, 0) + "also none" + marked(1, 0)
    assert split_output(text, MARKER, 2) == (["\nno newline", "also none"], [0, 0])


def test_segment_that_never_reached_its_marker_gets_the_tail_and_no_code() -> None:
    text = "\n" + "first\n" + marked(0, 0) + "partial output before exit\n"
    outputs, codes = split_output(text, MARKER, 3)
    assert outputs == ["\nfirst\n", "partial output before exit\n", ""]
    assert codes == [0, None, None]


def test_first_segment_that_never_reached_its_marker() -> None:
    assert split_output("\nboom\n", MARKER, 2) == (["\nboom\n", ""], [None, None])


def test_nothing_printed_at_all() -> None:
    assert split_output("\n", MARKER, 2) == (["\n", ""], [None, None])
    assert split_output("", MARKER, 2) == (["", ""], [None, None])


def test_zero_segments() -> None:
    assert split_output("\nanything\n", MARKER, 0) == ([], [])


def test_stderr_markers_without_codes_split_the_stream() -> None:
    text = "\n" + "warn 0\n" + marked(0) + "warn 1\n" + marked(1)
    assert split_output(text, MARKER, 2) == (["\nwarn 0\n", "warn 1\n"], [None, None])


def test_marker_numbers_out_of_range_are_ignored() -> None:
    text = "\n" + "a\n" + marked(0, 0) + "b\n" + marked(5, 0)
    outputs, codes = split_output(text, MARKER, 2)
    assert codes == [0, None]
    assert outputs[0] == "\na\n"


def test_text_that_only_looks_like_a_marker_is_output() -> None:
    text = "\n" + f"{MARKER} 0 0 inside a line\n" + marked(0, 0)
    assert split_output(text, MARKER, 1) == ([f"\n{MARKER} 0 0 inside a line\n"], [0])


def test_stderr_tail_belongs_to_the_segment_that_did_not_reach_its_marker() -> None:
    text = "\n" + marked(0) + marked(1) + "ERROR: relation does not exist\n"
    outputs, _ = split_output(text, MARKER, 3)
    assert outputs[1:] == ["", "ERROR: relation does not exist\n"]
