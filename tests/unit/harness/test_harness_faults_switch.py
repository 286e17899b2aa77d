"""HttpSwitch against a real control endpoint on loopback (a tiny server in a thread): it switches,
proves, reads its state back, tells "ended by itself" from "rolled back", and refuses other hosts."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from harness.errors import BadInput
from harness.faults.base import FaultError, FaultNotEffective, FaultRecord, listening
from harness.faults.switch import HttpSwitch


class Control:
    """The switch's state, and whether the server obeys switches at all."""

    def __init__(self) -> None:
        self.state: dict[str, Any] = {"mode": "healthy"}
        self.obey = True
        self.posts: list[dict[str, Any]] = []


@pytest.fixture
def control() -> Iterator[tuple[Control, str]]:
    shared = Control()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return None

        def answer(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self.answer(200, shared.state)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            shared.posts.append(body)
            if body.get("mode") == "broken-switch":
                self.answer(400, {"error": "no such mode"})
                return
            if shared.obey:
                shared.state = body
            self.answer(200, shared.state)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield shared, f"http://127.0.0.1:{server.server_address[1]}/control"
    server.shutdown()
    server.server_close()


def switch(url: str, **kw: Any) -> HttpSwitch:
    return HttpSwitch(lambda: url, on={"mode": "rate-limited"}, off={"mode": "healthy"},
                      in_effect=lambda state: state.get("mode") == "rate-limited", what="429s", **kw)


def test_switches_on_proves_and_switches_back_on_rollback(control: tuple[Control, str]) -> None:
    shared, url = control
    records: list[FaultRecord] = []
    with listening(records.append), switch(url) as fault:
        assert shared.state == {"mode": "rate-limited"}
        assert fault.is_active()
    assert shared.state == {"mode": "healthy"}
    assert [r.action for r in records] == ["injected", "verified", "rolled-back"]


def test_a_switch_that_ended_by_itself_is_already_restored(control: tuple[Control, str]) -> None:
    shared, url = control
    records: list[FaultRecord] = []
    with listening(records.append), switch(url):
        shared.state = {"mode": "healthy"}  # the rate-limit window ran out
    assert records[-1].action == "already-restored"
    assert shared.posts[-1] == {"mode": "healthy"}  # tidied anyway: the fake ends as it began


def test_a_switch_the_server_ignores_is_not_effective_and_is_rolled_back(control: tuple[Control, str]) -> None:
    shared, url = control
    shared.obey = False
    with pytest.raises(FaultNotEffective, match="the switch reads"):
        switch(url).start()
    assert shared.posts == [{"mode": "rate-limited"}, {"mode": "healthy"}]


def test_a_proof_that_never_holds_is_not_effective(control: tuple[Control, str]) -> None:
    _, url = control
    with pytest.raises(FaultNotEffective, match="no effect within"):
        switch(url, proof=lambda: (False, "users still fine"), verify_timeout=0.3).start()


def test_a_refused_switch_is_a_fault_error(control: tuple[Control, str]) -> None:
    _, url = control
    fault = HttpSwitch(lambda: url, on={"mode": "broken-switch"}, off={"mode": "healthy"},
                       in_effect=lambda state: True)
    with pytest.raises(FaultError, match="answered 400"):
        fault.start()


def test_a_control_url_off_loopback_is_refused() -> None:
    with pytest.raises(BadInput, match="loopback"):
        switch("http://10.0.0.5:8081/control").start()
