"""Onboarding exercises: one TOML file per exercise in `drills/onboarding/<system>/`.

    # drills/onboarding/chatkit/secret-missing.toml
    scenario = "chatkit/secret-missing"  # a scenario key (required); a bare name is accepted when
                                         # the folder's system has it, or when it is unique across systems
    time_limit = "10m"                   # when the exercise ends unrecovered (default 15m)
    page = "Support: the widget ..."     # extra page wording, as a reporter would say it (optional)
    hints = ["Which host runs ..."]      # extra hints before the runbook's diagnosis (optional)
    fix_hints = ["Services started ..."] # extra hints before the runbook's fix (optional)

An exercise in a system's folder is named `<system>/<file stem>` (`chatkit/secret-missing`); one
directly in the exercises folder by its stem. A file that is not TOML, has an unknown key or a
bad value, or names an unknown or ambiguous scenario is BadInput with its file and line, before
anything starts.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.durations import parse_duration
from harness.errors import BadInput
from harness.inputfile import NotARegularFile, read_regular
from harness.scenarios import find_key

DEFAULT_EXERCISES = Path("drills/onboarding")
DEFAULT_TIME_LIMIT = 15 * 60.0
MAX_TIME_LIMIT = 60 * 60.0  # the observers are bounded; an hour is longer than any exercise should be
MIN_TIME_LIMIT = 10.0
MAX_TEXT = 2_000  # page wording and each hint
MAX_HINTS = 20
MAX_FILE_BYTES = 100_000
KEYS = ("scenario", "time_limit", "page", "hints", "fix_hints")


@dataclass(frozen=True)
class Exercise:
    name: str  # `<system>/<file stem>` in a system's folder, else the file's stem
    scenario: str  # a key once resolved (`resolve_scenarios`); as written in the file before
    time_limit: float = DEFAULT_TIME_LIMIT
    page: str = ""
    hints: tuple[str, ...] = ()
    fix_hints: tuple[str, ...] = ()
    path: str = ""
    line: int = 1  # of `scenario = ...`, for messages about it
    system: str = ""  # the system folder it was found in ("" when directly in the exercises folder)

    @property
    def where(self) -> str:
        return f"{self.path or self.name}:{self.line}"

    def where_is(self, key: str) -> str:
        """`file:line` of a key of this exercise's file (for messages about its value)."""
        if not self.path:
            return self.name
        try:
            text = read_regular(self.path, MAX_FILE_BYTES).decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return self.path
        return f"{self.path}:{_File(Path(self.path), text).line_of(key)}"

    def with_time_limit(self, seconds: float | None) -> Exercise:
        if seconds is None:
            return self
        return dataclasses.replace(self, time_limit=seconds)


def check_time_limit(seconds: float, where: str) -> float:
    if not MIN_TIME_LIMIT <= seconds <= MAX_TIME_LIMIT:
        raise BadInput(f"{where}: the time limit must be between {MIN_TIME_LIMIT:g}s and "
                       f"{MAX_TIME_LIMIT / 60:g}m, got {seconds:g}s")
    return seconds


class _File:
    def __init__(self, path: Path, text: str) -> None:
        self.path, self.lines = path, text.splitlines()

    def line_of(self, key: str) -> int:
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        return next((n for n, line in enumerate(self.lines, start=1) if pattern.match(line)), 1)

    def fail(self, key: str, message: str) -> BadInput:
        return BadInput(f"{self.path}:{self.line_of(key)}: {message}")


