"""Network faults: a container cut off its stack's network, one of its ports refusing, its
packets blackholed or lost at random.

`NetworkPartition` disconnects the service's container from the stack's own network(s) and
reconnects it with the service's aliases. The others are iptables rules in the target's network
namespace (`PacketFilterFault`): `PortRefused` answers new connections to a port with a reset,
`Blackhole` drops packets (connections hang until the client gives up), `PacketLoss` drops a
share of them at random (a lossy link); the last two optionally only to and from one peer
service and/or one port. Rules are added, proven (their packet counters move during a short
bounded probe) and deleted from a short-lived helper container (`--network container:TARGET
--cap-add NET_ADMIN`) that carries the stack's labels (so cleanup finds it) and is removed after
each use. The helper's image is built locally, FROM the harness's base image, from the
Dockerfile shipped in this package: no registry needed. (The kernel here has no `netem` qdisc:
latency comes from Toxiproxy, loss from iptables' `statistic` match.)
"""

from __future__ import annotations

import abc
import contextlib
import logging
import re
import secrets
import shlex
from dataclasses import dataclass
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


# -- packet filter faults: rules in the target's own namespace ---------------------------------


@dataclass(frozen=True)
class FilterRule:
    """One iptables rule of a fault: its chain and its match-and-target arguments (shell-quoted)."""

    chain: str
    spec: str

    def check(self) -> str:
        return f"iptables -C {self.chain} {self.spec}"

    def insert(self) -> str:
        """Idempotent: a rule already there is not added twice."""
        return f"{{ {self.check()} 2>/dev/null || iptables -I {self.chain} 1 {self.spec}; }}"

    def delete(self) -> str:
        """Every copy of the rule deleted (bounded), exit 0 once none is left."""
        return (f"for _ in 1 2 3 4 5 6 7 8 9 10; do {self.check()} 2>/dev/null || break; "
                f"iptables -D {self.chain} {self.spec} || exit 1; done; {self.check()} 2>/dev/null && exit 1")


