"""Compose files as stack definitions: `compose.yaml` read onto the harness's own model.

The file is read as YAML with a line for every value (`harness.stack.yamlfile`), interpolated as
Compose does (`harness.stack.interpolate`: the environment, then `.env` beside the file), and every
key is checked here: a key the harness implements maps onto `StackDefinition`; a key it refuses
(privileged, host networking, host bind mounts, ...) or does not implement is an error with its
line, before anything starts (never silently ignored); a key it does differently (a host port) is a
warning with its line, kept on the definition.

No maintained PyPI package ships the Compose specification's JSON schema (docker-compose 1.x's
copy is the old v3 schema, unmaintained since 2021), so the checks are the harness's own, for the
keys it supports; everything else is refused by name. What Compose cannot say lives in `x-gameday`
(top level and per service): secrets generated fresh per stack, files written before start, set-up
commands, redaction patterns, logs to attach, the default host, the hosts a runbook may name, the
base image's build argument, a recipe's inputs, dangerous capabilities allowed.

This module reads the top level; `compose_service` reads each service; `compose_base` holds what
both share (the file's lines, errors and warnings, the project's files).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.errors import DefinitionError
from harness.redact import UnsafePattern, check_pattern
from harness.stack.compose_base import EXTENSION, PROFILES_ENV
from harness.stack.compose_service import ServiceReader
from harness.stack.definition import (
    _ENV_NAME,
    _PLACEHOLDER,
    _VOLUME_NAME,
    DEFAULT_SECRET_BYTES,
    LOCAL_HOST,
    MAX_SERVICES,
    TOXIPROXY_API_PORT,
    DependencyCycle,
    LinkSpec,
    LocalImage,
    SecretSpec,
    ServiceSpec,
    StackDefinition,
    dependency_order,
    read_definition_text,
)
from harness.stack.interpolate import InterpolationError, Interpolator
from harness.stack.yamlfile import YamlProblem, read_yaml

DOTENV = ".env"
TOP_KEYS = {"version", "name", "services", "volumes", "networks", "configs", "secrets", EXTENSION}
REFUSED_TOP = {
    "include": "the harness reads one file: paste the included services into it",
}
TOP_VOLUME_KEYS = {"driver"}
TOP_NETWORK_KEYS = {"driver"}
TOP_FILE_KEYS = {"file", "content", "environment"}
TOP_EXTENSION_KEYS = {"default_host", "hosts", "secrets", "redaction", "base_arg", "project_dir", "links"}
LINK_KEYS = {"to", "from", "listen"}
MAX_LINKS = 32
_LINK_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_HOSTNAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_ADDRESS = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*):([0-9]{1,5})$")
# Where a generated secret may appear (it is filled in when the container starts, not at load).
SECRET_PLACES = ("environment", "env_file", "command", "entrypoint", "healthcheck", EXTENSION)


def load_compose(path: Path, environ: Mapping[str, str] | None = None) -> StackDefinition:
    """A Compose file as a StackDefinition; DefinitionError (file:line, what to do) on any problem."""
    path = path.resolve()
    text = read_definition_text(path)
    try:
        document = read_yaml(text)
    except YamlProblem as exc:
        raise DefinitionError(exc.message, path=path, line=exc.line) from None
    return _Reader(path, document, dict(os.environ if environ is None else environ)).definition()


class _Reader(ServiceReader):
    """Reads the whole file: the top level, then each service (ServiceReader), then the order."""

    # -- interpolation -------------------------------------------------------------------------

    def interpolate(self, value: Any, where: tuple[str | int, ...], values: Mapping[str, str],
                    deferred: frozenset[str]) -> Any:
        """Every string value below `where` interpolated; a generated secret only where it can be
        filled in at start (SECRET_PLACES), anywhere else it is an error."""
        if isinstance(value, dict):
            return {k: self.interpolate(v, (*where, k), values, deferred) for k, v in value.items()}
        if isinstance(value, list):
            return [self.interpolate(v, (*where, i), values, deferred) for i, v in enumerate(value)]
        if not isinstance(value, str) or "$" not in value or where[:2] == (EXTENSION, "redaction"):
            return value  # redaction patterns are regular expressions: their `$` is an anchor
        allowed = (where[:1] == ("configs",) or where[:1] == ("x-gameday",)
                   or (len(where) > 2 and where[0] == "services" and where[2] in SECRET_PLACES))
        interpolator = Interpolator(values, deferred, lambda message: self.warn(message, *where))
        try:
            result = interpolator(value)
        except InterpolationError as exc:
            self.fail(f"{'.'.join(str(p) for p in where)}: {exc}", *where)
        if not allowed:
            for match in _PLACEHOLDER.finditer(result):
                if match.group(1) in deferred:
                    self.fail(f"{'.'.join(str(p) for p in where)} uses the generated secret {match.group(1)}: "
                              "a secret is made when the stack starts, so it can only be used in environment, "
                              "env_file, command, entrypoint, healthcheck, configs and x-gameday files and setup",
                              *where)
        return result

    def dotenv(self) -> dict[str, str]:
        """The `.env` beside the file (none: nothing); values interpolate from the environment."""
        path = self.base / DOTENV
        if not path.exists():
            return {}
        return self.env_file_values(path, self.environ, frozenset())

    # -- the whole file ------------------------------------------------------------------------

    def definition(self) -> StackDefinition:
        raw = self.doc.value
        if not isinstance(raw, dict):
            self.fail("a Compose file is a mapping with `services:` at its top")
        self.keys(raw, TOP_KEYS, (), REFUSED_TOP)
        if "version" in raw:
            self.warn("`version` is obsolete in Compose files and ignored (as Compose does)", "version")
        extension = self.mapping(raw.get(EXTENSION), EXTENSION)
        self.keys(extension, TOP_EXTENSION_KEYS, (EXTENSION,))
        self.secrets = self.read_secrets(extension.get("secrets"))
        deferred = frozenset(s.name for s in self.secrets)
        values = {**self.dotenv(), **self.environ}
        raw = {key: (value if key.startswith("x-") and key != EXTENSION
                     else self.interpolate(value, (key,), values, deferred))
               for key, value in raw.items()}
        extension = self.mapping(raw.get(EXTENSION), EXTENSION)
        name = self.project_name(raw.get("name"))
        volumes = self.top_table(raw.get("volumes"), "volumes", TOP_VOLUME_KEYS)
        networks = self.top_table(raw.get("networks"), "networks", TOP_NETWORK_KEYS)
        attached = {kind: self.attachments(raw.get(kind), kind, values, deferred) for kind in ("configs", "secrets")}
        services_raw = raw.get("services")
        if not isinstance(services_raw, dict) or not services_raw:
            self.fail("a Compose file needs `services:` with at least one service", "services")
        if len(services_raw) > MAX_SERVICES:
            extra = list(services_raw)[MAX_SERVICES]
            self.fail(f"too many services ({len(services_raw)}; at most {MAX_SERVICES}): split the system into "
                      "smaller stacks", "services", extra)
        enabled = {p.strip() for p in self.environ.get(PROFILES_ENV, "").split(",") if p.strip()}
        active, inactive = {}, {}
        for sname, body in services_raw.items():
            profiles = self.strings(body.get("profiles", []), "services", sname, "profiles") \
                if isinstance(body, dict) else []
            if profiles and not enabled.intersection(profiles) and "*" not in enabled:
                inactive[sname] = profiles
            else:
                active[sname] = body
        if not active:
            self.fail(f"every service is in a profile that is not enabled; set {PROFILES_ENV} (e.g. "
                      f"{PROFILES_ENV}={next(iter(inactive.values()))[0]})", "services")
        read = [self.service(sname, body, volumes, networks, attached, values, deferred, inactive)
                for sname, body in active.items()]
        if len({n for s in read for n in s.networks}) > 1:
            self.warn("the services use several networks: the harness puts every service of a stack on one "
                      "network of its own (aliases kept), so networks do not isolate services from each other",
                      "networks")
        services = self.share_images([s.spec for s in read])
        ordered = self.start_order(services)
        names = [s.name for s in ordered]
        return StackDefinition(
            name=name,
            path=self.path,
            services=ordered,
            secrets=self.secrets,
            description=f"Compose file {self.path.name}",
            redaction_patterns=self.redaction(extension.get("redaction")),
            default_host=self.default_host(extension, names),
            host_services=self.host_services(extension, names),
            warnings=tuple(self.warnings),
            links=self.links(extension.get("links"), ordered),
        )

    def links(self, raw: object, services: tuple[ServiceSpec, ...]) -> tuple[LinkSpec, ...]:
        """x-gameday.links: NAME: {to: SERVICE:PORT, from: CLIENTS} (the clients reach the proxy by the
        target's own names) or NAME: {to: SERVICE:PORT, listen: ALIAS:PORT} (clients name the proxy)."""
        table = self.mapping(raw, EXTENSION, "links", example="{db: {to: 'db:5432', from: app}}")
        if len(table) > MAX_LINKS:
            self.fail(f"x-gameday.links: {len(table)} links; at most {MAX_LINKS}", EXTENSION, "links")
        by_name = {s.name: s for s in services}
        names = {alias for s in services for alias in s.aliases}
        taken: dict[int, str] = {}
        out = []
        for name, body in table.items():
            where = (EXTENSION, "links", name)
            if not isinstance(name, str) or not _LINK_NAME.match(name):
                self.fail(f"x-gameday.links: {name!r} is not a link name (lower-case letters, digits, - and _, "
                          "starting with a letter)", *where)
            body = self.mapping(body, *where, example="{to: 'db:5432', from: app}")
            self.keys(body, LINK_KEYS, where)
            target, port = self.address(body.get("to"), f"x-gameday.links.{name}.to", "SERVICE:PORT, e.g. db:5432",
                                        *where, "to")
            if target not in by_name:
                self.fail(f"x-gameday.links.{name}.to: {target!r} is not a service of this file "
                          f"({', '.join(by_name)})", *where, "to")
            if ("from" in body) == ("listen" in body):
                self.fail(f"x-gameday.links.{name}: say either `from: [SERVICES]` (they reach {target} through the "
                          "proxy under its own names) or `listen: ALIAS:PORT` (they connect to the proxy by that "
                          "name), not both and not neither", *where)
            clients: tuple[str, ...] = ()
            alias, listen = "", port
            if "from" in body:
                clients = tuple(dict.fromkeys(self.strings(body["from"], *where, "from")))
                for index, client in enumerate(clients):
                    if client not in by_name or client == target:
                        self.fail(f"x-gameday.links.{name}.from: {client!r} must be another service of this file "
                                  f"than {target} ({', '.join(n for n in by_name if n != target)})",
                                  *where, "from", index)
            else:
                alias, listen = self.address(body["listen"], f"x-gameday.links.{name}.listen",
                                             "ALIAS:PORT, e.g. db-proxy:15432", *where, "listen")
                if not _HOSTNAME.match(alias) or alias in names:
                    self.fail(f"x-gameday.links.{name}.listen: {alias!r} must be a new host name (lower-case "
                              "letters, digits and -), not one a service already answers to", *where, "listen")
            if listen == TOXIPROXY_API_PORT or listen in taken:
                other = "Toxiproxy's own API" if listen == TOXIPROXY_API_PORT else f"link {taken[listen]!r}"
                self.fail(f"x-gameday.links.{name}: the proxy would listen on port {listen}, which {other} uses; "
                          "give this link `listen: ALIAS:PORT` with another port", *where)
            taken[listen] = name
            out.append(LinkSpec(name=name, target=target, port=port, clients=clients, listen_alias=alias,
                                listen_port=listen if alias else 0, line=self.doc.line(*where)))
        return tuple(out)

    def address(self, raw: object, what: str, form: str, *where: str | int) -> tuple[str, int]:
        match = _ADDRESS.match(raw) if isinstance(raw, str) else None
        if match is None or not 0 < int(match.group(2)) < 65536:
            self.fail(f"{what} must be {form} (got {raw!r})", *where)
        return match.group(1), int(match.group(2))

    def read_secrets(self, raw: object) -> tuple[SecretSpec, ...]:
        """x-gameday.secrets: NAME: BYTES, or NAME: {bytes: N}, or NAME: (the default size)."""
        out = []
        for key, body in self.mapping(raw, EXTENSION, "secrets", example="{SECRET_KEY: 32}").items():
            where = (EXTENSION, "secrets", key)
            if not _ENV_NAME.match(key):
                self.fail(f"x-gameday.secrets: {key!r} must be a variable name (letters, digits, _)", *where)
            if isinstance(body, dict):
                self.keys(body, {"bytes"}, where)
                body = body.get("bytes", DEFAULT_SECRET_BYTES)
            nbytes = DEFAULT_SECRET_BYTES if body is None else body
            if not isinstance(nbytes, int) or isinstance(nbytes, bool) or not 16 <= nbytes <= 256:
                self.fail(f"x-gameday.secrets.{key} must be a number of bytes from 16 to 256", *where)
            out.append(SecretSpec(key, int(nbytes)))
        return tuple(out)

    def top_table(self, raw: object, kind: str, allowed: set[str]) -> dict[str, dict[str, Any]]:
        """Top-level `volumes:` or `networks:`: names, each with nothing or `driver` (local/bridge)."""
        out = {}
        driver = "local" if kind == "volumes" else "bridge"
        reasons = {
            "external": f"the harness creates and removes every {kind[:-1]} of a stack; an external one "
                        "would be shared between stacks and outlive the drill",
            "name": f"the harness names {kind} after the stack (so two stacks run side by side)",
        }
        for key, body in self.mapping(raw, kind).items():
            body = self.mapping(body, kind, key)
            self.keys(body, allowed, (kind, key), reasons)
            if body.get("driver", driver) != driver:
                self.fail(f"{kind}.{key}.driver: only {driver!r} is supported", kind, key, "driver")
            pattern = _VOLUME_NAME if kind == "volumes" else re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
            if not pattern.match(key):
                self.fail(f"{kind}: {key!r} is not a simple name (lowercase letters, digits, - and _, starting "
                          "with a letter, at most 32)", kind, key)
            out[key] = body
        return out

    def attachments(self, raw: object, kind: str, values: Mapping[str, str],
                    deferred: frozenset[str]) -> dict[str, str]:
        """Top-level `configs:`/`secrets:`: each backed by a file of the project (or, for configs,
        inline `content`, or `environment`: a variable's value). Read now: their text by name."""
        out = {}
        for key, body in self.mapping(raw, kind).items():
            where = (kind, key)
            body = self.mapping(body, *where)
            reasons = {"external": f"the harness makes every {kind[:-1]} from the project's files; an external one "
                                   "lives outside the drill", "name": "the harness names what it creates"}
            self.keys(body, TOP_FILE_KEYS if kind == "configs" else {"file", "environment"}, where, reasons)
            sources = [k for k in ("file", "content", "environment") if k in body]
            if len(sources) != 1:
                self.fail(f"{kind}.{key} needs exactly one of: file (a path in the project)"
                          + (", content" if kind == "configs" else "") + ", environment", *where)
            (source,) = sources
            value = body[source]
            if not isinstance(value, str):
                self.fail(f"{kind}.{key}.{source} must be a string", *where, source)
            if source == "content":
                out[key] = value
            elif source == "environment":
                if value in deferred:
                    out[key] = f"${{{value}}}"
                elif value in values:
                    out[key] = values[value]
                else:
                    self.fail(f"{kind}.{key}.environment: the variable {value} is not set (set it, or put it in "
                              "the .env file beside this file)", *where, source)
            else:
                out[key] = self.project_file_text(value, f"{kind}.{key}.file", (*where, source))
        return out

    def redaction(self, raw: object) -> tuple[str, ...]:
        patterns = self.strings(raw, EXTENSION, "redaction") if raw is not None else []
        for index, pattern in enumerate(patterns):
            try:
                check_pattern(pattern)
            except UnsafePattern as exc:
                self.fail(f"x-gameday.redaction: {exc}", EXTENSION, "redaction", index)
        return tuple(patterns)

    def default_host(self, extension: Mapping[str, Any], services: list[str]) -> str:
        choices = ", ".join([*services, LOCAL_HOST])
        if "default_host" not in extension:
            if len(services) == 1:
                return services[0]
            self.fail(f"this stack has {len(services)} services: say where a runbook step without a host runs: add "
                      f"`x-gameday: {{default_host: SERVICE}}` at the top level (one of {choices})", "services")
        value = extension["default_host"]
        if value not in (*services, LOCAL_HOST):
            self.fail(f"x-gameday.default_host: {value!r} names no service of this stack; write one of {choices}",
                      EXTENSION, "default_host")
        return str(value)

    def host_services(self, extension: Mapping[str, Any], services: list[str]) -> tuple[str, ...]:
        if "hosts" not in extension:
            return ()
        hosts = self.strings(extension["hosts"], EXTENSION, "hosts")
        for index, host in enumerate(hosts):
            if host not in services:
                self.fail(f"x-gameday.hosts: {host!r} names no service of this stack ({', '.join(services)})",
                          EXTENSION, "hosts", index)
        default = extension.get("default_host")
        if default not in (None, LOCAL_HOST, *hosts):
            self.fail(f"x-gameday.default_host: {default!r} is not one of x-gameday.hosts", EXTENSION, "default_host")
        return tuple(dict.fromkeys(hosts))

    def share_images(self, services: list[ServiceSpec]) -> list[ServiceSpec]:
        """A service whose `image:` another service builds runs that build."""
        out = []
        for spec in services:
            if isinstance(spec.image, LocalImage):
                repository = spec.image.reference.rsplit(":", 1)[0] if ":" in spec.image.reference else \
                    spec.image.reference
                if repository in self.builders:
                    spec = replace(spec, image=self.builders[repository][1])
            out.append(spec)
        return out

    # -- across services -----------------------------------------------------------------------

    def start_order(self, services: list[ServiceSpec]) -> tuple[ServiceSpec, ...]:
        """Services sorted so that each starts after what it depends on; unknown names and cycles
        are errors."""
        by_name = {s.name: s for s in services}
        for spec in services:
            for dep in spec.depends_on:
                if dep not in by_name:
                    self.fail(f"services.{spec.name} depends on {dep!r}, which is not a service of this file "
                              f"({', '.join(by_name)})", *self.dependency_where(spec.name, dep))
        try:
            return dependency_order(services)
        except DependencyCycle as cycle:
            self.fail(f"depends_on forms a cycle: {cycle}; break it",
                      *self.dependency_where(cycle.dependent, cycle.needed))

    def dependency_where(self, service: str, dep: str) -> tuple[str | int, ...]:
        """The path of `dep` in a service's depends_on, in its list or its mapping form."""
        raw = (self.doc.value.get("services") or {}).get(service, {}).get("depends_on")
        if isinstance(raw, list) and dep in raw:
            return ("services", service, "depends_on", raw.index(dep))
        return ("services", service, "depends_on", dep)
