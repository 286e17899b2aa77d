"""YAML read safely and with line numbers, for Compose files.

PyYAML's composer gives a node graph with a start mark on every node and every alias left as a
shared node (nothing is expanded yet). This module walks that graph into plain values (dict, list,
str, int, float, bool, None) and records the line of every key and item by its path, so a reader can
say `file:line` about any value. The walk is where the hostile cases are stopped:

- an alias is expanded where it is used, and every expanded node counts against MAX_NODES: an alias
  bomb ("billion laughs") is refused after that many nodes, in milliseconds, not after filling memory;
- a key twice in one mapping is an error (PyYAML keeps the last one silently);
- `<<:` merge keys work as YAML 1.1 defines them (a mapping or a list of mappings; keys written in
  the mapping itself win, then earlier merged mappings over later ones);
- scalars resolve as YAML 1.2's core schema does, as Compose (Go's YAML library) reads them: `yes`,
  `on` and `off` stay strings, `22:22` is a string, not the sexagesimal number 1342;
- tags other than the standard ones (`!reset`, `!override`, `!!python/...`) are refused.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

MAX_NODES = 100_000  # expanded values in one file; a real Compose file has hundreds
MAX_DEPTH = 64  # nesting of mappings and lists; a Compose file needs fewer than ten

Path = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL, MAP, SEQ, MERGE = (f"{_TAG}{t}" for t in
                                              ("str", "int", "float", "bool", "null", "map", "seq", "merge"))


class _Core12Resolver(BaseResolver):
    """YAML 1.2 core schema's implicit types (what Go's yaml.v3, hence Compose, uses)."""


for _tag, _regex, _first in (
    (BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (INT, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (FLOAT, r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
     "-+0123456789."),
    (NULL, r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (MERGE, r"^(?:<<)$", "<"),
):
    _Core12Resolver.add_implicit_resolver(_tag, re.compile(_regex), list(_first))


class _Composer(Reader, Scanner, Parser, Composer, SafeConstructor, _Core12Resolver):
    """Pure-Python parser and composer: a nesting too deep ends in a RecursionError we can catch (the
    C parser would recurse in C)."""

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        _Core12Resolver.__init__(self)


class YamlInt(int):
    """An integer that remembers how it was written (`0440` is a file mode; `0123` an environment value)."""

    text: str

    def __new__(cls, value: int, text: str) -> YamlInt:
        self = super().__new__(cls, value)
        self.text = text
        return self


class YamlFloat(float):
    """A float that remembers how it was written (`1.10` as a version stays `1.10`)."""

    text: str

    def __new__(cls, value: float, text: str) -> YamlFloat:
        self = super().__new__(cls, value)
        self.text = text
        return self


def scalar_text(value: object) -> str:
    """A scalar as the file wrote it (numbers keep their spelling; booleans are `true`/`false`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(getattr(value, "text", value))


class YamlProblem(Exception):
    """What is wrong, and the 1-based line where."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class YamlDocument:
    """The document's value and the line of every path in it (a key's line for a mapping entry,
    the item's line for a list item)."""

    value: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, *path: str | int) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        key: Path = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), None)


