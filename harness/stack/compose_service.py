"""One Compose service read onto a ServiceSpec: image and build, command and entrypoint, environment
and env files, ports, dependencies, healthcheck, networks, mounts, memory, capabilities, labels,
configs and secrets, and the service's `x-gameday` (files, set-up, logs, inputs, allowed capabilities).
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.durations import parse_duration
from harness.stack.compose_base import EXTENSION, PROFILES_ENV, ComposeReaderBase
from harness.stack.definition import (
    _ENV_NAME,
    _NAME,
    DEFAULT_HEALTH_INTERVAL,
    LOCAL_HOST,
    MAX_FILE_MODE,
    MAX_HEALTH_TIMEOUT,
    MIN_MEMORY_BYTES,
    MIN_TMPFS_BYTES,
    PUBLIC_IMAGES,
    BindMount,
    ContainerHealthcheck,
    Dependency,
    DependencyCondition,
    ExecCheck,
    FileSpec,
    HealthCheck,
    ImageRecipe,
    LocalImage,
    ServiceSpec,
    TmpfsMount,
    VolumeMount,
    _is_reference,
    _path_problem,
)
from harness.stack.yamlfile import scalar_text

DEFAULT_TMPFS_BYTES = 64 * 1024**2  # a tmpfs without a size gets this bound, not "half the RAM"
MIN_READINESS_WAIT = 30.0  # seconds; a healthcheck's own budget below this still gets this long
# Docker's defaults for a healthcheck's timings (as Compose leaves them to the engine).
DOCKER_HEALTH_INTERVAL = 30.0
DOCKER_HEALTH_TIMEOUT = 30.0
DOCKER_HEALTH_RETRIES = 3
# Capabilities that let a container reach beyond itself (modules, devices, other processes, the
# host's clock or logs, any file by handle): refused unless x-gameday.allow_cap_add names them.
DANGEROUS_CAPS = frozenset({
    "ALL", "SYS_ADMIN", "SYS_MODULE", "SYS_RAWIO", "SYS_PTRACE", "SYS_BOOT", "SYS_TIME", "SYSLOG",
    "DAC_READ_SEARCH", "MAC_ADMIN", "MAC_OVERRIDE", "BPF", "PERFMON", "SYS_RESOURCE", "LINUX_IMMUTABLE",
})
_CAPABILITY = re.compile(r"^[A-Z][A-Z_]{1,30}$")
_SIZE = re.compile(r"^\s*(\d+)\s*([bkmg]?)b?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_COMPOSE_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)(h|ms|m|s|us|ns))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|ns)")
_DURATION_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
SERVICE_KEYS = {
    "image", "build", "command", "entrypoint", "environment", "env_file", "ports", "expose", "depends_on",
    "healthcheck", "networks", "volumes", "tmpfs", "working_dir", "user", "mem_limit", "deploy", "cap_add",
    "labels", "configs", "secrets", "profiles", EXTENSION,
}
# Keys refused with their own reason; any other unknown key is refused as not implemented.
REFUSED_SERVICE = {
    "privileged": "a privileged container can take over the machine that runs the drill",
    "network_mode": "each stack has its own network (network_mode: host would share the machine's)",
    "pid": "a container sharing the host's (or another container's) processes could stop them",
    "ipc": "a container sharing the host's IPC namespace reaches beyond its stack",
    "userns_mode": "userns_mode: host switches off the isolation the drills rely on",
    "cgroup_parent": "the harness places containers itself",
    "devices": "host devices are not given to containers under test",
    "security_opt": "security options (seccomp, apparmor off) are not changed for containers under test",
    "container_name": "the harness names containers, so that two stacks of one file run side by side",
    "hostname": "the harness sets each container's host name to its service name (the runbook's host)",
    "restart": "the harness restores services itself: a restart policy would hide a fault from the runbook",
    "volumes_from": "name the volumes a service shares (named volumes are shared by name)",
    "links": "services reach each other by name on the stack's network; drop links",
    "external_links": "a stack reaches nothing outside itself",
    "extends": "paste the extended service's keys here (or use a YAML anchor and `<<:`)",
    "scale": "one container per service: a runbook names each host",
    "sysctls": "kernel parameters are not changed for containers under test",
}
BUILD_KEYS = {"context", "dockerfile", "args", "target"}
HEALTH_KEYS = {"test", "interval", "timeout", "retries", "start_period", "disable"}
PORT_KEYS = {"target", "published", "host_ip", "protocol", "mode"}
VOLUME_KEYS = {"type", "source", "target", "read_only", "tmpfs", "volume", "bind"}
SERVICE_FILE_KEYS = {"source", "target", "mode"}
SERVICE_EXTENSION_KEYS = {"files", "setup", "logs", "inputs", "allow_cap_add", "prepare"}


def parse_compose_size(value: object) -> int:
    """Bytes from a number of bytes or `512m`, `1g`, `64k`, `100mb` (powers of 1024, as Docker)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and (match := _SIZE.match(value)):
        return int(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]
    raise ValueError(f"not a size: {value!r} (write bytes, or a number and a unit: \"64k\", \"256m\", \"1g\")")


