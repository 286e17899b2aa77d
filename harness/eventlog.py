"""An append-only log of typed events, one JSON line each: the writer and reader behind the gameday
journal (harness.journal) and the exercise log (harness.exercise_log).

Each line holds `schema_version`, `type` (the event class's name) and the event's fields. Every
string is redacted, then truncated, before it is encoded, so a log never holds a secret or an
unbounded output; the reader turns the lines back into the same frozen dataclasses (enums
included), reporting anything unreadable with its file and line.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import os
import re
import stat
import threading
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from harness.errors import BadInput

SCHEMA_VERSION = 1
MAX_TEXT_CHARS = 8_000  # per recorded text: head and tail kept
TRUNCATION_MARK = "\n[... {n} characters cut ...]\n"
_SURROGATES = re.compile("[\ud800-\udfff]")
MAX_NUMBER = 1e15  # seconds, counts, exit codes: anything larger is not a record of a drill (and overflows maths)
MAX_DEPTH = 32  # nesting of arrays and objects in one line: a real event nests 4 deep at most

E = TypeVar("E")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _unchanged(text: str) -> str:
    return text


# -- encoding -----------------------------------------------------------------------------------


def truncate(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Keep the head and the tail of a long text, saying how much was cut."""
    if len(text) <= limit:
        return text
    keep = limit // 2
    return text[:keep] + TRUNCATION_MARK.format(n=len(text) - 2 * keep) + text[-keep:]


def clean(value: Any, redact: Callable[[str], str]) -> Any:
    """`value` with every string redacted and truncated, tuples as lists (what goes into a line)."""
    if isinstance(value, str):
        return truncate(redact(value if _is_text(value) else _SURROGATES.sub("\ufffd", value)))
    if isinstance(value, tuple | list):
        return [clean(v, redact) for v in value]
    if isinstance(value, dict):
        return {k: clean(v, redact) for k, v in value.items()}
    return value


