"""A typed client for Toxiproxy's HTTP API (the official server, or the project's stand-in in
harness/proxyserver/toxiproxy_fallback.py, which speaks the same API).

Why not `toxiproxy-python` (0.1.1, 2019): it keeps the server's address in class-level globals, so
two stacks in one process cannot each have their own; it sets no timeout on any request, so a
server that hangs hangs the drill; it maps only 400, 404 and 409 to errors, and it needs `future`.
This client is one object per server, puts a timeout on every call, and turns every non-2xx
answer, refused connection and timeout into a `ToxiproxyError` that says what did not answer.

    with ToxiproxyClient("http://127.0.0.1:8474") as toxiproxy:
        toxiproxy.create_proxy("db", listen="127.0.0.1:15432", upstream="127.0.0.1:5432")
        toxiproxy.add_toxic("db", "latency", {"latency": 1000, "jitter": 50})
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

from harness.errors import InfrastructureError
from harness.faults.base import require_loopback

DEFAULT_TIMEOUT = 5.0
STREAMS = ("upstream", "downstream")
TOXIC_TYPES = ("latency", "timeout", "reset_peer", "bandwidth", "slow_close", "slicer", "limit_data")


class ToxiproxyError(InfrastructureError):
    """Toxiproxy refused a request (`status`, and the server's own `message`) or did not answer
    (`status` None)."""

    def __init__(self, message: str, *, status: int | None = None, url: str = "") -> None:
        self.status = status
        self.message = message
        self.url = url
        where = f"{url}: " if url else ""
        code = f"HTTP {status}: " if status is not None else ""
        super().__init__(f"Toxiproxy {where}{code}{message}")


class ToxiproxyBadRequest(ToxiproxyError):
    """400: the request was malformed (missing field, unknown toxic type or stream, bad attribute)."""


class ToxiproxyNotFound(ToxiproxyError):
    """404: no such proxy or toxic."""


class ToxiproxyConflict(ToxiproxyError):
    """409: a proxy or toxic of that name already exists."""


_BY_STATUS: dict[int, type[ToxiproxyError]] = {
    400: ToxiproxyBadRequest, 404: ToxiproxyNotFound, 409: ToxiproxyConflict}


@dataclass(frozen=True)
class Toxic:
    """One toxic on a proxy, as the server reports it. `attributes` is read-only."""

    name: str
    type: str
    stream: str
    toxicity: float
    attributes: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Toxic:
        return cls(name=str(data["name"]), type=str(data["type"]), stream=str(data.get("stream", "downstream")),
                   toxicity=float(data.get("toxicity", 1.0)),
                   attributes=MappingProxyType(dict(data.get("attributes") or {})))


@dataclass(frozen=True)
class Proxy:
    """One proxy, as the server reports it: where it listens, where it forwards, and its toxics."""

    name: str
    listen: str
    upstream: str
    enabled: bool
    toxics: tuple[Toxic, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Proxy:
        return cls(name=str(data["name"]), listen=str(data["listen"]), upstream=str(data["upstream"]),
                   enabled=bool(data.get("enabled", True)),
                   toxics=tuple(Toxic.from_json(t) for t in data.get("toxics") or ()))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "listen": self.listen, "upstream": self.upstream, "enabled": self.enabled}


class ToxiproxyClient:
    """One Toxiproxy server's API, on loopback; every call bounded by `timeout` seconds."""

    def __init__(self, base_url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, got {timeout!r}")
        self.base_url = require_loopback(base_url.rstrip("/"), "the Toxiproxy API address")
        self.timeout = timeout
        self._http = httpx.Client(base_url=self.base_url, timeout=httpx.Timeout(timeout),
                                  headers={"User-Agent": "gameday-harness"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ToxiproxyClient({self.base_url!r}, timeout={self.timeout!r})"

    # -- the server ------------------------------------------------------------------------------

    def version(self) -> str:
        """The server's version; both the JSON answer of Toxiproxy 2.6+ and the older plain text."""
        text = self._request("GET", "/version").text.strip()
        try:
            data = json.loads(text)
        except ValueError:
            return text
        return str(data["version"]) if isinstance(data, dict) and "version" in data else text

    def reset(self) -> None:
        """Enable every proxy and remove every toxic."""
        self._request("POST", "/reset")

    # -- proxies ---------------------------------------------------------------------------------

    def proxies(self) -> dict[str, Proxy]:
        data = self._json("GET", "/proxies")
        return {name: Proxy.from_json(p) for name, p in data.items()}

    def create_proxy(self, name: str, listen: str, upstream: str, enabled: bool = True) -> Proxy:
        body = {"name": name, "listen": listen, "upstream": upstream, "enabled": enabled}
        return Proxy.from_json(self._json("POST", "/proxies", body))

    def proxy(self, name: str) -> Proxy:
        return Proxy.from_json(self._json("GET", _proxy_path(name)))

    def update_proxy(self, name: str, *, enabled: bool | None = None, listen: str | None = None,
                     upstream: str | None = None) -> Proxy:
        """Change only the fields given; `enabled=False` takes the proxy down (listener and links)."""
        body: dict[str, Any] = {}
        if enabled is not None:
            body["enabled"] = enabled
        if listen is not None:
            body["listen"] = listen
        if upstream is not None:
            body["upstream"] = upstream
        return Proxy.from_json(self._json("POST", _proxy_path(name), body))

    def delete_proxy(self, name: str) -> None:
        self._request("DELETE", _proxy_path(name))

    def populate(self, proxies: Iterable[Proxy | Mapping[str, Any]]) -> list[Proxy]:
        """Create or replace these proxies (kept as they are when listen and upstream match)."""
        body = [p.to_json() if isinstance(p, Proxy) else dict(p) for p in proxies]
        data = self._json("POST", "/populate", body)
        return [Proxy.from_json(p) for p in data.get("proxies") or ()]

    # -- toxics ----------------------------------------------------------------------------------

    def toxics(self, proxy: str) -> list[Toxic]:
        return [Toxic.from_json(t) for t in self._json("GET", f"{_proxy_path(proxy)}/toxics")]

    def toxic(self, proxy: str, name: str) -> Toxic:
        return Toxic.from_json(self._json("GET", _toxic_path(proxy, name)))

    def add_toxic(self, proxy: str, type: str, attributes: Mapping[str, Any], *, name: str | None = None,
                  stream: str = "downstream", toxicity: float = 1.0) -> Toxic:
        """Add a toxic; the server names it `<type>_<stream>` unless `name` is given."""
        body: dict[str, Any] = {"type": type, "stream": stream, "toxicity": toxicity,
                                "attributes": dict(attributes)}
        if name is not None:
            body["name"] = name
        return Toxic.from_json(self._json("POST", f"{_proxy_path(proxy)}/toxics", body))

    def update_toxic(self, proxy: str, name: str, *, attributes: Mapping[str, Any] | None = None,
                     toxicity: float | None = None) -> Toxic:
        """Change a toxic's attributes (those given; the others stay) and/or its toxicity."""
        body: dict[str, Any] = {}
        if attributes is not None:
            body["attributes"] = dict(attributes)
        if toxicity is not None:
            body["toxicity"] = toxicity
        return Toxic.from_json(self._json("POST", _toxic_path(proxy, name), body))

    def remove_toxic(self, proxy: str, name: str) -> None:
        self._request("DELETE", _toxic_path(proxy, name))

    # -- transport -------------------------------------------------------------------------------

    def _json(self, method: str, path: str, body: Any = None) -> Any:
        response = self._request(method, path, body)
        try:
            return response.json()
        except ValueError as exc:
            raise ToxiproxyError(f"answered {response.status_code} with a body that is not JSON: "
                                 f"{response.text[:200]!r}", status=response.status_code,
                                 url=str(response.request.url)) from exc

    def _request(self, method: str, path: str, body: Any = None) -> httpx.Response:
        url = f"{self.base_url}{path}"
        try:
            response = self._http.request(method, path, json=body) if body is not None \
                else self._http.request(method, path)
        except httpx.TimeoutException as exc:
            raise ToxiproxyError(f"did not answer {method} within {self.timeout:g}s ({exc.__class__.__name__})",
                                 url=url) from exc
        except httpx.HTTPError as exc:
            raise ToxiproxyError(f"did not answer {method}: {exc}", url=url) from exc
        if not response.is_success:
            error = _BY_STATUS.get(response.status_code, ToxiproxyError)
            raise error(_server_message(response), status=response.status_code, url=f"{method} {url}")
        return response


def _server_message(response: httpx.Response) -> str:
    """Toxiproxy's `{"error": "...", "status": N}`, or the body as text when it is something else."""
    text = response.text.strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:500] or response.reason_phrase
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return str(data["error"])
    return text[:500]


def _proxy_path(name: str) -> str:
    return f"/proxies/{quote(name, safe='')}"


def _toxic_path(proxy: str, name: str) -> str:
    return f"{_proxy_path(proxy)}/toxics/{quote(name, safe='')}"
