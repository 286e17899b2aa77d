"""What the Toxiproxy server in use costs with no toxic: round trips (p50/p99 over N line echoes on
one connection) through it next to a direct connection, and the throughput of 100 MB through it
next to direct. The server is the harness's stand-in (harness/proxyserver/toxiproxy_fallback.py),
started here as its own process, unless GAMEDAY_TOXIPROXY_URL names another (e.g. the official
toxiproxy-server on this machine). Everything on 127.0.0.1; bounded in count and time.

    .venv/bin/python bench/bench_toxiproxy.py [--echoes 1000] [--megabytes 100]

Toxiproxy's README, for comparison, says it adds under 100 µs of latency and moves 1,000-2,400 MB/s
(its own benchmarks, on other hardware).
"""

from __future__ import annotations

import argparse
import os
import socket
import socketserver
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results_io import publish  # noqa: E402
from harness.stack.waits import wait_for  # noqa: E402
from harness.toxiproxy import ToxiproxyClient, ToxiproxyError  # noqa: E402

STAND_IN = ROOT / "harness" / "proxyserver" / "toxiproxy_fallback.py"
CHUNK = 64 * 1024
TIMEOUT = 120.0  # any one measurement


class Echo(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        while line := self.rfile.readline():
            self.wfile.write(line)


class Source(socketserver.BaseRequestHandler):
    """Sends the number of bytes the client asks for (an 8-byte count), then closes."""

    def handle(self) -> None:
        wanted = int.from_bytes(self.request.recv(8), "big")
        block = b"x" * CHUNK
        while wanted > 0:
            self.request.sendall(block[:min(CHUNK, wanted)])
            wanted -= min(CHUNK, wanted)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def serving(handler: type[socketserver.BaseRequestHandler]) -> Iterator[int]:
    server = Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def toxiproxy_server() -> Iterator[tuple[str, str]]:
    """(API URL, what it is): GAMEDAY_TOXIPROXY_URL's server, else the stand-in in its own process."""
    given = os.environ.get("GAMEDAY_TOXIPROXY_URL")
    if given:
        yield given.rstrip("/"), f"the server at {given}"
        return
    url = f"http://127.0.0.1:{free_port()}"
    process = subprocess.Popen([sys.executable, str(STAND_IN), "--api", url.removeprefix("http://")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with ToxiproxyClient(url) as client:
            def answers() -> tuple[bool, str]:
                try:
                    return True, client.version()
                except ToxiproxyError as exc:
                    return False, str(exc)

            version = wait_for(answers, what="the stand-in answering", timeout=10, interval=0.05)
        yield url, f"the harness's stand-in ({version})"
    finally:
        process.terminate()
        process.wait(timeout=10)


def round_trips(port: int, count: int) -> list[float]:
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = sock.makefile("rb")
        times = []
        for _ in range(count):
            start = time.perf_counter()
            sock.sendall(b"ping\n")
            if reader.readline() != b"ping\n":
                raise RuntimeError("the echo came back wrong")
            times.append((time.perf_counter() - start) * 1000)
        reader.close()
    return times


def throughput(port: int, megabytes: int) -> float:
    """MB/s for `megabytes` read from the source through `port`."""
    wanted = megabytes * 1_000_000
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        start = time.perf_counter()
        sock.sendall(wanted.to_bytes(8, "big"))
        got = 0
        while chunk := sock.recv(1 << 20):
            got += len(chunk)
        took = time.perf_counter() - start
    if got != wanted:
        raise RuntimeError(f"read {got} bytes of {wanted}")
    return megabytes / took


def percentile(times: list[float], share: float) -> float:
    return sorted(times)[min(len(times) - 1, int(len(times) * share))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--echoes", type=int, default=1000)
    parser.add_argument("--megabytes", type=int, default=100)
    args = parser.parse_args()
    if not (0 < args.echoes <= 100_000 and 0 < args.megabytes <= 10_000):
        parser.error("--echoes from 1 to 100000, --megabytes from 1 to 10000")
    with serving(Echo) as echo, serving(Source) as source, toxiproxy_server() as (url, what), \
            ToxiproxyClient(url) as client:
        for name in ("bench-echo", "bench-source"):
            if name in client.proxies():
                client.delete_proxy(name)
        listen = "127.0.0.1:0" if "stand-in" in what else f"127.0.0.1:{free_port()}"
        echo_via = client.create_proxy("bench-echo", listen, f"127.0.0.1:{echo}")
        listen = "127.0.0.1:0" if "stand-in" in what else f"127.0.0.1:{free_port()}"
        source_via = client.create_proxy("bench-source", listen, f"127.0.0.1:{source}")
        try:
            direct = round_trips(echo, args.echoes)
            proxied = round_trips(int(echo_via.listen.rsplit(":", 1)[1]), args.echoes)
            direct_mb = throughput(source, args.megabytes)
            proxied_mb = throughput(int(source_via.listen.rsplit(":", 1)[1]), args.megabytes)
        finally:
            client.delete_proxy("bench-echo")
            client.delete_proxy("bench-source")
    publish("toxiproxy", {
        "server": what,
        "echoes": args.echoes,
        "direct p50 ms": round(statistics.median(direct), 3),
        "direct p99 ms": round(percentile(direct, 0.99), 3),
        "proxied p50 ms": round(statistics.median(proxied), 3),
        "proxied p99 ms": round(percentile(proxied, 0.99), 3),
        "added p50 ms": round(statistics.median(proxied) - statistics.median(direct), 3),
        "added p99 ms": round(percentile(proxied, 0.99) - percentile(direct, 0.99), 3),
        "megabytes": args.megabytes,
        "direct MB/s": round(direct_mb),
        "proxied MB/s": round(proxied_mb),
        "toxiproxy's published figures": "under 100 µs added; 1,000-2,400 MB/s (its README)",
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
