"""Blackhole and PacketLoss without Docker: what they refuse, and the iptables rules they would add."""

from __future__ import annotations

import shlex
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness import Blackhole, PacketLoss, PortRefused
from harness.errors import BadInput
from harness.faults.base import BlastRadiusError
from harness.faults.network import FilterRule
from harness.stack.definition import load_definition

ROOT = Path(__file__).resolve().parents[3]
REDIS_CHAT = ROOT / "stack" / "redis-chat" / "compose.yaml"
ADDRESSES = {"app": "172.30.0.5", "leadprosper": "172.30.0.4", "redis": "172.30.0.2", "openai": "172.30.0.3"}
NETWORK = "gameday-redis-chat-abc"


def fake_stack(*, foreign: str = "") -> Any:
    """The Redis chat definition, its containers on one stack network (`foreign` lacks our label)."""
    def container(service: str) -> Any:
        labels = {} if service == foreign else {"gameday.stack-id": "abc"}
        network = {"IPAddress": ADDRESSES[service], "Gateway": "172.30.0.1"}
        return SimpleNamespace(name=f"{NETWORK}-{service}", labels=labels, status="running",
                               attrs={"NetworkSettings": {"Networks": {NETWORK: network}}})

    client = SimpleNamespace(networks=SimpleNamespace(list=lambda filters: [SimpleNamespace(name=NETWORK)]))
    return SimpleNamespace(stack_id="abc", name=NETWORK, definition=load_definition(REDIS_CHAT), client=client,
                           container=container)


# -- refused -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [0, 1, 1.5, -0.2, float("nan"), True, "0.2", None])
def test_packet_loss_refuses_a_rate_outside_zero_to_one(rate: Any) -> None:
    with pytest.raises(BadInput, match=r"PacketLoss: rate .* strictly between 0 and 1"):
        PacketLoss(fake_stack(), "app", rate, peer="leadprosper")


@pytest.mark.parametrize("fault", [Blackhole, PacketLoss])
@pytest.mark.parametrize("port", [0, 65536, -1, True, "8080"])
def test_a_port_outside_1_to_65535_is_refused(fault: type[Blackhole] | type[PacketLoss], port: Any) -> None:
    args = (0.2,) if fault is PacketLoss else ()
    with pytest.raises(BadInput, match=rf"{fault.__name__}: .* is not a port number \(1-65535\)"):
        fault(fake_stack(), "app", *args, port=port)


def test_port_refused_keeps_refusing_bad_ports_and_protocols() -> None:
    with pytest.raises(BadInput, match="PortRefused: 0 is not a port number"):
        PortRefused(fake_stack(), "redis", 0)
    with pytest.raises(BadInput, match="PortRefused: proto must be tcp or udp, got 'icmp'"):
        PortRefused(fake_stack(), "redis", 6379, proto="icmp")


def test_an_unknown_peer_is_refused_with_the_services_there_are() -> None:
    with pytest.raises(BadInput, match=r"Blackhole: peer: unknown service 'lead-prosper'; this stack has: "
                                       r"redis, openai, leadprosper, app"):
        Blackhole(fake_stack(), "app", peer="lead-prosper")
    with pytest.raises(BadInput, match=r"PacketLoss: unknown service 'web'"):
        PacketLoss(fake_stack(), "web", 0.1)


def test_a_service_cannot_be_its_own_peer() -> None:
    with pytest.raises(BadInput, match="the peer must be another service than 'app'"):
        PacketLoss(fake_stack(), "app", 0.1, peer="app")


def test_a_protocol_needs_a_port_and_must_be_tcp_or_udp() -> None:
    with pytest.raises(BadInput, match="Blackhole: proto 'udp' needs a port"):
        Blackhole(fake_stack(), "app", proto="udp")
    with pytest.raises(BadInput, match="PacketLoss: proto must be tcp or udp, got 'sctp'"):
        PacketLoss(fake_stack(), "app", 0.1, port=80, proto="sctp")


def test_a_peer_outside_the_stack_is_refused_before_anything_is_built() -> None:
    fault = Blackhole(fake_stack(foreign="leadprosper"), "app", peer="leadprosper")
    with pytest.raises(BlastRadiusError, match="leadprosper"):
        fault.prepare()  # refused before the helper image is even looked for (no Docker client here)


# -- the rules -----------------------------------------------------------------------------------------


def words(rule: FilterRule) -> list[str]:
    return shlex.split(rule.spec)


def test_a_peer_scoped_blackhole_drops_both_directions_of_that_address_only() -> None:
    fault = Blackhole(fake_stack(), "app", peer="leadprosper", port=8080)
    rules = fault.rules()
    comment = ["-m", "comment", "--comment", "gameday-abc-blackhole-app-leadprosper-tcp8080", "-j", "DROP"]
    ports = ["-p", "tcp", "-m", "multiport", "--ports", "8080"]
    assert [(r.chain, words(r)) for r in rules] == [
        ("INPUT", ["-s", "172.30.0.4", *ports, *comment]),
        ("OUTPUT", ["-d", "172.30.0.4", *ports, *comment])]
    assert fault.describe() == "packets blackholed: app <-> leadprosper, tcp port 8080"


def test_packet_loss_without_a_peer_spares_loopback_and_draws_its_rate_on_each_chain() -> None:
    fault = PacketLoss(fake_stack(), "app", 0.25)
    rules = fault.rules()
    statistic = ["-m", "statistic", "--mode", "random", "--probability", "0.250000"]
    tagged = ["-m", "comment", "--comment", "gameday-abc-packet-loss-app", "-j", "DROP"]
    assert [(r.chain, words(r)) for r in rules] == [
        ("INPUT", ["!", "-i", "lo", *statistic, *tagged]),
        ("OUTPUT", ["!", "-o", "lo", *statistic, *tagged])]
    assert fault.describe() == "25% packet loss each way: app (all but loopback)"


def test_faults_on_different_scopes_tag_their_rules_apart() -> None:
    stack = fake_stack()
    comments = {Blackhole(stack, "app").comment, Blackhole(stack, "app", peer="redis").comment,
                Blackhole(stack, "app", port=80).comment, PacketLoss(stack, "app", 0.5, peer="redis").comment,
                PortRefused(stack, "app", 80).comment}
    assert len(comments) == 5


def test_a_rule_is_added_once_and_deleted_in_every_copy() -> None:
    rule = FilterRule("OUTPUT", "-d 10.0.0.1 -j DROP")
    assert rule.insert() == ("{ iptables -C OUTPUT -d 10.0.0.1 -j DROP 2>/dev/null || "
                             "iptables -I OUTPUT 1 -d 10.0.0.1 -j DROP; }")
    assert "iptables -D OUTPUT -d 10.0.0.1 -j DROP" in rule.delete()
    assert rule.delete().startswith("for _ in 1 2 3 4 5 6 7 8 9 10; do iptables -C OUTPUT")


def test_nothing_injected_is_nothing_to_restore() -> None:
    fault = PacketLoss(fake_stack(), "app", 0.3, peer="leadprosper")
    assert not fault.is_active()  # no rule was added: no helper is run to look
    fault.restore()
