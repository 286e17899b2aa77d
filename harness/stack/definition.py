"""Stack definitions: what a system under test is made of, read from a TOML file.

A definition knows nothing of any particular system. It names services (an image recipe,
environment, files written before start, ports published on 127.0.0.1, network aliases, a
health check, set-up commands), secrets generated fresh for every stack, and fixed variables.
`${NAME}` in environment values, file contents and set-up commands is replaced by a secret or
a variable; any other `${NAME}` is an error, so a typo cannot reach a running stack.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.durations import parse_duration
from harness.errors import DefinitionError

LOCAL_HOST = "local"
DEFAULT_HEALTH_TIMEOUT = 60.0
DEFAULT_HEALTH_INTERVAL = 0.25
DEFAULT_SECRET_BYTES = 32
MAX_DEFINITION_BYTES = 1_000_000
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")

_TOP_KEYS = {"name", "description", "variables", "secrets", "services", "redaction"}
_SERVICE_KEYS = {
    "image", "dockerfile", "context", "inputs", "build_args", "aliases", "ports",
    "environment", "files", "health", "depends_on", "setup", "description", "logs",
}
_HEALTH_KEYS = {"http", "exec", "port", "status", "timeout", "interval"}
_FILE_KEYS = {"content", "mode"}


@dataclass(frozen=True)
class ImageRecipe:
    """How to build a service's image: a Dockerfile, its build context, the inputs to hash."""

    repository: str
    dockerfile: Path
    context: Path
    inputs: tuple[str, ...] = ("**/*",)
    build_args: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class HttpCheck:
    """Healthy when GET `path` on the published `port` answers `status`."""

    path: str
    port: int
    status: int = 200


@dataclass(frozen=True)
class ExecCheck:
    """Healthy when `command` exits 0 inside the container."""

    command: str


@dataclass(frozen=True)
class HealthCheck:
    check: HttpCheck | ExecCheck
    timeout: float = DEFAULT_HEALTH_TIMEOUT
    interval: float = DEFAULT_HEALTH_INTERVAL


@dataclass(frozen=True)
class FileSpec:
    """A file written into the container before it starts (content may hold `${NAME}`)."""

    path: str
    content: str
    mode: int = 0o644


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    image: ImageRecipe
    aliases: tuple[str, ...] = ()
    ports: tuple[int, ...] = ()
    environment: tuple[tuple[str, str], ...] = ()
    files: tuple[FileSpec, ...] = ()
    health: HealthCheck | None = None
    depends_on: tuple[str, ...] = ()
    setup: tuple[str, ...] = ()
    logs: tuple[str, ...] = ()
    line: int | None = None


@dataclass(frozen=True)
class SecretSpec:
    """A secret generated for every stack (url-safe, `nbytes` of randomness)."""

    name: str
    nbytes: int = DEFAULT_SECRET_BYTES


@dataclass(frozen=True)
class StackDefinition:
    name: str
    path: Path
    services: tuple[ServiceSpec, ...]
    secrets: tuple[SecretSpec, ...] = ()
    variables: tuple[tuple[str, str], ...] = ()
    description: str = ""
    redaction_patterns: tuple[str, ...] = ()  # token shapes of this system, masked in every record
    hosts: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hosts", (*(s.name for s in self.services), LOCAL_HOST))

    @property
    def default_host(self) -> str:  # TEMPORARY until the definition declares it
        return self.services[-1].name

    def service(self, name: str) -> ServiceSpec:
        for spec in self.services:
            if spec.name == name:
                return spec
        known = ", ".join(s.name for s in self.services)
        raise DefinitionError(f"unknown service {name!r}; this stack has: {known}", path=self.path)


