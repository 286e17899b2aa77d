"""Stack definitions: what a system under test is made of, read from a Compose file
(`harness.stack.compose`) or from the harness's own TOML format (this module); both give the same
model, and the launcher reads only the model.

A definition knows nothing of any particular system. It names services (an image: a recipe the
harness builds, another service's image, or a local image used as it is; a command overriding
the image's; environment, files written before start, ports published on 127.0.0.1, network
aliases, named volumes, sized tmpfs mounts, a memory limit, a readiness check, set-up commands),
secrets generated fresh for every stack, fixed variables, and the host where a runbook step
without a host runs (`default_host`). `${NAME}` in environment values, file contents, commands
and set-up commands is replaced by a secret or a variable; any other `${NAME}` is an error, so a
typo cannot reach a running stack.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from harness.durations import parse_duration
from harness.errors import DefinitionError
from harness.inputfile import read_regular
from harness.redact import UnsafePattern, check_pattern

LOCAL_HOST = "local"
TOXIPROXY_API_PORT = 8474  # where a Toxiproxy server answers its HTTP API, in its container
DEFAULT_HEALTH_TIMEOUT = 60.0
DEFAULT_HEALTH_INTERVAL = 0.25
DEFAULT_SECRET_BYTES = 32
MAX_DEFINITION_BYTES = 1_000_000
COMPOSE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
MIN_MEMORY_BYTES = 16 * 1024 * 1024  # below this, hardly any service starts: a typo, not a limit
MIN_TMPFS_BYTES = 4 * 1024  # one page; a size of 0 would mean "unbounded" to the kernel
MAX_SERVICES = 200  # more is a generated file gone wrong, not a system under test
MAX_HEALTH_TIMEOUT = 15 * 60.0  # seconds; a readiness wait longer than this is a hang
MIN_HEALTH_INTERVAL = 0.05  # seconds; faster polling only loads the engine
MAX_FILE_MODE = 0o777  # permission bits only: no setuid, setgid or sticky bit
# Official images: a recipe tagged with one of these names would re-tag the public image on a
# shared engine (the rule itself is wider: a recipe's repository must be NAMESPACE/NAME).
PUBLIC_IMAGES = frozenset({
    "alpine", "busybox", "centos", "debian", "fedora", "golang", "httpd", "mariadb", "memcached",
    "mongo", "mysql", "nginx", "node", "openjdk", "postgres", "python", "rabbitmq", "redis", "ruby",
    "rust", "ubuntu",
})
SHELL = ("/bin/sh", "-c")  # how a `command` string runs, as a Dockerfile's shell form does
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
_VOLUME_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_REPOSITORY = re.compile(r"^[a-z0-9][a-z0-9._/-]*$")
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SIZE = re.compile(r"^\s*(\d+)\s*([kmg])\s*$", re.IGNORECASE)
_SIZE_UNITS = {"k": 1024, "m": 1024**2, "g": 1024**3}

_TOP_KEYS = {"name", "description", "default_host", "variables", "secrets", "services", "redaction"}
_BUILD_KEYS = ("context", "inputs", "build_args")
_SERVICE_KEYS = {
    "image", "dockerfile", *_BUILD_KEYS, "command", "aliases", "ports", "environment", "files",
    "volumes", "tmpfs", "memory", "health", "depends_on", "setup", "description", "logs",
}
_HEALTH_KEYS = {"http", "exec", "tcp", "port", "status", "timeout", "interval"}
_FILE_KEYS = {"content", "mode"}


def parse_size(value: object) -> int:
    """Bytes from `64k`, `16m`, `1g` (powers of 1024, as Docker counts); ValueError otherwise.

    A bare number is refused: `memory = 256` could mean bytes or megabytes.
    """
    if isinstance(value, str) and (match := _SIZE.match(value)):
        return int(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]
    raise ValueError(f"not a size: {value!r} (write a number and a unit, e.g. \"64k\", \"16m\", \"1g\")")


@dataclass(frozen=True)
class ImageRecipe:
    """How to build a service's image: a Dockerfile, its build context, the inputs to hash."""

    repository: str
    dockerfile: Path
    context: Path
    inputs: tuple[str, ...] = ("**/*",)
    build_args: tuple[tuple[str, str], ...] = ()
    target: str = ""  # a multi-stage Dockerfile's stage to build; "" is the last one
    base_arg: str = "BASE"  # the build argument the harness sets to its base image
    # A program of the project run on this machine before the build (argv; the program a path
    # inside the context, run there): what containers cannot do themselves, such as fetching
    # packages from a registry only the machine reaches. It must be quick when nothing changed.
    prepare: tuple[str, ...] = ()


