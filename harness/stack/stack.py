"""A running stack: the containers of a definition on their own network, every object labelled.

`Stack.up()` creates a network and the stack's named volumes, then starts each service in
dependency order with its files written before start, its ports published on 127.0.0.1 only, its
command, volumes, tmpfs mounts and memory limit, and waits until its readiness check passes
before running its set-up commands. Any failure tears down everything started so far
and raises StackStartError with evidence. `Stack.down()` is idempotent and removes every
object carrying this stack's id, whatever state it is in.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import secrets
import time
import weakref
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import docker
import docker.errors
import httpx
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

from harness import interrupts, timing
from harness.clock import SYSTEM_CLOCK, Clock
from harness.errors import ExecError, StackStartError
from harness.stack import labels as L
from harness.stack.definition import (
    LOCAL_HOST,
    TOXIPROXY_API_PORT,
    ContainerHealthcheck,
    DependencyCondition,
    ExecCheck,
    HealthCheck,
    ServiceSpec,
    StackDefinition,
    TcpCheck,
    substitute,
)
from harness.stack.docker_env import docker_client
from harness.stack.host import ContainerHost, Host, LocalHost
from harness.stack.links import (
    PROXY_SERVICE,
    READY_TIMEOUT,
    ProxyServer,
    extra_hosts,
    proxy_aliases,
    proxy_definition,
    proxy_server,
)
from harness.stack.waits import WaitTimeout, wait_for

if TYPE_CHECKING:
    from harness.toxiproxy import ToxiproxyClient

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
SETUP_TIMEOUT = 60.0
HTTP_PROBE_TIMEOUT = 2.0
EXEC_PROBE_TIMEOUT = 10.0
# A tcp readiness check is one connection attempt from inside the container, bounded by this.
TCP_PROBE_TIMEOUT = 2.0
TCP_PROBE_ADDRESS = "127.0.0.1"
EVIDENCE_LINES = 30
STOP_TIMEOUT_SECONDS = 5
# A service others wait for to complete (Compose's service_completed_successfully) must exit within this.
COMPLETION_TIMEOUT = 300.0
COMPLETION_POLL_INTERVAL = 0.25
NANOSECONDS = 1_000_000_000
ENDPOINT_REFRESH_SECONDS = 2.0

_live_stacks: weakref.WeakSet[Stack] = weakref.WeakSet()


@atexit.register
def _down_live_stacks() -> None:
    """A process that exits without tearing its stacks down still removes them."""
    for stack in list(_live_stacks):
        stack.down()


class Stack:
    """One isolated instance of a stack definition."""

    def __init__(self, definition: StackDefinition, images: Mapping[str, str], *,
                 client: docker.DockerClient | None = None, run: L.RunIdentity | None = None,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        missing = [s.name for s in definition.services if s.name not in images]
        if missing:
            raise ValueError(f"no image given for services {missing}")
        self.definition = definition
        self.images = dict(images)
        self.client = client or docker_client()
        self.run = run or L.current_run()
        self.clock = clock
        self.stack_id = secrets.token_hex(4)
        self.name = f"gameday-{definition.name}-{self.stack_id}"
        self.secrets = {s.name: secrets.token_urlsafe(s.nbytes) for s in definition.secrets}
        self.values = {**dict(definition.variables), **self.secrets}
        self._containers: dict[str, DockerContainer] = {}
        # Services a dependent waits for to exit 0 (one-shot jobs: migrations, seeding).
        self._one_shot = {d.service for s in definition.services for d in s.dependencies
                          if d.condition is DependencyCondition.COMPLETED}
        self._network: Network | None = None
        self._local = LocalHost()
        self._http: httpx.Client | None = None
        # The Toxiproxy server of the stack's links (x-gameday.links), when it has any.
        self.proxy_server: ProxyServer | None = None
        self._proxy: DockerContainer | None = None
        self._proxy_address = ""
        self._toxiproxy: ToxiproxyClient | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def labels(self, **extra: str) -> dict[str, str]:
        return self.run.labels(stack=self.definition.name, stack_id=self.stack_id, **extra)

    def up(self) -> Stack:
        _live_stacks.add(self)
        with timing.waiting(timing.STACK):
            try:
                self._network = Network(docker_network_kw={"labels": self.labels()})
                self._network.name = self.name
                self._network.create()
                for volume in self.definition.volumes:
                    self.client.volumes.create(name=self.volume_name(volume), driver="local",
                                               labels=self.labels(volume=volume))
                if self.definition.links:
                    self._start_proxy()
                for spec in self.definition.services:
                    self._start_service(spec)
            except BaseException:
                self.down()
                raise
        return self

    def _start_proxy(self) -> None:
        """The Toxiproxy server of the stack's links, and one proxy per link (before any service
        starts: a link's clients find it in their /etc/hosts)."""
        assert self._network is not None
        server = self.proxy_server = proxy_server(self.client)
        container = (
            DockerContainer(server.image)
            .with_name(f"{self.name}-{PROXY_SERVICE}")
            .with_network(self._network)
            .with_network_aliases(*proxy_aliases(self.definition))
            .with_kwargs(labels=self.labels(role=PROXY_SERVICE), hostname=PROXY_SERVICE, stop_signal="SIGTERM")
        )
        if server.command:
            container.with_command(list(server.command))
        container.ports[f"{TOXIPROXY_API_PORT}/tcp"] = (LOOPBACK, None)  # type: ignore[assignment]
        self._proxy = container
        try:
            container.start()
        except docker.errors.APIError as exc:
            raise StackStartError(f"the Toxiproxy server ({server.describe()}) did not start: "
                                  f"{exc.explanation or exc}", service=PROXY_SERVICE) from exc
        wrapped = container.get_wrapped_container()
        wrapped.reload()
        networks = (wrapped.attrs.get("NetworkSettings") or {}).get("Networks") or {}
        self._proxy_address = str((networks.get(self.name) or {}).get("IPAddress") or "")
        if not self._proxy_address:
            raise StackStartError(f"the Toxiproxy server has no address on {self.name}", service=PROXY_SERVICE)
        from harness.toxiproxy import ToxiproxyError

        def answers() -> tuple[bool, str]:
            wrapped.reload()
            if wrapped.status != "running":
                raise StackStartError(f"the Toxiproxy server ({server.describe()}) stopped: {wrapped.status}",
                                      service=PROXY_SERVICE,
                                      evidence=wrapped.logs(tail=EVIDENCE_LINES).decode("utf-8", "replace"))
            try:
                return True, self.toxiproxy().version()
            except ToxiproxyError as exc:
                return False, str(exc)

        try:
            wait_for(answers, what="the Toxiproxy server answering", timeout=READY_TIMEOUT,
                     interval=0.1, clock=self.clock)
            self.toxiproxy().populate([proxy_definition(link) for link in self.definition.links])
        except (WaitTimeout, ToxiproxyError) as exc:
            raise StackStartError(f"the Toxiproxy server ({server.describe()}) did not take the stack's links: {exc}",
                                  service=PROXY_SERVICE,
                                  evidence=wrapped.logs(tail=EVIDENCE_LINES).decode("utf-8", "replace")) from None

    def toxiproxy(self) -> ToxiproxyClient:
        """A client of the stack's Toxiproxy server (on its loopback-published API port)."""
        if self._proxy is None:
            known = ", ".join(link.name for link in self.definition.links)
            raise StackStartError(f"{self.name} runs no Toxiproxy server: " + (
                "it is not up" if known else "its definition has no x-gameday.links"), service=PROXY_SERVICE)
        if self._toxiproxy is None:
            from harness.toxiproxy import ToxiproxyClient

            wrapped = self._proxy.get_wrapped_container()
            bindings = (wrapped.attrs.get("NetworkSettings", {}).get("Ports") or {}).get(
                f"{TOXIPROXY_API_PORT}/tcp") or []
            ports = [b["HostPort"] for b in bindings if b.get("HostIp") == LOOPBACK and b.get("HostPort")]
            if not ports:
                raise StackStartError(f"the Toxiproxy server's API is not published on {LOOPBACK}",
                                      service=PROXY_SERVICE)
            self._toxiproxy = ToxiproxyClient(f"http://{LOOPBACK}:{ports[0]}")
        return self._toxiproxy

    def _start_service(self, spec: ServiceSpec) -> None:
        assert self._network is not None
        extra: dict[str, Any] = {}
        hosts = extra_hosts(self.definition, spec.name, self._proxy_address) if self._proxy_address else {}
        if hosts:
            extra["extra_hosts"] = hosts
        if spec.memory:
            extra["mem_limit"] = spec.memory
        if spec.entrypoint:
            extra["entrypoint"] = [substitute(part, self.values) for part in spec.entrypoint]
        if spec.user:
            extra["user"] = spec.user
        if spec.working_dir:
            extra["working_dir"] = spec.working_dir
        if spec.cap_add:
            extra["cap_add"] = list(spec.cap_add)
        if spec.container_healthcheck is not None:
            extra["healthcheck"] = self._engine_healthcheck(spec.container_healthcheck)
        container = (
            DockerContainer(self.images[spec.name])
            .with_name(f"{self.name}-{spec.name}")
            .with_network(self._network)
            .with_network_aliases(*spec.aliases)
            # The harness's labels last: a file's own labels never replace them (gameday.* is refused on load).
            .with_kwargs(labels={**dict(spec.labels), **self.labels(service=spec.name)}, hostname=spec.name,
                         stop_signal="SIGTERM", **extra)
        )
        if spec.command:
            container.with_command([substitute(part, self.values) for part in spec.command])
        for volume in spec.volumes:
            container.with_volume_mapping(self.volume_name(volume.name), volume.path,
                                          "ro" if volume.read_only else "rw")
        for bind in spec.binds:
            container.with_volume_mapping(str(bind.source), bind.path, "ro" if bind.read_only else "rw")
        for tmpfs in spec.tmpfs:
            # docker-py takes tmpfs mount options; the size in bytes bounds the file system.
            container.tmpfs[tmpfs.path] = f"size={tmpfs.size}"
        for key, value in spec.environment:
            container.with_env(key, substitute(value, self.values))
        for port in spec.ports:
            # Loopback only, on a port the engine picks: never 0.0.0.0, never a fixed port.
            container.ports[f"{port}/tcp"] = (LOOPBACK, None)  # type: ignore[assignment]  # docker-py takes (ip, port)
        for file in spec.files:
            container.with_copy_into_container(substitute(file.content, self.values).encode(), file.path, file.mode)
        self._containers[spec.name] = container
        try:
            container.start()
        except docker.errors.APIError as exc:
            raise StackStartError(f"{spec.name}: the container did not start: {exc.explanation or exc}",
                                  service=spec.name) from exc
        if spec.name in self._one_shot:
            self._wait_completed(spec.name)
            return
        if spec.health is not None:
            self.wait_healthy(spec.name)
        for number, command in enumerate(spec.setup, start=1):
            result = self.host(spec.name).exec(substitute(command, self.values), timeout=SETUP_TIMEOUT)
            if not result.ok:
                raise StackStartError(
                    f"{spec.name}: set-up command {number} of {len(spec.setup)} failed (exit {result.exit_code})",
                    service=spec.name, evidence=self._redact(result.stdout + result.stderr))

    def _engine_healthcheck(self, check: ContainerHealthcheck) -> dict[str, Any]:
        """Compose's healthcheck as the engine takes it (durations in nanoseconds)."""
        if check.test == ("NONE",):
            return {"test": ["NONE"]}
        return {"test": [substitute(part, self.values) for part in check.test],
                "interval": int(check.interval * NANOSECONDS), "timeout": int(check.timeout * NANOSECONDS),
                "retries": check.retries, "start_period": int(check.start_period * NANOSECONDS)}

    def _wait_completed(self, service: str) -> None:
        """A one-shot service: wait until it exits, and it must exit 0 (service_completed_successfully)."""

        def exited() -> tuple[bool, str]:
            container = self.container(service)
            return container.status in ("exited", "dead"), f"container {container.status}"

        try:
            wait_for(exited, what=f"{service} completed", timeout=COMPLETION_TIMEOUT,
                     interval=COMPLETION_POLL_INTERVAL, clock=self.clock)
        except WaitTimeout as exc:
            raise StackStartError(f"{service} did not complete within {exc.timeout:g}s, and a service waits for it "
                                  "(service_completed_successfully)", service=service,
                                  evidence=self.logs(service)) from None
        code = self.container(service).attrs["State"].get("ExitCode")
        if code != 0:
            raise StackStartError(f"{service} exited with code {code}; a service waits for it to complete "
                                  "successfully (service_completed_successfully)", service=service,
                                  evidence=self.logs(service))

    def volume_name(self, volume: str) -> str:
        """The Docker name of one of the stack's named volumes (unique to this stack)."""
        if volume not in self.definition.volumes:
            raise ValueError(f"{volume!r} is not a volume of this stack; it has: "
                             f"{', '.join(self.definition.volumes) or 'none'}")
        return f"{self.name}-{volume}"

    def down(self) -> None:
        """Remove every container, network and volume of this stack. Idempotent; raises nothing but a
        Ctrl-C or SIGTERM that arrived meanwhile, once everything is removed (`interrupts.shielded`)."""
        with interrupts.shielded(), timing.waiting(timing.STACK):
            self._down()

    def _down(self) -> None:
        wanted = f"{L.STACK_ID}={self.stack_id}"
        try:
            for container in self.client.containers.list(ignore_removed=True, all=True, filters={"label": wanted}):
                with contextlib.suppress(docker.errors.NotFound):
                    container.remove(force=True, v=True)
            for network in self.client.networks.list(filters={"label": wanted}):
                with contextlib.suppress(docker.errors.NotFound):
                    network.remove()
            for volume in self.client.volumes.list(filters={"label": wanted}):
                with contextlib.suppress(docker.errors.NotFound):
                    volume.remove(force=True)
        except docker.errors.DockerException as exc:  # the next run's reaper will finish the job
            log.warning("could not remove everything of stack %s: %s", self.name, exc)
        self._containers.clear()
        self._network = None
        self._proxy, self._proxy_address = None, ""
        if self._toxiproxy is not None:
            self._toxiproxy.close()
            self._toxiproxy = None
        if self._http is not None:
            self._http.close()
            self._http = None
        _live_stacks.discard(self)

    def __enter__(self) -> Stack:
        """Bring the stack up, unless it already is (`with launch(...) as stack:` starts it once)."""
        return self if self._network is not None else self.up()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.down()

    # -- access --------------------------------------------------------------------------------

    def container(self, service: str) -> Any:
        """The service's docker container, freshly inspected."""
        if service not in self._containers:
            self.definition.service(service)  # raises a clear error for unknown names
            raise StackStartError(f"{service} is not running in {self.name}", service=service)
        wrapped = self._containers[service].get_wrapped_container()
        with timing.waiting(timing.STACK):
            wrapped.reload()
        return wrapped

    def host(self, name: str) -> Host:
        """Where runbook commands run: a service's container, or `local`."""
        if name == LOCAL_HOST:
            return self._local
        self.definition.service(name)
        return ContainerHost(name, lambda: self.container(name))

    def port(self, service: str, port: int) -> int:
        """The loopback port currently published for `port` (looked up again every time:
        a restarted container gets a new one)."""
        container = self.container(service)
        bindings = (container.attrs.get("NetworkSettings", {}).get("Ports") or {}).get(f"{port}/tcp") or []
        for binding in bindings:
            if binding.get("HostIp") == LOOPBACK and binding.get("HostPort"):
                return int(binding["HostPort"])
        raise StackStartError(f"{service}: port {port} is not published on {LOOPBACK} "
                              f"(container status: {container.status})", service=service)

    def endpoint(self, service: str, port: int, scheme: str = "http") -> str:
        return f"{scheme}://{LOOPBACK}:{self.port(service, port)}"

    def endpoint_source(self, service: str, port: int, scheme: str = "http", *,
                        refresh: float = ENDPOINT_REFRESH_SECONDS) -> Callable[[], str]:
        """`endpoint()` for callers that ask many times a second (health checks, synthetic users):
        the URL is looked up again once it is `refresh` seconds old (a restarted container gets a
        new published port), not on every call (each lookup inspects the container)."""
        cache: dict[str, float | str] = {"at": 0.0, "url": ""}

        def url() -> str:
            if not cache["url"] or time.monotonic() - float(cache["at"]) > refresh:
                cache["url"] = self.endpoint(service, port, scheme)
                cache["at"] = time.monotonic()
            return str(cache["url"])

        return url

    def logs(self, service: str, lines: int = EVIDENCE_LINES) -> str:
        """The container's own output and the tails of the service's declared log files."""
        spec = self.definition.service(service)
        try:
            container = self.container(service)
            parts = [container.logs(tail=lines).decode("utf-8", "replace")]
        except (docker.errors.DockerException, StackStartError) as exc:
            return f"(no logs: {exc})"
        if container.status == "running":
            for path in spec.logs:
                try:
                    tail = self.host(service).exec(f"tail -n {lines} {path}", timeout=EXEC_PROBE_TIMEOUT)
                    parts.append(f"--- {path} ---\n{tail.stdout}{tail.stderr}")
                except ExecError as exc:
                    parts.append(f"--- {path}: {exc} ---")
        return self._redact("\n".join(parts))

    def _redact(self, text: str) -> str:
        for value in self.secrets.values():
            text = text.replace(value, "[REDACTED]")
        return text

    # -- health --------------------------------------------------------------------------------

    def wait_healthy(self, service: str | None = None, timeout: float | None = None) -> None:
        """Wait until the service (or every service with a check) passes its health check."""
        names = [service] if service else [s.name for s in self.definition.services
                                           if s.health and s.name not in self._one_shot]
        for name in names:
            health = self.definition.service(name).health
            if health is None:
                continue
            try:
                wait_for(lambda n=name, h=health: self._probe(n, h), what=f"{name} healthy",  # type: ignore[misc]
                         timeout=timeout or health.timeout, interval=health.interval, clock=self.clock)
            except WaitTimeout as exc:
                raise StackStartError(f"{name} was not healthy within {exc.timeout:g}s (last check: {exc.last})",
                                      service=name, evidence=self.logs(name)) from None

    def check_health(self, service: str) -> tuple[bool, str]:
        """One health check of a service now: (healthy, what was seen)."""
        health = self.definition.service(service).health
        if service in self._one_shot:
            return True, "completed (a one-shot service)"
        if health is None:
            return True, "no health check"
        return self._probe(service, health)

    def _probe(self, service: str, health: HealthCheck) -> tuple[bool, str]:
        container = self.container(service)
        if container.status in ("exited", "dead"):
            raise StackStartError(f"{service}: the container {container.status} "
                                  f"(exit code {container.attrs['State'].get('ExitCode')})",
                                  service=service, evidence=self.logs(service))
        if container.status != "running":
            return False, f"container {container.status}"
        check = health.check
        if isinstance(check, ExecCheck):
            result = self.host(service).exec(substitute(check.command, self.values), timeout=EXEC_PROBE_TIMEOUT)
            return result.ok, f"exit {result.exit_code}: {(result.stdout + result.stderr).strip()[:200]}"
        if isinstance(check, TcpCheck):
            # From inside the container, with bash's /dev/tcp (every host has bash: runbook commands
            # run with it): the port need not be published, and a published port would not do, as
            # Docker's userland proxy accepts connections on it whether or not the service listens.
            result = self.host(service).exec(f"exec 3<>/dev/tcp/{TCP_PROBE_ADDRESS}/{check.port}",
                                             timeout=TCP_PROBE_TIMEOUT)
            seen = "accepts connections" if result.ok else (result.stderr.strip()[-200:] or f"exit {result.exit_code}")
            return result.ok, f"tcp {check.port}: {seen}"
        url = f"{self.endpoint(service, check.port)}{check.path}"
        if self._http is None:  # one client for all probes: making one per request costs CPU
            self._http = httpx.Client(timeout=HTTP_PROBE_TIMEOUT)
        try:
            with timing.waiting(timing.STACK):
                response = self._http.get(url)
        except httpx.HTTPError as exc:
            return False, f"GET {check.path}: {type(exc).__name__}"
        return response.status_code == check.status, f"GET {check.path}: {response.status_code} {response.text[:200]}"
