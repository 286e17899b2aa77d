"""What every part of the Compose reader shares: the file's values with their lines, and how a
problem is reported (`file:line: what; what to do`, exit 2) or a difference warned about."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from harness.errors import DefinitionError
from harness.inputfile import read_regular
from harness.stack.definition import (
    _ENV_NAME,
    _NAME,
    ImageRecipe,
    SecretSpec,
)
from harness.stack.interpolate import Interpolator, parse_dotenv
from harness.stack.yamlfile import YamlDocument, scalar_text

EXTENSION = "x-gameday"
PROFILES_ENV = "COMPOSE_PROFILES"
MAX_ATTACHED_FILE_BYTES = 1_000_000  # a config, secret or env_file bigger than this is not one
MAX_PROJECT_DEPTH = 2  # x-gameday.project_dir reaches at most this many folders above the file


@dataclass
class ComposeReaderBase:
    """The state of one file's reading and the helpers every key's reader uses."""

    path: Path
    doc: YamlDocument
    environ: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    secrets: tuple[SecretSpec, ...] = ()
    builders: dict[str, tuple[str, ImageRecipe]] = field(default_factory=dict)

    # -- reporting -----------------------------------------------------------------------------

    @property
    def base(self) -> Path:
        """The folder relative paths start from: the Compose file's own, as in Compose."""
        return self.path.parent

    @property
    def project(self) -> Path:
        """The folder whose files the stack may use (build contexts, configs, env files, binds): the
        Compose file's own, or an enclosing one that `x-gameday.project_dir` names, so that systems
        of one repository can build a program kept once beside them (`context: ../common/upstream`)."""
        ext = self.doc.value.get(EXTENSION) if isinstance(self.doc.value, dict) else None
        raw = ext.get("project_dir") if isinstance(ext, dict) else None
        if raw is None:
            return self.base
        if not isinstance(raw, str) or not raw.strip():
            self.fail("x-gameday.project_dir must be a folder that holds this file, e.g. \"..\"", EXTENSION,
                      "project_dir")
        folder = (self.base / raw).resolve()
        if not self.base.is_relative_to(folder):
            self.fail(f"x-gameday.project_dir: {raw!r} is {folder}, which does not hold this file; name a folder "
                      "above it (\"..\")", EXTENSION, "project_dir")
        if folder == Path(folder.anchor) or len(self.base.relative_to(folder).parts) > MAX_PROJECT_DEPTH:
            self.fail(f"x-gameday.project_dir: {raw!r} is {folder}: the project is at most {MAX_PROJECT_DEPTH} "
                      "folders above this file, and never the file system's root", EXTENSION, "project_dir")
        return folder

    def fail(self, message: str, *where: str | int) -> NoReturn:
        raise DefinitionError(message, path=self.path, line=self.doc.line(*where))

    def warn(self, message: str, *where: str | int) -> None:
        line = self.doc.line(*where)
        self.warnings.append(f"{self.path}:{line}: {message}" if line else f"{self.path}: {message}")

    def keys(self, table: Mapping[str, Any], allowed: set[str], where: tuple[str | int, ...],
               refused: Mapping[str, str] | None = None) -> None:
        """Every key of `table` is one the harness implements: refused keys say why, others say
        they are not implemented; `x-` keys are extensions and allowed."""
        for key in table:
            if key in allowed or (key.startswith("x-") and key != EXTENSION):
                continue
            dotted = ".".join(str(p) for p in (*where, key))
            if refused and key in refused:
                self.fail(f"{dotted} is refused: {refused[key]}; remove it", *where, key)
            hint = ", ".join(sorted(allowed))
            self.fail(f"{dotted} is not supported by the harness (it would be silently ignored otherwise); "
                      f"remove it, or move it under an x- key. Supported here: {hint}", *where, key)

    def mapping(self, value: object, *where: str | int, example: str = "") -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            dotted = ".".join(str(p) for p in where)
            self.fail(f"{dotted} must be a mapping{f', e.g. {example}' if example else ''}", *where)
        return value

    def strings(self, value: object, *where: str | int) -> list[str]:
        """A list of strings (a single string is a list of one)."""
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str | int) and not isinstance(v, bool) for v in value):
            self.fail(f"{'.'.join(str(p) for p in where)} must be a list of strings", *where)
        return [scalar_text(v) for v in value]

    def key_values(self, raw: object, where: tuple[str | int, ...], *, from_environ: bool = False
                   ) -> list[tuple[str, str]]:
        """A mapping (`KEY: value`) or a list (`- KEY=value`); in a list, `- KEY` alone (and, in a
        mapping, `KEY:` with no value) takes KEY from the environment when `from_environ`, else is
        an empty value (a label without one)."""
        if raw is None:
            return []
        dotted = ".".join(str(p) for p in where)
        pairs: list[tuple[str, Any, tuple[str | int, ...]]] = []
        if isinstance(raw, dict):
            pairs = [(k, v, (*where, k)) for k, v in raw.items()]
        elif isinstance(raw, list):
            for index, item in enumerate(raw):
                if not isinstance(item, str):
                    self.fail(f"{dotted}: each item is a string KEY=value", *where, index)
                key, eq, value = item.partition("=")
                pairs.append((key, value if eq else None, (*where, index)))
        else:
            self.fail(f"{dotted} must be a mapping (KEY: value) or a list of KEY=value", *where)
        out: list[tuple[str, str]] = []
        for key, value, at in pairs:
            if value is None:
                if from_environ and key in self.environ:
                    out.append((key, self.environ[key]))
                    continue
                if from_environ:
                    continue  # Compose leaves a variable the environment does not have unset
                out.append((key, ""))
                continue
            if isinstance(value, dict | list):
                self.fail(f"{dotted}.{key} must be a string, a number or a boolean", *at)
            out.append((key, scalar_text(value)))
        return out

    # -- files of the project --------------------------------------------------------------------

    def project_name(self, raw: object) -> str:
        """`name:` (checked), else the folder's name made into one."""
        if raw is not None:
            if not isinstance(raw, str) or not _NAME.match(raw):
                self.fail(f"name: {raw!r} must be a short lowercase name (letters, digits, -; at most 31, starting "
                          "with a letter): the stack's containers, network and volumes are named after it", "name")
            return raw
        folder = re.sub(r"[^a-z0-9-]+", "-", self.base.name.lower()).strip("-")
        folder = folder if folder[:1].isalpha() else f"stack-{folder}".rstrip("-")
        return folder[:31].rstrip("-") or "stack"

    def project_file(self, raw: str, what: str, where: tuple[str | int, ...], *, kind: str = "file") -> Path:
        """A path of the project folder (the Compose file's folder or below, or x-gameday.project_dir),
        which must exist."""
        target = (self.base / raw).resolve()
        if not target.is_relative_to(self.project):
            self.fail(f"{what}: {raw!r} is {target}, outside the project folder {self.project}: the harness reads "
                      f"and mounts only files of the project; copy it into the project folder", *where)
        if not target.exists():
            self.fail(f"{what}: {target} does not exist", *where)
        if kind == "file" and not target.is_file():
            self.fail(f"{what}: {target} is not a regular file", *where)
        return target

    def project_file_text(self, raw: str, what: str, where: tuple[str | int, ...]) -> str:
        target = self.project_file(raw, what, where)
        data = read_regular(target, MAX_ATTACHED_FILE_BYTES)
        if len(data) > MAX_ATTACHED_FILE_BYTES:
            self.fail(f"{what}: {target} is larger than {MAX_ATTACHED_FILE_BYTES // 1000} kB", *where)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            self.fail(f"{what}: {target} is not UTF-8 text", *where)

    def env_file_values(self, path: Path, values: Mapping[str, str], deferred: frozenset[str]) -> dict[str, str]:
        try:
            raw = read_regular(path, MAX_ATTACHED_FILE_BYTES)
            if len(raw) > MAX_ATTACHED_FILE_BYTES:
                raise DefinitionError(f"larger than {MAX_ATTACHED_FILE_BYTES // 1000} kB: not an environment file",
                                      path=path)
            text = raw.decode("utf-8")
        except OSError as exc:
            raise DefinitionError(f"cannot read the environment file: {exc.strerror}", path=path) from None
        except UnicodeDecodeError:
            raise DefinitionError("the environment file is not UTF-8 text", path=path) from None

        def expand(value: str, earlier: Mapping[str, str]) -> str:
            return Interpolator({**earlier, **values}, deferred)(value)  # the environment wins, as in Compose

        parsed, problems = parse_dotenv(text, expand)
        if problems:
            raise DefinitionError(problems[0].message, path=path, line=problems[0].line)
        return parsed

    def base_arg(self) -> str:
        ext = self.doc.value.get(EXTENSION) or {}
        value = ext.get("base_arg", "BASE") if isinstance(ext, dict) else "BASE"
        if not isinstance(value, str) or not _ENV_NAME.match(value):
            self.fail("x-gameday.base_arg must name a build argument (e.g. BASE)", EXTENSION, "base_arg")
        return value