@dataclass(frozen=True)
class LocalImage:
    """An image used as it is: it must already be on the engine; it is never built or pulled."""

    reference: str  # "repository" (meaning :latest) or "repository:tag"


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
class TcpCheck:
    """Healthy when `port` accepts a TCP connection on the container's own loopback, tried from
    inside the container (the port need not be published; see README "Bring your own stack")."""

    port: int


@dataclass(frozen=True)
class HealthCheck:
    """The harness's readiness check: polled every `interval` until it passes, for at most `timeout`."""

    check: HttpCheck | ExecCheck | TcpCheck
    timeout: float = DEFAULT_HEALTH_TIMEOUT
    interval: float = DEFAULT_HEALTH_INTERVAL


@dataclass(frozen=True)
class ContainerHealthcheck:
    """A Docker HEALTHCHECK given to the engine (Compose's `healthcheck`), so `docker ps` and
    `docker inspect` show the container's health as they would under Compose. `test` is
    ("CMD", argv...), ("CMD-SHELL", command) or ("NONE",) (the image's own check switched off)."""

    test: tuple[str, ...]
    interval: float = 30.0
    timeout: float = 30.0
    retries: int = 3
    start_period: float = 0.0


class DependencyCondition(StrEnum):
    """What a service waits for before it starts (Compose's `depends_on` conditions)."""

    STARTED = "service_started"
    HEALTHY = "service_healthy"
    COMPLETED = "service_completed_successfully"


@dataclass(frozen=True)
class Dependency:
    service: str
    condition: DependencyCondition = DependencyCondition.HEALTHY


@dataclass(frozen=True)
class FileSpec:
    """A file written into the container before it starts (content may hold `${NAME}`)."""

    path: str
    content: str
    mode: int = 0o644


@dataclass(frozen=True)
class VolumeMount:
    """A named volume of the stack mounted at `path`; services naming the same volume share it."""

    name: str
    path: str
    read_only: bool = False


@dataclass(frozen=True)
class BindMount:
    """A file or folder of the project (never outside its folder) mounted at `path`."""

    source: Path
    path: str
    read_only: bool = False


@dataclass(frozen=True)
class TmpfsMount:
    """A memory-backed file system of `size` bytes at `path`: a disk that can fill."""

    path: str
    size: int


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    image: ImageRecipe | LocalImage
    aliases: tuple[str, ...] = ()
    ports: tuple[int, ...] = ()
    environment: tuple[tuple[str, str], ...] = ()
    files: tuple[FileSpec, ...] = ()
    health: HealthCheck | None = None
    depends_on: tuple[str, ...] = ()
    setup: tuple[str, ...] = ()
    logs: tuple[str, ...] = ()
    line: int | None = None
    command: tuple[str, ...] = ()  # argv replacing the image's CMD; () keeps the image's
    volumes: tuple[VolumeMount, ...] = ()
    tmpfs: tuple[TmpfsMount, ...] = ()
    memory: int | None = None  # bytes (docker's mem_limit); None: no limit
    entrypoint: tuple[str, ...] = ()  # argv replacing the image's ENTRYPOINT; () keeps the image's
    user: str = ""  # the user the main process runs as ("" : the image's); runbook steps still run as root
    working_dir: str = ""
    cap_add: tuple[str, ...] = ()  # Linux capabilities added (dangerous ones only where the file allows them)
    labels: tuple[tuple[str, str], ...] = ()  # the file's own labels; the harness's are added to them
    expose: tuple[int, ...] = ()  # ports other services reach (metadata: on the stack network every port is)
    binds: tuple[BindMount, ...] = ()
    container_healthcheck: ContainerHealthcheck | None = None
    # What each dependency must reach before this service starts; `depends_on` is their names.
    # Left out, every name of depends_on is waited for until healthy (the TOML format's rule).
    dependencies: tuple[Dependency, ...] = ()

    def __post_init__(self) -> None:
        if self.dependencies and not self.depends_on:
            object.__setattr__(self, "depends_on", tuple(d.service for d in self.dependencies))
        elif self.depends_on and not self.dependencies:
            object.__setattr__(self, "dependencies", tuple(Dependency(d) for d in self.depends_on))