def load_exercise(path: Path | str, system: str = "") -> Exercise:
    """One exercise file (of `system`'s folder, if any); BadInput (file:line) on anything wrong with it."""
    path = Path(path)
    try:  # a regular file, and no more than the bound read: not /dev/zero, not a FIFO
        data = read_regular(path, MAX_FILE_BYTES)
    except IsADirectoryError:
        raise BadInput(f"{path}: is a folder, not an exercise file (give a .toml file)") from None
    except NotARegularFile as exc:
        raise BadInput(f"{path}: {exc.strerror}: give an exercise .toml file") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot read the exercise file ({exc.strerror or exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise BadInput(f"{path}: larger than {MAX_FILE_BYTES // 1000} kB: not an exercise file")
    try:
        text = data.decode("utf-8")
        raw = tomllib.loads(text)
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise BadInput(f"{path}:{line.group(1) if line else 1}: not valid TOML: {exc}") from None
    file = _File(path, text)
    for key, value in raw.items():
        if key not in KEYS:
            raise file.fail(key, f"unknown key {key!r} (an exercise has: {', '.join(KEYS)})")
        if isinstance(value, dict):
            raise file.fail(key, f"{key} must be a value, not a table")
    scenario = raw.get("scenario")
    if not isinstance(scenario, str) or not scenario:
        raise BadInput(f"{path}:{file.line_of('scenario')}: an exercise needs `scenario = \"SCENARIO-ID\"` "
                       "(`gameday list` shows them)")
    time_limit = DEFAULT_TIME_LIMIT
    if "time_limit" in raw:
        try:
            time_limit = parse_duration(raw["time_limit"])
        except ValueError as exc:
            raise file.fail("time_limit", f"time_limit: {exc}") from None
        check_time_limit(time_limit, f"{path}:{file.line_of('time_limit')}")
    page = raw.get("page", "")
    if not isinstance(page, str) or len(page) > MAX_TEXT:
        raise file.fail("page", f"page must be text of at most {MAX_TEXT} characters")
    return Exercise(name=f"{system}/{path.stem}" if system else path.stem, scenario=scenario, time_limit=time_limit,
                    page=page.strip(), hints=_texts(file, raw, "hints"), fix_hints=_texts(file, raw, "fix_hints"),
                    path=str(path), line=file.line_of("scenario"), system=system)


def _texts(file: _File, raw: dict[str, object], key: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise file.fail(key, f"{key} must be a list of texts, e.g. {key} = [\"Look at the service's log.\"]")
    if len(value) > MAX_HINTS or any(len(v) > MAX_TEXT for v in value):
        raise file.fail(key, f"{key}: at most {MAX_HINTS} hints of at most {MAX_TEXT} characters each")
    return tuple(v.strip() for v in value)


def load_exercises(folder: Path | str) -> list[Exercise]:
    """Every exercise of the folder: `*.toml` in it and in its system folders (`<system>/*.toml`),
    by name; BadInput when the folder is missing or a file is bad."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise BadInput(f"--exercises {folder}: is a file, not a folder; give the folder that holds the exercise "
                       "*.toml files (see drills/onboarding/ in the repository)")
    if not folder.is_dir():
        raise BadInput(f"--exercises {folder}: no such folder of onboarding exercises "
                       "(drills/onboarding/<system>/*.toml in the project)")
    exercises = [load_exercise(p) for p in sorted(folder.glob("*.toml"))]
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        exercises += [load_exercise(p, sub.name) for p in sorted(sub.glob("*.toml"))]
    return exercises


def resolve_scenarios(exercises: Iterable[Exercise], known: Sequence[str]) -> list[Exercise]:
    """The exercises with their scenario as a key (`known`: the registered keys); BadInput
    (file:line) for an unknown or ambiguous scenario, or two exercises of one scenario."""
    resolved: list[Exercise] = []
    seen: dict[str, str] = {}
    for exercise in exercises:
        try:
            key = find_key(exercise.scenario, known, system=exercise.system or None)
        except BadInput as exc:
            raise BadInput(f"{exercise.where}: {exc}") from None
        if key in seen:
            raise BadInput(f"{exercise.where}: scenario {key!r} already has an exercise ({seen[key]})")
        seen[key] = exercise.path
        resolved.append(dataclasses.replace(exercise, scenario=key))
    return resolved


def pick(exercises: Sequence[Exercise], wanted: str, known: Sequence[str]) -> Exercise:
    """The exercise by name, or of a scenario (key, or bare name unique across systems); a registered
    scenario without an exercise file gets defaults. `exercises` are resolved (`resolve_scenarios`)."""
    for exercise in exercises:
        if wanted in (exercise.name, exercise.scenario):
            return exercise
    named = [e for e in exercises if e.name.rsplit("/", 1)[-1] == wanted]
    if len(named) == 1:
        return named[0]
    if wanted not in known and not any(k.split("/", 1)[-1] == wanted for k in known):
        names = sorted({e.name for e in exercises} | set(known))
        raise BadInput(f"unknown exercise or scenario {wanted!r} (known: {', '.join(names) or 'none'})")
    key = find_key(wanted, known)  # a key, or a bare name: BadInput when two systems have it
    for exercise in exercises:
        if exercise.scenario == key:
            return exercise
    return Exercise(name=key, scenario=key, system=key.split("/", 1)[0])
