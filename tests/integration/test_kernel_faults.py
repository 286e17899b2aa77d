"""Kernel-level network faults on the real reference stack: iptables DROP rules in a service's
namespace, no proxy. A blackholed connection hangs (not refused) until restored; a lossy link
loses some, not all, of a bounded burst of connects; the rules and helpers never outlive the
`with` block, whichever way it is left."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from harness.faults import Blackhole, FaultRecord, PacketLoss, listening
from harness.faults.network import ensure_nettools_image, run_helper
from harness.stack.labels import STACK_ID
from harness.stack.stack import Stack
from harness.stack.waits import wait_for

CONNECT_SECONDS = 2  # a connect from app to db that takes longer than this is hanging
LOSS_CONNECT_SECONDS = 0.5  # under TCP's first SYN retransmission (1 s): longer means a lost packet
LOSS_CONNECTS = 30
WAIT = 30.0
POLL = 0.2


def db_address(stack: Stack) -> str:
    """db's own address on the stack network. Not the name `db`: the app's /etc/hosts points that
    at the stack's Toxiproxy server (ChatKit's link), and these faults act between two containers."""
    networks = stack.container("db").attrs["NetworkSettings"]["Networks"]
    return str(networks[stack.name]["IPAddress"])


def connect_from_app(stack: Stack, timeout: float = CONNECT_SECONDS, port: int = 5432) -> int:
    """The exit of one bounded TCP connect from the app's container to db (0 connected, 124 hung)."""
    result = stack.host("app").exec(f"timeout {timeout:g} bash -c 'exec 3<>/dev/tcp/{db_address(stack)}/{port}'",
                                    timeout=timeout + 10)
    return result.exit_code


def burst_from_app(stack: Stack, count: int = LOSS_CONNECTS) -> tuple[int, int]:
    """(connected, hung) of `count` bounded connects from app to db:5432."""
    script = (f"ok=0; lost=0; for _ in $(seq {count}); do "
              f"if timeout {LOSS_CONNECT_SECONDS:g} bash -c 'exec 3<>/dev/tcp/{db_address(stack)}/5432' 2>/dev/null; "
              "then ok=$((ok + 1)); else lost=$((lost + 1)); fi; done; echo \"$ok $lost\"")
    result = stack.host("app").exec(script, timeout=count * LOSS_CONNECT_SECONDS + 20)
    assert result.ok, result
    connected, hung = (int(word) for word in result.stdout.split())
    return connected, hung


def gameday_rules(stack: Stack, service: str) -> list[str]:
    """The harness's iptables rules left in `service`'s namespace (read by a helper of our own)."""
    image = ensure_nettools_image(stack.client)
    code, output = run_helper(stack, stack.container(service), image, "iptables -S")
    assert code == 0, output
    return [line for line in output.splitlines() if "gameday-" in line]


def helpers_left(stack: Stack) -> list[object]:
    return list(stack.client.containers.list(ignore_removed=True, all=True, filters={
        "label": [f"{STACK_ID}={stack.stack_id}", "gameday.role=fault-helper"]}))


def probability(rule: str) -> float:
    words = rule.split()
    return float(words[words.index("--probability") + 1])


def actions(records: tuple[FaultRecord, ...]) -> list[str]:
    return [record.action for record in records]


def published_port_answers(stack: Stack) -> bool:
    """The app's published port accepts a TCP connection from this machine (the harness's path)."""
    url = urlsplit(stack.endpoint("app", 8000))
    with socket.create_connection((url.hostname or "127.0.0.1", url.port or 0), timeout=CONNECT_SECONDS):
        return True


def test_blackhole_between_app_and_db_hangs_connections_until_restored(chatkit: Stack) -> None:
    stack = chatkit
    assert connect_from_app(stack) == 0
    with Blackhole(stack, "app", peer="db", port=5432) as fault:
        assert "hung" in fault.records[1].detail
        assert "rule packets" in fault.records[1].detail
        assert fault.is_active()
        assert connect_from_app(stack) == 124  # hangs until the client's timeout: not refused (exit 1)
        # Scoped to db: Docker's DNS (127.0.0.11) still answers, and the harness still reaches the app.
        resolved = stack.host("app").exec("getent hosts db", timeout=10)
        assert resolved.ok, resolved
        assert published_port_answers(stack)
    assert actions(fault.records) == ["injected", "verified", "rolled-back"]
    assert not fault.is_active()
    wait_for(lambda: (connect_from_app(stack) == 0, "connect app -> db"), what="app reaching db again",
             timeout=WAIT, interval=POLL)
    assert gameday_rules(stack, "app") == []
    assert helpers_left(stack) == []


def test_packet_loss_between_app_and_db_loses_some_connects_not_all(chatkit: Stack) -> None:
    stack = chatkit
    assert burst_from_app(stack, 10) == (10, 0)  # the control: a healthy link loses none
    with PacketLoss(stack, "app", 0.3, peer="db", port=5432) as fault:
        assert "lost a packet" in fault.records[1].detail
        rules = gameday_rules(stack, "app")
        assert len(rules) == 2, rules
        assert [round(probability(rule), 6) for rule in rules] == [0.3, 0.3]  # the kernel keeps 32 bits of it
        assert {rule.split()[1] for rule in rules} == {"INPUT", "OUTPUT"}  # both directions
        connected, hung = burst_from_app(stack)
        assert connected > 0, (connected, hung)
        assert hung > 0, (connected, hung)
    assert actions(fault.records) == ["injected", "verified", "rolled-back"]
    assert burst_from_app(stack, 10) == (10, 0)
    assert gameday_rules(stack, "app") == []
    assert helpers_left(stack) == []


def test_a_failing_with_block_rolls_the_rules_back(chatkit: Stack) -> None:
    stack = chatkit
    seen: list[FaultRecord] = []

    def drill() -> None:
        with listening(seen.append), Blackhole(stack, "db", peer="app"), PacketLoss(stack, "app", 0.5, peer="db"):
            assert len(gameday_rules(stack, "db")) == 2
            assert len(gameday_rules(stack, "app")) == 2
            raise RuntimeError("the drill crashed")

    with pytest.raises(RuntimeError, match="the drill crashed"):
        drill()
    assert [(r.fault, r.action) for r in seen] == [
        ("blackhole", "injected"), ("blackhole", "verified"), ("packet-loss", "injected"),
        ("packet-loss", "verified"), ("packet-loss", "rolled-back"), ("blackhole", "rolled-back")]
    assert gameday_rules(stack, "db") == []
    assert gameday_rules(stack, "app") == []
    assert connect_from_app(stack) == 0
    assert helpers_left(stack) == []


def test_a_blackholed_container_that_stopped_took_its_rules_with_it(fresh_chatkit: Stack) -> None:
    stack = fresh_chatkit
    with Blackhole(stack, "db", port=5432) as fault:
        stack.container("db").stop(timeout=5)
        assert not fault.is_active()
    assert actions(fault.records) == ["injected", "verified", "already-restored"]
    assert helpers_left(stack) == []
