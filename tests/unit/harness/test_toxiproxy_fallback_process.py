"""The stand-in Toxiproxy as the program a container runs: python3 alone, its API on the address
given, and SIGTERM closing every listener and link before a clean exit."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.stack.waits import wait_for
from harness.toxiproxy import ToxiproxyClient, ToxiproxyError

FALLBACK = Path(__file__).resolve().parents[3] / "harness" / "proxyserver" / "toxiproxy_fallback.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def program() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-I", str(FALLBACK), "--api", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        assert process.stderr
        process.stderr.close()


def answers(client: ToxiproxyClient) -> tuple[bool, str]:
    try:
        return True, client.version()
    except ToxiproxyError as exc:
        return False, str(exc)


def test_sigterm_closes_the_proxies_and_exits_cleanly(program: tuple[subprocess.Popen[bytes], str],
                                                      tcp_upstream: int) -> None:
    process, url = program
    with ToxiproxyClient(url, timeout=2) as client:
        wait_for(lambda: answers(client), what="the stand-in's API", timeout=10, interval=0.05)
        made = client.create_proxy("db", listen="127.0.0.1:0", upstream=f"127.0.0.1:{tcp_upstream}")
        port = int(made.listen.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as live:
            live.sendall(b"ping\n")
            assert live.recv(10) == b"ping\n"
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=5) == 0
            assert live.recv(10) == b""  # the live link was closed, not left hanging
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    assert process.stderr
    log = process.stderr.read().decode()
    assert "stand-in" in log
    assert "stopping" in log