class PacketFilterFault(Fault):
    """A fault made of iptables rules in the service's network namespace, all tagged with one
    comment (`self.comment`): injected and deleted by the helper container, their packet counters
    read around a probe to prove the rules act. A stopped container's namespace took its rules
    with it: nothing to restore then."""

    def __init__(self, stack: Stack, service: str, *, peer: str | None = None,
                 helper_timeout: float = HELPER_TIMEOUT, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(clock=clock)
        known_service(stack, service, type(self).__name__)
        if peer is not None:
            known_service(stack, peer, f"{type(self).__name__}: peer")
            if peer == service:
                raise BadInput(f"{type(self).__name__}: the peer must be another service than {service!r}")
        self.stack, self.service, self.peer, self.helper_timeout = stack, service, peer, helper_timeout
        self._image: str | None = None
        self._applied: tuple[FilterRule, ...] = ()  # what inject added (a peer's address is resolved then)

    @property
    def comment(self) -> str:
        """The tag of this fault's rules (and only of them: counters are read by it)."""
        return f"gameday-{self.stack.stack_id}-{self.name}"

    @abc.abstractmethod
    def rules(self) -> tuple[FilterRule, ...]:
        """The rules to add, computed when injecting."""

    def prepare(self) -> None:
        owned_container(self.stack, self.service)
        if self.peer is not None:
            owned_container(self.stack, self.peer)
        if self._image is None:  # built once, before the fault's clock starts
            self._image = ensure_nettools_image(self.stack.client)

    def _helper(self, script: str) -> tuple[int, str]:
        container = owned_container(self.stack, self.service)
        if self._image is None:
            self._image = ensure_nettools_image(self.stack.client)
        return run_helper(self.stack, container, self._image, script, timeout=self.helper_timeout)

    def _target_running(self) -> bool:
        """Whether the target has a network namespace to hold the rules (a stopped container's
        is gone, and its rules with it)."""
        return str(owned_container(self.stack, self.service).status) in ("running", "paused")

    def inject(self) -> None:
        if not self._target_running():
            raise FaultError(f"{self.service}: the container is not running; no packet filter to change")
        self._applied = self.rules()
        code, output = self._helper("set -e\n" + "\n".join(rule.insert() for rule in self._applied))
        if code != 0:
            raise FaultError(f"{self.service}: could not add the iptables rules (exit {code}): {tail(output)}")

    def is_active(self) -> bool:
        """Any of the fault's rules still there (the rest of a half-deleted fault is still a fault)."""
        if not self._applied or not self._target_running():
            return False
        code, _ = self._helper(" || ".join(f"{rule.check()} 2>/dev/null" for rule in self._applied))
        return code == 0

    def restore(self) -> None:
        if not self._applied or not self._target_running():
            return  # nothing added, or gone with the network namespace of a container that stopped
        code, output = self._helper("\n".join(rule.delete() for rule in self._applied) + "\nexit 0")
        if code != 0:
            raise FaultError(f"{self.service}: could not delete the iptables rules (exit {code}): {tail(output)}")

    def counted_probe(self, probe: str) -> dict[str, int]:
        """Run `probe` (bash that sets shell variables and ends by echoing `GAMEDAY-PROBE k=v ...`)
        between two readings of the rules' packet counters; its values plus `before` and `after`.
        FaultNotEffective when a rule is missing or the probe did not report."""
        chains = " ".join(sorted({rule.chain for rule in self._applied}))
        tag = shlex.quote(f"/* {self.comment} */")
        script = ("\n".join(f"{rule.check()} || {{ echo 'a rule is missing: {rule.chain}'; exit 3; }}"
                            for rule in self._applied) + "\n"
                  f"packets() {{ for chain in {chains}; do iptables -L $chain -v -n -x; done "
                  f"| grep -F -- {tag} | awk '{{s+=$1}} END {{print s+0}}'; }}\n"
                  f"before=$(packets)\n{probe}\nafter=$(packets)\n"
                  "echo \"GAMEDAY-RESULT before=${before:-0} after=${after:-0}\"")
        code, output = self._helper(script)
        found = {key: int(value) for line in _RESULT.findall(output) for key, value in _PAIR.findall(line)}
        if code != 0 or "after" not in found:
            raise FaultNotEffective(f"{self.describe()}: the check did not run (exit {code}): {tail(output)}")
        return found

    def rolled_back_detail(self) -> str:
        return f"{self.describe()}: the harness deleted its iptables rules"

    def ended_detail(self) -> str:
        return f"{self.describe()}: the rules were already gone when the harness came to roll back"


_RESULT = re.compile(r"^GAMEDAY-(?:RESULT|PROBE)((?: \w+=\d+)+)\s*$", re.MULTILINE)
_PAIR = re.compile(r"(\w+)=(\d+)")


def known_service(stack: Stack, service: str, what: str) -> None:
    """BadInput naming `what` (e.g. "Blackhole: peer") when the stack has no such service."""
    names = [spec.name for spec in stack.definition.services]
    if service not in names:
        raise BadInput(f"{what}: unknown service {service!r}; this stack has: {', '.join(names)}")


def check_port(port: int | None, proto: str, what: str) -> None:
    """BadInput unless `proto` is tcp or udp and `port` (when given) a port number."""
    if proto not in ("tcp", "udp"):
        raise BadInput(f"{what}: proto must be tcp or udp, got {proto!r}")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
        raise BadInput(f"{what}: {port!r} is not a port number (1-65535)")


def _address_on(stack: Stack, container: Any, key: str = "IPAddress") -> list[str]:
    """`container`'s addresses (or its networks' gateways, key="Gateway") on the stack's networks."""
    networks = (container.attrs.get("NetworkSettings") or {}).get("Networks") or {}
    found = (str((networks.get(name) or {}).get(key) or "") for name in _stack_networks(stack, container))
    return [address for address in found if address]


# -- refused port ------------------------------------------------------------------------------


class PortRefused(PacketFilterFault):
    """New connections to `port` of the service's container answered with a reset (tcp) or
    port-unreachable (udp), by an iptables rule in its own network namespace. Established
    connections are not touched, as when a firewall rule is added in front of a server."""

    name = "port-refused"

    def __init__(self, stack: Stack, service: str, port: int, *, proto: str = "tcp",
                 helper_timeout: float = HELPER_TIMEOUT, clock: Clock = SYSTEM_CLOCK) -> None:
        check_port(port, proto, "PortRefused")
        super().__init__(stack, service, helper_timeout=helper_timeout, clock=clock)
        self.port, self.proto = port, proto
        reject = "tcp-reset" if proto == "tcp" else "icmp-port-unreachable"
        self._match = shlex.join(["-p", proto, "--dport", str(port), "-m", "comment", "--comment", self.comment,
                                  "-j", "REJECT", "--reject-with", reject])

    def describe(self) -> str:
        return f"{self.proto} port {self.port} of {self.service} refusing connections"

    def rules(self) -> tuple[FilterRule, ...]:
        return (FilterRule("INPUT", self._match),)

    def verify(self) -> str:
        if self.proto != "tcp":
            self.counted_probe("")  # the rule is there
            return f"iptables rule in {self.service}'s namespace: INPUT {self._match}"
        address = self._address()
        seen = self.counted_probe(f"timeout {CONNECT_TIMEOUT_SECONDS} bash -c 'exec 3<>/dev/tcp/{address}/{self.port}' "
                                  "2>&1 | grep -qi refused; echo \"GAMEDAY-PROBE refused=$((1 - $?))\"")
        before, after = seen["before"], seen["after"]
        if not seen.get("refused") or after <= before:
            raise FaultNotEffective(f"{self.describe()}: a connection to {address}:{self.port} was not refused by "
                                    f"the rule (rule packets {before} -> {after})")
        return (f"a connection to {address}:{self.port} from {self.service}'s namespace was refused by the rule "
                f"(rule packets {before} -> {after})")

    def _address(self) -> str:
        """The target's address on the stack's network (how its peers reach it), else loopback."""
        return next(iter(_address_on(self.stack, owned_container(self.stack, self.service))), "127.0.0.1")


# -- dropped packets: a blackhole, a lossy link ------------------------------------------------

PROBE_PORT = 9  # "discard": where a probe knocks when the fault names no port (answered by a reset when not dropped)
BLACKHOLE_PROBE_SECONDS = 2  # a connect still unanswered after this was dropped (a reset comes in milliseconds)
LOSS_PROBE_SECONDS = 0.5  # under TCP's first SYN retransmission (1 s): a probe unanswered by then lost a packet
LOSS_PROBES = 100  # the loss proof sends at most this many probes ...
LOSS_PROOF_SECONDS = 10  # ... for at most this long, and stops once one was lost and one answered
UDP_PROBES = 20  # datagrams a udp proof sends


class _DroppedPackets(PacketFilterFault):
    """Packets in and out of the service's namespace dropped (iptables `-j DROP`, `extra` matches
    first): all of them but loopback's, or only those to and from `peer`'s address on the stack
    network, or only those of `port` (either end of the connection: the service's own port or the
    port it connects to)."""

    def __init__(self, stack: Stack, service: str, *, port: int | None, peer: str | None, proto: str,
                 helper_timeout: float, clock: Clock) -> None:
        check_port(port, proto, type(self).__name__)
        if port is None and proto != "tcp":
            raise BadInput(f"{type(self).__name__}: proto {proto!r} needs a port (without one, every protocol is hit)")
        super().__init__(stack, service, peer=peer, helper_timeout=helper_timeout, clock=clock)
        self.port, self.proto = port, proto

    @property
    def comment(self) -> str:
        scope = [self.service, self.peer or "", f"{self.proto}{self.port}" if self.port else ""]
        return f"gameday-{self.stack.stack_id}-{self.name}-{'-'.join(filter(None, scope))}"

    def scope(self) -> str:
        """Where it applies, for describe(): "app <-> leadprosper, tcp port 8080"."""
        where = f"{self.service} <-> {self.peer}" if self.peer else f"{self.service} (all but loopback)"
        return f"{where}, {self.proto} port {self.port}" if self.port else where

    def extra(self) -> list[str]:
        """Matches between the scope and the comment (e.g. a probability)."""
        return []

    def rules(self) -> tuple[FilterRule, ...]:
        ports = ["-p", self.proto, "-m", "multiport", "--ports", str(self.port)] if self.port else []
        tail_args = [*self.extra(), "-m", "comment", "--comment", self.comment, "-j", "DROP"]
        if self.peer is None:
            scopes = [("INPUT", ["!", "-i", "lo"]), ("OUTPUT", ["!", "-o", "lo"])]
        else:
            scopes = [(chain, [flag, address]) for address in self._peer_addresses()
                      for chain, flag in (("INPUT", "-s"), ("OUTPUT", "-d"))]
        return tuple(FilterRule(chain, shlex.join([*match, *ports, *tail_args])) for chain, match in scopes)

    def _peer_addresses(self) -> list[str]:
        assert self.peer is not None
        target, peer = owned_container(self.stack, self.service), owned_container(self.stack, self.peer)
        shared = set(_stack_networks(self.stack, target))
        networks = (peer.attrs.get("NetworkSettings") or {}).get("Networks") or {}
        addresses = sorted({str(networks[name].get("IPAddress") or "") for name in _stack_networks(self.stack, peer)
                            if name in shared} - {""})
        if not addresses:
            raise FaultError(f"{self.service} and {self.peer} share no network of stack {self.stack.name} "
                             "(is the peer running?)")
        return addresses

    def destination(self) -> tuple[str, int, str]:
        """Where a probe goes to be dropped: (address, port, what): the peer, else the gateway of
        the service's stack network (any address off loopback would do)."""
        port = self.port or PROBE_PORT
        if self.peer is not None:
            return self._applied_peer(), port, self.peer
        gateways = _address_on(self.stack, owned_container(self.stack, self.service), "Gateway")
        if not gateways:
            raise FaultNotEffective(f"{self.describe()}: {self.service} has no gateway on the stack's network to probe")
        return gateways[0], port, "the network's gateway"

    def _applied_peer(self) -> str:
        """The peer address the injected rules name."""
        for rule in self._applied:
            words = shlex.split(rule.spec)
            if "-d" in words:
                return words[words.index("-d") + 1]
        raise FaultNotEffective(f"{self.describe()}: no rule names {self.peer}'s address")

    def udp_probe(self) -> str:
        address, port, _ = self.destination()
        return (f"for _ in $(seq {UDP_PROBES}); do echo gameday > /dev/udp/{address}/{port}; done 2>/dev/null; "
                f"echo GAMEDAY-PROBE sent={UDP_PROBES}")


class Blackhole(_DroppedPackets):
    """Packets silently dropped (iptables `-j DROP`) in the service's network namespace, in both
    directions: a connection hangs until the client's own timeout gives up, where PortRefused's
    reset fails it at once.

    Scope: without `peer` or `port`, every packet in or out of the namespace except on loopback
    (the container's processes still reach each other and Docker's embedded DNS at 127.0.0.11);
    this includes the harness's published-port traffic, so the service looks gone from outside
    too. `peer="leadprosper"` narrows it to the packets to and from that service's address on the
    stack network (its address when injected: a peer that restarts may come back with another);
    `port` to those with that port at either end (the service's own listening port, or the port
    it connects to), `proto` tcp (default) or udp.
    """

    name = "blackhole"

    def __init__(self, stack: Stack, service: str, *, port: int | None = None, peer: str | None = None,
                 proto: str = "tcp", helper_timeout: float = HELPER_TIMEOUT, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(stack, service, port=port, peer=peer, proto=proto, helper_timeout=helper_timeout,
                         clock=clock)

    def describe(self) -> str:
        return f"packets blackholed: {self.scope()}"

    def verify(self) -> str:
        address, port, what = self.destination()
        if self.proto == "udp":
            seen = self.counted_probe(self.udp_probe())
            if seen["after"] - seen["before"] < UDP_PROBES:
                raise FaultNotEffective(f"{self.describe()}: {UDP_PROBES} datagrams to {address}:{port} but the "
                                        f"rule dropped {seen['after'] - seen['before']}")
            return f"{UDP_PROBES} datagrams to {what} ({address}:{port}) all dropped by the rule"
        seen = self.counted_probe(
            f"timeout {BLACKHOLE_PROBE_SECONDS} bash -c 'exec 3<>/dev/tcp/{address}/{port}' 2>/dev/null\n"
            "echo \"GAMEDAY-PROBE rc=$?\"")
        rc, before, after = seen.get("rc", -1), seen["before"], seen["after"]
        if rc != 124 or after <= before:
            raise FaultNotEffective(f"{self.describe()}: a connection to {what} ({address}:{port}) did not hang "
                                    f"(connect exit {rc}; rule packets {before} -> {after})")
        return (f"a connection from {self.service} to {what} ({address}:{port}) hung for "
                f"{BLACKHOLE_PROBE_SECONDS}s, its packets dropped by the rule (rule packets {before} -> {after})")


class PacketLoss(_DroppedPackets):
    """A lossy link: each packet in the scope dropped at random with probability `rate`
    (iptables `-m statistic --mode random --probability RATE -j DROP`), in BOTH directions, as a
    bad link loses requests and answers alike: one rule on INPUT (from the peer) and one on OUTPUT
    (to it), each drawing on its own, so a request and its answer both get through with
    probability (1 - rate)**2. TCP retransmits what is lost (the first SYN after 1 s, then
    doubling), so the symptom is latency and timeouts rather than errors. Scope as Blackhole's.
    """

    name = "packet-loss"

    def __init__(self, stack: Stack, service: str, rate: float, *, port: int | None = None,
                 peer: str | None = None, proto: str = "tcp", helper_timeout: float = HELPER_TIMEOUT,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate < 1:
            raise BadInput(f"PacketLoss: rate is the share of packets dropped, strictly between 0 and 1 "
                           f"(0.2 for 20 %), got {rate!r}")
        super().__init__(stack, service, port=port, peer=peer, proto=proto, helper_timeout=helper_timeout,
                         clock=clock)
        self.rate = float(rate)

    def describe(self) -> str:
        return f"{self.rate * 100:g}% packet loss each way: {self.scope()}"

    def extra(self) -> list[str]:
        return ["-m", "statistic", "--mode", "random", "--probability", f"{self.rate:.6f}"]

    def verify(self) -> str:
        address, port, what = self.destination()
        if self.proto == "udp":
            seen = self.counted_probe(self.udp_probe())
            dropped = seen["after"] - seen["before"]
            if dropped < 1:
                raise FaultNotEffective(f"{self.describe()}: none of {UDP_PROBES} datagrams to {address}:{port} "
                                        "was dropped by the rule")
            return f"{dropped} of {UDP_PROBES} datagrams to {what} ({address}:{port}) dropped by the rule"
        seen = self.counted_probe(
            f"sent=0 lost=0 answered=0 end=$((SECONDS + {LOSS_PROOF_SECONDS}))\n"
            f"while [ $sent -lt {LOSS_PROBES} ] && [ $SECONDS -lt $end ]; do\n"
            f"  sent=$((sent + 1))\n"
            f"  timeout {LOSS_PROBE_SECONDS:g} bash -c 'exec 3<>/dev/tcp/{address}/{port}' 2>/dev/null\n"
            "  if [ $? -eq 124 ]; then lost=$((lost + 1)); else answered=$((answered + 1)); fi\n"
            "  [ $lost -gt 0 ] && [ $answered -gt 0 ] && break\n"
            "done\n"
            "echo \"GAMEDAY-PROBE sent=$sent lost=$lost answered=$answered\"")
        sent, lost, answered = seen.get("sent", 0), seen.get("lost", 0), seen.get("answered", 0)
        before, after = seen["before"], seen["after"]
        if lost < 1 or after <= before:
            raise FaultNotEffective(f"{self.describe()}: none of {sent} connects to {what} ({address}:{port}) lost a "
                                    f"packet to the rule (rule packets {before} -> {after})")
        return (f"of {sent} connects from {self.service} to {what} ({address}:{port}), {lost} lost a packet "
                f"(unanswered after {LOSS_PROBE_SECONDS:g}s) and {answered} were answered; rule packets "
                f"{before} -> {after}")
