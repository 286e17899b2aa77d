"""Run a runbook step on a host, faithfully, and check its expectations.

A step (one code block) runs as ONE bash script on its host, the way a person pastes a block into
one shell: variables set early in the block are seen later in it, but nothing survives into the
next block (a fresh shell, like a new SSH session). Between the block's segments the harness
prints a marker with the segment's exit status, so each `# Expected:` is compared with the output
of the commands just above it. No `set -e`, no `pipefail`: the shell behaves as the operator's.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from harness.clock import SYSTEM_CLOCK, Clock
from harness.runbook.match import ExpectationError, MatchResult, match
from harness.runbook.model import Expectation, ExpectationKind, Segment, Step
from harness.runbook.variables import bind
from harness.stack.host import ExecResult, Host

DEFAULT_STEP_TIMEOUT = 30.0
DEFAULT_RETRY_INTERVAL = 1.0
MAX_ATTEMPTS = 100  # `within=` re-runs are bounded by count as well as by time


@dataclass(frozen=True)
class Check:
    """One expectation compared with the output of its segment."""

    expectation: Expectation
    result: MatchResult

    @property
    def ok(self) -> bool:
        return self.result.ok


@dataclass(frozen=True)
class SegmentRun:
    segment: Segment
    reached: bool  # False when an earlier command ended the script (exit, timeout)
    exit_code: int | None
    stdout: str
    stderr: str
    checks: tuple[Check, ...]

    def checks_of(self, kind: ExpectationKind) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.expectation.kind is kind)


@dataclass(frozen=True)
class StepRun:
    step: Step
    host: str
    script: str
    exit_code: int
    stdout: str
    stderr: str
    duration: float
    timed_out: bool
    segments: tuple[SegmentRun, ...]
    attempts: int = 1

    def checks_of(self, kind: ExpectationKind) -> tuple[Check, ...]:
        return tuple(c for s in self.segments for c in s.checks_of(kind))

    def holds(self, kind: ExpectationKind) -> bool:
        """Every expectation of `kind` holds (vacuously true when there is none)."""
        return not self.timed_out and all(c.ok for c in self.checks_of(kind))


def build_script(step: Step, marker: str, values: Mapping[str, str]) -> str:
    """The block's commands, placeholders bound, with a marker line after each segment."""
    parts = []
    for number, segment in enumerate(step.segments):
        parts.append(bind(segment.code, values))
        parts.append(f"__gd_rc=$?; printf '\\n{marker} {number} %d\\n' \"$__gd_rc\"; "
                     f"printf '\\n{marker} {number}\\n' >&2; (exit $__gd_rc)")
    return "\n".join(parts) + "\n"


def split_output(text: str, marker: str, count: int) -> tuple[list[str], list[int | None]]:
    """Per-segment output and exit codes from a marked stream (None: segment not reached)."""
    outputs: list[str] = [""] * count
    codes: list[int | None] = [None] * count
    pattern = re.compile(rf"\n{re.escape(marker)} (\d+)(?: (\d+))?\n")
    position, last = 0, -1
    for found in pattern.finditer(text):
        number = int(found.group(1))
        if 0 <= number < count:
            outputs[number] = text[position:found.start()]
            if found.group(2) is not None:
                codes[number] = int(found.group(2))
            last = max(last, number)
        position = found.end()
    tail = text[position:]
    if tail and last + 1 < count:  # the segment that never reached its marker (it exited or timed out)
        outputs[last + 1] = tail
    return outputs, codes


def check(expectation: Expectation, stdout: str, stderr: str) -> MatchResult:
    """Compare with stdout first (JSON tools write there), then with stdout and stderr together
    (errors such as psql's go to stderr). A negated expectation must hold on both."""
    combined = f"{stdout}\n{stderr}" if stderr.strip() else stdout
    try:
        on_stdout = match(expectation.text, stdout)
    except ExpectationError as exc:
        return _failed(expectation, f"unusable expectation: {exc}")
    if on_stdout.negated or on_stdout.ok or combined == stdout:
        return on_stdout if not on_stdout.negated else match(expectation.text, combined)
    return match(expectation.text, combined)


def _failed(expectation: Expectation, reason: str) -> MatchResult:
    return MatchResult(ok=False, mode="text", negated=False, diff=reason, expected=expectation.text, reason=reason)


def run_step(step: Step, host: Host, *, variables: Mapping[str, str] | None = None,
             timeout: float | None = None, until: ExpectationKind | None = None,
             clock: Clock = SYSTEM_CLOCK, on_attempt: Callable[[StepRun], None] | None = None) -> StepRun:
    """Run `step` on `host`. With `within=` on the step and `until` given, re-run until every
    expectation of that kind holds or the time is up (bounded by MAX_ATTEMPTS too)."""
    values = dict(variables or {})
    deadline = clock.now() + (step.within or 0.0)
    interval = step.retry_interval or DEFAULT_RETRY_INTERVAL
    attempts = 0
    while True:
        attempts += 1
        run = _run_once(step, host, values, timeout or step.timeout or DEFAULT_STEP_TIMEOUT, attempts)
        if on_attempt is not None:
            on_attempt(run)
        if until is None or not step.within or run.holds(until) or attempts >= MAX_ATTEMPTS:
            return run
        if clock.now() + interval > deadline:
            return run
        clock.sleep(interval)


def _run_once(step: Step, host: Host, values: dict[str, str], timeout: float, attempt: int) -> StepRun:
    marker = f"__GAMEDAY_{secrets.token_hex(6)}__"
    script = build_script(step, marker, values)
    result: ExecResult = host.exec(script, timeout=timeout, env=values)
    count = len(step.segments)
    stdouts, codes = split_output("\n" + result.stdout, marker, count)
    stderrs, _ = split_output("\n" + result.stderr, marker, count)
    segments = []
    for number, segment in enumerate(step.segments):
        reached = codes[number] is not None or bool(stdouts[number] or stderrs[number])
        out, err = stdouts[number].removeprefix("\n"), stderrs[number].removeprefix("\n")
        checks = tuple(Check(e, check(e, out, err) if reached else _failed(
            e, "not reached: an earlier command ended the block (exit or timeout)")) for e in segment.expectations)
        segments.append(SegmentRun(segment, reached, codes[number], out, err, checks))
    return StepRun(step, host.name, script, result.exit_code, _strip_markers(result.stdout, marker),
                   _strip_markers(result.stderr, marker), result.duration, result.timed_out, tuple(segments),
                   attempt)


def _strip_markers(text: str, marker: str) -> str:
    return re.sub(rf"\n?{re.escape(marker)} \d+(?: \d+)?\n", "", text)
