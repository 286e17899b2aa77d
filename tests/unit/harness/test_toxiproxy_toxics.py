"""Each toxic of the stand-in Toxiproxy measured for real through a proxy on loopback, in this
process: latency at p50, a timeout that hangs then closes, a reset that is a TCP RST, bandwidth,
limit_data, slicer, slow_close, toxicity, `enabled: false`; and removing a toxic restores the link.
Figures go to stdout (`pytest -s` shows them)."""

from __future__ import annotations

import os
import socket
import statistics
import time
from collections.abc import Callable, Iterator

import pytest

from harness.stack.waits import wait_for
from harness.toxiproxy import ToxiproxyClient

ROUND_TRIPS = 30


@pytest.fixture
def port(toxiproxy: ToxiproxyClient, tcp_upstream: int) -> int:
    """The listening port of proxy `link` to the echo upstream."""
    made = toxiproxy.create_proxy("link", listen="127.0.0.1:0", upstream=f"127.0.0.1:{tcp_upstream}")
    return int(made.listen.rsplit(":", 1)[1])


Connect = Callable[..., socket.socket]


@pytest.fixture
def connect() -> Iterator[Connect]:
    """Connections opened in a test are closed after it."""
    opened: list[socket.socket] = []

    def open_(port: int, timeout: float = 5.0) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        opened.append(sock)
        return sock

    yield open_
    for sock in opened:
        sock.close()


def round_trips(sock: socket.socket, count: int) -> list[float]:
    """Milliseconds for each of `count` line echoes on one connection."""
    reader = sock.makefile("rb")
    times = []
    try:
        for _ in range(count):
            start = time.perf_counter()
            sock.sendall(b"ping\n")
            assert reader.readline() == b"ping\n"
            times.append((time.perf_counter() - start) * 1000)
    finally:
        reader.close()
    return times


def receive_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def p50(times: list[float]) -> float:
    return statistics.median(times)


def test_no_toxic_adds_little_latency_over_a_direct_connection(port: int, tcp_upstream: int, connect: Connect) -> None:
    direct = p50(round_trips(connect(tcp_upstream), 200))
    proxied = p50(round_trips(connect(port), 200))
    print(f"\np50 round trip over 200 echoes: direct {direct:.3f} ms, through the stand-in {proxied:.3f} ms "
          f"(+{proxied - direct:.3f} ms)")
    assert proxied < direct + 5.0


def test_latency_is_what_was_asked_at_p50_and_its_removal_restores_the_link(
        toxiproxy: ToxiproxyClient, port: int, connect: Connect) -> None:
    sock = connect(port)
    before = p50(round_trips(sock, ROUND_TRIPS))
    toxiproxy.add_toxic("link", "latency", {"latency": 100})
    with_toxic = p50(round_trips(sock, ROUND_TRIPS))  # the same connection: toxics apply to live links
    toxiproxy.remove_toxic("link", "latency_downstream")
    after = p50(round_trips(sock, ROUND_TRIPS))
    print(f"\np50 round trip: {before:.3f} ms, with latency 100 ms {with_toxic:.3f} ms, removed {after:.3f} ms")
    assert 90.0 <= with_toxic <= 110.0
    assert after < 10.0
    assert after < before + 5.0


def test_latency_is_pipelined_like_toxiproxys(toxiproxy: ToxiproxyClient, port: int, connect: Connect) -> None:
    """Lines sent 20 ms apart come back 20 ms apart, each 200 ms late: the delay counts from when a
    chunk arrived, not from when the one before it left (that would add 200 ms per line)."""
    toxiproxy.add_toxic("link", "latency", {"latency": 200})
    sock = connect(port)
    reader = sock.makefile("rb")
    try:
        start = time.perf_counter()
        for index in range(5):
            sock.sendall(f"line {index}\n".encode())
            time.sleep(0.02)  # the sender's own pace, the thing measured: not a wait for a condition
        arrivals = []
        for index in range(5):
            assert reader.readline() == f"line {index}\n".encode()
            arrivals.append((time.perf_counter() - start) * 1000)
    finally:
        reader.close()
    print(f"\nfive lines 20 ms apart through 200 ms of latency arrived at {[round(a) for a in arrivals]} ms")
    assert 195.0 <= arrivals[0] <= 260.0
    assert arrivals[-1] <= 200.0 + 5 * 20 + 60.0  # serial delays would make it over 1000 ms


