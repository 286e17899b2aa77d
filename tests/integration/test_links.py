"""Proxied links on the real reference stack: ChatKit's app reaches PostgreSQL through the stack's
Toxiproxy server (x-gameday.links), and each link fault does to that traffic what it says, measured
from the app's host with the service's own settings, and is gone after its rollback."""

from __future__ import annotations

import re
import statistics

import pytest

from harness.faults import LinkDown, LinkLatency, LinkReset, LinkTimeout
from harness.stack.labels import STACK_ID
from harness.stack.links import PROXY_SERVICE
from harness.stack.stack import Stack
from harness.stack.waits import wait_for

URL = "DATABASE_URL=$(sed -n 's/^DATABASE_URL=//p' /etc/chatkit-backend.env)"
QUERIES = 9


def psql(stack: Stack, sql: str = "SELECT 1", *, timeout: float = 10, connect_timeout: int = 3) -> tuple[int, str]:
    """One psql run on the app host, as the service connects (its settings, through its link)."""
    result = stack.host("app").exec(
        f'{URL}; PGCONNECT_TIMEOUT={connect_timeout} psql "$DATABASE_URL" -tA -c {sql!r}', timeout=timeout)
    return result.exit_code, result.stdout + result.stderr


def query_times(stack: Stack) -> list[float]:
    """Milliseconds of QUERIES round trips on one established connection (psql's \\timing)."""
    commands = " ".join(["-c '\\timing on'", *(["-c 'SELECT 1'"] * QUERIES)])
    result = stack.host("app").exec(f'{URL}; psql "$DATABASE_URL" -tA {commands}', timeout=30)
    assert result.ok, result.stdout + result.stderr
    times = [float(t) for t in re.findall(r"^Time: ([0-9.]+) ms", result.stdout, re.MULTILINE)]
    assert len(times) == QUERIES, result.stdout
    return times


def actions(fault: LinkLatency | LinkDown | LinkTimeout | LinkReset) -> list[str]:
    return [str(r.action) for r in fault.records]


def test_the_app_reaches_the_database_through_the_links_proxy(chatkit: Stack) -> None:
    proxy = chatkit.toxiproxy().proxy("db")
    assert (proxy.upstream, proxy.enabled, proxy.toxics) == ("db:5432", True, ())
    assert chatkit.proxy_server is not None
    [container] = chatkit.client.containers.list(filters={"label": [f"{STACK_ID}={chatkit.stack_id}",
                                                                     f"gameday.role={PROXY_SERVICE}"]})
    address = container.attrs["NetworkSettings"]["Networks"][chatkit.name]["IPAddress"]
    hosts = chatkit.host("app").exec("getent hosts db postgres", timeout=5).stdout.split()
    assert hosts == [address, "db", address, "postgres"]  # both of db's names lead the app to the proxy
    db_address = chatkit.host("db").exec("hostname -i", timeout=5).stdout.strip()
    assert db_address != address
    assert psql(chatkit) == (0, "1\n")


def test_latency_on_the_link_is_what_was_asked_and_goes_with_the_toxic(chatkit: Stack) -> None:
    before = statistics.median(query_times(chatkit))
    with LinkLatency(chatkit, "db", 200) as fault:
        during = statistics.median(query_times(chatkit))
        assert fault.is_active()
    after = statistics.median(query_times(chatkit))
    print(f"\nquery round trip through the link, p50 of {QUERIES}: {before:.1f} ms, with 200 ms of latency "
          f"{during:.1f} ms, after {after:.1f} ms")
    assert 180 <= during - before <= 220, f"asked 200 ms, a round trip took {during:.1f} ms ({before:.1f} before)"
    assert after < before + 20, f"{after:.1f} ms after the toxic went ({before:.1f} before)"
    assert actions(fault) == ["injected", "verified", "rolled-back"]
    assert chatkit.toxiproxy().toxics("db") == []


def test_a_stalled_link_hangs_connections_until_the_toxic_goes(chatkit: Stack) -> None:
    with LinkTimeout(chatkit, "db"):
        code, output = psql(chatkit, connect_timeout=2)
        assert code != 0, output
        assert "timeout expired" in output, output  # accepted, never answered
    assert psql(chatkit) == (0, "1\n")


def test_a_reset_link_resets_connections(chatkit: Stack) -> None:
    with LinkReset(chatkit, "db", after_ms=0):
        code, output = psql(chatkit)
        assert code != 0, output
        assert re.search(r"reset|closed the connection", output), output
    assert psql(chatkit) == (0, "1\n")


def test_a_toxic_that_lasts_a_while_clears_by_itself(chatkit: Stack) -> None:
    with LinkLatency(chatkit, "db", 50, lasting=1.0) as fault:
        wait_for(lambda: (not fault.is_active(), "toxic listed"), what="the toxic cleared by itself", timeout=10,
                 interval=0.2)
    assert actions(fault) == ["injected", "verified", "already-restored"]
    assert "cleared by itself" in fault.records[-1].detail


def test_a_cut_link_refuses_the_app_while_the_database_is_fine(fresh_chatkit: Stack) -> None:
    stack = fresh_chatkit
    with LinkDown(stack, "db") as fault:
        code, output = psql(stack)
        assert code != 0, output
        assert "refused" in output, output
        local = stack.host("db").exec("runuser -u postgres -- psql -tAc 'SELECT 1'", timeout=10)
        assert local.stdout == "1\n"  # the server itself is untouched
        wait_for(lambda: (not stack.check_health("app")[0], "healthy"), what="the app unhealthy", timeout=30,
                 interval=0.5)
    assert actions(fault) == ["injected", "verified", "rolled-back"]
    assert psql(stack) == (0, "1\n")
    stack.wait_healthy("app", timeout=30)


@pytest.mark.parametrize("bad", [{"latency_ms": 0}, {"latency_ms": -5}, {"latency_ms": 100, "stream": "sideways"},
                                 {"latency_ms": 100, "toxicity": 0}, {"latency_ms": 100, "lasting": 0}])
def test_bad_arguments_are_refused_before_anything_is_touched(chatkit: Stack, bad: dict[str, object]) -> None:
    from harness.errors import BadInput

    with pytest.raises(BadInput):
        LinkLatency(chatkit, "db", **bad)  # type: ignore[arg-type]
    assert chatkit.toxiproxy().toxics("db") == []
