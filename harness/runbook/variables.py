"""Variables and placeholders in runbook commands.

Two kinds of holes a runbook leaves for the reader to fill:
- shell variables a block reads but never sets (`psql $DATABASE_URL`): the environment must
  provide them, and each block runs in a fresh shell, so a variable set in an earlier block is gone;
- placeholders, written as example values: `REQUEST_ID="abc123..."`, `WHERE user_id = 'USER_ID'`,
  `pg_terminate_backend(PID)`, `<user-id>`. A scenario binds values for them.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

STANDARD_VARIABLES = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "PWD", "OLDPWD", "SHELL", "HOSTNAME", "HOSTTYPE", "LANG", "LC_ALL",
    "TERM", "TMPDIR", "RANDOM", "SECONDS", "LINENO", "UID", "EUID", "PPID", "BASHPID", "BASH_VERSION", "IFS",
    "PIPESTATUS", "REPLY", "OPTARG", "OPTIND", "EDITOR", "PAGER", "BASH_SOURCE", "FUNCNAME",
})
_ASSIGNED = [
    re.compile(r"(?:^|[;&|(]\s*|\b(?:export|local|declare|readonly|typeset)\s+(?:-\w+\s+)*)([A-Za-z_]\w*)(?:\[[^]]*\])?\+?="),
    re.compile(r"\bread\s+(?:-\w+\s+)*([A-Za-z_]\w*)"),
    re.compile(r"\bfor\s+([A-Za-z_]\w*)\s+in\b"),
]
_REFERENCE = re.compile(r"\$(?:\{[#!]?([A-Za-z_]\w*)[^}]*\}|([A-Za-z_]\w*))")
_CAPS_PLACEHOLDER = re.compile(r"(?<![$\w{])((?:[A-Z][A-Z0-9]*_)+ID|PID|YOUR_[A-Z0-9_]+)(?![\w=])")
_ANGLE_PLACEHOLDER = re.compile(r"<([a-z][a-z0-9_-]*)>")
_EXAMPLE_VALUE = re.compile(r"\b(?:user_)?abc123\w*(?:\.\.\.)?|[\"'][^\"'\s]+\.\.\.[\"']|\byour[-_]?domain\.\w+")


@dataclass(frozen=True)
class Hole:
    """A variable or placeholder, with the 0-based line of the block where it appears."""

    name: str
    kind: str  # "variable" or "placeholder"
    line: int
    example: str = ""


def _code_lines(code: str) -> list[str]:
    """Each line with comments and single-quoted text blanked (nothing there is expanded)."""
    out = []
    for line in code.split("\n"):
        chars, in_single, in_double, escaped = [], False, False, False
        for i, ch in enumerate(line):
            if escaped:
                chars.append(ch)
                escaped = False
                continue
            if ch == "\\" and not in_single:
                chars.append(ch)
                escaped = True
                continue
            if ch == "'" and not in_double:
                in_single = not in_single
                chars.append(ch)
                continue
            if ch == '"' and not in_single:
                in_double = not in_double
            if ch == "#" and not in_single and not in_double and (i == 0 or line[i - 1] in " \t;&|"):
                break
            chars.append(" " if in_single else ch)
        out.append("".join(chars))
    return out


def _raw_lines_without_comments(code: str) -> list[str]:
    """Each line with its comment removed, quotes kept (placeholders sit inside quotes)."""
    out = []
    for line in code.split("\n"):
        stripped = line.lstrip()
        out.append("" if stripped.startswith("#") else re.sub(r"\s#\s.*$", "", line))
    return out


def assigned_names(code: str) -> set[str]:
    names: set[str] = set()
    for line in _code_lines(code):
        for pattern in _ASSIGNED:
            names.update(m.group(1) for m in pattern.finditer(line))
    return names


def holes(code: str) -> list[Hole]:
    """Variables read but not set in the block, and placeholders, in order of appearance."""
    found: list[Hole] = []
    seen: set[tuple[str, str]] = set()
    assigned_so_far: set[str] = set()
    for number, line in enumerate(_code_lines(code)):
        # An assignment earlier on the same line counts (`read -r X; echo $X`, `for p in ...; do $p`).
        assigned_at: dict[str, int] = {}
        for pattern in _ASSIGNED:
            for m in pattern.finditer(line):
                assigned_at.setdefault(m.group(1), m.start(1))
        for match in _REFERENCE.finditer(line):
            name = match.group(1) or match.group(2)
            if name in STANDARD_VARIABLES or name in assigned_so_far or ("variable", name) in seen:
                continue
            if name in assigned_at and assigned_at[name] < match.start():
                continue
            seen.add(("variable", name))
            found.append(Hole(name, "variable", number))
        assigned_so_far.update(assigned_at)
    raw = _raw_lines_without_comments(code)
    for number, line in enumerate(raw):
        for match in re.finditer(r"\b([A-Za-z_]\w*)=([\"']?)([^\"'\s;]*)\2", line):
            if _EXAMPLE_VALUE.fullmatch(match.group(3)) or match.group(3).endswith("..."):
                key = ("placeholder", match.group(1))
                if key not in seen:
                    seen.add(key)
                    found.append(Hole(match.group(1), "placeholder", number, match.group(3)))
        assignment_values = {m.group(3) for m in re.finditer(r"\b([A-Za-z_]\w*)=([\"']?)([^\"'\s;]*)\2", line)}
        # One string searched once per new token (a scan of every value per token is quadratic on a long line).
        values_text = "\0".join(assignment_values)
        for pattern in (_CAPS_PLACEHOLDER, _ANGLE_PLACEHOLDER, _EXAMPLE_VALUE):
            for match in pattern.finditer(line):
                token = match.group(0).strip("\"'")
                key = ("placeholder", token)
                if key in seen or token in values_text:
                    continue
                if key not in seen:
                    seen.add(key)
                    found.append(Hole(token, "placeholder", number, token))
    return sorted(found, key=lambda h: h.line)


def bind(code: str, values: Mapping[str, str]) -> str:
    """The block with placeholders replaced by bound values.

    For an identifier KEY: an assignment `KEY=example` gets the bound value, and the bare word
    KEY (not `$KEY`, which the environment provides) is replaced. Any other key (an example value
    such as `abc123...` or `<user-id>`) is replaced literally.
    """
    for key, value in values.items():
        if re.fullmatch(r"[A-Za-z_]\w*", key):
            assignment = f"{key}={shlex.quote(value)}"
            code = re.sub(rf"\b{key}=(\"[^\"]*\"|'[^']*'|[^\s;]*)", lambda _m: assignment, code)  # noqa: B023
            code = re.sub(rf"(?<![$\w{{]){key}(?![\w=])", lambda _m: value, code)  # noqa: B023
        else:
            code = code.replace(key, value)
    return code
