"""The Redis chat stack, for real: the Next.js app and its lead worker under pm2 behind nginx, Redis,
and the OpenAI and LeadProsper fakes, over HTTP on 127.0.0.1; the hosts behave as the runbook
assumes (systemctl, pm2, redis-cli with $REDIS_URL, logs/application.log)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness import RedisFilled
from harness.errors import BadInput
from harness.stack.launch import Prepared, prepare
from harness.stack.stack import Stack
from harness.stack.waits import wait_for

ROOT = Path(__file__).resolve().parents[2]
REDIS_CHAT = ROOT / "stack" / "redis-chat" / "compose.yaml"
WEEK = 604800
POLL = 0.2



@pytest.fixture(scope="module")
def parts() -> Prepared:
    return prepare(REDIS_CHAT)  # runs the app's host build first (x-gameday.prepare)


@pytest.fixture(scope="module")
def chat_stack(parts: Prepared) -> Iterator[Stack]:
    definition, client, images = parts
    with Stack(definition, images, client=client) as stack:
        yield stack


@pytest.fixture
def web(chat_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=chat_stack.endpoint("app", 80), timeout=10.0) as client:
        yield client


def on_app(stack: Stack, command: str, timeout: float = 30) -> str:
    result = stack.host("app").exec(command, timeout=timeout)
    assert result.ok, (command, result)
    return str(result.stdout).strip()


def new_session(web: httpx.Client) -> str:
    response = web.get("/api/chat")
    assert response.status_code == 200, response.text
    assert response.json() == {"session": "active", "new": True}
    cookie = str(response.cookies["chat_session"])
    web.cookies.clear()  # each request below names its cookie itself
    return cookie


def say(web: httpx.Client, cookie: str | None, message: str, lead: dict[str, str] | None = None) -> httpx.Response:
    body: dict[str, object] = {"message": message}
    if lead:
        body["lead"] = lead
    return web.post("/api/chat", json=body, headers={"Cookie": f"chat_session={cookie}"} if cookie else {})


def queue_counts(web: httpx.Client) -> dict[str, int]:
    counts: dict[str, int] = web.get("/api/cron/process-leads").json()
    return counts


def answers(web: httpx.Client, status: int) -> tuple[bool, str]:
    try:
        code = web.get("/api/health").status_code
    except httpx.HTTPError as exc:
        return False, repr(exc)
    return code == status, f"/api/health {code}"


def test_the_stack_is_healthy_and_published_on_loopback_only(chat_stack: Stack, web: httpx.Client) -> None:
    assert web.get("/api/health").json() == {"status": "ok", "redis": "ok", "new_chat": False}
    for service in ("app", "redis", "openai", "leadprosper"):
        ports = chat_stack.container(service).attrs["NetworkSettings"]["Ports"]
        bindings = [b for spec in ports.values() for b in (spec or [])]
        assert bindings, f"{service} publishes nothing"
        assert {b["HostIp"] for b in bindings} == {"127.0.0.1"}


def test_a_session_made_by_get_works_for_post_and_lives_a_week(chat_stack: Stack, web: httpx.Client) -> None:
    cookie = new_session(web)
    session_id = cookie.split(".")[0]
    assert web.get("/api/chat", headers={"Cookie": f"chat_session={cookie}"}).json() == {
        "session": "active", "new": False, "messages": 0}
    ttl = int(on_app(chat_stack, f"redis-cli -u $REDIS_URL --no-auth-warning ttl sess:{session_id}"))
    assert WEEK - 60 <= ttl <= WEEK
    marker = uuid.uuid4().hex[:6]
    reply = say(web, cookie, f"my employer fired me {marker}")
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"reply": f"You said: my employer fired me {marker}", "category": "employment",
                            "messages": 1}
    # The update kept the session's TTL; a forged or missing cookie is no session.
    ttl = int(on_app(chat_stack, f"redis-cli -u $REDIS_URL --no-auth-warning ttl sess:{session_id}"))
    assert WEEK - 60 <= ttl <= WEEK
    assert say(web, f"{session_id}.forged", "hi").json() == {"error": "Session not found"}
    assert say(web, None, "hi").status_code == 401
    log = on_app(chat_stack, "grep 'Category detection succeeded category=employment' logs/application.log")
    assert log


def test_a_lead_is_queued_and_reaches_leadprosper(chat_stack: Stack, web: httpx.Client) -> None:
    cookie = new_session(web)
    email = f"lead-{uuid.uuid4().hex[:6]}@example.com"
    reply = say(web, cookie, "I was injured in an accident", {"name": "Ann Lee", "email": email, "phone": "5550100"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["category"] == "personal-injury"
    lead_id = reply.json()["lead_id"]
    control = f"{chat_stack.endpoint('leadprosper', 8081)}/control/requests"

    def submitted() -> tuple[bool, str]:
        outcome = chat_stack.host("app").exec(f"grep 'Lead submission .* lead={lead_id} ' logs/application.log").stdout
        return bool(outcome.strip()), outcome.strip()

    outcome = wait_for(submitted, what="the worker submitting the lead", timeout=15, interval=POLL)
    assert "succeeded" in outcome, outcome
    received = httpx.get(control, timeout=5).json()
    entries = [r for r in received if lead_id in json.dumps(r.get("body"))]
    assert len(entries) == 1, received
    assert entries[0]["path"] == "/direct_post"
    assert entries[0]["status"] == 200
    assert entries[0]["body"]["email"] == email
    assert entries[0]["body"]["category"] == "personal-injury"
    wait_for(lambda: (queue_counts(web) == {"queue": 0, "processing": 0, "failed": 0}, str(queue_counts(web))),
             what="the queue emptied", timeout=10, interval=POLL)
    assert on_app(chat_stack, f"grep -c 'Lead submission succeeded lead={lead_id} status=200' logs/application.log")


def test_redis_stopped_answers_503_quickly_and_recovers_without_an_app_restart(chat_stack: Stack,
                                                                               web: httpx.Client) -> None:
    cookie = new_session(web)
    assert say(web, cookie, "hello").status_code == 200
    redis = chat_stack.host("redis")
    pids_before = on_app(chat_stack, "pm2 pid next-app")
    worker_restarts = "pm2 jlist | jq -r '.[] | select(.name==\"lead-worker\") | .pm2_env.restart_time'"
    restarts_before = on_app(chat_stack, worker_restarts)
    assert redis.exec("sudo systemctl stop redis").ok
    try:
        assert redis.exec("systemctl is-active redis").stdout.strip() == "inactive"
        started = time.monotonic()
        down = say(web, cookie, "hello")
        assert time.monotonic() - started < 2.0
        assert down.status_code == 503
        assert down.json()["error"] == "Session not found"
        assert web.get("/api/health").json() == {"status": "degraded", "redis": "down"}
    finally:
        assert redis.exec("systemctl start redis").ok
    wait_for(lambda: answers(web, 200), what="the app seeing Redis again", timeout=10, interval=POLL)
    # The session was saved when Redis stopped gracefully: the same cookie still works.
    again = say(web, cookie, "hello again")
    assert again.status_code == 200, again.text
    assert again.json()["messages"] == 2
    assert on_app(chat_stack, "pm2 pid next-app") == pids_before
    # The worker waited it out, saying so, without crashing.
    assert on_app(chat_stack, worker_restarts) == restarts_before
    assert on_app(chat_stack, "grep -c 'ERROR \\[lead-worker\\] Redis unavailable' logs/application.log") != "0"
    assert on_app(chat_stack, "grep -c 'ERROR \\[app\\] Session not found' logs/application.log") != "0"


def test_a_rate_limited_openai_makes_the_category_general(chat_stack: Stack, web: httpx.Client) -> None:
    control = f"{chat_stack.endpoint('openai', 8081)}/control"
    cookie = new_session(web)
    httpx.post(control, json={"mode": "rate-limited", "retry_after": 1}, timeout=5)
    try:
        reply = say(web, cookie, "my divorce")
    finally:
        httpx.post(control, json={"mode": "healthy"}, timeout=5)
    assert reply.status_code == 200, reply.text
    assert reply.json()["category"] == "general"
    assert on_app(chat_stack, "grep -c 'ERROR \\[app\\] Category detection failed: upstream 429' logs/application.log")
    assert say(web, cookie, "my divorce").json()["category"] == "family-law"


def test_a_stopped_worker_leaves_the_queue_growing_and_a_started_one_drains_it(chat_stack: Stack,
                                                                              web: httpx.Client) -> None:
    on_app(chat_stack, "pm2 stop lead-worker")
    try:
        assert on_app(chat_stack, "pm2 jlist | jq -r '.[] | select(.name==\"lead-worker\") | .pm2_env.status'") \
            == "stopped"
        cookie = new_session(web)
        for n in range(3):
            lead = {"name": f"Queued {n}", "email": f"q{n}@example.com", "phone": "5550101"}
            assert say(web, cookie, "a visa question", lead).status_code == 200
        assert queue_counts(web)["queue"] >= 3
        # The daemon and the other app are untouched by stopping one app.
        assert on_app(chat_stack, "supervisorctl status pm2-root | awk '{print $2}'") == "RUNNING"
        assert web.get("/api/health").status_code == 200
    finally:
        on_app(chat_stack, "pm2 start lead-worker")
    wait_for(lambda: (queue_counts(web)["queue"] == 0, str(queue_counts(web))), what="the queue drained",
             timeout=20, interval=POLL)


def test_pm2_keeps_the_stored_environment_unless_told_to_update_it(chat_stack: Stack, web: httpx.Client) -> None:
    def restarted(command: str, new_chat: bool) -> None:
        on_app(chat_stack, command)
        wait_for(lambda: answers(web, 200), what=f"next-app back after {command!r}", timeout=30, interval=POLL)
        assert web.get("/api/health").json()["new_chat"] is new_chat

    cookie = new_session(web)
    try:
        restarted("export ENABLE_NEW_CHAT=true; pm2 restart next-app", False)
        assert say(web, cookie, "hi").status_code == 200
        restarted("export ENABLE_NEW_CHAT=true; pm2 restart next-app --update-env", True)
        broken = say(web, cookie, "hi")
        assert broken.status_code == 500
        assert broken.json() == {"error": "Internal Server Error"}
        assert web.get("/api/chat", headers={"Cookie": f"chat_session={cookie}"}).status_code == 200
        assert on_app(chat_stack, "grep -c 'ERROR \\[app\\] New chat pipeline failed: TypeError' logs/application.log")
    finally:
        restarted("export ENABLE_NEW_CHAT=false; pm2 restart next-app --update-env", False)
    assert say(web, cookie, "hi").status_code == 200


def test_pm2_stop_all_keeps_the_daemon_and_restart_all_brings_everything_back(chat_stack: Stack,
                                                                              web: httpx.Client) -> None:
    statuses = "pm2 jlist | jq -r '.[] | .name + \"=\" + .pm2_env.status' | sort | paste -sd ' '"
    daemon = "supervisorctl pid pm2-root"
    before = on_app(chat_stack, daemon)
    on_app(chat_stack, "pm2 stop all")
    try:
        assert on_app(chat_stack, statuses) == "lead-worker=stopped next-app=stopped"
        wait_for(lambda: answers(web, 502), what="nginx without next-app", timeout=10, interval=POLL)
        # The daemon lives on (supervisord did not restart it) and the apps stay stopped.
        assert on_app(chat_stack, daemon) == before
        assert on_app(chat_stack, statuses) == "lead-worker=stopped next-app=stopped"
    finally:
        on_app(chat_stack, "pm2 restart all")
    assert on_app(chat_stack, statuses) == "lead-worker=online next-app=online"
    wait_for(lambda: answers(web, 200), what="the app back", timeout=30, interval=POLL)


def test_the_cron_route_requeues_failed_leads_and_wants_its_secret(chat_stack: Stack, web: httpx.Client) -> None:
    assert web.post("/api/cron/process-leads").status_code == 401
    assert web.post("/api/cron/process-leads", headers={"x-cron-secret": "wrong"}).json() == {"error": "Unauthorized"}
    lead_id = f"cron-{uuid.uuid4().hex[:6]}"
    lead = json.dumps({"id": lead_id, "category": "general", "name": "C", "email": "c@x.io",
                       "phone": "1", "message": "m", "created_at": "2026-01-01T00:00:00Z", "attempts": 1})
    on_app(chat_stack, f"redis-cli -u $REDIS_URL --no-auth-warning hset lead_failed {lead_id} '{lead}'")
    secret = chat_stack.secrets["CRON_SECRET"]
    result = web.post("/api/cron/process-leads", headers={"x-cron-secret": secret}, timeout=30).json()
    assert result["requeued"] >= 1  # with any lead the fake refused earlier
    assert on_app(chat_stack, f"grep -c 'INFO \\[app\\] Lead requeued lead={lead_id}$' logs/application.log") == "1"
    assert set(result) == {"requeued", "processed", "submitted", "failed", "queue"}
    assert on_app(chat_stack, 'curl -s -X POST localhost/api/cron/process-leads -H "x-cron-secret: $CRON_SECRET" '
                              "| jq -r 'has(\"requeued\")'") == "true"


def test_hosts_behave_as_the_runbook_assumes(chat_stack: Stack) -> None:
    app = chat_stack.host("app")
    checks = {
        "pwd": "/srv/chat-system",
        "redis-cli -u $REDIS_URL --no-auth-warning ping": "PONG",
        "curl -s localhost:3000/api/cron/process-leads | jq -r 'keys | join(\",\")'": "failed,processing,queue",
        "systemctl is-active nginx pm2-root": "active\nactive",
        "sudo systemctl restart nginx && systemctl is-active nginx": "active",
        "pm2 jlist | jq -r '.[].name' | sort | paste -sd ' '": "lead-worker next-app",
        "for t in pm2 pm2-runtime redis-cli jq sudo curl node; do command -v $t >/dev/null || echo $t; done; echo ok":
            "ok",
        "test -L /etc/nginx/sites-enabled/chat-system && echo enabled": "enabled",
        "stat -c '%U %a' .env.local": "root 600",
        "echo $OPENAI_API_KEY | grep -c '^sk-'": "1",
        "tail -n 1 /var/log/nginx/access.log | grep -c HTTP": "1",
    }
    for command, expected in checks.items():
        result = app.exec(command, timeout=30)
        assert result.stdout.strip() == expected, (command, result)
    redis = chat_stack.host("redis")
    redis_checks: dict[str, str | None] = {
        "systemctl is-active redis redis-server": "active\nactive",
        "sudo systemctl restart redis && systemctl is-active redis": "active",
        "redis-cli config get maxmemory-policy | tail -n 1": "noeviction",
        "redis-cli config get maxmemory | tail -n 1": str(64 * 1024 * 1024),
        "grep -c 'Ready to accept connections' /var/log/redis/redis-server.log": None,
        "grep -c '^requirepass' /etc/redis/redis.conf": "0",  # the password is only in auth.conf, made at start
    }
    for command, wanted in redis_checks.items():
        result = redis.exec(command, timeout=30)
        assert result.ok or wanted == "0", (command, result)
        if wanted is not None:
            assert result.stdout.strip() == wanted, (command, result)
    # Every line of the application log has its shape.
    for line in app.exec("tail -n 30 logs/application.log").stdout.splitlines():
        assert line.split(" ")[1] in ("INFO", "WARN", "ERROR"), line
        assert line.split(" ")[2] in ("[app]", "[lead-worker]"), line


def test_no_secret_reaches_the_application_log(chat_stack: Stack, web: httpx.Client) -> None:
    cookie = new_session(web)
    say(web, cookie, "a divorce and custody question", {"name": "S", "email": "s@example.com", "phone": "1"})
    log = chat_stack.host("app").exec("cat logs/application.log", timeout=30).stdout
    assert "Performance: POST /api/chat 200" in log
    for name, value in chat_stack.secrets.items():
        assert value not in log, f"{name} is in logs/application.log"
    assert cookie.split(".")[1] not in log


def test_redis_filled_refuses_writes_keeps_sessions_and_rolls_back_its_own_limit(chat_stack: Stack,
                                                                                web: httpx.Client) -> None:
    cookie = new_session(web)
    redis = chat_stack.host("redis")
    limit_before = redis.exec("redis-cli CONFIG GET maxmemory").stdout.split()
    fault = RedisFilled(chat_stack, redis, prefix="runaway:", limit=32 * 1024**2)
    with fault:
        assert "OOM command not allowed" in redis.exec("redis-cli SET probe 1").stdout
        assert say(web, cookie, "hello").status_code == 503
        assert fault.is_active()
    assert [r.action for r in fault.records][-1] == "rolled-back"
    assert redis.exec("redis-cli CONFIG GET maxmemory").stdout.split() == limit_before
    assert redis.exec("redis-cli --scan --pattern 'runaway:*' | wc -l").stdout.strip() == "0"
    assert say(web, cookie, "hello").status_code == 200  # the visitor's session outlived the fault


def test_redis_filled_refuses_a_redis_that_evicts(chat_stack: Stack) -> None:
    redis = chat_stack.host("redis")
    assert redis.exec("redis-cli CONFIG SET maxmemory-policy allkeys-lru").ok
    try:
        with pytest.raises(BadInput, match="evicts keys"):
            RedisFilled(chat_stack, redis).start()
    finally:
        redis.exec("redis-cli CONFIG SET maxmemory-policy noeviction")
    assert redis.exec("redis-cli --scan --pattern 'cache:*' | wc -l").stdout.strip() == "0"  # nothing written
