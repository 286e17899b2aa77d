"""HealthProbe, SyntheticTraffic and http_check, run for real: short intervals, a real HTTP server, no bare sleeps.

Every wait here is bounded by `wait_until(..., timeout=WAIT)`, which wakes per sample; WAIT is only
reached when something is broken.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from harness.observe.probe import HealthProbe, http_check, next_start
from harness.observe.samples import ProbeSample, RequestSample, SampleLog
from harness.observe.traffic import ERROR_ACTION, Attempt, Journey, JourneyContext, SyntheticTraffic
from harness.observe.verdict import traffic_stats

WAIT = 3.0  # upper bound for any wait in this file; a passing test never gets near it
PROMPT = 0.5  # stop() must return within this even when the interval or pace is much longer
LONG = 30.0  # an interval or pace that would hang a test if stop() waited for it


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the tests can see whether connections are reused
    timeout = 2.0  # a connection left open by a client ends on its own
    server: TinyServer

    def do_GET(self) -> None:
        self.server.clients.append(self.client_address)
        body = b"ok" if self.server.status == 200 else b"down"
        self.send_response(self.server.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class TinyServer(ThreadingHTTPServer):
    """A real HTTP server on 127.0.0.1 (port 0) in a thread; `stop()` also cuts its open connections."""

    daemon_threads = True

    def __init__(self) -> None:
        self.status = 200
        self.clients: list[tuple[str, int]] = []
        self._connections: list[socket.socket] = []
        super().__init__(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/health"

    def get_request(self) -> tuple[socket.socket, tuple[str, int]]:
        connection, address = super().get_request()
        self._connections.append(connection)
        return connection, address

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a connection cut by stop() is what a crashed container does

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        for connection in self._connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                connection.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def server() -> Iterator[TinyServer]:
    srv = TinyServer()
    yield srv
    srv.stop()


class FlipCheck:
    """Healthy for the first `ok_calls` calls, then failing (status 503)."""

    def __init__(self, ok_calls: int) -> None:
        self.ok_calls = ok_calls
        self.calls = 0

    def __call__(self) -> tuple[bool, int | None, str]:
        self.calls += 1
        ok = self.calls <= self.ok_calls
        return ok, 200 if ok else 503, f"call {self.calls}"


def ok_check() -> tuple[bool, int | None, str]:
    return True, 200, "fine"


# HealthProbe

def test_probe_records_a_check_that_flips_to_failing() -> None:
    with HealthProbe(FlipCheck(ok_calls=3), interval=0.01) as probe:
        assert probe.wait_until(lambda s: any(not x.ok for x in s), timeout=WAIT)
    samples = probe.samples()
    assert [s.ok for s in samples[:4]] == [True, True, True, False]
    assert samples[3].status == 503
    assert samples[3].detail == "call 4"
    assert [s.t for s in samples] == sorted(s.t for s in samples)


def test_probe_cadence_does_not_drift_when_checks_take_time() -> None:
    interval, check_time, periods = 0.02, 0.015, 20

    def slow_check() -> tuple[bool, int | None, str]:
        threading.Event().wait(check_time)
        return True, 200, "slow"

    with HealthProbe(slow_check, interval=interval) as probe:
        assert probe.wait_until(lambda s: len(s) > periods, timeout=WAIT)
    samples = probe.samples()[:periods + 1]
    mean_period = (samples[-1].t - samples[0].t) / periods
    # scheduling each check after the previous one ended would give interval + check_time = 1.75 x interval
    assert 0.9 * interval <= mean_period <= 1.4 * interval
    assert all(s.latency >= check_time for s in samples)


def test_next_start_keeps_the_schedule_and_starts_at_once_when_late() -> None:
    assert next_start(10.0, now=10.05, interval=0.2) == pytest.approx((10.2, 0.15))  # on time: no drift
    assert next_start(10.0, now=10.5, interval=0.2) == (10.5, 0.0)  # overran: now, and no burst to catch up
    assert next_start(10.0, now=9.0, interval=0.2) == pytest.approx((10.2, 0.2))  # never waits more than interval


def test_check_that_raises_is_a_failed_sample_and_the_probe_goes_on() -> None:
    calls = []

    def sometimes_raises() -> tuple[bool, int | None, str]:
        calls.append(1)
        if len(calls) % 2 == 0:
            raise ConnectionResetError("boom")
        return True, 200, "fine"

    with HealthProbe(sometimes_raises, interval=0.005) as probe:
        assert probe.wait_until(lambda s: len(s) >= 6, timeout=WAIT)
    samples = probe.samples()
    assert [s.ok for s in samples[:6]] == [True, False] * 3
    assert {(s.status, s.detail) for s in samples if not s.ok} == {(None, "ConnectionResetError")}


def test_probe_stops_by_itself_after_max_samples() -> None:
    probe = HealthProbe(ok_check, interval=0.001, max_samples=5)
    probe.start()
    started = time.monotonic()
    assert probe.wait_until(lambda s: len(s) > 5, timeout=WAIT) is False  # answers when the probe ends
    assert time.monotonic() - started < WAIT / 2
    assert probe.stop()
    assert len(probe.samples()) == 5
    assert not probe.running


def test_probe_stops_by_itself_after_max_seconds() -> None:
    probe = HealthProbe(ok_check, interval=0.01, max_seconds=0.1)
    probe.start()
    assert probe.wait_until(lambda s: False, timeout=WAIT) is False
    assert probe.stop()
    samples = probe.samples()
    assert 1 <= len(samples) <= 12
    assert samples[-1].t - samples[0].t < 0.1


def test_probe_stop_is_prompt_and_idempotent() -> None:
    probe = HealthProbe(ok_check, interval=LONG)
    probe.start()
    assert probe.wait_until(lambda s: len(s) == 1, timeout=WAIT)
    started = time.monotonic()
    assert probe.stop()
    assert time.monotonic() - started < PROMPT
    assert probe.stop()
    assert len(probe.samples()) == 1
    with pytest.raises(RuntimeError, match="already started"):
        probe.start()


def test_probe_reports_latest_sample_and_feeds_on_sample() -> None:
    seen: list[ProbeSample] = []
    probe = HealthProbe(ok_check, interval=0.005, on_sample=seen.append)
    assert probe.latest() is None
    with probe:
        assert probe.wait_until(lambda s: len(s) >= 3, timeout=WAIT)
    assert not probe.running
    assert seen == probe.samples()
    assert probe.latest() == seen[-1]


def test_failing_on_sample_callback_does_not_stop_the_probe() -> None:
    def broken(sample: ProbeSample) -> None:
        raise ValueError("callback bug")

    with HealthProbe(ok_check, interval=0.005, on_sample=broken) as probe:
        assert probe.wait_until(lambda s: len(s) >= 3, timeout=WAIT)


def test_wait_until_times_out_when_nothing_happens() -> None:
    log: SampleLog[int] = SampleLog()
    started = time.monotonic()
    assert log.wait_until(lambda s: bool(s), timeout=0.05) is False
    assert 0.05 <= time.monotonic() - started < PROMPT


def test_probe_refuses_bad_bounds() -> None:
    with pytest.raises(ValueError, match="interval"):
        HealthProbe(ok_check, interval=0.0)
    with pytest.raises(ValueError, match="max_samples"):
        HealthProbe(ok_check, max_samples=0)


# http_check

def test_http_check_reads_status_through_one_shared_connection(server: TinyServer) -> None:
    with http_check(lambda: server.url, lambda r: r.status_code == 200) as check:
        assert check() == (True, 200, "200 ok")
        server.status = 503
        assert check() == (False, 503, "503 down")
        server.status = 200
        assert check()[0]
    assert len(server.clients) == 3
    assert len(set(server.clients)) == 1  # one client, one kept-alive connection, not one per request


def test_http_check_follows_a_url_factory_to_a_new_port(server: TinyServer) -> None:
    restarted = TinyServer()
    current = {"url": server.url}
    try:
        with http_check(lambda: current["url"], lambda r: r.status_code == 200) as check:
            assert check()[0]
            server.stop()  # the container died; its port is gone
            ok, status, detail = check()
            assert (ok, status) == (False, None)
            assert "ConnectError" in detail
            current["url"] = restarted.url  # it came back on another port
            assert check() == (True, 200, "200 ok")
    finally:
        restarted.stop()
    assert len(server.clients) == 1
    assert len(restarted.clients) == 1


def test_http_check_fails_with_the_message_of_a_url_factory_that_raises() -> None:
    def no_port() -> str:
        raise LookupError("container chat-api has no published port 8000")

    with http_check(no_port, lambda r: True) as check:
        ok, status, detail = check()
    assert (ok, status) == (False, None)
    assert "container chat-api has no published port 8000" in detail


def test_http_check_with_an_unreadable_body_is_unhealthy(server: TinyServer) -> None:
    with http_check(lambda: server.url, lambda r: r.json()["status"] == "ok") as check:
        ok, status, detail = check()
    assert (ok, status) == (False, 200)
    assert "JSONDecodeError" in detail


def test_probe_with_http_check_sees_the_server_go_down(server: TinyServer) -> None:
    with http_check(lambda: server.url, lambda r: r.status_code == 200) as check, \
            HealthProbe(check, interval=0.01) as probe:
        assert probe.wait_until(lambda s: len(s) >= 2, timeout=WAIT)
        server.status = 503
        assert probe.wait_until(lambda s: not s[-1].ok, timeout=WAIT)
    assert probe.samples()[0].ok
    assert probe.samples()[-1].status == 503


# SyntheticTraffic

def counting_journey(user: JourneyContext) -> Attempt:
    """Each user counts its own steps in its state; the action names the step."""
    n = int(str(user.state.get("n", 0))) + 1
    user.state["n"] = n
    return Attempt(f"step-{n}", True, 200)


def by_user(samples: list[RequestSample]) -> dict[str, list[RequestSample]]:
    users: dict[str, list[RequestSample]] = {}
    for sample in sorted(samples, key=lambda s: s.t):
        users.setdefault(sample.user, []).append(sample)
    return users


def test_each_user_keeps_its_own_state_and_all_share_one_client() -> None:
    clients: list[httpx.Client] = []

    def journey(user: JourneyContext) -> Attempt:
        clients.append(user.http)
        return counting_journey(user)

    traffic = SyntheticTraffic(journey, ["ann", "bob", "cy"], pace=0.005, request_timeout=1.5)
    with traffic:
        assert traffic.wait_until(lambda s: all(len(v) >= 3 for v in by_user(s).values()) and len(by_user(s)) == 3,
                                  timeout=WAIT)
    users = by_user(traffic.samples())
    for name, samples in users.items():
        assert [s.action for s in samples] == [f"step-{i + 1}" for i in range(len(samples))], name
        assert all(s.ok and s.status == 200 for s in samples)
    assert len({id(c) for c in clients}) == 1
    assert clients[0].timeout.read == 1.5
    assert clients[0].is_closed  # closed on stop


def test_a_journey_that_never_speaks_http_gets_no_client(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[object] = []
    real = httpx.Client

    def counted(*args: object, **kwargs: object) -> httpx.Client:
        made.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(httpx, "Client", counted)

    def enqueue_then_poll(user: JourneyContext) -> Attempt:
        if "job" not in user.state:
            user.state["job"] = f"job-{user.user}"
            return Attempt("enqueue", True, detail=str(user.state["job"]))
        return Attempt("poll", user.user != "slow", detail="still queued" if user.user == "slow" else "done")

    with SyntheticTraffic(enqueue_then_poll, ["fast", "slow"], pace=0.005) as traffic:
        assert traffic.wait_until(lambda s: all(len(v) >= 2 for v in by_user(s).values()) and len(by_user(s)) == 2,
                                  timeout=WAIT)
    users = by_user(traffic.samples())
    assert [(s.action, s.ok, s.status) for s in users["fast"][:2]] == [("enqueue", True, None), ("poll", True, None)]
    assert [(s.action, s.ok) for s in users["slow"][:2]] == [("enqueue", True), ("poll", False)]
    assert made == []


class FakeHost:
    def __init__(self) -> None:
        self.commands: list[tuple[str, float]] = []

    def exec(self, command: str, *, timeout: float) -> str:
        self.commands.append((command, timeout))
        return "PONG"


class FakeStack:
    def __init__(self) -> None:
        self.hosts = {"redis": FakeHost()}

    def host(self, name: str) -> FakeHost:
        return self.hosts[name]


def test_a_step_runs_commands_on_the_journeys_stack_bounded_by_the_request_timeout() -> None:
    stack = FakeStack()

    def ping(user: JourneyContext) -> Attempt:
        answer = user.run("redis", "redis-cli ping")
        return Attempt("ping", answer == "PONG", detail=str(answer))

    with SyntheticTraffic(Journey(ping, stack), ["a"], pace=0.005, request_timeout=2.5) as traffic:  # type: ignore[arg-type]
        assert traffic.wait_until(lambda s: len(s) >= 2, timeout=WAIT)
    assert all(s.ok and s.action == "ping" for s in traffic.samples())
    assert stack.hosts["redis"].commands[0] == ("redis-cli ping", 2.5)


def test_a_journey_without_a_stack_that_asks_for_one_fails_that_attempt_only() -> None:
    def needs_stack(user: JourneyContext) -> Attempt:
        user.run("app", "true")
        return Attempt("run", True)

    with SyntheticTraffic(needs_stack, ["a"], pace=0.005) as traffic:
        assert traffic.wait_until(lambda s: len(s) >= 2, timeout=WAIT)
    assert {(s.action, s.ok) for s in traffic.samples()} == {(ERROR_ACTION, False)}


def test_a_step_that_returns_something_else_than_an_attempt_is_a_failed_attempt() -> None:
    def old_style(user: JourneyContext) -> Attempt:
        return ("get", True, 200)  # type: ignore[return-value]

    with SyntheticTraffic(old_style, ["a"], pace=0.005) as traffic:
        assert traffic.wait_until(lambda s: len(s) >= 1, timeout=WAIT)
    assert traffic.samples()[0].action == ERROR_ACTION
    assert not traffic.samples()[0].ok


def test_journey_that_raises_is_a_failed_error_request_and_the_user_goes_on() -> None:
    def journey(user: JourneyContext) -> Attempt:
        if user.user == "bad":
            raise httpx.ConnectError("refused")
        return Attempt("get", True, 200)

    with SyntheticTraffic(journey, ["good", "bad"], pace=0.005) as traffic:
        assert traffic.wait_until(lambda s: len(by_user(s).get("bad", [])) >= 3, timeout=WAIT)
    bad = by_user(traffic.samples())["bad"]
    assert {(s.action, s.ok, s.status) for s in bad} == {(ERROR_ACTION, False, None)}
    assert all(s.ok for s in by_user(traffic.samples())["good"])


def test_traffic_stops_by_itself_after_max_requests_in_total() -> None:
    traffic = SyntheticTraffic(counting_journey, ["a", "b", "c"], pace=0.001, max_requests=7)
    traffic.start()
    assert traffic.wait_until(lambda s: len(s) > 7, timeout=WAIT) is False  # answers when every user is done
    assert traffic.stop()
    assert len(traffic.samples()) == 7


def test_traffic_stops_by_itself_after_max_seconds() -> None:
    traffic = SyntheticTraffic(counting_journey, ["a", "b"], pace=0.01, max_seconds=0.1)
    traffic.start()
    started = time.monotonic()
    assert traffic.wait_until(lambda s: False, timeout=WAIT) is False
    assert time.monotonic() - started < WAIT / 2
    assert traffic.stop()
    assert 2 <= len(traffic.samples()) <= 2 * 12


def test_traffic_stop_is_prompt_and_idempotent() -> None:
    traffic = SyntheticTraffic(counting_journey, ["a", "b"], pace=LONG)
    traffic.start()
    assert traffic.wait_until(lambda s: len(s) == 2, timeout=WAIT)
    started = time.monotonic()
    assert traffic.stop()
    assert time.monotonic() - started < PROMPT
    assert not traffic.running
    assert traffic.stop()
    assert len(traffic.samples()) == 2
    with pytest.raises(RuntimeError, match="already started"):
        traffic.start()


def test_traffic_stop_before_start_is_harmless() -> None:
    traffic = SyntheticTraffic(counting_journey, ["a"])
    assert traffic.stop()
    assert traffic.wait_until(lambda s: bool(s), timeout=WAIT) is False
    assert traffic.samples() == []


def test_traffic_refuses_bad_users_and_bounds() -> None:
    with pytest.raises(ValueError, match="unique"):
        SyntheticTraffic(counting_journey, ["a", "a"])
    with pytest.raises(ValueError, match="at least one user"):
        SyntheticTraffic(counting_journey, [])
    with pytest.raises(ValueError, match="pace"):
        SyntheticTraffic(counting_journey, ["a"], pace=0.0)


def test_real_requests_that_fail_count_against_the_users_who_made_them(server: TinyServer) -> None:
    def journey(user: JourneyContext) -> Attempt:
        return Attempt.http("health", user.http.get(server.url, params={"user": user.user}))

    with SyntheticTraffic(journey, ["ann", "bob"], pace=0.005) as traffic:
        assert traffic.wait_until(lambda s: len(by_user(s)) == 2, timeout=WAIT)
        server.status = 500
        assert traffic.wait_until(lambda s: {r.user for r in s if not r.ok} == {"ann", "bob"}, timeout=WAIT)
    samples = traffic.samples()
    stats = traffic_stats(samples, min(s.t for s in samples), max(s.t for s in samples))
    assert stats.users_affected == ("ann", "bob")
    assert {s.status for s in samples if not s.ok} == {500}
    assert stats.total == len(samples)


def test_an_answer_slower_than_the_objective_is_a_failed_attempt() -> None:
    import datetime

    from harness.observe.traffic import Attempt

    def answer(status: int, seconds: float) -> httpx.Response:
        response = httpx.Response(status, request=httpx.Request("GET", "http://127.0.0.1/"))
        response.elapsed = datetime.timedelta(seconds=seconds)
        return response

    assert Attempt.http("chat", answer(200, 0.4), within=1.0) == Attempt("chat", True, 200)
    slow = Attempt.http("chat", answer(200, 1.3), within=1.0)
    assert (slow.ok, slow.status, slow.detail) == (False, 200, "took 1.30s (objective 1s)")
    assert Attempt.http("chat", answer(200, 9.0)).ok  # no objective: slow is still a success
    assert not Attempt.http("chat", answer(500, 0.1), within=1.0).ok
    assert Attempt.http("chat", answer(500, 2.0), ok=True, within=1.0).detail.startswith("took 2.00s")
