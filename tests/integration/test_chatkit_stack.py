"""The reference stack, for real: containers, PostgreSQL, the service over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import uuid

import httpx
import pytest

from harness.stack.stack import Stack
from harness.stack.waits import wait_for

METRIC_KEYS = {"total_requests", "error_count", "error_rate_percent", "rate_limit_hits",
               "avg_response_ms", "uptime_seconds"}
LOG = "/var/log/chatkit-backend.log"
ENV_FILE = "/etc/chatkit-backend.env"
POLL = 0.2


def login(api: httpx.Client, user: str, request_id: str | None = None) -> str:
    headers = {"X-Request-ID": request_id} if request_id else {}
    response = api.post("/auth/login", json={"user_id": user}, headers=headers)
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


def health(stack: Stack) -> tuple[int, dict[str, object] | str]:
    """(status, body) of GET /health now; (0, error) when nothing answers."""
    try:
        response = httpx.get(f"{stack.endpoint('app', 8000)}/health", timeout=2.0)
    except httpx.HTTPError as exc:
        return 0, type(exc).__name__
    return response.status_code, response.json()


def test_stack_is_healthy_and_published_on_loopback_only(chatkit: Stack) -> None:
    status, body = health(chatkit)
    assert status == 200
    assert isinstance(body, dict)
    assert body["status"] == "ok"
    assert body["database"] == "connected"
    assert isinstance(body["uptime_seconds"], int)
    for service in ("app", "db"):
        ports = chatkit.container(service).attrs["NetworkSettings"]["Ports"]
        bindings = [b for spec in ports.values() for b in (spec or [])]
        assert bindings, f"{service} publishes nothing"
        assert {b["HostIp"] for b in bindings} == {"127.0.0.1"}


def test_metrics_has_every_documented_key(api: httpx.Client) -> None:
    response = api.get("/metrics")
    assert response.status_code == 200
    assert set(response.json()) == METRIC_KEYS


def test_login_then_session_then_wrong_token_gets_401(api: httpx.Client) -> None:
    token = login(api, f"alice-{uuid.uuid4().hex[:8]}")
    ok = api.get("/auth/session", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    assert ok.json()["user_id"].startswith("alice-")
    payload, signature = token.split(".")
    forged = f"{payload}.{signature[::-1]}"
    for bad in (forged, "ck_not.a-token", "garbage"):
        denied = api.get("/auth/session", headers={"Authorization": f"Bearer {bad}"})
        assert denied.status_code == 401, bad
    assert api.get("/auth/session").status_code == 401


def test_chat_returns_429_with_retry_after_past_the_limit(api: httpx.Client) -> None:
    token = login(api, f"chatty-{uuid.uuid4().hex[:8]}")
    headers = {"Authorization": f"Bearer {token}"}
    hits_before = api.get("/metrics").json()["rate_limit_hits"]
    statuses = [api.post("/api/v1/chat", json={"message": f"hi {i}"}, headers=headers).status_code
                for i in range(10)]
    assert statuses == [200] * 10
    limited = api.post("/api/v1/chat", json={"message": "one too many"}, headers=headers)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.json()["error"] == "rate_limit_exceeded"
    assert api.get("/metrics").json()["rate_limit_hits"] == hits_before + 1


def test_request_id_is_echoed_and_logged_as_json_without_the_raw_token(chatkit: Stack, api: httpx.Client) -> None:
    request_id = f"it-{uuid.uuid4().hex}"
    token = login(api, f"bob-{uuid.uuid4().hex[:8]}", request_id=request_id)
    echoed = api.get("/metrics", headers={"X-Request-ID": request_id})
    assert echoed.headers["X-Request-ID"] == request_id
    log = chatkit.host("app").exec(f"cat {LOG}").stdout
    records = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert records, "the service wrote no log lines"
    assert all("request_id" in record for record in records)
    mine = [r for r in records if r["request_id"] == request_id]
    assert any(r["event"] == "login_success" for r in mine)
    assert token not in log
    assert token.split(".")[1] not in log  # not even the signature part


def test_admin_ban_takes_effect_at_once(chatkit: Stack, api: httpx.Client) -> None:
    user = f"mallory-{uuid.uuid4().hex[:8]}"
    token = login(api, user)
    banned = chatkit.host("app").exec(f"chatkit-admin ban {user} --reason test")
    assert banned.ok, banned.stderr
    assert user in banned.stdout
    assert api.get("/auth/session", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert api.post("/auth/login", json={"user_id": user}).status_code == 403


def test_exec_reports_exit_code_streams_and_duration(chatkit: Stack) -> None:
    result = chatkit.host("app").exec("echo out; echo err >&2; exit 3")
    assert (result.exit_code, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert result.duration > 0
    assert not result.ok


def test_exec_timeout_stops_the_command(chatkit: Stack) -> None:
    result = chatkit.host("app").exec("sleep 30", timeout=1)
    assert result.timed_out
    assert result.duration < 10


def test_each_exec_is_a_fresh_shell_like_a_new_ssh_session(chatkit: Stack) -> None:
    chatkit.host("app").exec("export GAMEDAY_PROBE=set")
    assert chatkit.host("app").exec('echo "${GAMEDAY_PROBE:-unset}"').stdout == "unset\n"


def test_stopping_postgresql_degrades_health_and_starting_it_recovers(fresh_chatkit: Stack) -> None:
    db = fresh_chatkit.host("db")
    assert db.exec("systemctl stop postgresql").ok
    assert db.exec("systemctl is-active postgresql").stdout.strip() == "inactive"
    wait_for(lambda: _degraded(fresh_chatkit), what="health degraded", timeout=15, interval=POLL)
    started = db.exec("systemctl start postgresql")
    assert started.ok, started.stderr
    wait_for(lambda: _healthy(fresh_chatkit), what="health back to ok", timeout=30, interval=POLL)


def _degraded(stack: Stack) -> tuple[bool, str]:
    status, body = health(stack)
    done = status == 503 and isinstance(body, dict) and body.get("status") == "degraded" \
        and body.get("database") == "disconnected"
    return done, f"{status} {body}"


def _healthy(stack: Stack) -> tuple[bool, str]:
    status, body = health(stack)
    done = status == 200 and isinstance(body, dict) and body.get("database") == "connected"
    return done, f"{status} {body}"


def test_missing_secret_key_is_fatal_and_only_the_environment_file_fixes_it(fresh_chatkit: Stack) -> None:
    app = fresh_chatkit.host("app")
    original = app.exec(f"cat {ENV_FILE}").stdout
    assert "SECRET_KEY=" in original
    assert app.exec(f"sed -i '/^SECRET_KEY=/d' {ENV_FILE}").ok
    restarted = app.exec("systemctl restart chatkit-backend")
    assert not restarted.ok  # the unit fails to start, as systemctl would say
    fatal = app.exec(f"grep FATAL {LOG}").stdout
    assert "FATAL: SECRET_KEY environment variable is not set" in fatal
    assert health(fresh_chatkit)[0] == 0, "nothing should answer on /health"

    # The seed runbook's fix: a variable exported in the operator's shell never reaches the service.
    app.exec("export SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))'); "
             "systemctl restart chatkit-backend")
    assert health(fresh_chatkit)[0] == 0

    # What works: write the key where the service reads it, then restart.
    fixed = app.exec("echo \"SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')\" "
                     f">> {ENV_FILE} && systemctl restart chatkit-backend")
    assert fixed.ok, fixed.stderr
    wait_for(lambda: _healthy(fresh_chatkit), what="health back to ok", timeout=30, interval=POLL)


def test_endpoint_is_looked_up_again_after_a_container_restart(fresh_chatkit: Stack) -> None:
    fresh_chatkit.container("app").restart(timeout=5)
    fresh_chatkit.wait_healthy("app")
    assert _healthy(fresh_chatkit)[0]


@pytest.mark.parametrize("service", ["app", "db"])
def test_hosts_have_the_tools_a_runbook_uses(chatkit: Stack, service: str) -> None:
    tools = {"app": "bash curl jq psql tar grep systemctl chatkit-admin python3",
             "db": "bash psql grep systemctl pg_isready"}[service]
    result = chatkit.host(service).exec(f"for t in {tools}; do command -v $t >/dev/null || echo missing $t; done")
    assert result.stdout == ""


def test_nothing_of_the_stack_listens_beyond_loopback_on_this_machine(chatkit: Stack) -> None:
    """The published ports are bound to 127.0.0.1 only: no listener on 0.0.0.0, [::] or a bridge."""
    ports = {chatkit.port("app", 8000), chatkit.port("db", 5432)}
    listing = subprocess.run(["ss", "-Hltn"], capture_output=True, text=True, check=True).stdout
    listeners = {}
    for line in listing.splitlines():
        local = line.split()[3]
        address, _, port = local.rpartition(":")
        if port.isdigit() and int(port) in ports:
            listeners.setdefault(int(port), set()).add(address)
    assert set(listeners) == ports, f"not listening: {ports - set(listeners)}"
    for port, addresses in listeners.items():
        assert addresses == {"127.0.0.1"}, f"port {port} listens on {addresses}"