def build(tp: Any, value: Any) -> Any:
    """A JSON value turned back into type `tp` (dataclasses, enums, optionals, tuples), checking scalar types."""
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = typing.get_type_hints(tp)
        if not isinstance(value, dict):
            raise ValueError(f"{tp.__name__} must be an object")
        kwargs = {f.name: build(hints[f.name], value[f.name]) for f in dataclasses.fields(tp) if f.name in value}
        return tp(**kwargs)
    if origin in (types.UnionType, typing.Union):
        if value is None:
            return None
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return build(inner[0], value) if len(inner) == 1 else value
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, list):
            raise ValueError("expected a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(build(args[0], v) for v in value)
        return tuple(build(a, v) for a, v in zip(args, value, strict=True))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a {tp.__name__} ({', '.join(str(m.value) for m in tp)})") from None
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (str, int, float, bool) and (type(value) is not tp):
        raise ValueError(f"expected {tp.__name__}, got {type(value).__name__}")
    return value


# -- one kind of log ----------------------------------------------------------------------------


class EventLogError(BadInput):
    """A log file that cannot be read, or a line of it that is not an event of its kind."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path, self.line = Path(path), line
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class LogFormat(Generic[E]):
    """One kind of event log: its name in messages, its event classes by `type`, its size bound."""

    name: str  # "journal", "exercise log"
    event_name: str  # "journal event", "exercise event"
    types: Mapping[str, type[Any]]
    max_bytes: int
    error: type[EventLogError] = EventLogError

    def encode(self, event: E, redact: Callable[[str], str] = _unchanged) -> str:
        name = type(event).__name__
        if self.types.get(name) is not type(event):
            raise TypeError(f"{name} is not {_a(self.event_name)}")
        body = {"schema_version": SCHEMA_VERSION, "type": name}
        body.update(clean(dataclasses.asdict(typing.cast(Any, event)), redact))
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))

    def decode(self, body: dict[str, Any]) -> E:
        """The event a decoded JSON line stands for, by its `type` (ValueError if unknown)."""
        cls = self.types.get(str(body.get("type")))
        if cls is None:
            raise ValueError(f"unknown event type {body.get('type')!r}")
        event: E = build(cls, body)
        return event

    def read(self, path: Path | str) -> list[E]:
        """Every event of a log file; `self.error` (file and line) on anything unreadable."""
        return [event for _, event in self.read_numbered(path)]

    def read_numbered(self, path: Path | str) -> list[tuple[int, E]]:
        """Every event of a log file with its line number; `self.error` (file and line) on anything
        unreadable. Only a regular file is opened for reading (a FIFO or a device would block or never
        end), and never more than `max_bytes` of it is read."""
        path = Path(path)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            raise self.error(path, None, f"no such {self.name} file") from None
        except OSError as exc:
            raise self.error(path, None, f"cannot be read: {exc.strerror or exc}") from None
        try:
            mode = os.fstat(fd).st_mode
            if stat.S_ISDIR(mode):
                raise self.error(path, None, f"is a folder, not {_a(self.name)} file")
            if not stat.S_ISREG(mode):
                raise self.error(path, None, f"not a regular file (a FIFO, socket or device): not {_a(self.name)}")
            os.set_blocking(fd, True)
            with os.fdopen(fd, "rb", closefd=False) as handle:
                data = handle.read(self.max_bytes + 1)
            if len(data) > self.max_bytes:
                raise self.error(path, None, f"larger than {self.max_bytes // 1_000_000} MB: not {_a(self.name)}")
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise self.error(path, None, f"cannot be read: {exc}") from None
        finally:
            os.close(fd)
        return list(self._events(path, text))

    def _events(self, path: Path, text: str) -> Iterator[tuple[int, E]]:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                body = loads(line)
                if not isinstance(body, dict):
                    raise ValueError("not a JSON object")
                version = body.get("schema_version")
                if type(version) is not int or version != SCHEMA_VERSION:
                    raise ValueError(f"schema_version {version!r}, this harness reads {SCHEMA_VERSION}")
                yield number, self.decode(body)
            except (ValueError, KeyError, TypeError) as exc:
                raise self.error(path, number, f"not {_a(self.event_name)} ({exc})") from None


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        raise ValueError(f"number {text[:40]} is out of range (at most {MAX_NUMBER:g} either way)")
    return value


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def loads(line: str) -> Any:
    """One JSON line, decoded defensively: NaN, Infinity and numbers beyond a float's range are
    refused, so are lone surrogates (text UTF-8 cannot hold) and nesting deeper than MAX_DEPTH."""
    try:
        value = json.loads(line, parse_float=_finite, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from None
    _check(value, 0)
    return value


def _check(value: Any, depth: int) -> None:
    if isinstance(value, str):
        if not _is_text(value):
            raise ValueError("a string holds a lone surrogate (U+D800 to U+DFFF), which is not text")
    elif isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and not _is_text(key):
                raise ValueError("a key holds a lone surrogate (U+D800 to U+DFFF), which is not text")
            _check(item, depth + 1)
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
        raise ValueError(f"number {str(value)[:40]} is out of range (at most {MAX_NUMBER:g} either way)")


def _is_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


class EventLog(Generic[E]):
    """Appends events to a JSON-lines file and keeps them, as written (redacted), in memory. Thread-safe."""

    def __init__(self, form: LogFormat[E], path: Path | str, redact: Callable[[str], str] = _unchanged,
                 listener: Callable[[E], None] | None = None) -> None:
        self.format = form
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.redact = redact
        self.listener = listener  # told of every event once it is written (live progress)
        self._lock = threading.Lock()
        self.events: list[E] = []

    def write(self, event: E) -> E:
        """Append `event`; what was written (its strings redacted and bounded), decoded back."""
        line = self.format.encode(event, self.redact)
        written = self.format.decode(json.loads(line))
        with self._lock:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
            self.events.append(written)
        if self.listener is not None:
            self.listener(written)
        return written
