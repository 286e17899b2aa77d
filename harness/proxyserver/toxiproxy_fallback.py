#!/usr/bin/env python3
"""A stand-in for Toxiproxy, for machines where its server cannot be installed: it is NOT
Toxiproxy. It serves a subset of Toxiproxy's HTTP API with the same paths, JSON field names and
status codes, and does these toxics for real on TCP: latency, timeout, reset_peer, bandwidth,
slow_close, slicer and limit_data, each on the upstream or downstream stream, with toxicity (the
chance that a connection gets the toxic, drawn once per connection).

    GET  /version                          GET/POST/DELETE /proxies/{name}   (POST/PATCH update)
    GET/POST /proxies                      GET/POST        /proxies/{name}/toxics
    POST /reset    POST /populate          GET/POST/DELETE /proxies/{name}/toxics/{toxic}

Left out: /metrics, the CLI, the `-config` file, and the `noop` toxic; a toxic's attributes must
be non-negative integers. How it differs underneath: each chunk (at most 32 KiB) goes through the
toxics in order; latency counts from each chunk's arrival, so it is pipelined as Toxiproxy's is.

Bounded everywhere: reads of at most 32 KiB, at most 64 chunks read ahead per stream (then the
sender waits: backpressure), each chunk written and drained before the next, at most
--max-connections links per proxy (more are closed at once), API bodies of at most 1 MiB.
SIGTERM and SIGINT close every listener and link and exit.

    python3 toxiproxy_fallback.py --api 127.0.0.1:8474

Standard library only, Python 3.11; one file, so an image can copy it next to python3.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import random
import signal
import socket
import struct
import sys
import time
from typing import Any
from urllib.parse import unquote

VERSION = "2.x-api gameday-fallback-1"
CHUNK = 32 * 1024
QUEUED_CHUNKS = 64  # per stream: at most 2 MiB read ahead of what the toxics let through
MAX_BODY = 1024 * 1024
MAX_HEADER_LINES = 100
API_IDLE_SECONDS = 60.0
CONNECT_TIMEOUT = 5.0
DEFAULT_MAX_CONNECTIONS = 256
STREAMS = ("upstream", "downstream")
# Each toxic type and its attributes with their defaults (as the real server reports them).
TOXIC_ATTRIBUTES: dict[str, dict[str, int]] = {
    "latency": {"latency": 0, "jitter": 0},
    "timeout": {"timeout": 0},
    "reset_peer": {"timeout": 0},
    "bandwidth": {"rate": 0},
    "slow_close": {"delay": 0},
    "slicer": {"average_size": 0, "size_variation": 0, "delay": 0},
    "limit_data": {"bytes": 0},
}
REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 404: "Not Found",
           405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large", 500: "Internal Server Error"}

log = logging.getLogger("toxiproxy-fallback")


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


class Toxic:
    """A toxic's settings. Replaced (not mutated) on update, so a link sees a consistent one."""

    def __init__(self, name: str, type_: str, stream: str, toxicity: float, attributes: dict[str, int]) -> None:
        self.name, self.type, self.stream = name, type_, stream
        self.toxicity, self.attributes = toxicity, attributes

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "stream": self.stream, "toxicity": self.toxicity,
                "attributes": dict(self.attributes)}

    @classmethod
    def parse(cls, body: Any) -> Toxic:
        if not isinstance(body, dict):
            raise bad_request("bad request body: a toxic is a JSON object")
        stream = body.get("stream", "downstream")
        if stream not in STREAMS:
            raise bad_request("stream was invalid, can be either upstream or downstream")
        type_ = body.get("type")
        if type_ not in TOXIC_ATTRIBUTES:
            raise bad_request(f"invalid toxic type: {type_!r} (this stand-in has {', '.join(TOXIC_ATTRIBUTES)})")
        name = body.get("name") or f"{type_}_{stream}"
        if not isinstance(name, str):
            raise bad_request("bad request body: name must be a string")
        attributes = merge_attributes(type_, dict(TOXIC_ATTRIBUTES[type_]), body.get("attributes"))
        return cls(name, type_, stream, parse_toxicity(body.get("toxicity", 1.0)), attributes)

    def updated(self, body: Any) -> Toxic:
        if not isinstance(body, dict):
            raise bad_request("bad request body: a toxic is a JSON object")
        attributes = merge_attributes(self.type, dict(self.attributes), body.get("attributes"))
        return Toxic(self.name, self.type, self.stream, parse_toxicity(body.get("toxicity", self.toxicity)),
                     attributes)


