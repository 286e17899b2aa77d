#!/usr/bin/python3
"""A small OpenAI-compatible API for stacks under test, whose behaviour a drill switches.

API (port 8080 by default): `POST /v1/chat/completions` answers a chat completion that quotes the
last user message; `GET /v1/models` lists one model. A lead API rides along for systems that submit
leads (LeadProsper's shape): `POST /direct_post` accepts a JSON lead; `GET /health` answers
{"status": "ok"}. Every API request needs `Authorization: Bearer KEY` when UPSTREAM_API_KEY is set
(a lead may carry the key as `lp_key` instead); 401 otherwise, as the real APIs answer a bad key.
Every API path, /health included, misbehaves as switched: a provider's health check fails with it.

Control (port 8081, for the harness only: published on the machine's loopback):
  GET  /control            the current behaviour and counters
  POST /control            {"mode": M, "seconds": S, ...} switch; after S seconds (if given) back to healthy
                           modes: healthy | rate-limited (429 + Retry-After: retry_after) |
                           error (status, default 500) | slow (delay seconds, then an answer) |
                           hang (holds each request it gets while in this mode without ever answering,
                           until the client gives up or MAX_HANG_SECONDS pass, as a stalled provider does) |
                           unauthorized (401)
  GET  /control/requests   what the API received (newest last, at most MAX_RECORDED), with the answer;
                           `?path=/direct_post` keeps one path. Keys sent in a body are not recorded.
  DELETE /control/requests forget them
  GET  /health             200 "ok"

Only the standard library: the image needs nothing but Debian's python3.
"""

from __future__ import annotations

import json
import os
import select
import socket
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

MODES = ("healthy", "rate-limited", "error", "slow", "hang", "unauthorized")
MAX_RECORDED = 500
MAX_BODY_BYTES = 1_000_000
SECRET_FIELDS = ("lp_key", "api_key", "key")  # never recorded: the record is read into reports
MAX_HANG_SECONDS = 120.0
MAX_SLOW_SECONDS = 120.0
HANG_POLL_SECONDS = 0.25