@dataclass(frozen=True)
class SecretSpec:
    """A secret generated for every stack (url-safe, `nbytes` of randomness)."""

    name: str
    nbytes: int = DEFAULT_SECRET_BYTES


@dataclass(frozen=True)
class LinkSpec:
    """Traffic to `target`:`port` that goes through a Toxiproxy proxy named `name`, so faults can
    slow, stall, reset or cut it. The proxy listens on `listen_port`; clients reach it either by
    the target's own names (`clients`, whose /etc/hosts point them at the proxy: nothing in their
    configuration changes) or by `listen_alias`, a name of the proxy on the stack's network."""

    name: str
    target: str
    port: int
    clients: tuple[str, ...] = ()
    listen_alias: str = ""  # "" : the clients reach the proxy by the target's names
    listen_port: int = 0  # 0 : the target's port
    line: int | None = None

    @property
    def listen(self) -> int:
        return self.listen_port or self.port

    @property
    def upstream(self) -> str:
        return f"{self.target}:{self.port}"


@dataclass(frozen=True)
class StackDefinition:
    name: str
    path: Path
    services: tuple[ServiceSpec, ...]
    secrets: tuple[SecretSpec, ...] = ()
    variables: tuple[tuple[str, str], ...] = ()
    description: str = ""
    redaction_patterns: tuple[str, ...] = ()  # token shapes of this system, masked in every record
    # Where a runbook step without a host runs: a service or `local`. Declared in the file; only a
    # definition with a single service may leave it out (it is then that service).
    default_host: str = ""
    # The services a runbook may name as hosts (besides `local`); () : every service.
    host_services: tuple[str, ...] = ()
    # What the file asks that the harness does differently, each `file:line: what it does instead`.
    warnings: tuple[str, ...] = ()
    # Proxied links (x-gameday.links of a Compose file): the harness runs a Toxiproxy server for them.
    links: tuple[LinkSpec, ...] = ()
    hosts: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hosts", (*(self.host_services or (s.name for s in self.services)), LOCAL_HOST))
        if not self.default_host and len(self.services) == 1:
            object.__setattr__(self, "default_host", self.services[0].name)
        if self.default_host not in self.hosts:
            raise ValueError(f"default_host {self.default_host!r} must be one of {list(self.hosts)} "
                             "(a definition with several services must name it)")

    @property
    def volumes(self) -> tuple[str, ...]:
        """The stack's named volumes, each once, in the order services name them."""
        return tuple(dict.fromkeys(v.name for s in self.services for v in s.volumes))

    def service(self, name: str) -> ServiceSpec:
        for spec in self.services:
            if spec.name == name:
                return spec
        known = ", ".join(s.name for s in self.services)
        raise DefinitionError(f"unknown service {name!r}; this stack has: {known}", path=self.path)

    def link(self, name: str) -> LinkSpec:
        for spec in self.links:
            if spec.name == name:
                return spec
        known = ", ".join(s.name for s in self.links) or "none (declare them in x-gameday.links)"
        raise DefinitionError(f"unknown link {name!r}; this stack's links: {known}", path=self.path)


def substitute(text: str, values: Mapping[str, str]) -> str:
    """Replace `${NAME}` by its value; names not in `values` are left alone."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def read_definition_text(path: Path) -> str:
    """The text of a definition file (a regular file, at most MAX_DEFINITION_BYTES, UTF-8)."""
    try:
        raw = read_regular(path, MAX_DEFINITION_BYTES)  # never blocks on a FIFO, never reads a device whole
        if len(raw) > MAX_DEFINITION_BYTES:
            raise DefinitionError(f"larger than {MAX_DEFINITION_BYTES // 1000} kB: not a stack definition", path=path)
        text = raw.decode("utf-8")
    except OSError as exc:
        raise DefinitionError(f"cannot read the stack definition: {exc.strerror}", path=path) from exc
    except UnicodeDecodeError as exc:
        raise DefinitionError("the stack definition is not UTF-8 text", path=path) from exc
    return text


def is_compose_file(path: Path) -> bool:
    """Compose's own names, or any `.yaml`/`.yml` file; anything else is the TOML format."""
    return path.name in COMPOSE_NAMES or path.suffix.lower() in (".yaml", ".yml")