def merge_attributes(type_: str, base: dict[str, int], given: Any) -> dict[str, int]:
    if given is None:
        return base
    if not isinstance(given, dict):
        raise bad_request("bad request body: attributes must be a JSON object")
    for key, value in given.items():
        if key not in base:
            raise bad_request(f"bad request body: {type_} has no attribute {key!r} (it has {', '.join(base)})")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise bad_request(f"bad request body: attribute {key} must be a non-negative integer, got {value!r}")
        base[key] = value
    return base


def parse_toxicity(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise bad_request(f"bad request body: toxicity must be a number from 0 to 1, got {value!r}")
    return float(value)


def split_address(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise bad_request(f"bad address {address!r}: expected host:port")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 - an empty host means every address


class Link:
    """One client connection and its upstream connection: two pumps, one per stream."""

    def __init__(self, proxy: Proxy, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter,
                 upstream_reader: asyncio.StreamReader, upstream_writer: asyncio.StreamWriter) -> None:
        self.proxy = proxy
        self.client = (client_reader, client_writer)
        self.upstream = (upstream_reader, upstream_writer)
        self.changed = asyncio.Event()  # set whenever the proxy's toxics change
        self.chosen: dict[int, bool] = {}  # id(toxic) -> did the toxicity draw give it to this link
        self.timers: dict[int, asyncio.Task[None]] = {}
        self.limit_counts: dict[int, int] = {}
        self.stalled: set[int] = set()  # id() of the timeout toxics that applied to this link
        self.closed = False
        self.tasks: list[asyncio.Task[None]] = []

    def toxics(self, stream: str) -> list[Toxic]:
        """The toxics that apply to this link on `stream`, each drawn once against its toxicity."""
        active = []
        for toxic in self.proxy.toxics.values():
            if toxic.stream != stream:
                continue
            key = id(toxic)
            if key not in self.chosen:
                self.chosen[key] = toxic.toxicity >= 1.0 or random.random() < toxic.toxicity
            if self.chosen[key]:
                active.append(toxic)
        return active

    def toxics_changed(self) -> None:
        live = {id(t) for t in self.proxy.toxics.values()}
        if self.stalled - live:  # as Toxiproxy's timeout toxic does on removal: the stalled link is closed
            self.close()
            return
        for key in [k for k in self.timers if k not in live]:
            self.timers.pop(key).cancel()
        self.chosen = {k: v for k, v in self.chosen.items() if k in live}
        self.arm_timers()
        self.changed.set()

    def arm_timers(self) -> None:
        """timeout and reset_peer act on the link after their time, whether data flows or not."""
        for stream in STREAMS:
            for toxic in self.toxics(stream):
                if toxic.type == "timeout":
                    self.stalled.add(id(toxic))
                if toxic.type in ("timeout", "reset_peer") and id(toxic) not in self.timers:
                    self.timers[id(toxic)] = asyncio.create_task(self.after(toxic))

    async def after(self, toxic: Toxic) -> None:
        delay = toxic.attributes["timeout"] / 1000
        if toxic.type == "timeout" and delay == 0:
            return  # data is dropped until the toxic goes, and the link closed then
        await asyncio.sleep(delay)
        if toxic.type == "reset_peer":
            # the side the stream writes to sees a TCP RST: downstream the client, upstream the server
            self.close(reset=self.client[1] if toxic.stream == "downstream" else self.upstream[1])
        else:
            self.close()

    async def run(self) -> None:
        self.arm_timers()
        self.tasks = [asyncio.create_task(self.pump("upstream", self.client[0], self.upstream[1])),
                      asyncio.create_task(self.pump("downstream", self.upstream[0], self.client[1]))]
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.close()

    async def pump(self, stream: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read this stream's chunks (each stamped with when it arrived) into a bounded queue, and
        write them through the toxics: latency counts from a chunk's arrival, so it is pipelined as
        Toxiproxy's is (a burst of chunks is delayed once, not once per chunk)."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(QUEUED_CHUNKS)
        feeder = asyncio.create_task(self.feed(reader, queue))
        try:
            while not self.closed:
                arrival, data = await queue.get()
                if not data:
                    break
                if not await self.forward(stream, data, writer, arrival):
                    return
            for toxic in self.toxics(stream):
                if toxic.type == "slow_close":
                    await asyncio.sleep(toxic.attributes["delay"] / 1000)
            await self.hold(stream)
            if writer.can_write_eof() and not writer.is_closing():
                writer.write_eof()
        except (ConnectionError, OSError):
            self.close()
        finally:
            feeder.cancel()

    async def feed(self, reader: asyncio.StreamReader, queue: asyncio.Queue[tuple[float, bytes]]) -> None:
        """Chunks as they arrive, then b"" at the end of the stream (or when reading fails)."""
        try:
            while True:
                data = await reader.read(CHUNK)
                await queue.put((time.monotonic(), data))
                if not data:
                    return
        except (ConnectionError, OSError):
            await queue.put((time.monotonic(), b""))

    async def hold(self, stream: str) -> None:
        """While a timeout toxic applies, the end of the stream does not pass either."""
        while not self.closed and any(t.type == "timeout" for t in self.toxics(stream)):
            self.changed.clear()
            await self.changed.wait()

    async def forward(self, stream: str, data: bytes, writer: asyncio.StreamWriter, arrival: float) -> bool:
        """Write `data` (read at `arrival`) through this stream's toxics; False when the link is over.
        While a timeout toxic applies, data is read and dropped, as Toxiproxy's timeout toxic does."""
        if any(t.type == "timeout" for t in self.toxics(stream)):
            return not self.closed
        pieces = [data]
        for toxic in self.toxics(stream):
            attrs = toxic.attributes
            if toxic.type == "latency":
                jitter = attrs["jitter"]
                delay = attrs["latency"] + (random.uniform(-jitter, jitter) if jitter else 0)
                wait = arrival + delay / 1000 - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            elif toxic.type == "limit_data":
                sent = self.limit_counts.get(id(toxic), 0)
                room = max(attrs["bytes"] - sent, 0)
                pieces = cut(pieces, room)
                self.limit_counts[id(toxic)] = sent + sum(map(len, pieces))
                if self.limit_counts[id(toxic)] >= attrs["bytes"]:
                    await self.write(writer, pieces, None, 0)
                    self.close()
                    return False
        slicer = next((t for t in self.toxics(stream) if t.type == "slicer"), None)
        if slicer is not None and slicer.attributes["average_size"] > 0:
            pieces = [p for piece in pieces for p in slice_bytes(piece, slicer.attributes)]
        bandwidth = next((t for t in self.toxics(stream) if t.type == "bandwidth"), None)
        rate = bandwidth.attributes["rate"] * 1000 if bandwidth is not None else 0
        gap = slicer.attributes["delay"] / 1_000_000 if slicer is not None else 0.0
        await self.write(writer, pieces, rate or None, gap)
        return not self.closed

    async def write(self, writer: asyncio.StreamWriter, pieces: list[bytes], rate: int | None, gap: float) -> None:
        """Write the pieces, at most `rate` bytes a second and `gap` seconds apart; drained each time."""
        due = time.monotonic()
        for index, piece in enumerate(p for chunk in pieces for p in (split(chunk, rate // 10) if rate else [chunk])):
            if self.closed or writer.is_closing():
                return
            if index and gap:
                await asyncio.sleep(gap)
            if rate:  # the piece leaves when the rate allows it to have arrived
                due += len(piece) / rate
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            writer.write(piece)
            await writer.drain()

    def close(self, reset: asyncio.StreamWriter | None = None) -> None:
        if self.closed:
            return
        self.closed = True
        self.changed.set()
        for task in self.timers.values():
            task.cancel()
        for task in self.tasks:
            if task is not asyncio.current_task():
                task.cancel()
        for writer in (self.client[1], self.upstream[1]):
            if writer is reset:
                sock = writer.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
            else:
                writer.close()
        self.proxy.links.discard(self)


def cut(pieces: list[bytes], room: int) -> list[bytes]:
    out = []
    for piece in pieces:
        if room <= 0:
            break
        out.append(piece[:room])
        room -= len(out[-1])
    return out


def split(data: bytes, size: int) -> list[bytes]:
    size = max(size, 1)
    return [data[i:i + size] for i in range(0, len(data), size)]


def slice_bytes(data: bytes, attrs: dict[str, int]) -> list[bytes]:
    out, start = [], 0
    while start < len(data):
        variation = attrs["size_variation"]
        size = max(1, attrs["average_size"] + (random.randint(-variation, variation) if variation else 0))
        out.append(data[start:start + size])
        start += size
    return out


class Proxy:
    def __init__(self, name: str, listen: str, upstream: str, max_connections: int) -> None:
        self.name, self.listen, self.upstream = name, listen, upstream
        self.enabled = False
        self.toxics: dict[str, Toxic] = {}
        self.links: set[Link] = set()
        self.server: asyncio.Server | None = None
        self.max_connections = max_connections
        self.pending = 0

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "listen": self.listen, "upstream": self.upstream, "enabled": self.enabled,
                "toxics": [t.to_json() for t in self.toxics.values()]}

    async def start(self) -> None:
        if self.server is not None:
            return
        host, port = split_address(self.listen)
        try:
            self.server = await asyncio.start_server(self.accept, host, port, limit=CHUNK)
        except OSError as exc:
            raise ApiError(500, f"listen {self.listen}: {exc.strerror or exc}") from exc
        if port == 0:
            bound = self.server.sockets[0].getsockname()
            self.listen = f"{host}:{bound[1]}"
        self.enabled = True

    async def stop(self) -> None:
        self.enabled = False
        server, self.server = self.server, None
        if server is not None:
            server.close()
        for link in list(self.links):
            link.close()
        if server is not None:
            await server.wait_closed()

    def set_toxics(self, toxics: dict[str, Toxic]) -> None:
        self.toxics = toxics
        for link in list(self.links):
            link.toxics_changed()

    async def accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self.links) + self.pending >= self.max_connections:
            log.warning("proxy %s: %d connections already, closing a new one", self.name, self.max_connections)
            writer.close()
            return
        self.pending += 1
        try:
            host, port = split_address(self.upstream)
            upstream = await asyncio.wait_for(asyncio.open_connection(host, port, limit=CHUNK), CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ApiError) as exc:
            log.warning("proxy %s: upstream %s did not answer: %s", self.name, self.upstream, exc)
            writer.close()
            return
        finally:
            self.pending -= 1
        if not self.enabled:
            writer.close()
            upstream[1].close()
            return
        link = Link(self, reader, writer, *upstream)
        self.links.add(link)
        await link.run()


class Toxiproxy:
    """The proxies and the HTTP API over them."""

    def __init__(self, max_connections: int = DEFAULT_MAX_CONNECTIONS) -> None:
        self.proxies: dict[str, Proxy] = {}
        self.max_connections = max_connections
        self.api: asyncio.Server | None = None
        self.lock = asyncio.Lock()

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self.api = await asyncio.start_server(self.serve_api, host, port)
        bound = self.api.sockets[0].getsockname()
        return bound[0], bound[1]

    async def stop(self) -> None:
        if self.api is not None:
            self.api.close()
        for proxy in list(self.proxies.values()):
            await proxy.stop()
        self.proxies.clear()

    # -- HTTP ------------------------------------------------------------------------------------

    async def serve_api(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await asyncio.wait_for(read_request(reader, writer), API_IDLE_SECONDS)
                if request is None:
                    break
                method, path, body, keep_alive = request
                try:
                    status, payload = await self.dispatch(method, path, body)
                except ApiError as exc:
                    status, payload = exc.status, {"error": exc.message, "status": exc.status}
                except Exception as exc:
                    log.exception("%s %s failed", method, path)
                    status, payload = 500, {"error": str(exc), "status": 500}
                write_response(writer, status, payload, keep_alive)
                await writer.drain()
                if not keep_alive:
                    break
        except ApiError as exc:
            write_response(writer, exc.status, {"error": exc.message, "status": exc.status}, False)
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            with contextlib.suppress(ConnectionError):
                writer.close()

    async def dispatch(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        parts = [unquote(p) for p in path.split("?", 1)[0].split("/") if p]
        async with self.lock:
            if parts == ["version"] and method == "GET":
                return 200, {"version": VERSION}
            if parts == ["reset"] and method == "POST":
                return await self.reset()
            if parts == ["populate"] and method == "POST":
                return await self.populate(parse_json(body))
            if parts == ["proxies"]:
                if method == "GET":
                    return 200, {name: p.to_json() for name, p in self.proxies.items()}
                if method == "POST":
                    return await self.create(parse_json(body))
            if len(parts) >= 2 and parts[0] == "proxies":
                proxy = self.proxies.get(parts[1])
                route = {2: "proxy", 3: "toxics", 4: "toxic"}.get(len(parts))
                if route is None or (len(parts) >= 3 and parts[2] != "toxics"):
                    raise ApiError(404, "not found")
                if method not in {"proxy": ("GET", "POST", "PATCH", "DELETE"), "toxics": ("GET", "POST"),
                                  "toxic": ("GET", "POST", "PATCH", "DELETE")}[route]:
                    raise ApiError(405, f"method {method} not allowed")
                if proxy is None:
                    raise ApiError(404, "proxy not found")
                if route == "proxy":
                    return await self.proxy_route(method, proxy, body)
                if route == "toxics":
                    return self.toxics_route(method, proxy, body)
                return self.toxic_route(method, proxy, parts[3], body)
            raise ApiError(404 if method in ("GET", "POST", "DELETE", "PATCH") else 405, "not found")

    # -- proxies ---------------------------------------------------------------------------------

    async def create(self, body: Any) -> tuple[int, Any]:
        name, listen, upstream, enabled = parse_proxy(body)
        if name in self.proxies:
            raise ApiError(409, "proxy already exists")
        proxy = Proxy(name, listen, upstream, self.max_connections)
        if enabled:
            await proxy.start()
        self.proxies[name] = proxy
        return 201, proxy.to_json()

    async def proxy_route(self, method: str, proxy: Proxy, body: bytes) -> tuple[int, Any]:
        if method == "GET":
            return 200, proxy.to_json()
        if method == "DELETE":
            await proxy.stop()
            del self.proxies[proxy.name]
            return 204, None
        data = parse_json(body)
        if not isinstance(data, dict):
            raise bad_request("bad request body: a proxy is a JSON object")
        listen = data.get("listen", proxy.listen)
        upstream = data.get("upstream", proxy.upstream)
        enabled = data.get("enabled", proxy.enabled)
        if not (isinstance(listen, str) and isinstance(upstream, str) and isinstance(enabled, bool)):
            raise bad_request("bad request body: listen and upstream are strings, enabled a boolean")
        split_address(listen)
        split_address(upstream)
        if (listen, upstream) != (proxy.listen, proxy.upstream):
            await proxy.stop()
            proxy.listen, proxy.upstream = listen, upstream
        if enabled:
            await proxy.start()
        else:
            await proxy.stop()
        return 200, proxy.to_json()

    async def reset(self) -> tuple[int, Any]:
        for proxy in self.proxies.values():
            proxy.set_toxics({})
            await proxy.start()
        return 204, None

    async def populate(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, list):
            raise bad_request("bad request body: populate takes a JSON array of proxies")
        parsed = [parse_proxy(item) for item in body]  # all checked before any is touched
        done: list[Proxy] = []
        try:
            for name, listen, upstream, enabled in parsed:
                existing = self.proxies.get(name)
                if existing is not None and (existing.listen, existing.upstream) == (listen, upstream):
                    done.append(existing)
                    continue
                if existing is not None:
                    await existing.stop()
                    del self.proxies[name]
                proxy = Proxy(name, listen, upstream, self.max_connections)
                if enabled:
                    await proxy.start()
                self.proxies[name] = proxy
                done.append(proxy)
        except ApiError as exc:
            return exc.status, {"error": exc.message, "status": exc.status, "proxies": [p.to_json() for p in done]}
        return 201, {"proxies": [p.to_json() for p in done]}

    # -- toxics ----------------------------------------------------------------------------------

    def toxics_route(self, method: str, proxy: Proxy, body: bytes) -> tuple[int, Any]:
        if method == "GET":
            return 200, [t.to_json() for t in proxy.toxics.values()]
        toxic = Toxic.parse(parse_json(body))
        if toxic.name in proxy.toxics:
            raise ApiError(409, "toxic already exists")
        proxy.set_toxics({**proxy.toxics, toxic.name: toxic})
        return 200, toxic.to_json()

    def toxic_route(self, method: str, proxy: Proxy, name: str, body: bytes) -> tuple[int, Any]:
        toxic = proxy.toxics.get(name)
        if toxic is None:
            raise ApiError(404, "toxic not found")
        if method == "GET":
            return 200, toxic.to_json()
        if method == "DELETE":
            proxy.set_toxics({k: v for k, v in proxy.toxics.items() if k != name})
            return 204, None
        updated = toxic.updated(parse_json(body))
        proxy.set_toxics({k: (updated if k == name else v) for k, v in proxy.toxics.items()})
        return 200, updated.to_json()


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError as exc:
        raise bad_request(f"bad request body: {exc}") from exc


def parse_proxy(body: Any) -> tuple[str, str, str, bool]:
    if not isinstance(body, dict):
        raise bad_request("bad request body: a proxy is a JSON object")
    name, listen = body.get("name"), body.get("listen") or "127.0.0.1:0"
    upstream, enabled = body.get("upstream"), body.get("enabled", True)
    if not name or not isinstance(name, str):
        raise bad_request("missing required field: name")
    if not upstream or not isinstance(upstream, str):
        raise bad_request("missing required field: upstream")
    if not isinstance(listen, str) or not isinstance(enabled, bool):
        raise bad_request("bad request body: listen is a string, enabled a boolean")
    split_address(listen)
    split_address(upstream)
    return name, listen, upstream, enabled


async def read_request(reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> tuple[str, str, bytes, bool] | None:
    line = await reader.readline()
    if not line.strip():
        return None
    try:
        method, target, version = line.decode("latin-1").split()
    except ValueError as exc:
        raise ApiError(400, "malformed request line") from exc
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADER_LINES):
        header = await reader.readline()
        if header in (b"\r\n", b"\n", b""):
            break
        key, _, value = header.decode("latin-1").partition(":")
        headers[key.strip().lower()] = value.strip()
    else:
        raise ApiError(400, "too many header lines")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise ApiError(400, "chunked request bodies are not supported; send Content-Length")
    length = int(headers.get("content-length", "0") or 0)
    if length > MAX_BODY:
        raise ApiError(413, f"request body over {MAX_BODY} bytes")
    if length and headers.get("expect", "").lower() == "100-continue":  # curl, for larger bodies
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
    body = await reader.readexactly(length) if length else b""
    connection = headers.get("connection", "").lower()
    keep_alive = connection != "close" and (version == "HTTP/1.1" or connection == "keep-alive")
    return method.upper(), target, body, keep_alive


def write_response(writer: asyncio.StreamWriter, status: int, payload: Any, keep_alive: bool) -> None:
    body = b"" if status == 204 or payload is None else json.dumps(payload).encode() + b"\n"
    head = [f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}", f"Content-Length: {len(body)}",
            f"Connection: {'keep-alive' if keep_alive else 'close'}"]
    if body:
        head.append("Content-Type: application/json")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)


async def main_async(api: str, max_connections: int) -> None:
    host, port = split_address(api)
    toxiproxy = Toxiproxy(max_connections)
    bound = await toxiproxy.start(host, port)
    log.info("Toxiproxy stand-in (gameday fallback, a subset of the API) on %s:%d", *bound)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopping: closing every listener and link")
    await toxiproxy.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--api", default="127.0.0.1:8474", help="host:port for the HTTP API (default %(default)s)")
    parser.add_argument("--max-connections", type=int, default=DEFAULT_MAX_CONNECTIONS,
                        help="simultaneous links per proxy (default %(default)s)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    try:
        asyncio.run(main_async(args.api, args.max_connections))
    except ApiError as exc:
        log.error("%s", exc.message)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
