"""Does a command's output satisfy the `# Expected: ...` comment a person wrote after it?

`match(expected, actual)` reads the expectation the way an operator means it. The mode is chosen in this order:

    !<rest>                  negation: the output must NOT satisfy <rest> (one level; `!!x` is `!` + text "!x")
    no output / nothing ...  empty: the output is blank (quotes, a trailing period and a remark such as
                             `(all tokens redacted)`, `- reason` or `: reason` are ignored)
    /pattern/flags           regex: `re.search` over the whole output, always MULTILINE; flags from `imsx`
    {"status": "ok", ...}    JSON: subset match; `...` stands for any value, "more keys" or "more elements"
    anything else            text: whitespace-insensitive search; `...` stands for any text

A mismatch carries a bounded, readable `diff` (JSON paths, a unified diff, the first lines of the output) and
`describe()` gives a one-line summary for reports. An expectation that cannot be used at all (an invalid regex,
nothing after `Expected:`) raises `ExpectationError`, which callers turn into a lint finding.
"""

from __future__ import annotations

import bisect
import difflib
import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "MODES",
    "ExpectationError",
    "MatchResult",
    "is_empty_expectation",
    "match",
    "mode_of",
]

MODE_JSON = "json"
MODE_TEXT = "text"
MODE_REGEX = "regex"
MODE_EMPTY = "empty"
MODES = (MODE_JSON, MODE_TEXT, MODE_REGEX, MODE_EMPTY)

_MAX_DIFF_CHARS = 4000  # a diff never grows beyond this (plus a one-line truncation marker)
_MAX_LINE_CHARS = 200  # one shown line of output
_MAX_JSON_DIFF_LINES = 20
_MAX_TEXT_DIFF_LINES = 30
_MAX_EMPTY_LINES = 20
_MAX_PREVIEW_LINES = 10  # first lines of an output shown as evidence
_MAX_DIFFED_OUTPUT_LINES = 1000  # difflib never sees more of the output than this
_SHORT_VALUE = 80  # a JSON value inside a diff line
_SHORT_EXPECTATION = 100  # the expectation inside describe()
_SHORT_REASON = 240  # the reason inside describe()
_MAX_RENDER_DEPTH = 20  # deeper JSON is shown as an ellipsis
_ELLIPSIS = "\u2026"  # marks a clipped value; "..." would read as the "any value" wildcard

_EMPTY_PHRASES = frozenset({"no results", "nothing", "no output", "empty", "(empty)", "no lines", "none"})
_WRAPPING_QUOTES = ('"', "'", "`")
_REMARK_SPLIT = re.compile(r"\s+[-\u2013\u2014]+\s+|:")  # ` - why`, ` -- why`, ` — why`, `: why`
_PARENTHESISED = re.compile(r"\([^()]*\)")

_REGEX_FORM = re.compile(r"/(?P<pattern>.+)/(?P<flags>[imsx]*)", re.DOTALL)
_REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}

_TEXT_WILDCARD = re.compile(r"( ?\.\.\. ?)")
_JSON_WHITESPACE = re.compile(r"[ \t\n\r]*")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# `...` in a JSON expectation is replaced by this JSON string before parsing, then by `_ANY` after it. It is
# written with \u0000 escapes so nothing a person types into a runbook collides with it.
_SENTINEL = "\x00gameday-harness:any-value\x00"
_SENTINEL_JSON = json.dumps(_SENTINEL)


class ExpectationError(ValueError):
    """The expectation itself is unusable (an invalid regex, nothing to compare); a lint finding, not a mismatch."""


@dataclass(frozen=True)
class MatchResult:
    """The verdict on one output.

    `ok`: the expectation is satisfied (after negation). `mode`: "json", "text", "regex" or "empty" (the mode
    of the expectation after a leading `!`). `diff`: empty when ok, else a bounded, multi-line explanation.
    `expected`: a one-line rendering of the expectation (without the negation). `reason`: one line saying why
    it failed (empty when ok).
    """

    ok: bool
    mode: str
    negated: bool
    diff: str
    expected: str = ""
    reason: str = ""

    def describe(self) -> str:
        """One line, e.g. `expected JSON subset {"database": "connected"}; $.database: expected ..., got ...`."""
        if self.negated and self.mode == MODE_EMPTY:
            what = "expected some output"
        elif self.negated:
            what = f"expected output not matching {self.expected}"
        else:
            what = f"expected {self.expected}"
        if self.ok:
            return f"{what}; ok"
        reason = self.reason or next((line for line in self.diff.splitlines() if line.strip()), "mismatch")
        return f"{what}; {_clip(_one_line(reason), _SHORT_REASON)}"