def read_yaml(text: str) -> YamlDocument:
    """The one document of `text`; YamlProblem on anything unsafe or malformed."""
    loader = _Composer(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlProblem(f"not valid YAML: {exc.problem or exc.context}", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"not valid YAML: {exc}", None) from None
    except RecursionError:
        raise YamlProblem(f"nested too deeply (a Compose file needs fewer than {MAX_DEPTH} levels)", None) from None
    finally:
        loader.dispose()
    document = YamlDocument(None)
    if node is None:
        return document
    document.lines[()] = node.start_mark.line + 1
    walker = _Walker(document)
    document.value = walker.value(node, (), 0)
    return document


class _Walker:
    def __init__(self, document: YamlDocument) -> None:
        self.document = document
        self.count = 0

    def value(self, node: Node, path: Path, depth: int, *, is_key: bool = False) -> Any:
        self.count += 1
        line = node.start_mark.line + 1
        if self.count > MAX_NODES:
            raise YamlProblem(f"more than {MAX_NODES:,} values once aliases are expanded: an alias bomb, or a "
                              "generated file gone wrong; write each value out or use fewer nested aliases", line)
        if depth > MAX_DEPTH:
            raise YamlProblem(f"nested more than {MAX_DEPTH} levels deep", line)
        if isinstance(node, ScalarNode):
            return self.scalar_value(node, line, is_key=is_key)
        if isinstance(node, SequenceNode):
            if node.tag != SEQ:
                raise YamlProblem(f"the tag {node.tag!r} is not supported (plain YAML lists only)", line)
            items = []
            for index, item in enumerate(node.value):
                self.document.lines.setdefault((*path, index), item.start_mark.line + 1)
                items.append(self.value(item, (*path, index), depth + 1))
            return items
        if isinstance(node, MappingNode):
            if node.tag != MAP:
                raise YamlProblem(f"the tag {node.tag!r} is not supported (plain YAML mappings only)", line)
            return self.mapping(node, path, depth)
        raise YamlProblem(f"unexpected YAML node {type(node).__name__}", line)  # pragma: no cover

    def scalar_value(self, node: ScalarNode, line: int, *, is_key: bool) -> Any:
        tag, text = node.tag, node.value
        if tag == STR or tag == "!":  # "!" is a quoted scalar's non-specific tag
            return text
        if tag == NULL:
            return None
        if tag == BOOL:
            return text.lower() == "true"
        if tag == INT:
            if re.fullmatch(r"[-+]?0[0-7]+", text):  # octal, as Go's YAML (so Compose) reads a mode of 0440
                return YamlInt(int(text, 8), text)
            return YamlInt(int(text, 0) if text.startswith(("0o", "0x")) else int(text), text)
        if tag == FLOAT:
            lowered = text.lower().lstrip("+")
            if lowered in (".inf", "-.inf"):
                return YamlFloat(-math.inf if lowered.startswith("-") else math.inf, text)
            return YamlFloat(math.nan if lowered == ".nan" else float(text), text)
        if tag == MERGE:
            raise YamlProblem("`<<` is a merge key: use it as a key, `<<: *anchor`", line)
        raise YamlProblem(f"the tag {tag!r} is not supported: write plain values (Compose's !reset and "
                          "!override merge files, which the harness does not do)", line)

    def mapping(self, node: MappingNode, path: Path, depth: int) -> dict[str, Any]:
        own: dict[str, Any] = {}
        sources: list[MappingNode] = []
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if isinstance(key_node, ScalarNode) and key_node.tag == MERGE:
                sources += self.merge_sources(value_node, key_line)
                continue
            if not isinstance(key_node, ScalarNode):
                raise YamlProblem("a key must be a plain value, not a list or a mapping", key_line)
            key = self.value(key_node, path, depth + 1, is_key=True)
            if isinstance(key, bool) or key is None or isinstance(key, float):
                raise YamlProblem(f"the key {key_node.value!r} is not a name (quote it if it is)", key_line)
            key = str(key)
            if key in own:
                first = self.document.lines.get((*path, key))
                raise YamlProblem(f"the key {key!r} appears twice in the same mapping"
                                  + (f" (first on line {first})" if first else "") + "; keep one", key_line)
            self.document.lines[(*path, key)] = key_line
            own[key] = self.value(value_node, (*path, key), depth + 1)
        if not sources:
            return own
        merged: dict[str, Any] = {}
        own_lines, self.document.lines = self.document.lines, {}
        try:
            for source in sources:  # keys of earlier sources win over later ones; the mapping's own over all
                for key, item in self.value(source, path, depth + 1).items():
                    merged.setdefault(key, item)
            merged_lines = self.document.lines
        finally:
            self.document.lines = own_lines
        for sub, line in merged_lines.items():
            if len(sub) > len(path) and sub[len(path)] not in own:
                self.document.lines.setdefault(sub, line)
        return {**{k: v for k, v in merged.items() if k not in own}, **own}

    def merge_sources(self, node: Node, line: int) -> list[MappingNode]:
        if isinstance(node, MappingNode):
            return [node]
        if isinstance(node, SequenceNode) and all(isinstance(n, MappingNode) for n in node.value):
            return list(node.value)
        raise YamlProblem("`<<:` merges a mapping or a list of mappings (e.g. `<<: *defaults`)", line)
