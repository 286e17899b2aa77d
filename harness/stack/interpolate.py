"""Compose's variable interpolation and `.env` files, as `docker compose` does them.

In a value: `$$` is a literal `$`; `${A}` and `$A` are A's value (unset: an empty string, with a
warning); `${A:-d}` is d when A is unset or empty, `${A-d}` only when unset; `${A:?msg}` and
`${A?msg}` stop with msg when A is unset (or empty, with the colon); `${A:+r}` and `${A+r}` are r
when A is set (and not empty). Defaults may hold interpolation themselves (`${A:-${B}}`).

Values come from the process environment first, then from a `.env` file beside the Compose file.
A name in `deferred` (a secret the harness generates fresh for every stack) is not known at load
time: any form of it is kept as `${NAME}`, which the stack fills in when it starts the service.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_NESTING = 10  # `${A:-${B:-${C...}}}` deeper than this is not a Compose file
_DOTENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(?:=\s*(.*?))?\s*$")


class InterpolationError(ValueError):
    """A value cannot be interpolated; the message says why and what to write instead."""


@dataclass(frozen=True)
class Interpolator:
    values: Mapping[str, str]
    deferred: Collection[str] = ()
    warn: Callable[[str], None] = lambda message: None

    def __call__(self, text: str) -> str:
        if "$" not in text:
            return text
        out, _ = self._expand(text, 0, 0, closing=False)
        return out

    def _expand(self, text: str, at: int, depth: int, *, closing: bool) -> tuple[str, int]:
        """`text` from `at` expanded, up to the end (or, `closing`, up to an unmatched `}`): the
        result and the index after what was read."""
        if depth > MAX_NESTING:
            raise InterpolationError(f"interpolation nested more than {MAX_NESTING} levels deep")
        parts: list[str] = []
        i = at
        while i < len(text):
            char = text[i]
            if closing and char == "}":
                return "".join(parts), i
            if char != "$":
                parts.append(char)
                i += 1
                continue
            nxt = text[i + 1] if i + 1 < len(text) else ""
            if nxt == "$":
                parts.append("$")
                i += 2
            elif nxt == "{":
                value, i = self._braced(text, i + 2, depth)
                parts.append(value)
            elif (match := NAME.match(text, i + 1)) is not None:
                parts.append(self._lookup(match.group(0), None, ""))
                i = match.end()
            else:
                raise InterpolationError(f"a lone `$` at {text[i:i + 12]!r}: write `$$` for a literal dollar sign, "
                                         "or ${NAME} for a variable")
        if closing:
            raise InterpolationError(f"`${{` is not closed in {text!r}: add the `}}`")
        return "".join(parts), i

    def _braced(self, text: str, at: int, depth: int) -> tuple[str, int]:
        match = NAME.match(text, at)
        if match is None:
            raise InterpolationError(f"`${{` must be followed by a variable name in {text!r} "
                                     "(write $$ for a literal dollar sign)")
        name, i = match.group(0), match.end()
        if i >= len(text):
            raise InterpolationError(f"`${{` is not closed in {text!r}: add the `}}`")
        if text[i] == "}":
            return self._lookup(name, None, ""), i + 1
        operator = next((op for op in (":-", ":?", ":+", "-", "?", "+") if text.startswith(op, i)), None)
        if operator is None:
            raise InterpolationError(f"`${{{name}` must be followed by `}}` or one of :- - :? ? :+ + in {text!r}")
        argument, end = self._expand(text, i + len(operator), depth + 1, closing=True)
        return self._lookup(name, operator, argument), end + 1

    def _lookup(self, name: str, operator: str | None, argument: str) -> str:
        if name in self.deferred:
            return f"${{{name}}}"
        value = self.values.get(name)
        empty = not value
        if operator in (":-", "-"):
            return argument if (value is None or (operator == ":-" and empty)) else str(value)
        if operator in (":?", "?"):
            if value is None or (operator == ":?" and empty):
                raise InterpolationError(f"required variable {name} is {'missing' if value is None else 'empty'}"
                                         + (f": {argument}" if argument else "")
                                         + " (set it in the environment or in the .env file beside this file)")
            return value
        if operator in (":+", "+"):
            return "" if (value is None or (operator == ":+" and empty)) else argument
        if value is None:
            self.warn(f"the variable {name} is not set: it is read as an empty string (set it, or write "
                      f"${{{name}:-default}})")
            return ""
        return value


@dataclass(frozen=True)
class DotenvProblem:
    line: int
    message: str


def parse_dotenv(text: str, interpolate: Callable[[str, Mapping[str, str]], str] | None = None
                 ) -> tuple[dict[str, str], list[DotenvProblem]]:
    """`KEY=VALUE` lines (`export` allowed, `#` comments, single quotes literal, double quotes with
    \\n and \\" escapes). `interpolate(value, earlier)` expands unquoted and double-quoted values.
    Returns the values and the problems with their lines (the caller decides how to report them)."""
    values: dict[str, str] = {}
    problems: list[DotenvProblem] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        match = _DOTENV_LINE.match(raw)
        if match is None:
            problems.append(DotenvProblem(number, f"not a KEY=VALUE line: {raw.strip()[:60]!r}"))
            continue
        key, value = match.group(1), match.group(2) or ""
        if value[:1] == "'":
            if not value.endswith("'") or len(value) < 2:
                problems.append(DotenvProblem(number, f"{key}: the single quote is not closed on this line"))
                continue
            values[key] = value[1:-1]
            continue
        if value[:1] == '"':
            if not value.endswith('"') or len(value) < 2 or (value.endswith('\\"') and not value.endswith('\\\\"')):
                problems.append(DotenvProblem(number, f"{key}: the double quote is not closed on this line"))
                continue
            value = value[1:-1].replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0].rstrip()
        if interpolate is not None:
            try:
                value = interpolate(value, values)
            except InterpolationError as exc:
                problems.append(DotenvProblem(number, f"{key}: {exc}"))
                continue
        values[key] = value
    return values, problems