def parse_compose_duration(value: object) -> float:
    """Seconds from Compose's durations (`1m30s`, `10s`, `500ms`) or the harness's (`30s`, `2m`)."""
    if isinstance(value, str) and _COMPOSE_DURATION.match(value.strip()):
        return sum(float(n) * _DURATION_UNITS[u] for n, u in _DURATION_PART.findall(value))
    return parse_duration(value)


@dataclass
class ReadService:
    """What one service's reading produced besides its spec (kept for checks across services)."""

    spec: ServiceSpec
    networks: tuple[str, ...] = ()


class ServiceReader(ComposeReaderBase):
    """Reads `services.NAME` (the top level is `harness.stack.compose`'s)."""

    def service(self, name: str, body: object, volumes: Mapping[str, Any], networks: Mapping[str, Any],
                attached: Mapping[str, Mapping[str, str]], values: Mapping[str, str], deferred: frozenset[str],
                inactive: Mapping[str, list[str]]) -> ReadService:
        at = ("services", name)
        if not isinstance(body, dict):
            self.fail(f"services.{name} must be a mapping of the service's keys", *at)
        if name == LOCAL_HOST or not _NAME.match(name):
            self.fail(f"service name {name!r} is not allowed: use lowercase letters, digits and - (starting with a "
                      f"letter, at most 31), and not {LOCAL_HOST!r} (the operator's own shell)", *at)
        self.keys(body, SERVICE_KEYS, at, REFUSED_SERVICE)
        ext = self.mapping(body.get(EXTENSION), *at, EXTENSION)
        self.keys(ext, SERVICE_EXTENSION_KEYS, (*at, EXTENSION))
        ports = self.ports(name, body.get("ports"))
        memory = self.memory(name, body)
        volume_mounts, binds, tmpfs = self.mounts(name, body, volumes)
        aliases, used_networks = self.networks(name, body.get("networks"), networks)
        files = [*self.files(name, ext.get("files")), *self.attached_files(name, body, attached)]
        seen_paths: dict[str, str] = {}
        for file in files:
            if file.path in seen_paths:
                self.fail(f"services.{name}: {file.path} is written twice ({seen_paths[file.path]})", *at)
            seen_paths[file.path] = file.path
            hidden = next((t.path for t in tmpfs if file.path == t.path or file.path.startswith(t.path + "/")), None)
            if hidden:
                self.fail(f"services.{name}: the file {file.path} would be hidden by the tmpfs at {hidden} (files are "
                          "written before start, the tmpfs is mounted at start)", *at)
        container_health, health = self.healthcheck(name, body.get("healthcheck"))
        spec = ServiceSpec(
            name=name,
            image=self.image(name, body, ext),
            aliases=aliases,
            ports=ports,
            environment=self.environment(name, body, values, deferred),
            files=tuple(files),
            health=health,
            dependencies=self.depends_on(name, body.get("depends_on"), inactive),
            setup=tuple(self.strings(ext.get("setup", []), *at, EXTENSION, "setup")),
            logs=self.logs(name, ext.get("logs")),
            line=self.doc.line(*at),
            command=self.argv(body.get("command"), *at, "command"),
            volumes=volume_mounts,
            tmpfs=tmpfs,
            memory=memory,
            entrypoint=self.argv(body.get("entrypoint"), *at, "entrypoint"),
            user=self.plain(body.get("user"), "user", at),
            working_dir=self.working_dir(name, body.get("working_dir")),
            cap_add=self.cap_add(name, body.get("cap_add"), ext.get("allow_cap_add")),
            labels=self.labels(name, body.get("labels")),
            expose=self.expose(name, body.get("expose")),
            binds=binds,
            container_healthcheck=container_health,
        )
        return ReadService(spec, used_networks)

    def plain(self, raw: object, key: str, at: tuple[str, ...]) -> str:
        if raw is None:
            return ""
        if not isinstance(raw, str | int) or isinstance(raw, bool) or not scalar_text(raw).strip():
            self.fail(f"{'.'.join(at)}.{key} must be a string", *at, key)
        return scalar_text(raw)

    def working_dir(self, name: str, raw: object) -> str:
        value = self.plain(raw, "working_dir", ("services", name))
        if value and not value.startswith("/"):
            self.fail(f"services.{name}.working_dir must be an absolute path in the container", "services", name,
                      "working_dir")
        return value

    def argv(self, raw: object, *where: str) -> tuple[str, ...]:
        """`command`/`entrypoint`: a string is split as a shell would split words (Compose does so; it
        is not run by a shell: write ["sh", "-c", "..."] for that); a list is the argv itself."""
        dotted = ".".join(where)
        if raw is None:
            return ()
        if isinstance(raw, str):
            try:
                parts = shlex.split(raw)
            except ValueError as exc:
                self.fail(f"{dotted}: {exc} (Compose splits a string command into words like a shell)", *where)
            if not parts:
                self.fail(f"{dotted} is empty: leave it out to keep the image's", *where)
            return tuple(parts)
        if isinstance(raw, list) and raw and all(isinstance(p, str | int | float) and not isinstance(p, bool)
                                                 for p in raw):
            return tuple(scalar_text(p) for p in raw)
        self.fail(f"{dotted} must be a string (split into words) or a non-empty list of strings (exec form, e.g. "
                  "[\"sleep\", \"infinity\"])", *where)

    def image(self, name: str, body: Mapping[str, Any], ext: Mapping[str, Any]) -> ImageRecipe | LocalImage:
        at = ("services", name)
        image = body.get("image")
        if image is not None and (not isinstance(image, str) or not image.strip()):
            self.fail(f"services.{name}.image must be an image name", *at, "image")
        if "build" not in body:
            if image is None:
                self.fail(f"services.{name} needs `image:` (a local image, or one another service builds) or `build:`",
                          *at)
            if not _is_reference(image):
                self.fail(f"services.{name}.image {image!r} must be \"repository\" or \"repository:tag\" of a local "
                          "image (no registry can be reached: nothing is pulled, and digests cannot be checked)",
                          *at, "image")
            return LocalImage(image)
        build = body["build"]
        where = (*at, "build")
        if isinstance(build, str):
            build = {"context": build}
        build = self.mapping(build, *where, example="{context: ., dockerfile: Dockerfile}")
        self.keys(build, BUILD_KEYS, where)
        repository = image.rsplit(":", 1)[0] if image and ":" in image.rsplit("/", 1)[-1] else image
        if repository is None:
            repository = f"gameday/{self.project_name(self.doc.value.get('name'))}-{name}"
        parts = repository.split("/")
        if len(parts) < 2 or parts[0] in ("library", "localhost") or "." in parts[0] or ":" in parts[0] \
                or not re.match(r"^[a-z0-9][a-z0-9._/-]*$", repository):
            public = f" ({parts[-1]!r} is a public image)" if parts[-1] in PUBLIC_IMAGES else ""
            self.fail(f"services.{name}.image {image!r} would re-tag a public image or name a registry{public}: "
                      f"name what the harness builds NAMESPACE/NAME, e.g. \"myteam/{parts[-1] or name}\"", *at, "image")
        context_raw = build.get("context", ".")
        if not isinstance(context_raw, str) or not context_raw.strip():
            self.fail(f"services.{name}.build.context must be a folder of the project", *where, "context")
        if re.match(r"^[a-z]+://|^git@", context_raw):
            self.fail(f"services.{name}.build.context {context_raw!r} is remote: the harness builds from the project "
                      "folder only", *where, "context")
        context = self.project_file(context_raw, f"services.{name}.build.context", (*where, "context"), kind="dir")
        if not context.is_dir():
            self.fail(f"services.{name}.build.context: {context} is not a folder", *where, "context")
        dockerfile_raw = build.get("dockerfile", "Dockerfile")
        if not isinstance(dockerfile_raw, str):
            self.fail(f"services.{name}.build.dockerfile must be a path relative to the context", *where, "dockerfile")
        dockerfile = (context / dockerfile_raw).resolve()
        if not dockerfile.is_relative_to(context):
            self.fail(f"services.{name}.build.dockerfile {dockerfile_raw!r} is outside the build context {context}",
                      *where, "dockerfile")
        if not dockerfile.is_file():
            self.fail(f"services.{name}.build.dockerfile: {dockerfile} does not exist", *where, "dockerfile")
        args = self.key_values(build.get("args"), (*where, "args"), from_environ=True)
        base_arg = self.base_arg()
        target = build.get("target", "")
        if not isinstance(target, str):
            self.fail(f"services.{name}.build.target must be a stage name", *where, "target")
        inputs = tuple(self.strings(ext.get("inputs", ["**/*"]), *at, EXTENSION, "inputs"))
        for index, pattern in enumerate(inputs):
            if not pattern or pattern.startswith(("/", "\\")) or ".." in pattern.replace("\\", "/").split("/"):
                self.fail(f"services.{name}.x-gameday.inputs: {pattern!r} reaches outside the build context; write "
                          "globs relative to the context, e.g. \"images/app/**\"", *at, EXTENSION, "inputs", index)
        prepare = self.prepare(name, ext.get("prepare"), context, (*at, EXTENSION, "prepare"))
        recipe = ImageRecipe(repository, dockerfile, context, inputs,
                             tuple((k, v) for k, v in args if k != base_arg), target, base_arg, prepare)
        builder, known = self.builders.setdefault(repository, (name, recipe))
        if known != recipe:
            self.fail(f"services.{name}.image {repository!r} is already built by services.{builder} from a different "
                      "recipe: give this image another name, or drop this service's build to run that image",
                      *at, "image")
        return recipe

    def prepare(self, name: str, raw: object, context: Path, where: tuple[str | int, ...]) -> tuple[str, ...]:
        """x-gameday.prepare: [PROGRAM, ARG...], PROGRAM an executable file inside the build context."""
        if raw is None:
            return ()
        argv = self.strings(raw, *where)
        program = (context / argv[0]).resolve() if argv and argv[0] else context
        if not argv or argv[0].startswith("/") or not program.is_relative_to(context) or not program.is_file():
            self.fail(f"services.{name}.x-gameday.prepare: the program must be a file inside the build context "
                      f"{context}, named relative to it (e.g. [\"app/build.sh\"]); got {argv[:1]}", *where)
        if not os.access(program, os.X_OK):
            self.fail(f"services.{name}.x-gameday.prepare: {program} is not executable (chmod +x it)", *where)
        return tuple(argv)

    def environment(self, name: str, body: Mapping[str, Any], values: Mapping[str, str],
                    deferred: frozenset[str]) -> tuple[tuple[str, str], ...]:
        """env_file entries first (later files win), then `environment` over them, as Compose does."""
        at = ("services", name)
        merged: dict[str, str] = {}
        lines: dict[str, tuple[str | int, ...]] = {}
        where: tuple[str | int, ...]
        raw_files = body.get("env_file")
        if raw_files is not None:
            entries = raw_files if isinstance(raw_files, list) else [raw_files]
            for index, entry in enumerate(entries):
                where = (*at, "env_file", index) if isinstance(raw_files, list) else (*at, "env_file")
                required = True
                if isinstance(entry, dict):
                    self.keys(entry, {"path", "required"}, where)
                    required = entry.get("required", True) is not False
                    entry = entry.get("path")
                if not isinstance(entry, str):
                    self.fail(f"services.{name}.env_file: each entry is a path (or {{path: ..., required: false}})",
                              *where)
                target = (self.base / entry).resolve()
                if not required and not target.exists():
                    continue
                target = self.project_file(entry, f"services.{name}.env_file", where)
                for key, value in self.env_file_values(target, values, deferred).items():
                    merged[key] = value
                    lines[key] = where
        for key, value in self.key_values(body.get("environment"), (*at, "environment"), from_environ=True):
            merged[key] = value
            lines[key] = (*at, "environment", key)
        for key, value in merged.items():
            where = lines[key]
            if not _ENV_NAME.match(key):
                self.fail(f"services.{name}.environment: {key!r} is not a variable name; use letters, digits and _, "
                          "not starting with a digit", *where)
            if any(c in value for c in "\r\n\0"):
                self.fail(f"services.{name}.environment.{key}: the value holds a line break or NUL; an environment "
                          "value is one line: put multi-line text in a file (configs, or x-gameday.files)", *where)
        return tuple(merged.items())

    def ports(self, name: str, raw: object) -> tuple[int, ...]:
        """Container ports to publish; the harness always publishes them on 127.0.0.1 on a free port."""
        at = ("services", name, "ports")
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.fail(f"services.{name}.ports must be a list", *at)
        out: list[int] = []
        for index, item in enumerate(raw):
            where = (*at, index)
            host = ip = ""
            if isinstance(item, dict):
                self.keys(item, PORT_KEYS, where)
                target, protocol = item.get("target"), str(item.get("protocol", "tcp"))
                host, ip = scalar_text(item.get("published") or ""), str(item.get("host_ip") or "")
                if item.get("mode", "ingress") not in ("ingress", "host"):
                    self.fail(f"services.{name}.ports[{index}].mode must be ingress or host", *where)
            elif isinstance(item, int | str) and not isinstance(item, bool):
                text = scalar_text(item)
                text, _, protocol = text.partition("/")
                protocol = protocol or "tcp"
                if text.startswith("["):
                    ip, _, text = text[1:].partition("]")
                    text = text.lstrip(":")
                parts = text.split(":")
                if len(parts) > 3:
                    self.fail(f"services.{name}.ports: {scalar_text(item)!r} is not [HOST_IP:][HOST_PORT:]PORT", *where)
                target = parts[-1]
                host = parts[-2] if len(parts) >= 2 else ""
                ip = parts[0] if len(parts) == 3 else ip
            else:
                self.fail(f"services.{name}.ports: each entry is a port (\"8000\"), \"HOST:PORT\" or a mapping with "
                          "target", *where)
            if protocol != "tcp":
                self.fail(f"services.{name}.ports: protocol {protocol!r} is not supported: the harness publishes TCP "
                          "ports only", *where)
            target_text = scalar_text(target)
            if "-" in target_text or "-" in host:
                self.fail(f"services.{name}.ports: port ranges are not supported: list each port", *where)
            if not target_text.isdigit() or not 0 < int(target_text) < 65536:
                self.fail(f"services.{name}.ports: {target_text!r} is not a container port (1-65535)", *where)
            port = int(target_text)
            if host or ip:
                said = ":".join(p for p in (ip, host) if p)
                self.warn(f"services.{name}.ports: {said} is ignored: the harness publishes container port {port} on "
                          "127.0.0.1 on a free port (look it up with stack.port() or `gameday check`), so that "
                          "stacks never collide and nothing listens beyond this machine", *where)
            if port not in out:
                out.append(port)
        return tuple(out)

    def expose(self, name: str, raw: object) -> tuple[int, ...]:
        out = []
        for index, item in enumerate(self.strings(raw, "services", name, "expose") if raw is not None else []):
            port, _, protocol = item.partition("/")
            if not port.isdigit() or not 0 < int(port) < 65536 or protocol not in ("", "tcp"):
                self.fail(f"services.{name}.expose: {item!r} is not a TCP port (ranges are not supported)",
                          "services", name, "expose", index)
            out.append(int(port))
        return tuple(dict.fromkeys(out))

    def depends_on(self, name: str, raw: object, inactive: Mapping[str, list[str]]) -> tuple[Dependency, ...]:
        at = ("services", name, "depends_on")
        if raw is None:
            return ()
        out: list[Dependency] = []
        if isinstance(raw, list):
            entries: list[tuple[object, dict[str, Any], tuple[str | int, ...]]] = \
                [(d, {}, (*at, i)) for i, d in enumerate(raw)]
        elif isinstance(raw, dict):
            entries = [(k, self.mapping(v, *at, k), (*at, k)) for k, v in raw.items()]
        else:
            self.fail(f"services.{name}.depends_on must be a list of services or a mapping of service: "
                      "{condition: ...}", *at)
        for dep, body, where in entries:
            if not isinstance(dep, str):
                self.fail(f"services.{name}.depends_on: each entry is a service name", *where)
            self.keys(body, {"condition", "required"}, where)
            condition = body.get("condition", DependencyCondition.STARTED.value)
            try:
                cond = DependencyCondition(condition)
            except ValueError:
                known = ", ".join(c.value for c in DependencyCondition)
                self.fail(f"services.{name}.depends_on.{dep}.condition: {condition!r} is not one of {known}", *where)
            if body.get("required", True) is False and dep not in self.doc.value.get("services", {}):
                continue  # an optional dependency the file does not have (Compose's required: false)
            if dep in inactive:
                if body.get("required", True) is False:
                    continue
                self.fail(f"services.{name} depends on {dep}, whose profile ({', '.join(inactive[dep])}) is not "
                          f"enabled: set {PROFILES_ENV}={inactive[dep][0]}, or mark the dependency required: false",
                          *where)
            if dep == name:
                self.fail(f"services.{name} depends on itself", *where)
            out.append(Dependency(dep, cond))
        return tuple(out)

    def healthcheck(self, name: str, raw: object) -> tuple[ContainerHealthcheck | None, HealthCheck | None]:
        """Compose's healthcheck: given to the engine as it is, and polled by the harness as its
        readiness check (the same command, run by `docker exec`), for as long as Docker would
        take to call the service unhealthy (start_period + retries x (interval + timeout))."""
        at = ("services", name, "healthcheck")
        if raw is None:
            return None, None
        body = self.mapping(raw, *at, example="{test: [CMD, pg_isready], interval: 2s}")
        self.keys(body, HEALTH_KEYS, at)
        if body.get("disable") is True or body.get("test") in (["NONE"], "NONE"):
            if set(body) - {"disable", "test"}:
                self.fail(f"services.{name}.healthcheck: a disabled healthcheck takes no other keys", *at)
            return ContainerHealthcheck(("NONE",)), None
        if "disable" in body and body["disable"] is not False:
            self.fail(f"services.{name}.healthcheck.disable must be true or false", *at, "disable")
        test = body.get("test")
        if isinstance(test, str) and test.strip():
            argv: tuple[str, ...] = ("CMD-SHELL", test)
        elif isinstance(test, list) and len(test) >= 2 and all(isinstance(t, str) for t in test) \
                and test[0] in ("CMD", "CMD-SHELL") and (test[0] == "CMD" or len(test) == 2):
            argv = tuple(test)
        else:
            self.fail(f"services.{name}.healthcheck.test must be a shell command string, [\"CMD\", ARG...] or "
                      "[\"CMD-SHELL\", \"command\"]", *at, "test")
        timings = {}
        for key, default in (("interval", DOCKER_HEALTH_INTERVAL), ("timeout", DOCKER_HEALTH_TIMEOUT),
                             ("start_period", 0.0)):
            if key not in body:
                timings[key] = default
                continue
            try:
                timings[key] = parse_compose_duration(scalar_text(body[key]))
            except ValueError as exc:
                self.fail(f"services.{name}.healthcheck.{key}: {exc}", *at, key)
            if timings[key] > MAX_HEALTH_TIMEOUT:
                self.fail(f"services.{name}.healthcheck.{key} is longer than {MAX_HEALTH_TIMEOUT / 60:g} minutes",
                          *at, key)
        retries = body.get("retries", DOCKER_HEALTH_RETRIES)
        if not isinstance(retries, int) or isinstance(retries, bool) or not 1 <= retries <= 100:
            self.fail(f"services.{name}.healthcheck.retries must be a whole number from 1 to 100", *at, "retries")
        container = ContainerHealthcheck(argv, timings["interval"], timings["timeout"], int(retries),
                                         timings["start_period"])
        budget = timings["start_period"] + retries * (timings["interval"] + timings["timeout"])
        command = shlex.join(argv[1:]) if argv[0] == "CMD" else shlex.join(["sh", "-c", argv[1]])
        readiness = HealthCheck(ExecCheck(command), timeout=min(max(budget, MIN_READINESS_WAIT), MAX_HEALTH_TIMEOUT),
                                interval=min(DEFAULT_HEALTH_INTERVAL, timings["interval"]))
        return container, readiness

    def networks(self, name: str, raw: object, declared: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The service's aliases (its name first) and the networks it names (each declared, or `default`)."""
        at = ("services", name, "networks")
        aliases = [name]
        if raw is None:
            return tuple(aliases), ("default",)
        entries: list[tuple[str, dict[str, Any], tuple[str | int, ...]]]
        if isinstance(raw, list):
            entries = [(n, {}, (*at, i)) for i, n in enumerate(self.strings(raw, *at))]
        elif isinstance(raw, dict):
            entries = [(k, self.mapping(v, *at, k), (*at, k)) for k, v in raw.items()]
        else:
            self.fail(f"services.{name}.networks must be a list of network names or a mapping", *at)
        for network, body, where in entries:
            if network != "default" and network not in declared:
                self.fail(f"services.{name}.networks: {network!r} is not declared under the top-level networks:",
                          *where)
            self.keys(body, {"aliases"}, where)
            for index, alias in enumerate(self.strings(body.get("aliases", []), *where, "aliases")):
                if not re.match(r"^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$", alias):
                    self.fail(f"services.{name}.networks.{network}.aliases: {alias!r} is not a host name",
                              *where, "aliases", index)
                aliases.append(alias)
        return tuple(dict.fromkeys(aliases)), tuple(n for n, _, _ in entries)

    def mounts(self, name: str, body: Mapping[str, Any], declared: Mapping[str, Any]
               ) -> tuple[tuple[VolumeMount, ...], tuple[BindMount, ...], tuple[TmpfsMount, ...]]:
        at = ("services", name)
        volumes: list[VolumeMount] = []
        binds: list[BindMount] = []
        tmpfs: list[TmpfsMount] = []
        seen: dict[str, int] = {}

        def target_path(path: object, where: tuple[str | int, ...]) -> str:
            problem = _path_problem(path)
            if problem:
                self.fail(f"services.{name}: mount point {path!r} {problem}", *where)
            assert isinstance(path, str)
            if path in seen:
                self.fail(f"services.{name}: {path} is mounted twice", *where)
            seen[path] = 1
            return path

        source: Any
        target: Any
        where: tuple[str | int, ...]
        raw_volumes = body.get("volumes") or []
        if not isinstance(raw_volumes, list):
            self.fail(f"services.{name}.volumes must be a list", *at, "volumes")
        for index, item in enumerate(raw_volumes):
            where = (*at, "volumes", index)
            if isinstance(item, str):
                parts = item.split(":")
                if len(parts) == 1:
                    self.fail(f"services.{name}.volumes: {item!r} is an anonymous volume; name it (NAME:{item}) and "
                              "declare NAME under the top-level volumes:", *where)
                if len(parts) > 3 or (len(parts) == 3 and parts[2] not in ("ro", "rw")):
                    self.fail(f"services.{name}.volumes: {item!r} is not SOURCE:TARGET[:ro|rw] (other options are "
                              "not supported)", *where)
                source, target, read_only = parts[0], parts[1], len(parts) == 3 and parts[2] == "ro"
                kind = "bind" if source.startswith((".", "/", "~")) else "volume"
            elif isinstance(item, dict):
                self.keys(item, VOLUME_KEYS, where)
                kind = str(item.get("type", "volume"))
                source, target = item.get("source"), item.get("target")
                read_only = item.get("read_only", False) is True
                for sub in ("volume", "bind"):
                    options = self.mapping(item.get(sub), *where, sub)
                    if options:
                        self.fail(f"services.{name}.volumes[{index}].{sub}: options are not supported", *where, sub)
                if kind == "tmpfs":
                    options = self.mapping(item.get("tmpfs"), *where, "tmpfs")
                    self.keys(options, {"size"}, (*where, "tmpfs"))
                    tmpfs.append(TmpfsMount(target_path(target, where),
                                            self.tmpfs_size(name, options.get("size"), where)))
                    continue
                if item.get("tmpfs") is not None:
                    self.fail(f"services.{name}.volumes[{index}].tmpfs belongs to type: tmpfs", *where)
            else:
                self.fail(f"services.{name}.volumes: each entry is SOURCE:TARGET or a mapping", *where)
            if kind == "volume":
                if not isinstance(source, str) or source not in declared:
                    self.fail(f"services.{name}.volumes: the named volume {source!r} is not declared under the "
                              "top-level volumes: (declare it, or an anonymous volume: name it)", *where)
                volumes.append(VolumeMount(source, target_path(target, where), read_only))
            elif kind == "bind":
                if not isinstance(source, str) or source.startswith("~"):
                    self.fail(f"services.{name}.volumes: bind mount {source!r} is outside the project folder "
                              f"{self.base}: only the project's own files may be mounted", *where)
                host = (self.base / source).resolve()
                if not host.is_relative_to(self.project):
                    self.fail(f"services.{name}.volumes: bind mount {source!r} is {host}, outside the project folder "
                              f"{self.project}: a drill's container may only see the project's files (use a named "
                              "volume, or copy what it needs into the project)", *where)
                if not host.exists():
                    self.fail(f"services.{name}.volumes: bind mount source {host} does not exist", *where)
                binds.append(BindMount(host, target_path(target, where), read_only))
            else:
                self.fail(f"services.{name}.volumes: type {kind!r} is not supported (volume, bind or tmpfs)", *where)
        raw_tmpfs = body.get("tmpfs")
        entries = [] if raw_tmpfs is None else self.strings(raw_tmpfs, *at, "tmpfs")
        for index, text in enumerate(entries):
            where = (*at, "tmpfs", index) if isinstance(raw_tmpfs, list) else (*at, "tmpfs")
            path, _, opts = text.partition(":")
            size: object = None
            for option in filter(None, opts.split(",")):
                key, _, value = option.partition("=")
                if key != "size":
                    self.fail(f"services.{name}.tmpfs: option {key!r} is not supported (size only)", *where)
                size = value
            tmpfs.append(TmpfsMount(target_path(path, where), self.tmpfs_size(name, size, where)))
        return tuple(volumes), tuple(binds), tuple(tmpfs)

    def tmpfs_size(self, name: str, raw: object, where: tuple[str | int, ...]) -> int:
        if raw is None:
            return DEFAULT_TMPFS_BYTES
        try:
            size = parse_compose_size(raw)
        except ValueError as exc:
            self.fail(f"services.{name}: tmpfs size: {exc}", *where)
        if size < MIN_TMPFS_BYTES:
            self.fail(f"services.{name}: tmpfs size {raw!r} is below the minimum of {MIN_TMPFS_BYTES // 1024}k", *where)
        return size

    def memory(self, name: str, body: Mapping[str, Any]) -> int | None:
        at = ("services", name)
        deploy = self.mapping(body.get("deploy"), *at, "deploy")
        self.keys(deploy, {"resources"}, (*at, "deploy"))
        resources = self.mapping(deploy.get("resources"), *at, "deploy", "resources")
        self.keys(resources, {"limits"}, (*at, "deploy", "resources"))
        limits = self.mapping(resources.get("limits"), *at, "deploy", "resources", "limits")
        self.keys(limits, {"memory"}, (*at, "deploy", "resources", "limits"))
        found: list[tuple[int, tuple[str, ...]]] = []
        for raw, where in ((body.get("mem_limit"), (*at, "mem_limit")),
                           (limits.get("memory"), (*at, "deploy", "resources", "limits", "memory"))):
            if raw is None:
                continue
            try:
                size = parse_compose_size(raw)
            except ValueError as exc:
                self.fail(f"services.{name}: memory limit: {exc}", *where)
            if size < MIN_MEMORY_BYTES:
                self.fail(f"services.{name}: memory limit {raw!r} is below the minimum of "
                          f"{MIN_MEMORY_BYTES // 1024**2}m", *where)
            found.append((size, where))
        if len(found) == 2 and found[0][0] != found[1][0]:
            self.fail(f"services.{name}: mem_limit and deploy.resources.limits.memory disagree; keep one",
                      *found[1][1])
        return found[0][0] if found else None

    def cap_add(self, name: str, raw: object, allowed_raw: object) -> tuple[str, ...]:
        at = ("services", name, "cap_add")
        allowed = {c.upper().removeprefix("CAP_") for c in
                   (self.strings(allowed_raw, "services", name, EXTENSION, "allow_cap_add") if allowed_raw else [])}
        out = []
        for index, cap in enumerate(self.strings(raw, *at) if raw is not None else []):
            normal = cap.upper().removeprefix("CAP_")
            if not _CAPABILITY.match(normal):
                self.fail(f"services.{name}.cap_add: {cap!r} is not a capability name", *at, index)
            if normal in DANGEROUS_CAPS and normal not in allowed:
                self.fail(f"services.{name}.cap_add: {normal} is refused: it lets a container reach beyond itself "
                          f"(the machine, other processes or devices). If the drill needs it, say so: "
                          f"`x-gameday: {{allow_cap_add: [{normal}]}}` in this service", *at, index)
            out.append(normal)
        return tuple(dict.fromkeys(out))

    def labels(self, name: str, raw: object) -> tuple[tuple[str, str], ...]:
        at = ("services", name, "labels")
        pairs = self.key_values(raw, at)
        for key, _ in pairs:
            if key.startswith("gameday."):
                self.fail(f"services.{name}.labels: {key!r} is one of the harness's own labels (gameday.*), which "
                          "decide what it cleans up; use another prefix", *at)
        return tuple(pairs)

    def logs(self, name: str, raw: object) -> tuple[str, ...]:
        logs = self.strings(raw, "services", name, EXTENSION, "logs") if raw is not None else []
        for index, path in enumerate(logs):
            if not path.startswith("/") or any(c in path for c in "\n\0'\"$`;&|<>"):
                self.fail(f"services.{name}.x-gameday.logs: {path!r} must be a plain absolute path",
                          "services", name, EXTENSION, "logs", index)
        return tuple(logs)

    def files(self, name: str, raw: object) -> list[FileSpec]:
        """x-gameday.files: PATH: {content, mode} (or PATH: content), written before start."""
        at = ("services", name, EXTENSION, "files")
        out = []
        for fpath, body in self.mapping(raw, *at).items():
            where = (*at, fpath)
            if isinstance(body, str):
                body = {"content": body}
            body = self.mapping(body, *where)
            self.keys(body, {"content", "mode"}, where)
            content = body.get("content")
            if not isinstance(content, str):
                self.fail(f"services.{name}.x-gameday.files.{fpath}: needs `content` (text)", *where)
            out.append(FileSpec(self.file_path(name, fpath, where), content, self.mode(body.get("mode"), where)))
        return out

    def file_path(self, name: str, fpath: str, where: tuple[str | int, ...]) -> str:
        parts = fpath[1:].split("/")
        if not fpath.startswith("/") or any(p in ("", ".", "..") for p in parts) or any(c in fpath for c in "\r\n\0"):
            self.fail(f"services.{name}: {fpath!r} must name a file by a plain absolute path (not /, no //, . or ..)",
                      *where)
        return fpath

    def mode(self, raw: object, where: tuple[str | int, ...]) -> int:
        """A file mode, octal as written (`0440`, "0440", 0o440); permission bits only."""
        if raw is None:
            return 0o644
        text = scalar_text(raw)
        text = text.removeprefix("0o")
        if not re.fullmatch(r"0?[0-7]{3,4}", text):
            self.fail(f"mode {text!r} is not octal (write e.g. 0440 or \"0600\")", *where, "mode")
        value = int(text, 8)
        if value > MAX_FILE_MODE:
            self.fail(f"mode {text!r} sets the setuid, setgid or sticky bit: write permission bits only (at most "
                      "0777)", *where, "mode")
        return value

    def attached_files(self, name: str, body: Mapping[str, Any],
                       attached: Mapping[str, Mapping[str, str]]) -> list[FileSpec]:
        """A service's `configs:`/`secrets:`: each written into the container before it starts (at
        /NAME for a config, /run/secrets/NAME for a secret, or `target`)."""
        out = []
        for kind in ("configs", "secrets"):
            raw = body.get(kind)
            if raw is None:
                continue
            at = ("services", name, kind)
            if not isinstance(raw, list):
                self.fail(f"services.{name}.{kind} must be a list", *at)
            for index, item in enumerate(raw):
                where = (*at, index)
                if isinstance(item, str):
                    item = {"source": item}
                item = self.mapping(item, *where)
                self.keys(item, SERVICE_FILE_KEYS, where)
                source = item.get("source")
                if source not in attached[kind]:
                    self.fail(f"services.{name}.{kind}: {source!r} is not declared under the top-level {kind}:",
                              *where)
                target = item.get("target") or source
                if not isinstance(target, str):
                    self.fail(f"services.{name}.{kind}: target must be a path", *where)
                if not target.startswith("/"):
                    target = f"/run/secrets/{target}" if kind == "secrets" else f"/{target}"
                default_mode = 0o444
                mode = self.mode(item.get("mode"), where) if "mode" in item else default_mode
                out.append(FileSpec(self.file_path(name, target, where), attached[kind][str(source)], mode))
        return out
