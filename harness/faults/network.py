"""Network faults: a container cut off its stack's network, or one of its ports refusing.

`NetworkPartition` disconnects the service's container from the stack's own network(s) and
reconnects it with the service's aliases. `PortRefused` adds an iptables rule in the target's
network namespace that answers new connections to a port with a reset, from a short-lived
helper container (`--network container:TARGET --cap-add NET_ADMIN`) that carries the stack's
labels (so cleanup finds it) and is removed after each use. The helper's image is built
locally, FROM the harness's base image, from the Dockerfile shipped in this package: no
registry needed.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import shlex
from pathlib import Path
from typing import Any

import docker
import docker.errors

from harness.clock import SYSTEM_CLOCK, Clock
from harness.errors import BadInput
from harness.faults.base import Fault, FaultError, FaultNotEffective, owned_container, tail, wait_healthy_again
from harness.stack.definition import ImageRecipe
from harness.stack.images import Progress, build_lock, ensure_base_image, ensure_image
from harness.stack.labels import STACK_ID
from harness.stack.stack import Stack

log = logging.getLogger(__name__)

NETTOOLS_DIR = Path(__file__).resolve().parent / "nettools"
NETTOOLS_REPOSITORY = "gameday/nettools"
HELPER_TIMEOUT = 30.0
CONNECT_TIMEOUT_SECONDS = 3
_RESULT = re.compile(r"^GAMEDAY-RESULT rc=(\d+) before=(\d+) after=(\d+)$", re.MULTILINE)


# -- the helper --------------------------------------------------------------------------------


def nettools_recipe() -> ImageRecipe:
    """The recipe of the helper image (iptables on the harness's Debian base)."""
    return ImageRecipe(NETTOOLS_REPOSITORY, NETTOOLS_DIR / "Dockerfile", NETTOOLS_DIR, ("Dockerfile",))


def ensure_nettools_image(client: docker.DockerClient, progress: Progress = log.info) -> str:
    """The helper image's tag, built (once, under the image build lock) if missing."""
    with build_lock():
        base = ensure_base_image(client, progress)
        return ensure_image(client, nettools_recipe(), base, progress).tag


def run_helper(stack: Stack, target: Any, image: str, script: str, *,
               timeout: float = HELPER_TIMEOUT) -> tuple[int, str]:
    """Run `script` (bash) in a helper container inside `target`'s network namespace, with
    NET_ADMIN; returns (exit code, output). The helper is always removed."""
    check_script = f"timeout -k 2 {timeout:g} bash -c {shlex.quote(script)}"
    helper = stack.client.containers.create(
        image, command=["bash", "-c", check_script], network_mode=f"container:{target.id}",
        cap_add=["NET_ADMIN"], labels=stack.labels(role="fault-helper"),
        name=f"{stack.name}-nettools-{secrets.token_hex(3)}")
    try:
        helper.start()
        try:
            status = helper.wait(timeout=timeout + 10)
        except Exception as exc:  # the client's read timeout (requests), or the engine went away
            raise FaultError(f"the network helper in {target.name} did not finish within {timeout:g}s: {exc}") from exc
        output = helper.logs(stdout=True, stderr=True).decode("utf-8", "replace")
        return int(status.get("StatusCode", -1)), output
    finally:
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            helper.remove(force=True)


def _stack_networks(stack: Stack, container: Any) -> list[str]:
    """Names of the networks `container` is attached to that carry this stack's id label."""
    owned = {n.name for n in stack.client.networks.list(filters={"label": f"{STACK_ID}={stack.stack_id}"})}
    attached = (container.attrs.get("NetworkSettings") or {}).get("Networks") or {}
    return sorted(name for name in attached if name in owned)


# -- partition ---------------------------------------------------------------------------------


class NetworkPartition(Fault):
    """The service's container disconnected from the stack's network: its peers cannot reach it
    (nor it them), and its published ports go with it."""

    name = "network-partition"

    def __init__(self, stack: Stack, service: str, *, health_timeout: float | None = None,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(clock=clock)
        stack.definition.service(service)
        self.stack, self.service, self.health_timeout = stack, service, health_timeout
        self._networks: list[str] = []

    def describe(self) -> str:
        return f"{self.service} cut off the stack's network"

    def prepare(self) -> None:
        owned_container(self.stack, self.service)

    def _attached(self) -> set[str]:
        container = owned_container(self.stack, self.service)
        return set((container.attrs.get("NetworkSettings") or {}).get("Networks") or {})

    def inject(self) -> None:
        container = owned_container(self.stack, self.service)
        self._networks = _stack_networks(self.stack, container)
        if not self._networks:
            raise FaultError(f"{self.service}: its container is on no network of stack {self.stack.name}")
        for name in self._networks:
            self.stack.client.networks.get(name).disconnect(container)

    def verify(self) -> str:
        still = sorted(self._attached() & set(self._networks))
        if still:
            raise FaultNotEffective(f"{self.describe()}: still attached to {', '.join(still)}")
        return f"container of {self.service} is no longer on {', '.join(self._networks)}"

    def is_active(self) -> bool:
        return bool(set(self._networks) - self._attached())

    def restore(self) -> None:
        container = owned_container(self.stack, self.service)
        aliases = list(self.stack.definition.service(self.service).aliases)
        attached = self._attached()
        for name in self._networks:
            if name not in attached:
                self.stack.client.networks.get(name).connect(container, aliases=aliases)
        wait_healthy_again(self.stack, self.service, self.health_timeout, "reconnected")

    def ended_detail(self) -> str:
        return f"{self.describe()}: it was already back on its network when the harness came to roll back"


# -- refused port ------------------------------------------------------------------------------


class PortRefused(Fault):
    """New connections to `port` of the service's container answered with a reset (tcp) or
    port-unreachable (udp), by an iptables rule in its own network namespace. Established
    connections are not touched, as when a firewall rule is added in front of a server."""

    name = "port-refused"

    def __init__(self, stack: Stack, service: str, port: int, *, proto: str = "tcp",
                 helper_timeout: float = HELPER_TIMEOUT, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(clock=clock)
        if proto not in ("tcp", "udp"):
            raise BadInput(f"PortRefused: proto must be tcp or udp, got {proto!r}")
        if not 0 < port < 65536:
            raise BadInput(f"PortRefused: {port} is not a port number")
        stack.definition.service(service)
        self.stack, self.service, self.port, self.proto = stack, service, port, proto
        self.helper_timeout = helper_timeout
        self.comment = f"gameday-{stack.stack_id}-port-refused"
        reject = "tcp-reset" if proto == "tcp" else "icmp-port-unreachable"
        self._match = shlex.join(["-p", proto, "--dport", str(port), "-m", "comment", "--comment", self.comment,
                                  "-j", "REJECT", "--reject-with", reject])
        self._image: str | None = None

    def describe(self) -> str:
        return f"{self.proto} port {self.port} of {self.service} refusing connections"

    def prepare(self) -> None:
        owned_container(self.stack, self.service)
        if self._image is None:  # built once, before the fault's clock starts
            self._image = ensure_nettools_image(self.stack.client)

    def _helper(self, script: str) -> tuple[int, str]:
        container = owned_container(self.stack, self.service)
        if self._image is None:
            self._image = ensure_nettools_image(self.stack.client)
        return run_helper(self.stack, container, self._image, script, timeout=self.helper_timeout)

    def _target_running(self) -> bool:
        """Whether the target has a network namespace to hold the rule (a stopped container's
        is gone, and its rules with it)."""
        return str(owned_container(self.stack, self.service).status) in ("running", "paused")

    def inject(self) -> None:
        if not self._target_running():
            raise FaultError(f"{self.service}: the container is not running; no port to refuse")
        code, output = self._helper(f"iptables -C INPUT {self._match} 2>/dev/null || iptables -I INPUT 1 {self._match}")
        if code != 0:
            raise FaultError(f"{self.service}: could not add the iptables rule (exit {code}): {tail(output)}")

    def verify(self) -> str:
        if self.proto != "tcp":
            code, output = self._helper(f"iptables -C INPUT {self._match}")
            if code != 0:
                raise FaultNotEffective(f"{self.describe()}: the rule is not there: {tail(output)}")
            return f"iptables rule in {self.service}'s namespace: INPUT {self._match}"
        address = self._address()
        packets = f"iptables -L INPUT -v -n -x | grep -F -- {shlex.quote(self.comment)} | awk '{{print $1; exit}}'"
        script = (f"iptables -C INPUT {self._match} || {{ echo 'the rule is missing'; exit 3; }}\n"
                  f"before=$({packets})\n"
                  f"timeout {CONNECT_TIMEOUT_SECONDS} bash -c 'exec 3<>/dev/tcp/{address}/{self.port}'; rc=$?\n"
                  f"after=$({packets})\n"
                  "echo \"GAMEDAY-RESULT rc=$rc before=${before:-0} after=${after:-0}\"")
        code, output = self._helper(script)
        match = _RESULT.search(output)
        if code != 0 or match is None:
            raise FaultNotEffective(f"{self.describe()}: the check did not run (exit {code}): {tail(output)}")
        rc, before, after = (int(g) for g in match.groups())
        refused = rc != 0 and "refused" in output.lower()
        if not refused or after <= before:
            raise FaultNotEffective(f"{self.describe()}: a connection to {address}:{self.port} was not refused by "
                                    f"the rule (connect exit {rc}, rule packets {before} -> {after}): {tail(output)}")
        return (f"a connection to {address}:{self.port} from {self.service}'s namespace was refused by the rule "
                f"(rule packets {before} -> {after})")

    def _address(self) -> str:
        """The target's address on the stack's network (how its peers reach it), else loopback."""
        container = owned_container(self.stack, self.service)
        networks = (container.attrs.get("NetworkSettings") or {}).get("Networks") or {}
        for name in _stack_networks(self.stack, container):
            address = str((networks.get(name) or {}).get("IPAddress") or "")
            if address:
                return address
        return "127.0.0.1"

    def is_active(self) -> bool:
        if not self._target_running():
            return False
        code, _ = self._helper(f"iptables -C INPUT {self._match}")
        return code == 0

    def restore(self) -> None:
        if not self._target_running():
            return  # gone with the network namespace of a container that stopped
        script = (f"for _ in 1 2 3 4 5 6 7 8 9 10; do iptables -C INPUT {self._match} 2>/dev/null || exit 0; "
                  f"iptables -D INPUT {self._match} || exit 1; done; exit 1")
        code, output = self._helper(script)
        if code != 0:
            raise FaultError(f"{self.service}: could not delete the iptables rule (exit {code}): {tail(output)}")

    def ended_detail(self) -> str:
        return f"{self.describe()}: the rule was already gone when the harness came to roll back"
