"""rate-limit-storm: one bot account floods the chat API (bounded in count and time)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx

from harness import DrillContext, HttpStorm
from scenarios.chatkit import APP_PORT, chatkit_scenario

BOT = "bot-scraper-7"
STORM_REQUESTS = 8000  # hard bounds: never more requests than this ...
STORM_SECONDS = 90.0  # ... nor for longer than this
STORM_CONCURRENCY = 8


@chatkit_scenario("rate-limit-storm", section="3b-bot-or-abuse", severity="P1", detect_within="15s",
                  recover_within="45s", min_success_ratio=0.99)
def rate_limit_storm(drill: DrillContext) -> Iterator[None]:
    """A bot hammers the chat API and uses up the shared rate-limit budget"""
    base = drill.stack.endpoint("app", APP_PORT)
    session: dict[str, str] = {}
    lock = asyncio.Lock()

    async def send(client: httpx.AsyncClient, number: int) -> int:
        async with lock:
            if "token" not in session:
                login = await client.post(f"{base}/auth/login", json={"user_id": BOT})
                if login.status_code != 200:
                    return login.status_code  # banned: 403
                session["token"] = login.json()["token"]
                drill.remember_secret(session["token"])
        response = await client.post(f"{base}/api/v1/chat", json={"message": f"spam {number}"},
                                     headers={"Authorization": f"Bearer {session['token']}"})
        if response.status_code in (401, 403):
            session.pop("token", None)
        return response.status_code

    with HttpStorm(send, total=STORM_REQUESTS, duration=STORM_SECONDS, concurrency=STORM_CONCURRENCY,
                   base_url=lambda: base):
        yield
