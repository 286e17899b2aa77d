"""The Toxiproxy client's contract, against the project's stand-in server (in this process, on
loopback): every method, and every refusal as its own exception class with the server's message."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest

from harness.errors import BadInput, InfrastructureError
from harness.toxiproxy import (
    Proxy,
    Toxic,
    ToxiproxyBadRequest,
    ToxiproxyClient,
    ToxiproxyConflict,
    ToxiproxyError,
    ToxiproxyNotFound,
)


@pytest.fixture
def upstream_address(tcp_upstream: int) -> str:
    return f"127.0.0.1:{tcp_upstream}"


@pytest.fixture
def proxy(toxiproxy: ToxiproxyClient, upstream_address: str) -> Proxy:
    return toxiproxy.create_proxy("db", listen="127.0.0.1:0", upstream=upstream_address)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def echo(port: int, line: bytes = b"ping\n") -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(line)
        return sock.makefile("rb").readline()


def test_the_errors_are_infrastructure_errors_by_status() -> None:
    for cls in (ToxiproxyBadRequest, ToxiproxyNotFound, ToxiproxyConflict):
        assert issubclass(cls, ToxiproxyError)
    assert issubclass(ToxiproxyError, InfrastructureError)


def test_the_api_must_be_on_loopback() -> None:
    with pytest.raises(BadInput, match=r"127\.0\.0\.1, localhost or ::1"):
        ToxiproxyClient("http://10.0.0.5:8474")
    with pytest.raises(ValueError, match="timeout"):
        ToxiproxyClient("http://127.0.0.1:8474", timeout=0)


def test_version(toxiproxy: ToxiproxyClient) -> None:
    assert toxiproxy.version()


def test_create_proxy_answers_the_proxy_with_its_bound_port(toxiproxy: ToxiproxyClient,
                                                            upstream_address: str) -> None:
    made = toxiproxy.create_proxy("db", listen="127.0.0.1:0", upstream=upstream_address)
    assert made.name == "db"
    assert made.upstream == upstream_address
    assert made.enabled is True
    assert made.toxics == ()
    port = int(made.listen.rsplit(":", 1)[1])
    assert port > 0
    assert echo(port) == b"ping\n"
    assert toxiproxy.proxy("db") == made
    assert toxiproxy.proxies() == {"db": made}


def test_a_proxy_created_disabled_does_not_listen(toxiproxy: ToxiproxyClient, upstream_address: str) -> None:
    made = toxiproxy.create_proxy("off", listen="127.0.0.1:0", upstream=upstream_address, enabled=False)
    assert made.enabled is False
    assert toxiproxy.proxy("off").enabled is False


def test_a_second_proxy_of_the_same_name_is_a_conflict(toxiproxy: ToxiproxyClient, proxy: Proxy,
                                                       upstream_address: str) -> None:
    with pytest.raises(ToxiproxyConflict, match="proxy already exists") as caught:
        toxiproxy.create_proxy("db", listen="127.0.0.1:0", upstream=upstream_address)
    assert caught.value.status == 409
    assert caught.value.message == "proxy already exists"


def test_a_proxy_without_upstream_or_name_is_a_bad_request(toxiproxy: ToxiproxyClient) -> None:
    with pytest.raises(ToxiproxyBadRequest, match="upstream") as caught:
        toxiproxy.create_proxy("db", listen="127.0.0.1:0", upstream="")
    assert caught.value.status == 400
    with pytest.raises(ToxiproxyBadRequest, match="name"):
        toxiproxy.create_proxy("", listen="127.0.0.1:0", upstream="127.0.0.1:1")


def test_a_listen_address_in_use_is_a_server_error(toxiproxy: ToxiproxyClient, silent_port: int,
                                                  upstream_address: str) -> None:
    with pytest.raises(ToxiproxyError, match=str(silent_port)) as caught:
        toxiproxy.create_proxy("db", listen=f"127.0.0.1:{silent_port}", upstream=upstream_address)
    assert caught.value.status == 500
    assert type(caught.value) is ToxiproxyError


def test_an_unknown_proxy_is_not_found_everywhere(toxiproxy: ToxiproxyClient) -> None:
    calls: list[Callable[[], object]] = [lambda: toxiproxy.proxy("nope"), lambda: toxiproxy.delete_proxy("nope"),
             lambda: toxiproxy.update_proxy("nope", enabled=False), lambda: toxiproxy.toxics("nope"),
             lambda: toxiproxy.add_toxic("nope", "latency", {"latency": 1})]
    for call in calls:
        with pytest.raises(ToxiproxyNotFound, match="proxy not found") as caught:
            call()
        assert caught.value.status == 404


def test_update_proxy_disables_and_enables(toxiproxy: ToxiproxyClient, proxy: Proxy) -> None:
    port = int(proxy.listen.rsplit(":", 1)[1])
    down = toxiproxy.update_proxy("db", enabled=False)
    assert down.enabled is False
    with pytest.raises(ConnectionRefusedError):
        echo(port)
    up = toxiproxy.update_proxy("db", enabled=True)
    assert up.enabled is True
    assert up.listen == proxy.listen
    assert echo(port) == b"ping\n"


def test_update_proxy_moves_the_upstream(toxiproxy: ToxiproxyClient, proxy: Proxy, silent_port: int) -> None:
    moved = toxiproxy.update_proxy("db", upstream=f"127.0.0.1:{silent_port}")
    assert moved.upstream == f"127.0.0.1:{silent_port}"
    assert moved.enabled is True


def test_update_proxy_with_a_bad_address_is_a_bad_request(toxiproxy: ToxiproxyClient, proxy: Proxy) -> None:
    with pytest.raises(ToxiproxyBadRequest, match="address"):
        toxiproxy.update_proxy("db", upstream="no-port")


def test_delete_proxy_stops_it(toxiproxy: ToxiproxyClient, proxy: Proxy) -> None:
    toxiproxy.delete_proxy("db")
    with pytest.raises(ToxiproxyNotFound):
        toxiproxy.proxy("db")
    with pytest.raises(ConnectionRefusedError):
        echo(int(proxy.listen.rsplit(":", 1)[1]))


def test_populate_creates_then_keeps(toxiproxy: ToxiproxyClient, upstream_address: str) -> None:
    wanted: list[Proxy | dict[str, str]] = [{"name": "a", "listen": "127.0.0.1:0", "upstream": upstream_address},
              Proxy(name="b", listen="127.0.0.1:0", upstream=upstream_address, enabled=True)]
    made = toxiproxy.populate(wanted)
    assert [p.name for p in made] == ["a", "b"]
    assert set(toxiproxy.proxies()) == {"a", "b"}
    again = toxiproxy.populate([made[0], made[1]])  # same listen and upstream: left as they are
    assert again == made


def test_populate_with_a_bad_proxy_is_a_bad_request_and_changes_nothing(toxiproxy: ToxiproxyClient,
                                                                        upstream_address: str) -> None:
    with pytest.raises(ToxiproxyBadRequest, match="upstream"):
        toxiproxy.populate([{"name": "a", "listen": "127.0.0.1:0", "upstream": upstream_address},
                            {"name": "b", "listen": "127.0.0.1:0"}])
    assert toxiproxy.proxies() == {}


def test_add_toxic_with_the_servers_defaults(toxiproxy: ToxiproxyClient, proxy: Proxy) -> None:
    toxic = toxiproxy.add_toxic("db", "latency", {"latency": 250})
    assert toxic == Toxic(name="latency_downstream", type="latency", stream="downstream", toxicity=1.0,
                          attributes=toxic.attributes)
    assert dict(toxic.attributes) == {"latency": 250, "jitter": 0}
    assert toxiproxy.toxics("db") == [toxic]
    assert toxiproxy.toxic("db", "latency_downstream") == toxic
    assert toxiproxy.proxy("db").toxics == (toxic,)


def test_add_toxic_named_upstream_with_toxicity(toxiproxy: ToxiproxyClient, proxy: Proxy) -> None:
    toxic = toxiproxy.add_toxic("db", "bandwidth", {"rate": 100}, name="slow-up", stream="upstream", toxicity=0.5)
    assert (toxic.name, toxic.stream, toxic.toxicity, dict(toxic.attributes)) == (
        "slow-up", "upstream", 0.5, {"rate": 100})


@pytest.mark.parametrize("type_", ["latency", "timeout", "reset_peer", "bandwidth", "slow_close", "slicer",
                                   "limit_data"])
def test_every_toxic_type_is_accepted(toxiproxy: ToxiproxyClient, proxy: Proxy, type_: str) -> None:
    assert toxiproxy.add_toxic("db", type_, {}).type == type_


def test_a_toxic_of_the_same_name_is_a_conflict(toxiproxy: ToxiproxyClient, proxy: Proxy) -> None:
    toxiproxy.add_toxic("db", "latency", {"latency": 1})
    with pytest.raises(ToxiproxyConflict, match="toxic already exists") as caught:
        toxiproxy.add_toxic("db", "latency", {"latency": 2})
    assert caught.value.status == 409


@pytest.mark.parametrize(("kwargs", "says"), [
    ({"type": "packet_loss", "attributes": {}}, "invalid toxic type"),
    ({"type": "latency", "attributes": {}, "stream": "sideways"}, "stream was invalid"),
    ({"type": "latency", "attributes": {"latency": -5}}, "non-negative"),
    ({"type": "latency", "attributes": {"latncy": 5}}, "no attribute"),
    ({"type": "latency", "attributes": {}, "toxicity": 1.5}, "toxicity"),
])
def test_a_bad_toxic_is_a_bad_request(toxiproxy: ToxiproxyClient, proxy: Proxy, kwargs: dict[str, object],
                                      says: str) -> None:
    type_ = str(kwargs.pop("type"))
    attributes = kwargs.pop("attributes")
    assert isinstance(attributes, dict)
    with pytest.raises(ToxiproxyBadRequest, match=says) as caught:
        toxiproxy.add_toxic("db", type_, attributes, **kwargs)  # type: ignore[arg-type]
    assert caught.value.status == 400
    assert toxiproxy.toxics("db") == []


def test_update_toxic_merges_attributes_and_toxicity(toxiproxy: ToxiproxyClient, proxy: Proxy) -> None:
    toxiproxy.add_toxic("db", "latency", {"latency": 100, "jitter": 10})
    changed = toxiproxy.update_toxic("db", "latency_downstream", attributes={"latency": 300})
    assert dict(changed.attributes) == {"latency": 300, "jitter": 10}
    changed = toxiproxy.update_toxic("db", "latency_downstream", toxicity=0.25)
    assert changed.toxicity == 0.25
    assert dict(changed.attributes) == {"latency": 300, "jitter": 10}
    assert toxiproxy.toxics("db") == [changed]


def test_remove_toxic_and_an_unknown_toxic(toxiproxy: ToxiproxyClient, proxy: Proxy) -> None:
    toxiproxy.add_toxic("db", "timeout", {"timeout": 0})
    toxiproxy.remove_toxic("db", "timeout_downstream")
    assert toxiproxy.toxics("db") == []
    for call in (lambda: toxiproxy.remove_toxic("db", "timeout_downstream"),
                 lambda: toxiproxy.toxic("db", "timeout_downstream"),
                 lambda: toxiproxy.update_toxic("db", "timeout_downstream", toxicity=0.5)):
        with pytest.raises(ToxiproxyNotFound, match="toxic not found") as caught:
            call()
        assert caught.value.status == 404


def test_reset_enables_every_proxy_and_removes_every_toxic(toxiproxy: ToxiproxyClient, proxy: Proxy) -> None:
    toxiproxy.add_toxic("db", "latency", {"latency": 100})
    toxiproxy.update_proxy("db", enabled=False)
    toxiproxy.reset()
    after = toxiproxy.proxy("db")
    assert after.enabled is True
    assert after.toxics == ()
    assert echo(int(after.listen.rsplit(":", 1)[1])) == b"ping\n"


def test_a_server_that_is_not_there_says_which_url(silent_port: int) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        closed_port = free.getsockname()[1]
    with ToxiproxyClient(f"http://127.0.0.1:{closed_port}") as client, \
            pytest.raises(ToxiproxyError, match=f"127.0.0.1:{closed_port}/version.*did not answer") as caught:
        client.version()
    assert caught.value.status is None


def test_a_server_that_never_answers_times_out(silent_port: int) -> None:
    with ToxiproxyClient(f"http://127.0.0.1:{silent_port}", timeout=0.3) as client, \
            pytest.raises(ToxiproxyError, match=r"/proxies.*did not answer GET within 0.3s") as caught:
        client.proxies()
    assert caught.value.status is None
