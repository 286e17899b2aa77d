"""admin-token-leaked: someone outside the team has the admin token and uses it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx

from harness import DrillContext, HttpStorm
from scenarios.php_chatbot import ENV_FILE, WEB_PORT, php_chatbot_scenario

ATTACKER_AGENT = "python-requests/2.31.0"
ATTACK_PACE = 0.5  # seconds between the attacker's calls: a script reading the queue, not a flood
ATTACK_REQUESTS = 600  # hard bounds: never more calls than this ...
ATTACK_SECONDS = 150.0  # ... nor for longer than this


def leaked_token_is_refused(drill: DrillContext) -> tuple[bool, str]:
    """The token that leaked gets 401 now."""
    try:
        status = httpx.get(f"{drill.stack.endpoint('web', WEB_PORT)}/admin-api.php/job_stats", timeout=5,
                           headers={"Authorization": f"Bearer {drill.stack.secrets['ADMIN_TOKEN']}"}).status_code
    except httpx.HTTPError as exc:
        return False, f"the admin API did not answer: {type(exc).__name__}"
    return status == 401, f"the leaked token gets {status} (expected 401)"


def new_token_works(drill: DrillContext) -> tuple[bool, str]:
    """The token now in .env is a new one, and the admin API takes it."""
    token = drill.stack.host("web").exec(f"sed -n 's/^ADMIN_TOKEN=//p' {ENV_FILE} | tail -n 1").stdout.strip()
    if not token or token == drill.stack.secrets["ADMIN_TOKEN"]:
        return False, "the admin token in .env was not changed"
    drill.remember_secret(token)
    status = httpx.get(f"{drill.stack.endpoint('web', WEB_PORT)}/admin-api.php/job_stats", timeout=5,
                       headers={"Authorization": f"Bearer {token}"}).status_code
    return status == 200, f"the new token gets {status}"


@php_chatbot_scenario("admin-token-leaked", section="security-breach-suspected", severity="P0", detect_within="3s",
                      recover_within="30s", variables=None, binds=(), steady=leaked_token_is_refused,
                      checks=(leaked_token_is_refused, new_token_works))
def admin_token_leaked(drill: DrillContext) -> Iterator[None]:
    """The admin token leaked: an outsider reads the job queue with it, and every call succeeds"""
    leaked = drill.stack.secrets["ADMIN_TOKEN"]
    base = drill.stack.endpoint("web", WEB_PORT)

    async def read_queue(client: httpx.AsyncClient, number: int) -> int:
        await asyncio.sleep(ATTACK_PACE)
        response = await client.get("/admin-api.php/list_dlq", headers={
            "Authorization": f"Bearer {leaked}", "User-Agent": ATTACKER_AGENT})
        return response.status_code

    def let_in() -> tuple[bool, str]:
        admitted = storm.statuses()[200]
        return admitted > 0, f"the outsider's calls let in: {admitted}"

    storm = HttpStorm(read_queue, total=ATTACK_REQUESTS, duration=ATTACK_SECONDS, concurrency=1,
                      base_url=lambda: base, proof=let_in)
    with storm:
        yield