def load_definition(path: Path | str) -> StackDefinition:
    """Read and validate a stack definition (a Compose file or the TOML format, told by the file's
    name); DefinitionError (file and line) on any problem, before anything starts."""
    path = Path(path).resolve()
    if is_compose_file(path):
        from harness.stack.compose import load_compose  # the Compose reader builds on this module

        return load_compose(path)
    text = read_definition_text(path)
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
        self.builders: dict[str, tuple[str, ImageRecipe]] = {}  # repository -> (service, recipe)
        self.variables: dict[str, str] = {}

    def fail(self, message: str, *needles: str) -> DefinitionError:
        return DefinitionError(message, path=self.path, line=self.locate(*needles))

    def locate(self, *needles: str) -> int | None:
        """The line of the first needle found, in order of preference (best effort).

        A bare name needle (`ports`) matches a `ports = ...` line; any other needle matches as
        text. While a service is being read, every needle is looked for in its own tables before
        any is looked for in the whole file.
        """
        ranges = [self.scope, (0, len(self.lines))] if self.scope else [(0, len(self.lines))]
        for start, end in ranges:
            for needle in needles:
                if not needle:
                    continue
                pattern = re.compile(rf'^\s*"?{re.escape(needle)}"?\s*=') if re.fullmatch(r"\w+", needle) else None
                for number in range(start, end):
                    line = self.lines[number]
                    if (pattern.match(line) if pattern else needle in line):
                        return number + 1
        return None

    def entry_line(self, service: str, table: str, key: str) -> int | None:
        """The line of entry `key` of a service's `table` (`volumes`, `tmpfs`), written either as
        `[services.S.TABLE]` with `KEY = ...` lines, or inline as `TABLE = { KEY = ... }`."""
        header = f"[services.{service}.{table}]"
        entry = re.compile(rf"""^\s*["']?{re.escape(key)}["']?\s*=""")
        for number, line in enumerate(self.lines):
            if line.strip().startswith(header):
                for inner in range(number + 1, len(self.lines)):
                    if self.lines[inner].strip().startswith("["):
                        break
                    if entry.match(self.lines[inner]):
                        return inner + 1
                return number + 1
        return self.locate(f"{table}.{key}", table, f"[services.{service}]")

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
        if len(raw_services) > MAX_SERVICES:
            first_extra = list(raw_services)[MAX_SERVICES]
            raise self.fail(f"too many services ({len(raw_services)}; at most {MAX_SERVICES}): split the "
                            "system into smaller stacks", f"[services.{first_extra}]", "[services")
        self.variables = dict(variables)
        services = self.share_images([self.service(sname, body, known) for sname, body in raw_services.items()])
        ordered = self.start_order(services)
        self.scope = None
        return StackDefinition(
            name=name,
            path=self.path,
            services=ordered,
            secrets=tuple(secrets),
            variables=tuple(variables),
            description=str(data.get("description", "")),
            redaction_patterns=self.redaction(data.get("redaction", {})),
            default_host=self.default_host(data, [s.name for s in services]),
        )

    def default_host(self, data: Mapping[str, Any], services: list[str]) -> str:
        """The declared `default_host`; left out, the only service (several: an error)."""
        choices = ", ".join([*(f'"{s}"' for s in services), f'"{LOCAL_HOST}"'])
        if "default_host" not in data:
            if len(services) == 1:
                return services[0]
            raise DefinitionError(
                f"this stack has {len(services)} services: say where a runbook step without a host runs: "
                f"add default_host = \"SERVICE\" at the top of the file (one of {choices})",
                path=self.path, line=self.locate("name") or 1)
        value = data["default_host"]
        if value not in (*services, LOCAL_HOST):
            raise self.fail(f"default_host = {value!r} names no service of this stack; write one of {choices}",
                            "default_host")
        return str(value)

    def share_images(self, services: list[ServiceSpec]) -> list[ServiceSpec]:
        """A service that names, without a dockerfile, the repository another service builds runs
        that service's image; any other image without a dockerfile is a local image."""
        shared = []
        for spec in services:
            if isinstance(spec.image, LocalImage) and spec.image.reference in self.builders:
                spec = replace(spec, image=self.builders[spec.image.reference][1])
            shared.append(spec)
        return shared

    def redaction(self, raw: object) -> tuple[str, ...]:
        if not isinstance(raw, dict):
            raise self.fail("[redaction] must be a table with `patterns = [...]`", "[redaction]", "redaction")
        self.check_keys(raw, {"patterns"}, "redaction", "[redaction]")
        patterns = raw.get("patterns", [])
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise self.fail("redaction.patterns must be a list of regular expressions", "patterns", "[redaction]")
        for pattern in patterns:
            try:
                check_pattern(pattern)
            except UnsafePattern as exc:
                raise self.fail(str(exc), pattern, "patterns") from None
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
        for key, value in env:
            self.check_environment(name, key, value, header)
        files = []
        raw_files = body.get("files", {})
        if not isinstance(raw_files, dict):
            raise self.fail(f"services.{name}.files must be a table keyed by path", header)
        for fpath, fbody in raw_files.items():
            if not fpath.startswith("/") or not isinstance(fbody, dict):
                raise self.fail(f"services.{name}.files: {fpath!r} must be an absolute path with a table",
                                fpath, header)
            parts = fpath[1:].split("/")
            if any(part in ("", ".", "..") for part in parts) or any(c in fpath for c in "\r\n\0"):
                raise self.fail(f"services.{name}.files: {fpath!r} must name a file by a plain absolute path "
                                "(not /, no //, . or .., no line breaks), e.g. \"/etc/app.conf\"",
                                f'"{fpath}"', fpath, header)
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
            if mode_int > MAX_FILE_MODE:
                raise self.fail(f"file {fpath}: mode {mode!r} sets the setuid, setgid or sticky bit; write "
                                "permission bits only, at most 0777 (e.g. \"0644\")", "mode", fpath)
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
        command = tuple(text_with_placeholders(part, f"services.{name}.command")
                        for part in self.command(name, body.get("command"), header))
        volumes, tmpfs = self.mounts(name, body, header)
        for file in files:
            hidden = next((t.path for t in tmpfs if _is_under(file.path, t.path)), None)
            if hidden:
                raise self.fail(f"file {file.path} would be hidden by the tmpfs mounted at {hidden} "
                                "(files are written before start, the tmpfs is mounted at start)", file.path)
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
            command=command,
            volumes=volumes,
            tmpfs=tmpfs,
            memory=self.memory(name, body.get("memory"), header),
        )

    def check_environment(self, name: str, key: str, value: str, header: str) -> None:
        """A variable's name is a shell-like name and its value one line: a line break or `=` would
        let one entry write others (or break the file Docker passes them through)."""
        where = f"services.{name}.environment"
        needles = (key, f'"{key}"', json.dumps(key), f"'{key}'", "environment", f"[{where}]", header)
        if not _ENV_NAME.match(key):
            raise self.fail(f"{where}: {key!r} is not a variable name; use letters, digits and _, "
                            "not starting with a digit (no =, blanks or line breaks)", *needles)
        used = [m.group(1) for m in _PLACEHOLDER.finditer(value)]
        broken = next((v for v in used if any(c in self.variables.get(v, "") for c in "\r\n\0")), None)
        if any(c in value for c in "\r\n\0") or broken:
            via = f" (through variable {broken})" if broken else ""
            raise self.fail(f"{where}.{key}: the value holds a line break or NUL{via}; an environment value "
                            "is one line: put multi-line text in a file (services.NAME.files)", *needles)

    def command(self, name: str, raw: object, header: str) -> tuple[str, ...]:
        """`command`: a string runs under /bin/sh -c; a list is the argv itself (exec form)."""
        if raw is None:
            return ()
        if isinstance(raw, str) and raw.strip():
            return (*SHELL, raw)
        if isinstance(raw, list) and raw and all(isinstance(part, str) for part in raw) and raw[0]:
            return tuple(raw)
        raise self.fail(f"services.{name}.command must be a shell command (a string, run by /bin/sh -c) or "
                        f"a non-empty list of strings (exec form, e.g. [\"sleep\", \"infinity\"]); got {raw!r}",
                        "command", header)

    def memory(self, name: str, raw: object, header: str) -> int | None:
        if raw is None:
            return None
        try:
            size = parse_size(raw)
        except ValueError as exc:
            raise self.fail(f"services.{name}.memory: {exc}", "memory", header) from None
        if size < MIN_MEMORY_BYTES:
            raise self.fail(f"services.{name}.memory = {raw!r} is below the minimum of "
                            f"{MIN_MEMORY_BYTES // 1024**2}m: write a limit a service can start within",
                            "memory", header)
        return size

    def mounts(self, name: str, body: Mapping[str, Any],
               header: str) -> tuple[tuple[VolumeMount, ...], tuple[TmpfsMount, ...]]:
        """`volumes = { NAME = "/path" }` and `tmpfs = { "/path" = "SIZE" }`, each path once."""
        volumes, tmpfs = [], []
        seen: dict[str, str] = {}

        def mount_path(table: str, key: str, path: object, line: int | None) -> str:
            where = f"services.{name}.{table}.{key}" if table == "volumes" else f"services.{name}.tmpfs"
            problem = _path_problem(path)
            if problem:
                raise DefinitionError(f"{where}: {path!r} {problem}", path=self.path, line=line)
            assert isinstance(path, str)
            if path in seen:
                raise DefinitionError(f"services.{name}: {path} is mounted twice ({seen[path]} and {table})",
                                      path=self.path, line=line)
            seen[path] = table
            return path

        for table in ("volumes", "tmpfs"):
            raw = body.get(table, {})
            if not isinstance(raw, dict):
                example = '{ data = "/var/lib/data" }' if table == "volumes" else '{ "/var/spool/app" = "16m" }'
                raise self.fail(f"services.{name}.{table} must be a table, e.g. {table} = {example}", table, header)
            for key, value in raw.items():
                line = self.entry_line(name, table, key)
                if table == "volumes":
                    if not _VOLUME_NAME.match(key):
                        raise DefinitionError(
                            f"services.{name}.volumes: volume name {key!r} is not a simple name (lowercase "
                            "letters, digits, - and _, starting with a letter, at most 32)", path=self.path, line=line)
                    volumes.append(VolumeMount(key, mount_path(table, key, value, line)))
                    continue
                path = mount_path(table, key, key, line)
                try:
                    size = parse_size(value)
                except ValueError as exc:
                    raise DefinitionError(f"services.{name}.tmpfs.{key!r}: {exc}", path=self.path, line=line) from None
                if size < MIN_TMPFS_BYTES:
                    raise DefinitionError(f"services.{name}.tmpfs.{key!r}: {value!r} is below the minimum of "
                                          f"{MIN_TMPFS_BYTES // 1024}k", path=self.path, line=line)
                tmpfs.append(TmpfsMount(path, size))
        return tuple(volumes), tuple(tmpfs)

    def image(self, name: str, body: Mapping[str, Any], header: str) -> ImageRecipe | LocalImage:
        """A recipe when the service has a dockerfile; else the image as named (resolved to another
        service's recipe by `share_images`, or used as a local image)."""
        repository = body.get("image")
        dockerfile = body.get("dockerfile")
        if dockerfile is None:
            build_keys = [key for key in _BUILD_KEYS if key in body]
            if build_keys:
                verb = "describes" if len(build_keys) == 1 else "describe"
                raise self.fail(f"services.{name}.dockerfile is required: {', '.join(build_keys)} {verb} a "
                                "build (or drop them to run the image as it is)", header)
            if not isinstance(repository, str) or not _is_reference(repository):
                raise self.fail(f"services.{name}.image must name an image (\"repository\" or "
                                "\"repository:tag\"): one another service of this stack builds, or a local "
                                "image; give a dockerfile to build it", "image", header)
            return LocalImage(repository)
        if not isinstance(repository, str) or not _REPOSITORY.match(repository):
            raise self.fail(f"services.{name}.image must name the image repository to build, without a tag "
                            "(the harness tags it with its recipe's hash), e.g. \"gameday/app\"", "image", header)
        self.check_repository(name, repository, header)
        if not isinstance(dockerfile, str):
            raise self.fail(f"services.{name}.dockerfile must be a path relative to this file", "dockerfile", header)
        base = self.path.parent  # resolved: the definition's path is
        raw_context = body.get("context", ".")
        if not isinstance(raw_context, str) or not raw_context.strip():
            raise self.fail(f"services.{name}.context must be a folder, relative to this file", "context", header)
        context = (base / raw_context).resolve()
        if not context.is_relative_to(base):
            raise self.fail(f"services.{name}.context {raw_context!r} is {context}, outside the folder of this "
                            f"definition ({base}); keep the build context in that folder or below it",
                            "context", header)
        if not context.is_dir():
            raise self.fail(f"services.{name}.context: {context} is not a folder", "context", header)
        dockerfile_path = (base / dockerfile).resolve()
        if not dockerfile_path.is_relative_to(context):
            raise self.fail(f"services.{name}.dockerfile {dockerfile!r} is {dockerfile_path}, outside the build "
                            f"context {context}; put the Dockerfile inside the context", "dockerfile", header)
        if not dockerfile_path.is_file():
            raise self.fail(f"services.{name}.dockerfile: {dockerfile_path} does not exist", "dockerfile", header)
        inputs = body.get("inputs", ["**/*"])
        if not isinstance(inputs, list) or not inputs or not all(isinstance(i, str) for i in inputs):
            raise self.fail(f"services.{name}.inputs must be a list of glob patterns", "inputs", header)
        for pattern in inputs:
            if not pattern or pattern.startswith(("/", "\\")) or ".." in pattern.replace("\\", "/").split("/"):
                raise self.fail(f"services.{name}.inputs: {pattern!r} reaches outside the build context; write "
                                "globs relative to the context, without a leading / or any .. "
                                "(e.g. \"images/app/**\")", "inputs", header)
        build_args = self.string_table(body.get("build_args", {}), f"services.{name}.build_args")
        recipe = ImageRecipe(repository, dockerfile_path, context, tuple(inputs), tuple(build_args))
        builder, known = self.builders.setdefault(repository, (name, recipe))
        if known != recipe:
            raise self.fail(f"services.{name}.image {repository!r} is already built by services.{builder} from "
                            "a different recipe (dockerfile, context, inputs or build_args): give this image "
                            f"another name, or drop this service's dockerfile and build keys to run "
                            f"services.{builder}'s image", "image", header)
        return recipe

    def check_repository(self, name: str, repository: str, header: str) -> None:
        """A recipe's image is NAMESPACE/NAME: a bare name is an official image (`postgres` is
        `docker.io/library/postgres`), and tagging a build with it would re-tag the public image for
        everyone on a shared engine; so would `library/...` or a registry's name in front
        (`docker.io/...`, `ghcr.io/...`, `localhost/...`)."""
        parts = repository.split("/")
        public = parts[-1]
        if len(parts) < 2 or parts[0] in ("library", "localhost") or "." in parts[0]:
            known = f" ({public!r} is a public image)" if public in PUBLIC_IMAGES else ""
            raise self.fail(f"services.{name}.image {repository!r} would re-tag a public image or name a "
                            f"registry{known}; name what the harness builds NAMESPACE/NAME, e.g. "
                            f"\"gameday/{public or name}\"", "image", header)

    def health(self, name: str, raw: object, ports: tuple[int, ...], header: str) -> HealthCheck | None:
        if raw is None:
            return None
        where = f"services.{name}.health"
        table = f"[{where}]"
        if not isinstance(raw, dict):
            raise self.fail(f"{where} must be a table", table, "health", header)
        self.check_keys(raw, _HEALTH_KEYS, where, table)
        check: HttpCheck | ExecCheck | TcpCheck
        kinds = [kind for kind in ("http", "exec", "tcp") if kind in raw]
        if len(kinds) != 1:
            raise self.fail(f"{where} needs exactly one of http = \"/path\", exec = \"command\" or tcp = PORT",
                            table, "health", header)
        (kind,) = kinds
        if kind != "http":
            for key in ("port", "status"):
                if key in raw:
                    raise self.fail(f"{where}.{key} belongs to an http check only"
                                    + (" (tcp takes its port as its value: tcp = PORT)" if kind == "tcp" else ""),
                                    key, table, header)
        if kind == "http":
            if not isinstance(raw["http"], str) or not raw["http"].startswith("/"):
                raise self.fail(f"{where}.http must be a path such as \"/health\"", "http", table, header)
            port = raw.get("port", ports[0] if ports else None)
            if port not in ports:
                raise self.fail(f"{where}.port must be one of the service's published ports {list(ports)}",
                                table, "health", header)
            status = raw.get("status", 200)
            if not isinstance(status, int):
                raise self.fail(f"{where}.status must be an HTTP status code", "status", table, header)
            check = HttpCheck(raw["http"], int(port), status)
        elif kind == "exec":
            if not isinstance(raw["exec"], str) or not raw["exec"].strip():
                raise self.fail(f"{where}.exec must be a shell command that exits 0 when the service is ready",
                                "exec", table, header)
            check = ExecCheck(raw["exec"])
        else:
            port = raw["tcp"]
            if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
                raise self.fail(f"{where}.tcp must be a port number (the container's own port; it need not "
                                "be published)", "tcp", table, header)
            check = TcpCheck(port)
        durations = {}
        for key, default in (("timeout", DEFAULT_HEALTH_TIMEOUT), ("interval", DEFAULT_HEALTH_INTERVAL)):
            try:
                durations[key] = parse_duration(raw.get(key, default))
            except ValueError as exc:
                raise self.fail(f"{where}.{key}: {exc}", key, table, header) from None
        timeout, interval = durations["timeout"], durations["interval"]
        if not MIN_HEALTH_INTERVAL <= timeout <= MAX_HEALTH_TIMEOUT:
            raise self.fail(f"{where}.timeout = {raw['timeout']!r} must be from {MIN_HEALTH_INTERVAL * 1000:g}ms "
                            f"to {MAX_HEALTH_TIMEOUT / 60:g} minutes: write a wait a run can afford", "timeout",
                            table, header)
        if "interval" not in raw:
            interval = min(interval, timeout)
        elif not MIN_HEALTH_INTERVAL <= interval <= timeout:
            raise self.fail(f"{where}.interval = {raw['interval']!r} must be from {MIN_HEALTH_INTERVAL * 1000:g}ms "
                            f"to the timeout ({timeout:g}s)", "interval", table, header)
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
        try:
            return dependency_order(services)
        except DependencyCycle as cycle:
            self.scope = None
            where = f"[services.{cycle.needed}]"
            raise self.fail(f"services.{cycle.needed}: depends_on forms a cycle", where) from None