def test_latency_upstream_with_jitter(toxiproxy: ToxiproxyClient, port: int, connect: Connect) -> None:
    toxiproxy.add_toxic("link", "latency", {"latency": 50, "jitter": 10}, stream="upstream")
    times = round_trips(connect(port), ROUND_TRIPS)
    print(f"\nlatency 50±10 ms upstream: p50 {p50(times):.3f} ms, min {min(times):.3f}, max {max(times):.3f}")
    assert 45.0 <= p50(times) <= 55.0
    assert min(times) >= 39.0
    assert max(times) <= 75.0


def test_timeout_hangs_then_closes(toxiproxy: ToxiproxyClient, port: int, connect: Connect) -> None:
    toxiproxy.add_toxic("link", "timeout", {"timeout": 300})
    sock = connect(port)
    start = time.perf_counter()
    sock.sendall(b"ping\n")
    received = receive_all(sock)  # nothing comes back; then the proxy closes the link
    elapsed = time.perf_counter() - start
    print(f"\ntimeout 300 ms: closed after {elapsed * 1000:.1f} ms with {len(received)} bytes")
    assert received == b""
    assert 0.27 <= elapsed <= 2.0


def test_timeout_zero_drops_data_until_the_toxic_goes_then_closes_the_link(
        toxiproxy: ToxiproxyClient, port: int, connect: Connect) -> None:
    """Toxiproxy's timeout toxic: what arrives meanwhile is dropped, and removing the toxic closes
    the connections it stalled (a new one works at once)."""
    toxiproxy.add_toxic("link", "timeout", {"timeout": 0})
    sock = connect(port, timeout=0.5)
    sock.sendall(b"ping\n")
    with pytest.raises(TimeoutError):
        sock.recv(100)
    toxiproxy.remove_toxic("link", "timeout_downstream")
    sock.settimeout(5)
    assert receive_all(sock) == b""  # closed, and the stalled line never came back
    assert round_trips(connect(port), 1)


def test_reset_peer_resets(toxiproxy: ToxiproxyClient, port: int, connect: Connect) -> None:
    toxiproxy.add_toxic("link", "reset_peer", {"timeout": 100})
    sock = connect(port)
    start = time.perf_counter()
    with pytest.raises(ConnectionResetError):
        receive_all(sock)
    elapsed = time.perf_counter() - start
    print(f"\nreset_peer 100 ms: reset after {elapsed * 1000:.1f} ms")
    assert 0.09 <= elapsed <= 2.0


def test_reset_peer_zero_resets_at_once(toxiproxy: ToxiproxyClient, port: int, connect: Connect) -> None:
    toxiproxy.add_toxic("link", "reset_peer", {"timeout": 0})
    with pytest.raises(ConnectionResetError):  # as early as the connect's own socket options
        receive_all(connect(port))


def test_bandwidth_within_20_percent(toxiproxy: ToxiproxyClient, port: int, connect: Connect) -> None:
    size = 400_000
    toxiproxy.add_toxic("link", "bandwidth", {"rate": 200})
    sock = connect(port)
    start = time.perf_counter()
    sock.sendall(f"BULK {size}\n".encode())
    received = receive_all(sock)
    elapsed = time.perf_counter() - start
    rate = len(received) / elapsed / 1000
    print(f"\nbandwidth 200 KB/s: {len(received)} bytes in {elapsed:.3f} s = {rate:.1f} KB/s")
    assert len(received) == size
    assert 160 <= rate <= 240


def test_bandwidth_removed_is_fast_again(toxiproxy: ToxiproxyClient, port: int, connect: Connect) -> None:
    toxiproxy.add_toxic("link", "bandwidth", {"rate": 10})
    toxiproxy.remove_toxic("link", "bandwidth_downstream")
    sock = connect(port)
    start = time.perf_counter()
    sock.sendall(b"BULK 400000\n")
    assert len(receive_all(sock)) == 400_000
    assert time.perf_counter() - start < 1.0