def substitute(text: str, values: Mapping[str, str]) -> str:
    """Replace `${NAME}` by its value; names not in `values` are left alone."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def load_definition(path: Path | str) -> StackDefinition:
    """Read and validate a stack definition; DefinitionError (file and line) on any problem."""
    path = Path(path).resolve()
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_DEFINITION_BYTES + 1)
        if len(raw) > MAX_DEFINITION_BYTES:
            raise DefinitionError(f"larger than {MAX_DEFINITION_BYTES // 1000} kB: not a stack definition", path=path)
        text = raw.decode("utf-8")
    except OSError as exc:
        raise DefinitionError(f"cannot read the stack definition: {exc.strerror}", path=path) from exc
    except UnicodeDecodeError as exc:
        raise DefinitionError("the stack definition is not UTF-8 text", path=path) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
        raise DefinitionError(f"not valid TOML: {exc}", path=path, line=line) from exc
    return _Loader(path, text).load(data)


def _line_from_message(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


class _Loader:
    """Turns parsed TOML into a StackDefinition, reporting problems with their line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.scope: tuple[int, int] | None = None

    def fail(self, message: str, *needles: str) -> DefinitionError:
        return DefinitionError(message, path=self.path, line=self.locate(*needles))

    def locate(self, *needles: str) -> int | None:
        """The line of the first needle found, in order of preference (best effort).

        A bare name needle (`ports`) matches a `ports = ...` line; any other needle matches as
        text. While a service is being read, its own tables are searched before the whole file.
        """
        ranges = [self.scope, (0, len(self.lines))] if self.scope else [(0, len(self.lines))]
        for needle in needles:
            if not needle:
                continue
            pattern = re.compile(rf'^\s*"?{re.escape(needle)}"?\s*=') if re.fullmatch(r"\w+", needle) else None
            for start, end in ranges:
                for number in range(start, end):
                    line = self.lines[number]
                    if (pattern.match(line) if pattern else needle in line):
                        return number + 1
        return None

    def service_scope(self, name: str) -> tuple[int, int] | None:
        """The lines of `[services.NAME]` and its sub-tables."""
        own = (f"[services.{name}]", f"[services.{name}.")
        start = next((i for i, line in enumerate(self.lines) if line.strip().startswith(own)), None)
        if start is None:
            return None
        end = start + 1
        while end < len(self.lines):
            stripped = self.lines[end].strip()
            if stripped.startswith("[") and not stripped.startswith(own):
                break
            end += 1
        return start, end

    def load(self, data: dict[str, Any]) -> StackDefinition:
        self.check_keys(data, _TOP_KEYS, "top level", "")
        name = data.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise self.fail("`name` must be a short lowercase name (letters, digits, -)", "name")
        variables = self.string_table(data.get("variables", {}), "variables")
        secrets = self.secrets(data.get("secrets", {}))
        known = {k for k, _ in variables} | {s.name for s in secrets}
        raw_services = data.get("services")
        if not isinstance(raw_services, dict) or not raw_services:
            raise self.fail("a stack needs at least one [services.NAME] table", "[services")
        services = [self.service(sname, body, known) for sname, body in raw_services.items()]
        self.scope = None
        return StackDefinition(
            name=name,
            path=self.path,
            services=self.start_order(services),
            secrets=tuple(secrets),
            variables=tuple(variables),
            description=str(data.get("description", "")),
            redaction_patterns=self.redaction(data.get("redaction", {})),
        )

    def redaction(self, raw: object) -> tuple[str, ...]:
        if not isinstance(raw, dict):
            raise self.fail("[redaction] must be a table with `patterns = [...]`", "[redaction]", "redaction")
        self.check_keys(raw, {"patterns"}, "redaction", "[redaction]")
        patterns = raw.get("patterns", [])
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise self.fail("redaction.patterns must be a list of regular expressions", "patterns", "[redaction]")
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise self.fail(f"redaction pattern {pattern!r} is not a valid regular expression: {exc}",
                                pattern, "patterns") from None
        return tuple(patterns)

    def check_keys(self, table: Mapping[str, Any], allowed: set[str], where: str, header: str) -> None:
        for key in table:
            if key not in allowed:
                hint = ", ".join(sorted(allowed))
                raise self.fail(f"unknown key {key!r} in {where} (known: {hint})", key, f"[{key}]",
                                f"[{header.strip('[]')}.{key}]" if header else f"[{key}.", f"{key}=", header)

    def string_table(self, raw: object, where: str) -> list[tuple[str, str]]:
        if not isinstance(raw, dict):
            raise self.fail(f"[{where}] must be a table of NAME = \"value\"", f"[{where}]")
        out = []
        for key, value in raw.items():
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise self.fail(f"{where}.{key} must be a string or a number", f"{key} =", f"[{where}]")
            out.append((str(key), str(value)))
        return out

    def secrets(self, raw: object) -> list[SecretSpec]:
        if not isinstance(raw, dict):
            raise self.fail("[secrets] must be a table", "[secrets")
        out = []
        for key, body in raw.items():
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
                raise self.fail(f"secret name {key!r} must be an identifier", f"secrets.{key}", key)
            if isinstance(body, dict):
                self.check_keys(body, {"bytes"}, f"secrets.{key}", f"[secrets.{key}]")
            nbytes = body.get("bytes", DEFAULT_SECRET_BYTES) if isinstance(body, dict) else body
            if not isinstance(nbytes, int) or isinstance(nbytes, bool) or not 16 <= nbytes <= 256:
                raise self.fail(f"secrets.{key}.bytes must be an integer from 16 to 256", f"secrets.{key}", key)
            out.append(SecretSpec(name=key, nbytes=nbytes))
        return out

    def service(self, name: str, body: object, known: set[str]) -> ServiceSpec:
        header = f"[services.{name}]"
        if not isinstance(body, dict):
            raise self.fail(f"services.{name} must be a table", header)
        if name == LOCAL_HOST or not _NAME.match(name):
            raise self.fail(f"service name {name!r} is not allowed (lowercase, not {LOCAL_HOST!r})", header)
        self.scope = self.service_scope(name)
        self.check_keys(body, _SERVICE_KEYS, f"services.{name}", header)
        line = self.locate(header)

        def text_with_placeholders(value: str, where: str) -> str:
            for match in _PLACEHOLDER.finditer(value):
                if match.group(1) not in known:
                    raise self.fail(
                        f"{where} uses ${{{match.group(1)}}}, which is neither a secret nor a variable "
                        f"of this stack (known: {', '.join(sorted(known)) or 'none'})",
                        match.group(0),
                    )
            return value

        image = self.image(name, body, header)
        ports = body.get("ports", [])
        if not isinstance(ports, list) or not all(
            isinstance(p, int) and not isinstance(p, bool) and 0 < p < 65536 for p in ports
        ):
            raise self.fail(f"services.{name}.ports must be a list of port numbers", "ports", header)
        env = [(k, text_with_placeholders(v, f"services.{name}.environment.{k}"))
               for k, v in self.string_table(body.get("environment", {}), f"services.{name}.environment")]
        files = []
        raw_files = body.get("files", {})
        if not isinstance(raw_files, dict):
            raise self.fail(f"services.{name}.files must be a table keyed by path", header)
        for fpath, fbody in raw_files.items():
            if not fpath.startswith("/") or not isinstance(fbody, dict):
                raise self.fail(f"services.{name}.files: {fpath!r} must be an absolute path with a table",
                                fpath, header)
            self.check_keys(fbody, _FILE_KEYS, f"services.{name}.files.{fpath!r}", fpath)
            content = fbody.get("content")
            if not isinstance(content, str):
                raise self.fail(f"file {fpath} needs `content`", fpath)
            mode = fbody.get("mode", "0644")
            if isinstance(mode, int) and not isinstance(mode, bool) and 0 <= mode <= 0o7777:
                mode_int = mode  # a TOML octal integer such as 0o600
            elif isinstance(mode, str) and re.fullmatch(r"0?[0-7]{3,4}", mode):
                mode_int = int(mode, 8)
            else:
                raise self.fail(f"file {fpath}: mode {mode!r} is not octal (write \"0600\" or 0o600)",
                                "mode", fpath)
            files.append(FileSpec(fpath, text_with_placeholders(content, f"file {fpath}"), mode_int))
        setup = body.get("setup", [])
        if not isinstance(setup, list) or not all(isinstance(c, str) for c in setup):
            raise self.fail(f"services.{name}.setup must be a list of shell commands", "setup", header)
        aliases = body.get("aliases", [])
        depends = body.get("depends_on", [])
        logs = body.get("logs", [])
        for key, value in (("aliases", aliases), ("depends_on", depends), ("logs", logs)):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise self.fail(f"services.{name}.{key} must be a list of names", key, header)
        return ServiceSpec(
            name=name,
            image=image,
            aliases=tuple(aliases) or (name,),
            ports=tuple(ports),
            environment=tuple(env),
            files=tuple(files),
            health=self.health(name, body.get("health"), tuple(ports), header),
            depends_on=tuple(depends),
            setup=tuple(text_with_placeholders(c, f"services.{name}.setup") for c in setup),
            logs=tuple(logs),
            line=line,
        )

    def image(self, name: str, body: Mapping[str, Any], header: str) -> ImageRecipe:
        repository = body.get("image")
        dockerfile = body.get("dockerfile")
        if not isinstance(repository, str) or not re.match(r"^[a-z0-9][a-z0-9._/-]*$", repository):
            raise self.fail(f"services.{name}.image must name the image repository to build, "
                            "e.g. \"gameday/app\"", "image", header)
        if not isinstance(dockerfile, str):
            raise self.fail(f"services.{name}.dockerfile is required (path relative to this file)", header)
        base = self.path.parent
        context = (base / str(body.get("context", "."))).resolve()
        dockerfile_path = (base / dockerfile).resolve()
        if not dockerfile_path.is_file():
            raise self.fail(f"services.{name}.dockerfile: {dockerfile_path} does not exist", "dockerfile", header)
        if not context.is_dir() or not dockerfile_path.is_relative_to(context):
            raise self.fail(f"services.{name}.context must be a folder holding the Dockerfile", "context", header)
        inputs = body.get("inputs", ["**/*"])
        if not isinstance(inputs, list) or not inputs or not all(isinstance(i, str) for i in inputs):
            raise self.fail(f"services.{name}.inputs must be a list of glob patterns", "inputs", header)
        build_args = self.string_table(body.get("build_args", {}), f"services.{name}.build_args")
        return ImageRecipe(repository, dockerfile_path, context, tuple(inputs), tuple(build_args))

    def health(self, name: str, raw: object, ports: tuple[int, ...], header: str) -> HealthCheck | None:
        if raw is None:
            return None
        where = f"services.{name}.health"
        table = f"[{where}]"
        if not isinstance(raw, dict):
            raise self.fail(f"{where} must be a table", table, "health", header)
        self.check_keys(raw, _HEALTH_KEYS, where, table)
        check: HttpCheck | ExecCheck
        if isinstance(raw.get("http"), str) and "exec" not in raw:
            port = raw.get("port", ports[0] if ports else None)
            if port not in ports:
                raise self.fail(f"{where}.port must be one of the service's published ports {list(ports)}",
                                table, "health", header)
            status = raw.get("status", 200)
            if not isinstance(status, int):
                raise self.fail(f"{where}.status must be an HTTP status code", "status", table, header)
            check = HttpCheck(raw["http"], int(port), status)
        elif isinstance(raw.get("exec"), str) and "http" not in raw:
            check = ExecCheck(raw["exec"])
        else:
            raise self.fail(f"{where} needs exactly one of http = \"/path\" or exec = \"command\"",
                            table, "health", header)
        durations = {}
        for key, default in (("timeout", DEFAULT_HEALTH_TIMEOUT), ("interval", DEFAULT_HEALTH_INTERVAL)):
            try:
                durations[key] = parse_duration(raw.get(key, default))
            except ValueError as exc:
                raise self.fail(f"{where}.{key}: {exc}", key, table, header) from None
        timeout, interval = durations["timeout"], durations["interval"]
        return HealthCheck(check, timeout, interval)

    def start_order(self, services: list[ServiceSpec]) -> tuple[ServiceSpec, ...]:
        """Services sorted so that each starts after what it depends on; cycles are errors."""
        by_name = {s.name: s for s in services}
        for spec in services:
            self.scope = self.service_scope(spec.name)
            for dep in spec.depends_on:
                if dep not in by_name:
                    raise self.fail(f"services.{spec.name} depends on unknown service {dep!r}",
                                    "depends_on", f"[services.{spec.name}]")
        ordered: list[ServiceSpec] = []
        visiting: set[str] = set()

        def visit(spec: ServiceSpec) -> None:
            if spec in ordered:
                return
            if spec.name in visiting:
                raise self.fail(f"services.{spec.name}: depends_on forms a cycle", f"[services.{spec.name}]")
            visiting.add(spec.name)
            for dep in spec.depends_on:
                visit(by_name[dep])
            visiting.discard(spec.name)
            ordered.append(spec)

        for spec in services:
            visit(spec)
        return tuple(ordered)
