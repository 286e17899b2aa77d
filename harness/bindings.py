"""Bindings: what a runbook's text cannot say, kept beside it so a team drills its runbook unedited.

A bindings file is TOML (see README "Grade a runbook as written"):

    default_host = "app"                   # blocks nothing else places run here
    [placeholders]                         # text in the runbook -> the value a drill uses
    user_abc123 = "bot-scraper-7"
    [[hosts]]                              # blocks whose commands match `pattern` run on `host`
    pattern = 'systemctl \\w+ postgresql'
    host = "db"
    [sections."6a-database-server-down"]   # a section, by its anchor
    scenario = "chatkit/db-down"           # the scenario(s) it handles (or scenarios = [...])
    host = "app"                           # its blocks' host
    detect_within = "10s"                  # its time budgets (the scenario's otherwise)
    recover_within = "60s"
    placeholders = { USER_ID = "u-1" }     # for its blocks only
    [sections."6a-database-server-down".blocks.1]   # its first block (1-based, as `gameday lint` counts)
    host = "db"
    skip = "why it must not run"
    timeout = "30s"
    within = "10s"                         # re-run until its expectations hold, at most this long

What the document says wins: a block's own `{host=...}`, `{skip=...}`, `{timeout=...}` and
`{within=...}` attributes are never overridden. Otherwise a block's host is, first found: its block
binding, a matching `[[hosts]]` pattern, its section's `host`, the runbook's front matter
`default_host`, the bindings' `default_host`, the stack's `default_host`.

`load_bindings` checks everything against the runbook and the registered scenarios before anything
starts: every problem (an unknown key, section anchor, scenario, host, a block index the section does
not have, a bad duration or pattern) is reported at once, each with `file:line` (BindingsError, exit 2).
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.durations import parse_duration
from harness.errors import BadInput
from harness.inputfile import NotARegularFile, read_regular
from harness.runbook.model import Runbook, Section, Segment, Step
from harness.runbook.variables import bind
from harness.scenarios import Scenario, find_key
from harness.stack.definition import LOCAL_HOST

MAX_BINDINGS_BYTES = 1_000_000
TOP_KEYS = frozenset({"default_host", "placeholders", "hosts", "sections"})
SECTION_KEYS = frozenset({"scenario", "scenarios", "host", "detect_within", "recover_within", "placeholders",
                          "blocks"})
BLOCK_KEYS = frozenset({"host", "skip", "timeout", "within"})
PATTERN_KEYS = frozenset({"pattern", "host"})
_KEY_PART = re.compile(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([A-Za-z0-9_-]+)')
_HEADER = re.compile(r"^\s*(\[\[?)\s*(.+?)\s*\]\]?\s*(?:#.*)?$")
_ASSIGN = re.compile(r"^\s*((?:\"(?:[^\"\\]|\\.)*\"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:\"(?:[^\"\\]|\\.)*\"|"
                     r"'[^']*'|[A-Za-z0-9_-]+))*)\s*=")


class BindingsError(BadInput):
    """A bindings file that cannot be used: every problem, each with its `file:line`."""

    def __init__(self, path: Path | str, problems: Sequence[tuple[int | None, str]]) -> None:
        self.path = Path(path)
        self.problems = tuple(problems)
        lines = [f"{path}:{line}: {message}" if line else f"{path}: {message}" for line, message in problems]
        head = lines[0] if len(lines) == 1 else f"{len(lines)} problems in the bindings:\n  " + "\n  ".join(lines)
        super().__init__(head)


@dataclass(frozen=True)
class BlockBinding:
    index: int
    line: int
    host: str | None = None
    skip: str | None = None
    timeout: float | None = None
    within: float | None = None


@dataclass(frozen=True)
class SectionBinding:
    anchor: str
    line: int
    scenarios: tuple[str, ...] = ()  # keys
    host: str | None = None
    detect_within: float | None = None
    recover_within: float | None = None
    placeholders: tuple[tuple[str, str], ...] = ()
    blocks: tuple[BlockBinding, ...] = ()

    def block(self, index: int) -> BlockBinding | None:
        return next((b for b in self.blocks if b.index == index), None)


@dataclass(frozen=True)
class HostPattern:
    pattern: str
    host: str
    line: int

    def matches(self, code: str) -> bool:
        return re.search(self.pattern, code) is not None


@dataclass(frozen=True)
class Bindings:
    path: str
    default_host: str | None = None
    placeholders: tuple[tuple[str, str], ...] = ()
    hosts: tuple[HostPattern, ...] = ()
    sections: tuple[SectionBinding, ...] = ()

    def section(self, anchor: str) -> SectionBinding | None:
        return next((s for s in self.sections if s.anchor == anchor), None)

    @property
    def drills(self) -> tuple[tuple[str, str], ...]:
        """(section anchor, scenario key) for every drill the bindings ask for, in file order."""
        return tuple((s.anchor, key) for s in self.sections for key in s.scenarios)


@dataclass(frozen=True)
class Applied:
    """What the bindings did to one block: shown on the scorecard beside the section."""

    section: str
    index: int
    line: int
    what: str


# -- locating keys in the file ----------------------------------------------------------------------


def _parts(dotted: str) -> tuple[str, ...]:
    return tuple(m.group(1) if m.group(1) is not None else m.group(2) if m.group(2) is not None else m.group(3)
                 for m in _KEY_PART.finditer(dotted))


class _Lines:
    """Where each table and key of a TOML file is written (its 1-based line), by key path."""

    def __init__(self, text: str) -> None:
        self.at: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        arrays: dict[tuple[str, ...], int] = {}
        for number, raw in enumerate(text.splitlines(), start=1):
            stripped = raw.strip()
            if not stripped or stripped.startswith("#"):
                continue
            header = _HEADER.match(raw) if stripped.startswith("[") else None
            if header is not None:
                table = _parts(header.group(2))
                if header.group(1) == "[[":
                    arrays[table] = arrays.get(table, -1) + 1
                    table = (*table, str(arrays[table]))
                self.at.setdefault(table, number)
                continue
            assign = _ASSIGN.match(raw)
            if assign is not None:
                key = (*table, *_parts(assign.group(1)))
                for end in range(len(table) + 1, len(key) + 1):
                    self.at.setdefault(key[:end], number)

    def of(self, *path: str) -> int | None:
        """The line of `path`, or of its longest prefix that is written down."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.at:
                return self.at[path[:end]]
        return None