class DependencyCycle(Exception):
    """Services that depend on each other in a ring: `dependent` names `needed`, already on `path`."""

    def __init__(self, dependent: str, needed: str, path: tuple[str, ...]) -> None:
        self.dependent, self.needed, self.path = dependent, needed, path
        super().__init__(" -> ".join([*path[path.index(needed):], needed]))


def dependency_order(services: Sequence[ServiceSpec]) -> tuple[ServiceSpec, ...]:
    """Services sorted so that each starts after what it depends on (every name in `depends_on` must
    be a service: readers check that first, at their own lines). Raises DependencyCycle. Depth first
    with an explicit stack, so no recursion limit to reach; one place for both stack formats."""
    by_name = {s.name: s for s in services}
    ordered: list[ServiceSpec] = []
    done: set[str] = set()
    for root in services:
        if root.name in done:
            continue
        path = [root.name]
        on_path = {root.name}
        stack: list[tuple[ServiceSpec, int]] = [(root, 0)]
        while stack:
            spec, index = stack[-1]
            if index < len(spec.depends_on):
                stack[-1] = (spec, index + 1)
                needed = by_name[spec.depends_on[index]]
                if needed.name in done:
                    continue
                if needed.name in on_path:
                    raise DependencyCycle(spec.name, needed.name, tuple(path))
                path.append(needed.name)
                on_path.add(needed.name)
                stack.append((needed, 0))
                continue
            stack.pop()
            on_path.discard(path.pop())
            done.add(spec.name)
            ordered.append(spec)
    return tuple(ordered)


def _is_reference(reference: str) -> bool:
    """`repository` or `repository:tag`, as a local image is named (no registry, no digest)."""
    repository, colon, tag = reference.partition(":")
    return bool(_REPOSITORY.match(repository)) and (not colon or bool(_IMAGE_TAG.match(tag)))


def _path_problem(path: object) -> str:
    """Why `path` cannot be a mount point inside a container, or "" when it can."""
    if not isinstance(path, str) or not path.startswith("/"):
        return "must be an absolute path inside the container, e.g. \"/var/lib/data\""
    parts = path.strip("/").split("/")
    if path.strip("/") == "" or ".." in parts or "." in parts or "" in parts:
        return "must be a plain absolute path below / (no //, . or ..)"
    if any(char in path for char in ",:\n") or path != path.strip():
        return "must not hold commas, colons, line breaks or surrounding blanks"
    return ""


def _is_under(path: str, mount: str) -> bool:
    return path == mount or path.startswith(mount.rstrip("/") + "/")