def match(expected: str, actual: str) -> MatchResult:
    """Whether `actual` (a command's output) satisfies `expected` (the text after `# Expected:`).

    Raises ExpectationError when the expectation cannot be used (an invalid regex, an empty expectation).
    """
    expectation = _parse(expected)
    outcome = expectation.evaluate(actual)
    ok = outcome.ok != expectation.negated
    return MatchResult(
        ok=ok,
        mode=expectation.mode,
        negated=expectation.negated,
        diff="" if ok else _bound(outcome.detail),
        expected=expectation.rendering,
        reason="" if ok else _clip(_one_line(outcome.reason), _SHORT_REASON),
    )


def mode_of(expected: str) -> str:
    """The mode `match` would use for `expected` ("json", "text", "regex" or "empty"; a leading `!` is skipped).

    Raises ExpectationError exactly when `match` would, so a linter can report unusable expectations.
    """
    return _parse(expected).mode


def is_empty_expectation(expected: str) -> bool:
    """Whether `expected` says "the command prints nothing": `No results`, `(empty)`, `None.`, `"no output"`,
    `No results (all tokens should be redacted)`, `nothing - grep exits 1`, ... (case-insensitive).

    A negated `! no output` is not an empty expectation (it demands some output).
    """
    text = _unwrap(" ".join(expected.split()))
    if text.lower() in _EMPTY_PHRASES:
        return True
    head = _REMARK_SPLIT.split(text, maxsplit=1)[0]
    head = _unwrap(" ".join(_PARENTHESISED.sub(" ", head).split()))
    return head.lower() in _EMPTY_PHRASES