class Behaviour:
    """The switchable state, shared by both servers' threads."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.mode = "healthy"
        self.options: dict[str, Any] = {}
        self.until: float | None = None
        self.generation = 0
        self.received: deque[dict[str, Any]] = deque(maxlen=MAX_RECORDED)
        self.counts: dict[str, int] = {}

    def current(self) -> tuple[str, dict[str, Any], int]:
        with self.lock:
            if self.until is not None and time.monotonic() >= self.until:
                self._set("healthy", {}, None)
            return self.mode, dict(self.options), self.generation

    def switch(self, mode: str, options: dict[str, Any], seconds: float | None) -> None:
        with self.lock:
            self._set(mode, options, None if seconds is None else time.monotonic() + seconds)

    def _set(self, mode: str, options: dict[str, Any], until: float | None) -> None:
        self.mode, self.options, self.until = mode, options, until
        self.generation += 1
        self.lock.notify_all()

    def record(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.received.append(entry)
            self.counts[str(entry["status"])] = self.counts.get(str(entry["status"]), 0) + 1

    def snapshot(self) -> dict[str, Any]:
        mode, options, _ = self.current()
        with self.lock:
            left = None if self.until is None else max(0.0, round(self.until - time.monotonic(), 1))
            return {"mode": mode, "options": options, "seconds_left": left, "answered": dict(self.counts),
                    "received": len(self.received)}


STATE = Behaviour()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "openai-fake/1"

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write(f"{self.log_date_time_string()} {self.address_string()} {format % args}\n")

    def body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(length, MAX_BODY_BYTES)) if length > 0 else b""

    def send_json(self, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


def _error(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class ApiHandler(Handler):
    """The OpenAI-compatible side, as the system under test sees it."""

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            self.answer(b"", lambda _body: (200, {"object": "list", "data": [{"id": "gpt-fake", "object": "model"}]}))
        elif self.path == "/health":
            self.answer(b"", lambda _body: (200, {"status": "ok"}))
        else:
            self.send_json(404, _error(f"unknown path {self.path}", "invalid_request_error"))

    def do_POST(self) -> None:
        body = self.body()
        if self.path.rstrip("/") == "/v1/chat/completions":
            self.answer(body, completion)
        elif self.path.rstrip("/") == "/direct_post":
            self.answer(body, lead_accepted)
        else:
            self.send_json(404, _error(f"unknown path {self.path}", "invalid_request_error"))

    def answer(self, body: bytes, healthy: Any) -> None:
        started = time.monotonic()
        mode, options, _generation = STATE.current()
        status, payload, headers = 200, None, {}
        if not self.authorized(body) or mode == "unauthorized":
            status, payload = 401, _error("Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        elif mode == "rate-limited":
            retry = str(options.get("retry_after", 2))
            status, payload = 429, _error("Rate limit reached for requests", "requests", "rate_limit_exceeded")
            headers = {"Retry-After": retry}
        elif mode == "error":
            status = int(options.get("status", 500))
            payload = _error("The server had an error while processing your request.", "server_error")
        elif mode == "hang":
            self.hang()
            STATE.record({"at": time.time(), "method": self.command, "path": self.path, "mode": mode, "status": 0,
                          "seconds": round(time.monotonic() - started, 3), "authorized": True,
                          "body": _preview(body)})
            self.close_connection = True
            return  # never answered
        else:
            if mode == "slow":
                time.sleep(min(float(options.get("delay", 5)), MAX_SLOW_SECONDS))
            status, payload = healthy(body)
        STATE.record({"at": time.time(), "method": self.command, "path": self.path, "mode": mode,
                      "status": status, "seconds": round(time.monotonic() - started, 3),
                      "authorized": status != 401, "body": _preview(body)})
        self.send_json(status, payload, headers)

    def authorized(self, body: bytes) -> bool:
        key = os.environ.get("UPSTREAM_API_KEY", "")
        if not key or self.headers.get("Authorization", "") == f"Bearer {key}":
            return True
        try:
            sent = json.loads(body) if body else None
        except ValueError:
            return False
        return isinstance(sent, dict) and sent.get("lp_key") == key

    def hang(self) -> None:
        """Hold the request, answering nothing, until the client closes its end or the bound passes."""
        deadline = time.monotonic() + MAX_HANG_SECONDS
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.connection], [], [], HANG_POLL_SECONDS)
            if readable:
                try:
                    if self.connection.recv(1, socket.MSG_PEEK) == b"":
                        return  # the client gave up
                except OSError:
                    return


def completion(body: bytes) -> tuple[int, dict[str, Any]]:
    try:
        request = json.loads(body or b"{}")
        messages = request.get("messages") or []
        last = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
    except (ValueError, AttributeError):
        return 400, _error("We could not parse the JSON body of your request.", "invalid_request_error")
    text = f"You said: {str(last)[:200]}"
    return 200, {
        "id": f"chatcmpl-{int(time.time() * 1000)}", "object": "chat.completion", "created": int(time.time()),
        "model": request.get("model", "gpt-fake"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": len(str(last).split()), "completion_tokens": len(text.split()),
                  "total_tokens": len(str(last).split()) + len(text.split())},
    }


LEADS_ACCEPTED = iter(range(1, 1 << 62))


def lead_accepted(body: bytes) -> tuple[int, dict[str, Any]]:
    try:
        lead = json.loads(body or b"{}")
    except ValueError:
        lead = None
    if not isinstance(lead, dict) or not (lead.get("email") or lead.get("phone")):
        return 400, {"status": "ERROR", "code": 400, "message": "a lead needs an email or a phone"}
    return 200, {"status": "ACCEPTED", "code": 0, "lead_id": next(LEADS_ACCEPTED), "message": "Lead accepted"}


def _preview(body: bytes) -> Any:
    try:
        sent = json.loads(body) if body else None
    except ValueError:
        return body[:200].decode("utf-8", "replace")
    if isinstance(sent, dict):
        sent = {name: ("(not recorded)" if name in SECRET_FIELDS else value) for name, value in sent.items()}
    return sent


class ControlHandler(Handler):
    """The harness's side: switch the behaviour, read what was received."""

    def do_GET(self) -> None:
        if self.path == "/control":
            self.send_json(200, STATE.snapshot())
        elif self.path.split("?", 1)[0] == "/control/requests":
            wanted = parse_qs(urlsplit(self.path).query).get("path")
            with STATE.lock:
                self.send_json(200, [entry for entry in STATE.received
                                     if not wanted or entry["path"].split("?", 1)[0] in wanted])
        elif self.path == "/health":
            self.send_json(200, {"status": "ok"})
        else:
            self.send_json(404, {"error": "unknown path"})

    def do_POST(self) -> None:
        if self.path != "/control":
            self.send_json(404, {"error": "unknown path"})
            return
        try:
            wanted = json.loads(self.body() or b"{}")
            mode = wanted.pop("mode")
            seconds = wanted.pop("seconds", None)
            if mode not in MODES:
                raise ValueError(f"mode must be one of {', '.join(MODES)}")
            seconds = None if seconds is None else float(seconds)
            if seconds is not None and not 0 < seconds <= 3600:
                raise ValueError("seconds must be in (0, 3600]")
        except (ValueError, KeyError, AttributeError, TypeError) as exc:
            self.send_json(400, {"error": f"bad switch: {exc}"})
            return
        STATE.switch(mode, wanted, seconds)
        self.send_json(200, STATE.snapshot())

    def do_DELETE(self) -> None:
        if self.path != "/control/requests":
            self.send_json(404, {"error": "unknown path"})
            return
        with STATE.lock:
            STATE.received.clear()
            STATE.counts.clear()
        self.send_json(200, {"received": 0})


def main() -> None:
    api_port = int(os.environ.get("UPSTREAM_PORT", "8080"))
    control_port = int(os.environ.get("UPSTREAM_CONTROL_PORT", "8081"))
    api = ThreadingHTTPServer(("0.0.0.0", api_port), ApiHandler)  # noqa: S104 (inside its container)
    control = ThreadingHTTPServer(("0.0.0.0", control_port), ControlHandler)  # noqa: S104
    api.daemon_threads = control.daemon_threads = True
    threading.Thread(target=control.serve_forever, name="control", daemon=True).start()
    print(f"openai-fake: API on :{api_port}, control on :{control_port}", flush=True)
    api.serve_forever()


if __name__ == "__main__":
    main()
