"""Variables and placeholders in runbook commands.

Two kinds of holes a runbook leaves for the reader to fill:
- shell variables a block reads but never sets (`psql $DATABASE_URL`): the environment must
  provide them, and each block runs in a fresh shell, so a variable set in an earlier block is gone;
- placeholders, written as example values: `REQUEST_ID="abc123..."`, `WHERE user_id = 'USER_ID'`,
  `pg_terminate_backend(PID)`, `<user-id>`. A scenario binds values for them.

Placeholders as people write them: `<pod-name>`, `<N>`, `<API_TOKEN>`, `key=<value>`, `YOUR_IP`,
`your-namespace`, `[INSTANCE_ID]`, `[Name]`, `[your-bucket]`, example ids and hosts, and credentials in
URLs (`postgres://user:password@db`). Decisions:
- brackets are placeholders only when what they hold looks like a name (`[NAME]`, `[Name]`,
  `[pod-name]`), never a bash test (`[ -f x ]`, `[[ ... ]]`), an array index (`${a[i]}`, `a[0]`),
  a glob or character class (`[0-9]`, `[a-z]`, `[[:space:]]`), a markdown link (`[text](url)`),
  a log level (`[ERROR]`) or an INI/unit-file section alone on its line (`[Service]`);
- example ids: AWS-style resource ids (`i-0abc123def4567890`, `sg-12345678`, `vpc-...`), `abc123`,
  runs of x (`xxxxx`, `sk-xxxx`) and UUIDs made of digits only (`12345678-1234-1234-1234-123456789012`;
  a random UUID has letters, and a real one in a runbook may be a fixed id such as a dashboard's);
- hosts reserved for documentation (`example.com`, `api.example.org`, `*.example`) and
  `your-domain.com`/`mydomain.com`: a command with them cannot work as written;
- `my-app`, `my-cluster` are not placeholders: they may be the names a team really uses.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from harness.runbook.shell import BlockReading

STANDARD_VARIABLES = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "PWD", "OLDPWD", "SHELL", "HOSTNAME", "HOSTTYPE", "LANG", "LC_ALL",
    "TERM", "TMPDIR", "RANDOM", "SECONDS", "LINENO", "UID", "EUID", "PPID", "BASHPID", "BASH_VERSION", "IFS",
    "PIPESTATUS", "REPLY", "OPTARG", "OPTIND", "EDITOR", "PAGER", "BASH_SOURCE", "FUNCNAME",
})
_ASSIGNED = [
    # At a command's start: the line's, after ; & | ( or a keyword that begins a command (`do X=1`).
    re.compile(r"(?:^\s*|[;&|(]\s*|\b(?:do|then|else|export|local|declare|readonly|typeset)\s+(?:-\w+\s+)*)"
               r"([A-Za-z_]\w*)(?:\[[^]]*\])?\+?="),
    re.compile(r"\bread\s+(?:-\w+\s+)*([A-Za-z_]\w*)"),
    re.compile(r"\bfor\s+([A-Za-z_]\w*)\s+in\b"),
]
_REFERENCE = re.compile(r"\$(?:\{[#!]?([A-Za-z_]\w*)[^}]*\}|([A-Za-z_]\w*))")
# Not after `.`: `w.BLOCKING_TRANSACTION_ID` is a qualified column name, not a value to fill in.
_CAPS_PLACEHOLDER = re.compile(r"(?<![$\w{.])((?:[A-Z][A-Z0-9]*_)+ID|PID|YOUR_[A-Z0-9_]+)(?![\w=])")
_ANGLE_PLACEHOLDER = re.compile(r"<([a-z][a-z0-9_-]*)>")
_EXAMPLE_VALUE = re.compile(r"\b(?:user_)?abc123\w*(?:\.\.\.)?|[\"'][^\"'\s]+\.\.\.[\"']|\byour[-_]?domain\.\w+")
_ASSIGNMENT = re.compile(r"\b([A-Za-z_]\w*)=([\"']?)([^\"'\s;]*)\2")
# Placeholders as people write them, after the three above (which win where they overlap).
_WIDE_ANGLE = re.compile(r"(?<![<\w])<[A-Za-z][A-Za-z0-9_.-]*(?: [A-Za-z0-9_.-]+)*>")
_BRACKET = re.compile(
    r"(?<![\w$\\\[\]])\[(?:[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z][A-Z0-9]+|[A-Z][a-z]+(?:[ _-][A-Za-z][a-z0-9]*)*"
    r"|[a-z][a-z0-9]+(?:[-_][a-z0-9]+)+)\](?![\[(:\]])")
_NOT_BRACKET_PLACEHOLDERS = frozenset({"[INFO]", "[WARN]", "[WARNING]", "[ERROR]", "[DEBUG]", "[TRACE]", "[FATAL]",
                                       "[CRITICAL]", "[OK]", "[FAIL]", "[FAILED]", "[PASS]", "[NOTICE]", "[ALERT]"})
_SECTION_LINE = re.compile(r"\s*\[[^\]]*\]\s*")
# T-SQL quotes identifiers in brackets: `BACKUP LOG [Billing]`, `FROM [dbo].[Orders]` name things, not blanks.
_SQL_IDENTIFIER_BEFORE = re.compile(
    r"(?:\b(?:DATABASE|TABLE|VIEW|INDEX|SCHEMA|LOG|FROM|JOIN|INTO|UPDATE|USE|ON|EXEC|EXECUTE|PROCEDURE|"
    r"LOGIN|USER|ROLE|TRIGGER|FUNCTION|COLUMN)\s+|\.)$", re.IGNORECASE)
_EXAMPLE_ID = re.compile(
    r"(?<![\w-])(?:i|sg|vpc|subnet|ami|vol|snap|eni|igw|nat|rtb|acl|lt|eipalloc)-[0-9a-f]{8,17}(?![\w-])"
    r"|(?<![\w-])(?:[A-Za-z0-9]+[_-])?(?:x{3,}|X{3,})(?:-(?:x+|X+))*(?![\w-])"
    r"|(?<![\w-])[0-9]{8}-[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{12}(?![\w-])")
_EXAMPLE_HOST = re.compile(
    r"(?<![\w.-])(?:[A-Za-z0-9-]+\.)*(?:example\.(?:com|org|net)|[A-Za-z0-9-]+\.example|my[-_]?domain\.\w+)(?![\w-])")
_YOUR_WORD = re.compile(r"(?<![\w$-])[Yy]our[-_][A-Za-z0-9_-]*[A-Za-z0-9](?!\w)")
_URL_CREDENTIAL = re.compile(
    r"(?<=://)[^\s:/@'\"$<]+:(?:(?i:pass(?:word|wd)?|pwd|secret|changeme|\*{3,})|[A-Z][A-Z0-9_]*)(?=@)")
_NEW_PLACEHOLDERS = (_WIDE_ANGLE, _BRACKET, _EXAMPLE_ID, _EXAMPLE_HOST, _YOUR_WORD, _URL_CREDENTIAL)
_LOOK_BACK = 200  # characters before `NAME=` looked at to tell an assignment (bounded: linear on long lines)
_ASSIGNING_WORDS = frozenset({"export", "local", "declare", "readonly", "typeset"})


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


def holes(code: str, *, every_line: bool = False) -> list[Hole]:
    """Variables read but not set in the block, and placeholders, in order of appearance: each name
    once, or (`every_line`) once on every line it appears on, as a linter showing each place needs."""
    found: list[Hole] = []
    seen: set[tuple[str, str] | tuple[str, str, int]] = set()
    assigned_so_far: set[str] = set()
    for number, line in enumerate(_code_lines(code)):
        # An assignment earlier on the same line counts (`read -r X; echo $X`, `for p in ...; do $p`).
        assigned_at: dict[str, int] = {}
        for pattern in _ASSIGNED:
            for m in pattern.finditer(line):
                assigned_at.setdefault(m.group(1), m.start(1))
        for match in _REFERENCE.finditer(line):
            name = match.group(1) or match.group(2)
            key = ("variable", name, number) if every_line else ("variable", name)
            if name in STANDARD_VARIABLES or name in assigned_so_far or key in seen:
                continue
            if name in assigned_at and assigned_at[name] < match.start():
                continue
            seen.add(key)
            found.append(Hole(name, "variable", number))
        assigned_so_far.update(assigned_at)
    for number, line in enumerate(_raw_lines_without_comments(code)):
        found.extend(_placeholders(line, number, seen, every_line))
    return sorted(found, key=lambda h: h.line)


def _placeholders(line: str, number: int, seen: set[tuple[str, str] | tuple[str, str, int]],
                  every_line: bool) -> list[Hole]:
    """The placeholders of one line (comment removed), each name once per block (`seen`), or once per line."""
    found: list[Hole] = []
    taken: list[tuple[int, int]] = []  # spans already reported on this line: no second hole inside one

    def add(name: str, example: str, span: tuple[int, int]) -> None:
        taken.append(span)
        key: tuple[str, str] | tuple[str, str, int] = ("placeholder", name, number) if every_line else (
            "placeholder", name)
        if key not in seen:
            seen.add(key)
            found.append(Hole(name, "placeholder", number, example))

    assignments = list(_ASSIGNMENT.finditer(line))
    for match in assignments:
        name, value = match.group(1), match.group(3)
        old = bool(_EXAMPLE_VALUE.fullmatch(value)) or value.endswith("...")
        if old or (_assigns(line, match.start()) and any(p.fullmatch(value) for p in _ALL_PLACEHOLDERS)):
            add(name, value, match.span())
    # An example value already reported under its variable's name is not reported again (`X="abc123..."`);
    # one string searched once per new token (a scan of every value per token is quadratic on a long line).
    values_text = "\0".join({m.group(3) for m in assignments})
    for pattern in (_CAPS_PLACEHOLDER, _ANGLE_PLACEHOLDER, _EXAMPLE_VALUE):
        for match in pattern.finditer(line):
            token = match.group(0).strip("\"'")
            if token in values_text and _inside(match.span(), taken):
                continue
            add(token, token, match.span())
    for pattern in _NEW_PLACEHOLDERS:
        for match in pattern.finditer(line):
            token = match.group(0)
            if _overlaps(match.span(), taken) or (pattern is _BRACKET and (
                    token in _NOT_BRACKET_PLACEHOLDERS or _SECTION_LINE.fullmatch(line)
                    or _SQL_IDENTIFIER_BEFORE.search(line, max(0, match.start() - 12), match.start())
                    or line.startswith(".", match.end()))):
                continue
            add(token, token, match.span())
    return found


_ALL_PLACEHOLDERS = (_CAPS_PLACEHOLDER, _ANGLE_PLACEHOLDER, *_NEW_PLACEHOLDERS)


def _assigns(line: str, at: int) -> bool:
    """Whether `NAME=` at `at` is a shell assignment (the start of a command, or after export/local/...)."""
    words = line[max(0, at - _LOOK_BACK):at].split()
    while words and words[-1].startswith("-"):
        words.pop()
    return not words or words[-1] in _ASSIGNING_WORDS or words[-1][-1] in ";&|(" or bool(
        re.fullmatch(r"[A-Za-z_]\w*=\S*", words[-1]))


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in spans)


def _inside(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(start <= span[0] and span[1] <= end for start, end in spans)


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


def block_holes(reading: BlockReading, *, every_line: bool = False) -> list[Hole]:
    """The holes of what a person types in a block read by `harness.runbook.shell.read_block`.

    Shell commands (prompts removed, output lines never read) and the bodies of unquoted heredocs
    give variables and placeholders; client commands, SQL statements and quoted heredocs give
    placeholders only (nothing there expands `$X`). Lines are the block's own 0-based lines.
    """
    shell: list[str] = []
    data: list[str] = []

    def place(into: list[str], line: int, texts: tuple[str, ...] | list[str]) -> None:
        for offset, text in enumerate(texts):
            at = line + offset
            while at >= len(into):
                into.append("")
            into[at] = text

    for command in reading.commands:
        place(shell, command.line, command.source or (command.text,))
    for heredoc in reading.heredocs:
        if heredoc.expands:  # `$X` expands even between apostrophes in a heredoc body: they are not quotes there
            place(shell, heredoc.line, heredoc.text.replace("'", '"').split("\n"))
        else:
            place(data, heredoc.line, heredoc.text.split("\n"))
    for sql in reading.bare_sql:
        place(data, sql.line, sql.source or (sql.text,))
    for client in reading.client_commands:
        place(data, client.line, client.source or (client.text,))
    found = holes("\n".join(shell), every_line=every_line) + [
        h for h in holes("\n".join(data), every_line=every_line) if h.kind == "placeholder"]
    unique: dict[tuple[str, str] | tuple[str, str, int], Hole] = {}
    for hole in sorted(found, key=lambda h: h.line):
        unique.setdefault((hole.kind, hole.name, hole.line) if every_line else (hole.kind, hole.name), hole)
    return list(unique.values())


def block_assigned_names(reading: BlockReading) -> set[str]:
    """The variables a block's shell commands set (prompts removed, output lines ignored): with
    `block_holes`, how a linter tells a variable set somewhere in the document from one set nowhere."""
    return assigned_names("\n".join(line for command in reading.commands for line in command.source or (command.text,)))