# --- parsing the expectation ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    """The un-negated verdict. `detail`/`reason` explain the mismatch when not ok, and what matched when ok
    (which is the explanation a negated expectation needs)."""

    ok: bool
    detail: str
    reason: str


class _Expectation:
    mode: str = MODE_TEXT
    negated: bool = False
    rendering: str = ""

    def evaluate(self, actual: str) -> _Outcome:  # pragma: no cover - every mode overrides it
        raise NotImplementedError


def _parse(expected: str) -> _Expectation:
    text = expected.strip()
    negated = text.startswith("!")
    if negated:
        text = text[1:].strip()
    if not text:
        what = "nothing after `!`" if negated else "the expectation is empty"
        raise ExpectationError(f"{what}: write the expected output, or `no output` if the command prints nothing")
    parsed = _parse_positive(text)
    parsed.negated = negated
    return parsed


def _parse_positive(text: str) -> _Expectation:
    if is_empty_expectation(text):
        return _EmptyExpectation()
    regex = _regex_form(text)
    if regex is not None:
        return _RegexExpectation(*regex)
    value = _parse_json_expectation(text)
    if value is not None:
        return _JsonExpectation(value)
    return _TextExpectation(text)


# --- empty ---------------------------------------------------------------------------------------------------------


class _EmptyExpectation(_Expectation):
    def __init__(self) -> None:
        self.mode = MODE_EMPTY
        self.rendering = "no output"

    def evaluate(self, actual: str) -> _Outcome:
        if not actual.strip():
            return _Outcome(True, "the output is empty, but some output was expected", "the output is empty")
        lines = actual.strip("\n").splitlines()
        got = f"got {_count(len(lines), 'line')}"
        detail = "\n".join([f"expected no output, {got}:", *_preview(lines, _MAX_EMPTY_LINES)])
        return _Outcome(False, detail, f"{got}: {_clip(lines[0].strip() or lines[-1].strip())}")


# --- regex ---------------------------------------------------------------------------------------------------------


def _regex_form(text: str) -> tuple[str, str] | None:
    """(pattern, flags) when `text` is written `/pattern/` or `/pattern/flags`.

    With flags, a pattern containing an unescaped `/` is read as a path instead (`/usr/bin/x` is text, not the
    regex `usr/bin` with the x flag); `/https?://host/` without flags is still a regex.
    """
    found = _REGEX_FORM.fullmatch(text)
    if found is None:
        return None
    pattern, flags = found.group("pattern"), found.group("flags")
    if flags and _has_unescaped_slash(pattern):
        return None
    return pattern, flags


def _has_unescaped_slash(pattern: str) -> bool:
    escaped = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "/":
            return True
    return False


class _RegexExpectation(_Expectation):
    def __init__(self, pattern: str, flags: str) -> None:
        self.mode = MODE_REGEX
        self.rendering = _clip(f"regex /{pattern}/{flags}", _SHORT_EXPECTATION)
        bits = re.MULTILINE
        for flag in flags:
            bits |= _REGEX_FLAGS[flag]
        try:
            with warnings.catch_warnings():  # e.g. FutureWarning "possible nested set": not the runbook's problem
                warnings.simplefilter("ignore")
                self.regex = re.compile(pattern, bits)
        except re.error as error:
            where = f" at position {error.pos}" if error.pos is not None else ""
            raise ExpectationError(f"invalid regular expression /{pattern}/{flags}: {error.msg}{where}") from error

    def evaluate(self, actual: str) -> _Outcome:
        found = self.regex.search(actual)
        if found is not None:
            line_no = actual.count("\n", 0, found.start()) + 1
            line_start = actual.rfind("\n", 0, found.start()) + 1
            line_end = actual.find("\n", found.start())
            line = actual[line_start : line_end if line_end != -1 else len(actual)].rstrip("\r")
            detail = f"the output matches {self.rendering}, which must not appear: line {line_no}: {_clip(line)}"
            if found.group(0) not in line:
                detail += f"\n  matched: {_clip(found.group(0))}"
            return _Outcome(True, detail, f"matched at line {line_no}: {_clip(line.strip())}")
        if not actual.strip():
            return _Outcome(False, f"no match for {self.rendering}: the output is empty", "the output is empty")
        lines = actual.splitlines()
        reason = f"no match for {self.rendering} in the output ({_count(len(lines), 'line')})"
        return _Outcome(False, "\n".join([f"{reason}; first lines:", *_preview(lines, _MAX_PREVIEW_LINES)]), reason)


# --- JSON ----------------------------------------------------------------------------------------------------------


class _AnyValue:
    """`...` in a JSON expectation: any value here (as a list's last element: any further elements)."""

    def __repr__(self) -> str:
        return "..."


_ANY = _AnyValue()


def _parse_json_expectation(text: str) -> object | None:
    """The expected JSON value with `...` as `_ANY`, or None when `text` is not JSON (then it is text).

    A bare `...` is not a JSON expectation (it would reject non-JSON output); NaN/Infinity are not JSON either.
    """
    substituted = _substitute_ellipses(text) if "..." in text else text
    try:
        value: object = json.loads(substituted, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return None
    value = _resolve_sentinels(value)
    return None if value is _ANY else value


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _substitute_ellipses(text: str) -> str:
    """Replace `...` outside JSON strings: `"<sentinel>": null` where an object key is due, else `"<sentinel>"`."""
    out: list[str] = []
    stack: list[str] = []
    last = ""  # the last significant character outside strings
    in_string = False
    i = 0
    while i < len(text):
        char = text[i]
        if in_string:
            if char == "\\":
                out.append(text[i : i + 2])
                i += 2
                continue
            if char == '"':
                in_string = False
                last = '"'
            out.append(char)
            i += 1
            continue
        if text.startswith("...", i):
            key_due = bool(stack) and stack[-1] == "{" and last in ("{", ",")
            out.append(f"{_SENTINEL_JSON}: null" if key_due else _SENTINEL_JSON)
            last = '"'
            i += 3
            continue
        if char == '"':
            in_string = True
        elif char in "{[":
            stack.append(char)
        elif char in "}]" and stack:
            stack.pop()
        if not char.isspace():
            last = char
        out.append(char)
        i += 1
    return "".join(out)


def _resolve_sentinels(value: object) -> object:
    if isinstance(value, str):
        return _ANY if value == _SENTINEL else value
    if isinstance(value, list):
        return [_resolve_sentinels(item) for item in value]
    if isinstance(value, dict):
        return {key: _resolve_sentinels(item) for key, item in value.items() if key != _SENTINEL}
    return value


def _parse_json_output(text: str) -> list[object] | None:
    """The JSON values in `text`: one document, or a stream (JSON lines, `jq .` of records); None if not JSON."""
    try:
        return [json.loads(text)]
    except (ValueError, RecursionError):
        pass
    decoder = json.JSONDecoder()
    values: list[object] = []
    position = _skip_json_whitespace(text, 0)
    while position < len(text):
        try:
            value, position = decoder.raw_decode(text, position)
        except (ValueError, RecursionError):
            return None
        values.append(value)
        position = _skip_json_whitespace(text, position)
    return values or None


def _skip_json_whitespace(text: str, position: int) -> int:
    found = _JSON_WHITESPACE.match(text, position)
    return found.end() if found else position


class _JsonExpectation(_Expectation):
    def __init__(self, value: object) -> None:
        self.mode = MODE_JSON
        self.value = value
        kind = "JSON subset" if isinstance(value, dict | list) else "JSON value"
        self.rendering = f"{kind} {_short(value, _SHORT_EXPECTATION)}"

    def evaluate(self, actual: str) -> _Outcome:
        if isinstance(self.value, str):
            raw = self._raw_text_match(self.value, actual)
            if raw is not None:
                return raw
        values = _parse_json_output(actual)
        if values is None:
            return self._not_json(actual)
        best: list[str] | None = None
        best_index = 0
        for index, value in enumerate(values):
            mismatches: list[str] = []
            _compare(self.value, value, "$", mismatches)
            if not mismatches:
                return self._matched(value, index, len(values))
            if best is None or len(mismatches) < len(best):
                best, best_index = mismatches, index
        assert best is not None  # values is never empty
        shown = best[:_MAX_JSON_DIFF_LINES]
        if len(best) > _MAX_JSON_DIFF_LINES:
            shown.append(f"... ({len(best) - _MAX_JSON_DIFF_LINES} more differences)")
        if len(values) == 1:
            return _Outcome(False, "\n".join(shown), shown[0])
        header = f"none of the {len(values)} JSON values in the output matches; the closest is value #{best_index + 1}:"
        return _Outcome(False, "\n".join([header, *shown]), f"{header} {shown[0]}")

    @staticmethod
    def _raw_text_match(value: str, actual: str) -> _Outcome | None:
        """A JSON string expectation also matches raw text (`jq -r` output): the whole output or one of its lines."""
        stripped = actual.strip()
        if stripped == value or (stripped and any(line.strip() == value for line in stripped.splitlines())):
            reason = f"the output is the text {_short(value)}"
            return _Outcome(True, f"{reason}, which must not appear", reason)
        return None

    def _not_json(self, actual: str) -> _Outcome:
        if not actual.strip():
            return _Outcome(False, "the output is empty, not JSON", "the output is empty, not JSON")
        lines = actual.strip("\n").splitlines()
        if isinstance(self.value, str) and len(lines) == 1:
            reason = f"$: expected {_short(self.value)}, got {_short(actual.strip())} (raw text)"
            return _Outcome(False, reason, reason)
        reason = f"the output is not JSON ({_count(len(lines), 'line')})"
        return _Outcome(False, "\n".join([f"{reason}; first lines:", *_preview(lines, _MAX_PREVIEW_LINES)]), reason)

    def _matched(self, value: object, index: int, total: int) -> _Outcome:
        where = "the output" if total == 1 else f"JSON value #{index + 1} of {total} in the output"
        shown = _short(value, 2 * _SHORT_VALUE)
        detail = f"{where} matches {self.rendering}, which must not appear: {shown}"
        return _Outcome(True, detail, f"{where} matches: {shown}")


def _compare(expected: object, actual: object, path: str, out: list[str]) -> None:
    """Append one line per difference between `expected` (a subset, with `_ANY`) and `actual` to `out`."""
    if expected is _ANY:
        return
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            out.append(f"{path}: expected {_short(expected)}, got {_short(actual)}")
            return
        for key, item in expected.items():
            child = _child_path(path, key)
            if key in actual:
                _compare(item, actual[key], child, out)
            else:
                out.append(f"{child}: missing")
        return
    if isinstance(expected, list):
        if not isinstance(actual, list):
            out.append(f"{path}: expected {_short(expected)}, got {_short(actual)}")
            return
        open_ended = bool(expected) and expected[-1] is _ANY
        items = expected[:-1] if open_ended else expected
        if open_ended and len(actual) < len(items):
            out.append(f"{path}: expected at least {_count(len(items), 'element')}, got {len(actual)}")
        elif not open_ended and len(actual) != len(items):
            out.append(f"{path}: expected {_count(len(items), 'element')}, got {len(actual)}")
        for index, (item, other) in enumerate(zip(items, actual, strict=False)):
            _compare(item, other, f"{path}[{index}]", out)
        return
    if not _scalars_equal(expected, actual):
        out.append(f"{path}: expected {_short(expected)}, got {_short(actual)}")


def _scalars_equal(expected: object, actual: object) -> bool:
    """Numbers compare numerically (1 == 1.0); a bool is not a number; strings and null compare exactly."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return expected == actual
    return type(expected) is type(actual) and expected == actual


def _child_path(path: str, key: str) -> str:
    return f"{path}.{key}" if _IDENTIFIER.fullmatch(key) else f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def _json_chunks(value: object, limit: int, depth: int = 0) -> Iterator[str]:
    """Compact JSON (`...` for `_ANY`) in pieces, so a huge or deeply nested value is never rendered whole."""
    if value is _ANY:
        yield "..."
    elif isinstance(value, dict | list) and depth >= _MAX_RENDER_DEPTH:
        yield _ELLIPSIS
    elif isinstance(value, dict):
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            yield ", " if index else ""
            yield _json_scalar(key, limit) + ": "
            yield from _json_chunks(item, limit, depth + 1)
        yield "}"
    elif isinstance(value, list):
        yield "["
        for index, item in enumerate(value):
            yield ", " if index else ""
            yield from _json_chunks(item, limit, depth + 1)
        yield "]"
    else:
        yield _json_scalar(value, limit)


def _json_scalar(value: object, limit: int) -> str:
    if isinstance(value, str) and len(value) > limit:
        return json.dumps(value[:limit], ensure_ascii=False)[:-1] + _ELLIPSIS + '"'
    return json.dumps(value, ensure_ascii=False)


def _short(value: object, limit: int = _SHORT_VALUE) -> str:
    """`value` as compact one-line JSON, at most `limit` characters."""
    pieces: list[str] = []
    size = 0
    for piece in _json_chunks(value, limit):
        pieces.append(piece)
        size += len(piece)
        if size > limit:
            break
    return _clip("".join(pieces), limit)


# --- text ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Segment:
    literal: str
    space_after: bool  # the literal must be followed by a space (that the next literal may start with)


class _TextExpectation(_Expectation):
    def __init__(self, text: str) -> None:
        self.mode = MODE_TEXT
        self.text = text
        self.normalized = " ".join(text.split())
        self.rendering = f"text {_short(self.normalized, _SHORT_EXPECTATION)}"
        self.segments = _text_segments(self.normalized)

    def evaluate(self, actual: str) -> _Outcome:
        haystack = " ".join(actual.split())
        span = _find_segments(self.segments, haystack)
        if span is not None:
            return self._matched(actual, haystack, *span)
        expected_lines = [line.rstrip() for line in self.text.splitlines()]
        actual_lines = [line.rstrip() for line in actual.splitlines()]
        diff = list(
            difflib.unified_diff(
                expected_lines, actual_lines[:_MAX_DIFFED_OUTPUT_LINES], "expected", "actual", lineterm=""
            )
        )
        shown = [_clip(line) for line in diff[:_MAX_TEXT_DIFF_LINES]]
        if len(diff) > _MAX_TEXT_DIFF_LINES:
            shown.append(f"... ({len(diff) - _MAX_TEXT_DIFF_LINES} more lines)")
        if len(actual_lines) > _MAX_DIFFED_OUTPUT_LINES:
            shown.append(f"(only the first {_MAX_DIFFED_OUTPUT_LINES} of {len(actual_lines)} output lines diffed)")
        reason = (
            f"text not found in the output ({_count(len(actual_lines), 'line')})"
            if actual.strip()
            else "text not found: the output is empty"
        )
        return _Outcome(False, "\n".join(shown) or reason, reason)

    def _matched(self, actual: str, haystack: str, start: int, end: int) -> _Outcome:
        fragment = _short(haystack[start:end], 2 * _SHORT_VALUE)
        line_no = _line_of(actual, start)
        where = ""
        if line_no is not None:
            line = actual.splitlines()[line_no - 1]
            where = f" at line {line_no}: {_clip(line)}"
        detail = f"the output contains {self.rendering}, which must not appear{where}\n  matched: {fragment}"
        return _Outcome(True, detail, f"found{where}" if where else f"found: {fragment}")


def _text_segments(normalized: str) -> list[_Segment]:
    """Literals between `...` wildcards; the spaces written around a wildcard become part of its neighbours.

    `a ... b` matches `a b` and `a x y b` but not `ab` or `a xb`; `a...b` matches `ab`; leading and trailing
    wildcards are dropped (the expectation is searched for anywhere in the output anyway).
    """
    parts = _TEXT_WILDCARD.split(normalized)
    literals = parts[0::2]
    wildcards: list[tuple[bool, bool]] = [(part.startswith(" "), part.endswith(" ")) for part in parts[1::2]]
    # merge wildcards separated only by an empty literal: `... ...`, `......`
    merged_literals = [literals[0]]
    merged_wildcards: list[tuple[bool, bool]] = []
    for wildcard, literal in zip(wildcards, literals[1:], strict=True):
        if merged_wildcards and merged_literals[-1] == "" and len(merged_literals) > 1:
            left, _ = merged_wildcards[-1]
            merged_wildcards[-1] = (left, wildcard[1])
            merged_literals[-1] = literal
        else:
            merged_wildcards.append(wildcard)
            merged_literals.append(literal)
    # a leading or trailing wildcard adds nothing to a search
    if merged_wildcards and merged_literals[0] == "":
        merged_literals.pop(0)
        merged_wildcards.pop(0)
    if merged_wildcards and merged_literals[-1] == "":
        merged_literals.pop()
        merged_wildcards.pop()
    segments: list[_Segment] = []
    prefix = ""
    for index, literal in enumerate(merged_literals):
        text, space_after = prefix + literal, False
        prefix = ""
        if index < len(merged_wildcards):
            left, right = merged_wildcards[index]
            if left and right:
                space_after, prefix = True, " "
            elif left:
                text += " "
            elif right:
                prefix = " "
        segments.append(_Segment(text, space_after))
    return segments


def _find_segments(segments: list[_Segment], haystack: str) -> tuple[int, int] | None:
    """(start, end) of the earliest match of the literals in order with any text between them, or None.

    Placing each literal at its earliest possible position is optimal (the literals have fixed lengths), so this
    is linear-ish and never backtracks like a regex with several `.*?` would on a large output.
    """
    position = 0
    start: int | None = None
    for segment in segments:
        size = len(segment.literal)
        index = haystack.find(segment.literal, position)
        while segment.space_after and index != -1 and haystack[index + size : index + size + 1] != " ":
            index = haystack.find(segment.literal, index + 1)
        if index == -1:
            return None
        if start is None:
            start = index
        position = index + len(segment.literal)
    return (start or 0), position


def _line_of(actual: str, normalized_offset: int) -> int | None:
    """The 1-based line of `actual` holding the character at `normalized_offset` of `" ".join(actual.split())`."""
    starts: list[int] = []
    lines: list[int] = []
    offset = 0
    for line_no, line in enumerate(actual.splitlines(), start=1):
        for word in line.split():
            starts.append(offset)
            lines.append(line_no)
            offset += len(word) + 1
    index = bisect.bisect_right(starts, normalized_offset) - 1
    return lines[index] if index >= 0 else None


# --- small helpers -------------------------------------------------------------------------------------------------


def _unwrap(text: str) -> str:
    """Strip surrounding whitespace, trailing periods, and wrapping quotes or parentheses, until nothing changes."""
    while True:
        before = text
        text = text.strip().rstrip(".").strip()
        if len(text) >= 2 and (
            (text[0] == text[-1] and text[0] in _WRAPPING_QUOTES) or (text[0] == "(" and text[-1] == ")")
        ):
            text = text[1:-1]
        if text == before:
            return text


def _preview(lines: list[str], limit: int) -> list[str]:
    shown = [f"  {_clip(line)}" for line in lines[:limit]]
    if len(lines) > limit:
        shown.append(f"  ... ({len(lines) - limit} more lines)")
    return shown


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _clip(text: str, limit: int = _MAX_LINE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + _ELLIPSIS


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _bound(text: str, limit: int = _MAX_DIFF_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    kept = text[: cut if cut > 0 else limit]
    return f"{kept}\n... (diff truncated: {len(text) - len(kept)} more characters)"
