"""The PHP chatbot stack, for real: nginx + PHP-FPM, the job worker, PostgreSQL and the upstream,
over HTTP on 127.0.0.1; the hosts behave as the runbook assumes (systemctl, logs, tools)."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.stack.launch import Prepared, prepare
from harness.stack.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
PHP_CHATBOT = ROOT / "stack" / "php-chatbot" / "compose.yaml"
ANSWER_TIMEOUT = 15.0
POLL = 0.2
LOG_FIELDS = {"ts", "level", "event", "component", "context"}



@pytest.fixture(scope="module")
def parts() -> Prepared:
    return prepare(PHP_CHATBOT)


@pytest.fixture(scope="module")
def chatbot(parts: Prepared) -> Iterator[Stack]:
    definition, client, images = parts
    with Stack(definition, images, client=client) as stack:
        yield stack


@pytest.fixture
def web(chatbot: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=chatbot.endpoint("web", 80), timeout=10.0) as client:
        yield client


def admin(stack: Stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.secrets['ADMIN_TOKEN']}"}


def control(stack: Stack, path: str = "") -> str:
    return f"{stack.endpoint('upstream', 8081)}/control{path}"


def chat(web: httpx.Client, message: str, session: str | None = None) -> int:
    response = web.post("/chat.php", json={"session": session or f"s-{uuid.uuid4().hex[:8]}", "message": message})
    assert response.status_code == 202, response.text
    job: int = response.json()["job_id"]
    return job


def settled(web: httpx.Client, job: int, timeout: float = ANSWER_TIMEOUT) -> dict[str, object]:
    """The job once completed or failed (or as it is at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, object] = web.get("/chat.php", params={"job": job}).json()
        if body["status"] in ("completed", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(POLL)


def test_the_stack_is_healthy_and_published_on_loopback_only(chatbot: Stack, web: httpx.Client) -> None:
    assert web.get("/health").json() == {"status": "ok", "database": "connected", "log_disk": "ok"}
    for service in ("web", "db", "upstream"):
        ports = chatbot.container(service).attrs["NetworkSettings"]["Ports"]
        bindings = [b for spec in ports.values() for b in (spec or [])]
        assert bindings, f"{service} publishes nothing"
        assert {b["HostIp"] for b in bindings} == {"127.0.0.1"}


def test_a_user_chats_and_the_answer_comes_from_the_upstream(chatbot: Stack, web: httpx.Client) -> None:
    marker = f"hello {uuid.uuid4().hex[:6]}"
    body = settled(web, chat(web, marker))
    assert body["status"] == "completed", body
    assert body["answer"] == f"You said: {marker}"
    received = httpx.get(control(chatbot, "/requests"), timeout=5).json()
    mine = [r for r in received if marker in json.dumps(r["body"])]
    assert len(mine) == 1
    assert mine[0]["authorized"] is True  # the worker sent the stack's OPENAI_API_KEY
    assert mine[0]["path"] == "/v1/chat/completions"


def test_the_admin_api_answers_with_the_token_and_refuses_without(chatbot: Stack, web: httpx.Client) -> None:
    stats = web.get("/admin-api.php/job_stats", headers=admin(chatbot))
    assert stats.status_code == 200
    assert set(stats.json()) == {"jobs", "dead_letter_queue", "completed_last_minute", "oldest_pending_seconds"}
    assert set(stats.json()["jobs"]) == {"pending", "running", "completed", "failed", "cancelled"}
    assert web.get("/admin-api.php/list_dlq", headers=admin(chatbot)).json() == {"items": []}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": chatbot.secrets["ADMIN_TOKEN"]}):
        assert web.get("/admin-api.php/job_stats", headers=headers).status_code == 401
    log = chatbot.host("web").exec("grep -c '\"event\":\"auth_failed\"' /var/log/chatbot/application.log")
    assert int(log.stdout) >= 3
    missing = web.post("/admin-api.php/requeue_dlq", params={"id": 999999}, headers=admin(chatbot))
    assert missing.status_code == 404


def test_rate_limited_jobs_go_to_the_dlq_and_come_back_when_requeued(chatbot: Stack, web: httpx.Client) -> None:
    switched = httpx.post(control(chatbot), json={"mode": "rate-limited", "retry_after": 1}, timeout=5)
    assert switched.json()["mode"] == "rate-limited"
    try:
        job = chat(web, "limited")
        failed = settled(web, job)
        assert failed["status"] == "failed", failed
        assert failed["attempts"] == 3
    finally:
        httpx.post(control(chatbot), json={"mode": "healthy"}, timeout=5)
    items = web.get("/admin-api.php/list_dlq", headers=admin(chatbot)).json()["items"]
    entry = next(i for i in items if i["job_id"] == job)
    assert "HTTP 429" in entry["error_text"]
    events = chatbot.host("web").exec(
        "jq -r 'select(.event == \"openai_error\") | .context.status' /var/log/chatbot/application.log").stdout
    assert "429" in events.split()
    requeued = web.post("/admin-api.php/requeue_dlq", params={"id": entry["id"]}, headers=admin(chatbot))
    assert requeued.json() == {"requeued": entry["id"], "job_id": job}
    assert settled(web, job)["status"] == "completed"
    assert web.get("/admin-api.php/list_dlq", headers=admin(chatbot)).json() == {"items": []}


def test_a_stalled_upstream_never_answers_and_heals_when_its_window_ends(chatbot: Stack) -> None:
    api = f"{chatbot.endpoint('upstream', 8080)}/v1/chat/completions"
    key = {"Authorization": f"Bearer {chatbot.secrets['OPENAI_API_KEY']}"}
    body = {"messages": [{"role": "user", "content": "x"}]}
    httpx.post(control(chatbot), json={"mode": "hang", "seconds": 2}, timeout=5)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(api, json=body, headers=key, timeout=1.0)
    time.sleep(1.5)
    assert httpx.get(control(chatbot), timeout=5).json()["mode"] == "healthy"
    assert httpx.post(api, json=body, headers=key, timeout=5).status_code == 200
    assert httpx.post(api, json=body, timeout=5).status_code == 401  # no key: refused as the real API would


def test_hosts_behave_as_the_runbook_assumes(chatbot: Stack) -> None:
    web = chatbot.host("web")
    checks = {
        "systemctl is-active nginx php8.2-fpm chatbot-worker": "active\nactive\nactive",
        "systemctl start chatbot-worker@2 && systemctl is-active chatbot-worker@2": "active",
        "systemctl stop chatbot-worker@2; systemctl is-active chatbot-worker@2": "inactive",
        "systemctl reload php8.2-fpm && systemctl is-active php8.2-fpm": "active",
        "df --output=size -B1M /var/log/chatbot | tail -n 1": "4",
        "grep '^memory_limit' /etc/php/8.2/fpm/php.ini": "memory_limit = 128M",
        "grep '^MemoryMax=' /etc/systemd/system/chatbot-worker.service": "MemoryMax=256M",
        "psql \"$ADMIN_DATABASE_URL\" -tAc 'SELECT current_database()'": "chatbot_production",
        "cd /var/www/chatbot && sudo -u www-data php scripts/worker.php --mode=single": "no job is ready",
        "stat -c '%U:%G %a' /var/www/chatbot/.env": "root:www-data 640",
        "for t in jq psql sudo curl; do command -v $t >/dev/null || echo missing $t; done; echo ok": "ok",
        "ls /var/log/nginx/chatbot_access.log /var/log/nginx/chatbot_error.log /var/log/php8.2-fpm.log | wc -l": "3",
    }
    for command, expected in checks.items():
        result = web.exec(command, timeout=30)
        assert result.stdout.strip() == expected, (command, result)
    for line in web.exec("tail -n 20 /var/log/chatbot/application.log").stdout.splitlines():
        assert set(json.loads(line)) == LOG_FIELDS
    assert chatbot.host("db").exec("systemctl is-active postgresql").stdout.strip() == "active"


def test_teardown_leaves_nothing(parts: Prepared) -> None:
    definition, client, images = parts
    with Stack(definition, images, client=client) as stack:
        stack_id = stack.stack_id
        assert stack.host("web").exec("curl -fsS localhost/health").ok
    label = f"label=gameday.stack-id={stack_id}"
    for kind in ("ps -a", "network ls", "volume ls"):
        listed = subprocess.run(["docker", *kind.split(), "-q", "--filter", label], capture_output=True, text=True,
                                check=True, timeout=30)
        assert listed.stdout.strip() == "", kind


def test_disk_filled_fills_a_small_disk_for_real_and_rolls_back(chatbot: Stack, web: httpx.Client) -> None:
    from harness.errors import BadInput
    from harness.faults.disk import DiskFilled

    host = chatbot.host("web")
    records: list[str] = []
    fault = DiskFilled(chatbot, host, "/var/log/chatbot/debug.log")
    with fault:
        records.append(host.exec("df --output=pcent /var/log/chatbot | tail -n 1").stdout.strip())
        assert web.get("/health").json()["log_disk"] == "full"
        # A log's last page may still have room for a few lines; then every write fails.
        codes = [web.post("/chat.php", json={"session": "disk", "message": "hi"}).status_code for _ in range(40)]
        assert codes[-1] == 500, codes
        assert fault.is_active()
    assert records == ["100%"]
    assert not host.exec("test -e /var/log/chatbot/debug.log").ok
    assert web.get("/health").json()["log_disk"] == "ok"
    with pytest.raises(BadInput, match="small file system of its own"):
        DiskFilled(chatbot, host, "/var/tmp/filler").start()