def test_limit_data_closes_after_the_bytes(toxiproxy: ToxiproxyClient, port: int, connect: Connect) -> None:
    toxiproxy.add_toxic("link", "limit_data", {"bytes": 1000})
    sock = connect(port)
    sock.sendall(b"BULK 50000\n")
    assert len(receive_all(sock)) == 1000


def test_slicer_delivers_everything_in_slices(toxiproxy: ToxiproxyClient, port: int, connect: Connect) -> None:
    toxiproxy.add_toxic("link", "slicer", {"average_size": 100, "size_variation": 20, "delay": 2000})
    sock = connect(port)
    start = time.perf_counter()
    sock.sendall(b"BULK 5000\n")
    received = receive_all(sock)
    elapsed = time.perf_counter() - start
    print(f"\nslicer 100±20 bytes, 2 ms apart: 5000 bytes in {elapsed * 1000:.1f} ms")
    assert len(received) == 5000
    assert elapsed >= 0.04 * 2  # about 50 slices, 2 ms apart (at most 42 slices of 120 bytes)


def test_slow_close_delays_the_close(toxiproxy: ToxiproxyClient, port: int, connect: Connect) -> None:
    toxiproxy.add_toxic("link", "slow_close", {"delay": 300})
    sock = connect(port)
    start = time.perf_counter()
    sock.sendall(b"BULK 10\n")
    received = receive_all(sock)
    elapsed = time.perf_counter() - start
    assert received == b"x" * 10
    assert 0.28 <= elapsed <= 2.0


def test_toxicity_is_drawn_per_connection(toxiproxy: ToxiproxyClient, port: int, connect: Connect) -> None:
    toxiproxy.add_toxic("link", "latency", {"latency": 60}, toxicity=0.5)
    slow = [round_trips(connect(port), 1)[0] >= 50.0 for _ in range(30)]
    print(f"\ntoxicity 0.5: {sum(slow)} of {len(slow)} connections got the latency")
    assert 0 < sum(slow) < len(slow)
    toxiproxy.update_toxic("link", "latency_downstream", toxicity=0.0)
    assert p50([round_trips(connect(port), 1)[0] for _ in range(5)]) < 50.0  # p50: a busy moment is no toxic


def test_disabling_closes_the_listener_and_the_live_links(
        toxiproxy: ToxiproxyClient, port: int, connect: Connect) -> None:
    live = connect(port)
    assert round_trips(live, 1)
    toxiproxy.update_proxy("link", enabled=False)
    assert live.recv(10) == b""  # the live link was closed
    with pytest.raises(ConnectionRefusedError):
        connect(port)
    toxiproxy.update_proxy("link", enabled=True)
    assert round_trips(connect(port), 1)


@pytest.mark.skipif(bool(os.environ.get("GAMEDAY_TOXIPROXY_URL")),
                    reason="the stand-in's own bound: Toxiproxy itself has no connection cap")
def test_connections_over_the_cap_are_closed(toxiproxy: ToxiproxyClient, port: int, connect: Connect) -> None:
    cap = 64  # the fixture's max_connections
    links = [connect(port) for _ in range(cap)]
    for sock in links:
        assert round_trips(sock, 1)
    extra = connect(port)

    def refused() -> tuple[bool, str]:
        try:
            data = extra.recv(10)
        except ConnectionResetError:
            return True, "reset"
        return data == b"", f"received {data!r}"

    wait_for(refused, what="the connection over the cap to be closed", timeout=5, interval=0.05)
    links[0].close()

    def room_again() -> tuple[bool, str]:
        try:
            sock = connect(port, timeout=1.0)
            return bool(round_trips(sock, 1)), "served"
        except (OSError, AssertionError) as exc:
            return False, repr(exc)

    wait_for(room_again, what="a connection once one closed", timeout=5, interval=0.05)