# -- loading ------------------------------------------------------------------------------------------


def read_bindings_text(path: Path | str) -> str:
    path = Path(path)
    try:
        data = read_regular(path, MAX_BINDINGS_BYTES)
    except IsADirectoryError:
        raise BindingsError(path, [(None, "is a folder; give the bindings file (.toml)")]) from None
    except NotARegularFile as exc:
        raise BindingsError(path, [(None, f"{exc.strerror}; give the bindings file (.toml)")]) from None
    except OSError as exc:
        raise BindingsError(path, [(None, f"cannot be read: {exc.strerror}")]) from None
    if len(data) > MAX_BINDINGS_BYTES:
        raise BindingsError(path, [(None, f"is larger than {MAX_BINDINGS_BYTES // 1_000_000} MB; not a bindings file")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BindingsError(path, [(data[: exc.start].count(b"\n") + 1, "not UTF-8 text")]) from None


def load_bindings(path: Path | str, runbook: Runbook, scenarios: Iterable[Scenario],
                  hosts_of: Mapping[str, Iterable[str]]) -> Bindings:
    """The bindings in `path`, checked against the runbook and the scenarios (`hosts_of`: the hosts
    of each scenario's stack, by key, `local` included). BindingsError lists every problem."""
    text = read_bindings_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        raise BindingsError(path, [(int(found.group(1)) if found else None, f"not valid TOML: {exc}")]) from None
    return _Loader(Path(path), _Lines(text), runbook, list(scenarios), hosts_of).load(data)


class _Loader:
    def __init__(self, path: Path, lines: _Lines, runbook: Runbook, scenarios: list[Scenario],
                 hosts_of: Mapping[str, Iterable[str]]) -> None:
        self.path, self.lines, self.runbook = path, lines, runbook
        self.keys = sorted(s.key for s in scenarios)
        self.hosts_of = {k: set(v) for k, v in hosts_of.items()}
        self.problems: list[tuple[int | None, str]] = []
        self.file_scenarios: list[str] = []

    def problem(self, message: str, *where: str) -> None:
        self.problems.append((self.lines.of(*where), message))

    def keys_of(self, table: Mapping[str, Any], allowed: frozenset[str], what: str, *where: str) -> None:
        for key in table:
            if key not in allowed:
                self.problem(f"{what}: unknown key {key!r} (known: {', '.join(sorted(allowed))})", *where, key)

    def text(self, value: object, what: str, *where: str) -> str | None:
        if isinstance(value, str) and value.strip():
            return value
        self.problem(f"{what} must be a non-empty string, got {value!r}", *where)
        return None

    def duration(self, value: object, what: str, *where: str) -> float | None:
        if value is None:
            return None
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.problem(f"{what}: {exc}", *where)
            return None

    def table(self, value: object, what: str, *where: str) -> Mapping[str, Any]:
        if isinstance(value, dict):
            return value
        self.problem(f"{what} must be a table, got {type(value).__name__}", *where)
        return {}

    def host(self, value: object, what: str, scenarios: Sequence[str], *where: str) -> str | None:
        """A host of the stack of each of `scenarios` (the section's); with none (a section no scenario
        drills, the file-wide keys), a host of the stack of some scenario the file binds, else of any."""
        host = self.text(value, what, *where)
        if host is None:
            return None
        own = [self.hosts_of[k] for k in scenarios if k in self.hosts_of]
        wanted = own or [self.hosts_of[k] for k in self.file_scenarios if k in self.hosts_of] \
            or list(self.hosts_of.values())
        missing = [known for known in wanted if host not in known]
        if (own and missing) or (not own and len(missing) == len(wanted) and wanted):
            known = missing[0]
            self.problem(f"{what}: unknown host {host!r} (hosts: {', '.join(sorted(known - {LOCAL_HOST}))}, "
                         f"{LOCAL_HOST})", *where)
            return None
        return host

    def placeholders(self, value: object, *where: str) -> tuple[tuple[str, str], ...]:
        out = []
        for name, text in self.table(value, "placeholders", *where).items():
            if isinstance(text, str):
                out.append((name, text))
            else:
                self.problem(f"placeholder {name!r}: its value must be a string, got {text!r}", *where, name)
        return tuple(out)

    def load(self, data: Mapping[str, Any]) -> Bindings:
        self.keys_of(data, TOP_KEYS, "bindings")
        self.file_scenarios = self.named_anywhere(data)
        bound: list[str] = []
        sections = []
        for anchor, body in self.table(data.get("sections", {}), "sections", "sections").items():
            section = self.section(anchor, body)
            if section is not None:
                sections.append(section)
                bound.extend(section.scenarios)
        default = data.get("default_host")
        default_host = self.host(default, "default_host", bound, "default_host") if default is not None else None
        patterns = []
        raw_patterns = data.get("hosts", [])
        if not isinstance(raw_patterns, list):
            self.problem("hosts must be an array of tables ([[hosts]] with pattern and host)", "hosts")
            raw_patterns = []
        for number, entry in enumerate(raw_patterns):
            where = ("hosts", str(number))
            entry = self.table(entry, "[[hosts]]", *where)
            self.keys_of(entry, PATTERN_KEYS, "[[hosts]]", *where)
            pattern = self.text(entry.get("pattern"), "[[hosts]] pattern", *where, "pattern")
            host = self.host(entry.get("host"), "[[hosts]] host", bound, *where, "host")
            if pattern is not None:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    self.problem(f"[[hosts]] pattern {pattern!r} is not a regular expression: {exc}", *where, "pattern")
                    pattern = None
            if pattern is not None and host is not None:
                patterns.append(HostPattern(pattern, host, self.lines.of(*where) or 0))
        placeholders = self.placeholders(data.get("placeholders", {}), "placeholders")
        if self.problems:
            raise BindingsError(self.path, sorted(self.problems, key=lambda p: (p[0] or 0)))
        return Bindings(str(self.path), default_host, placeholders, tuple(patterns), tuple(sections))

    def named_anywhere(self, data: Mapping[str, Any]) -> list[str]:
        """The keys of the scenarios any section names (those that are known), before checking anything."""
        named = []
        sections = data.get("sections")
        for body in sections.values() if isinstance(sections, dict) else ():
            values = [body.get(k) for k in ("scenario", "scenarios")] if isinstance(body, dict) else []
            for value in values:
                for name in [value] if isinstance(value, str) else value if isinstance(value, list) else []:
                    try:
                        named.append(find_key(str(name), self.keys))
                    except BadInput:
                        continue
        return named

    def section(self, anchor: str, raw: object) -> SectionBinding | None:
        where = ("sections", anchor)
        body = self.table(raw, f"section {anchor!r}", *where)
        self.keys_of(body, SECTION_KEYS, f"section {anchor!r}", *where)
        known = {s.anchor: s for s in self.runbook.sections if s.anchor}
        target = known.get(anchor.lstrip("#"))
        if target is None:
            close = [a for a in known if a.startswith(anchor.lstrip("#").split("-")[0] or "\0")][:5]
            hint = f"; did you mean {', '.join('#' + a for a in close)}?" if close else ""
            self.problem(f"unknown section anchor #{anchor.lstrip('#')} in {self.runbook.path}{hint} "
                         f"(`gameday lint {self.runbook.path}` lists the sections)", *where)
        scenarios = self.scenarios(body, *where)
        host = (self.host(body["host"], f"section {anchor!r} host", scenarios, *where, "host")
                if "host" in body else None)
        detect = self.duration(body.get("detect_within"), f"section {anchor!r} detect_within", *where, "detect_within")
        recover = self.duration(body.get("recover_within"), f"section {anchor!r} recover_within", *where,
                                "recover_within")
        placeholders = self.placeholders(body.get("placeholders", {}), *where, "placeholders")
        blocks = []
        for index, block in self.table(body.get("blocks", {}), "blocks", *where, "blocks").items():
            found = self.block(target, anchor, index, block, scenarios)
            if found is not None:
                blocks.append(found)
        if target is None:
            return None
        return SectionBinding(target.anchor, self.lines.of(*where) or 0, scenarios, host, detect, recover,
                              placeholders, tuple(sorted(blocks, key=lambda b: b.index)))

    def scenarios(self, body: Mapping[str, Any], *where: str) -> tuple[str, ...]:
        raw: list[object] = []
        for key in ("scenario", "scenarios"):
            value = body.get(key)
            if value is None:
                continue
            if isinstance(value, str):
                raw.append(value)
            elif isinstance(value, list):
                raw.extend(value)
            else:
                self.problem(f"{key} must be a scenario key or a list of them, got {value!r}", *where, key)
        keys = []
        for name in raw:
            if not isinstance(name, str):
                self.problem(f"a scenario is named by its key (e.g. chatkit/db-down), got {name!r}", *where, "scenario")
                continue
            try:
                keys.append(find_key(name, self.keys))
            except BadInput as exc:
                line = self.lines.of(*where, "scenarios" if "scenarios" in body else "scenario")
                self.problems.append((line, str(exc)))
        return tuple(dict.fromkeys(keys))

    def block(self, section: Section | None, anchor: str, index: str, raw: object,
              scenarios: Sequence[str]) -> BlockBinding | None:
        where = ("sections", anchor, "blocks", index)
        body = self.table(raw, f"block {index}", *where)
        self.keys_of(body, BLOCK_KEYS, f"section {anchor!r} block {index}", *where)
        number = int(index) if index.isdigit() else 0
        line = self.lines.of(*where) or 0
        if section is not None and not 1 <= number <= len(section.steps):
            count = len(section.steps)
            self.problem(f"section #{section.anchor} has no block {index!r}: it has {count} block(s)"
                         + (f", numbered 1 to {count} in document order" if count else ""), *where)
            return None
        host = self.host(body["host"], f"block {index} host", scenarios, *where, "host") if "host" in body else None
        skip = self.text(body["skip"], f"block {index} skip (the reason)", *where, "skip") if "skip" in body else None
        timeout = self.duration(body.get("timeout"), f"block {index} timeout", *where, "timeout")
        within = self.duration(body.get("within"), f"block {index} within", *where, "within")
        return BlockBinding(number, line, host, skip, timeout, within)


# -- applying -----------------------------------------------------------------------------------------


def _attribute(step: Step, key: str) -> bool:
    return any(k == key for k, _ in step.attributes)


def apply_bindings(runbook: Runbook, bindings: Bindings) -> tuple[Runbook, tuple[Applied, ...]]:
    """The runbook as a drill runs it under these bindings (the document's own attributes win), and
    what the bindings did to each block. Placeholders are replaced in the commands that run."""
    applied: list[Applied] = []
    sections = []
    for section in runbook.sections:
        binding = bindings.section(section.anchor)
        steps = []
        for step in section.steps:
            new = _bind_step(step, binding, bindings, runbook, applied)
            steps.append(new)
        sections.append(dataclasses.replace(section, steps=tuple(steps)))
    return dataclasses.replace(runbook, sections=tuple(sections)), tuple(applied)


def _bind_step(step: Step, binding: SectionBinding | None, bindings: Bindings, runbook: Runbook,
               applied: list[Applied]) -> Step:
    block = binding.block(step.index) if binding is not None else None
    changes: dict[str, Any] = {}

    def note(what: str) -> None:
        applied.append(Applied(step.section, step.index, step.location.line, what))

    if not _attribute(step, "host"):
        pattern = next((p for p in bindings.hosts if p.matches(step.code)), None)
        choices = [
            (block.host if block else None, f"its block binding, line {block.line if block else 0}"),
            (pattern.host if pattern else None,
             f"pattern `{pattern.pattern}`, line {pattern.line}" if pattern else ""),
            (binding.host if binding else None, f"its section binding, line {binding.line if binding else 0}"),
            (runbook.front_matter.default_host, "the runbook's front matter"),
            (bindings.default_host, "the bindings' default_host"),
        ]
        host, why = next(((h, w) for h, w in choices if h), (None, ""))
        if host is not None and host != step.host:
            changes["host"] = host
        if host is not None and step.executable and why not in ("the runbook's front matter",
                                                                 "the bindings' default_host"):
            note(f"runs on {host} ({why})")
    if block is not None:
        for key in ("skip", "timeout", "within"):
            value = getattr(block, key)
            if value is None:
                continue
            if _attribute(step, key):
                note(f"{key} from the bindings ignored: the block says {key}= itself")
                continue
            changes[key] = value
            note(f"skipped: {value}" if key == "skip" else f"{key} {value:g}s")
    values = dict(bindings.placeholders)
    if binding is not None:
        values.update(binding.placeholders)
    used = {k: v for k, v in values.items() if _mentions(step.code, k)}
    if used and step.executable:
        changes["code"] = bind(step.code, used)
        changes["segments"] = tuple(Segment(bind(s.code, used), s.line, s.expectations) for s in step.segments)
        note("placeholders: " + ", ".join(f"{k} -> {v}" for k, v in used.items()))
    return dataclasses.replace(step, **changes) if changes else step


def _mentions(code: str, key: str) -> bool:
    if re.fullmatch(r"[A-Za-z_]\w*", key):
        return re.search(rf"(?<![$\w{{]){key}(?!\w)", code) is not None
    return key in code


def rebound(scenario: Scenario, runbook: Path | str, section: SectionBinding) -> Scenario:
    """The scenario aimed at a bound section of another runbook, with the section's budgets."""
    changed = scenario.with_runbook(runbook, section.anchor)
    return dataclasses.replace(changed, detect_within=section.detect_within or changed.detect_within,
                               recover_within=section.recover_within or changed.recover_within)
