"""The storm generator (HttpStorm) against a reference load tool (`wrk`, Debian's package) on the
endpoint the rate-limit-storm drill floods: `POST /api/v1/chat` with a bot's bearer token, at the
drill's concurrency, for the same fixed time. Rate = responses received per second.

The app rate-limits that endpoint, so nearly every response is a quick 429: what both tools are
measured on is how fast they can drive the same loopback endpoint, not the app's throughput.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from harness.faults.base import require_loopback
from harness.faults.storm import ERROR_STATUS, HttpStorm
from scenarios.chatkit.rate_limit_storm import BOT, STORM_CONCURRENCY

ENDPOINT = "/api/v1/chat"
LOAD_SECONDS = 5.0
WRK_THREADS = 2  # one per core of the reference machine
STORM_COUNT_BOUND = 200_000  # far above what 5 s can send: the time bound is the one that ends the storm
WRK_GRACE = 30.0  # wrk ends by itself after -d; this bounds a wrk that hangs
APT_TIMEOUT = 300.0
LOGIN_TIMEOUT = 5.0
_WRK_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_WRK_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_WRK_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")

WRK_SCRIPT = """\
wrk.method = "POST"
wrk.body = '{"message": "spam"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
"""


class Unavailable(Exception):
    """A tool the comparison needs cannot be had on this machine."""


@dataclass(frozen=True)
class LoadRun:
    tool: str
    rate: float  # responses per second
    responses: int
    not_2xx: int
    errors: int  # no response: connect/read/write errors and timeouts


def ensure_wrk() -> str:
    """The wrk binary; installed from Debian (apt-get, as root) when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise Unavailable("wrk is not installed (as root: apt-get install wrk)")
    print("  installing wrk (Debian's package)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=APT_TIMEOUT, check=False)
        if result.returncode != 0:
            raise Unavailable(f"{' '.join(command)} failed: {result.stderr.strip()[-300:]}")
    found = shutil.which("wrk")
    if found is None:
        raise Unavailable("apt-get installed wrk but it is not on PATH")
    return found


def bot_token(base: str) -> str:
    response = httpx.post(f"{base}/auth/login", json={"user_id": BOT}, timeout=LOGIN_TIMEOUT)
    response.raise_for_status()
    return str(response.json()["token"])


def run_wrk(wrk: str, base: str, token: str, seconds: float = LOAD_SECONDS,
            concurrency: int = STORM_CONCURRENCY) -> LoadRun:
    url = require_loopback(f"{base}{ENDPOINT}", "wrk")
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as folder:
        script = Path(folder) / "post.lua"
        script.write_text(WRK_SCRIPT % token)
        script.chmod(0o600)
        result = subprocess.run(
            [wrk, f"-t{min(WRK_THREADS, concurrency)}", f"-c{concurrency}", f"-d{seconds:g}s", "-s", str(script), url],
            capture_output=True, text=True, timeout=seconds + WRK_GRACE, check=False)
    rate = _WRK_RATE.search(result.stdout)
    if result.returncode != 0 or rate is None:
        raise RuntimeError(f"wrk failed (exit {result.returncode}): {(result.stdout + result.stderr).strip()[-300:]}")
    responses = re.search(r"(\d+) requests in", result.stdout)
    not_2xx = _WRK_NON_2XX.search(result.stdout)
    errors = _WRK_ERRORS.search(result.stdout)
    return LoadRun("wrk", float(rate[1]), int(responses[1]) if responses else 0, int(not_2xx[1]) if not_2xx else 0,
                   sum(int(n) for n in errors.groups()) if errors else 0)


def run_storm(base: str, seconds: float = LOAD_SECONDS, concurrency: int = STORM_CONCURRENCY) -> LoadRun:
    """HttpStorm with the drill's own kind of `send`: log the bot in once (under a lock), then post chats."""
    session: dict[str, str] = {}
    lock = asyncio.Lock()

    async def send(client: httpx.AsyncClient, number: int) -> int:
        async with lock:
            if "token" not in session:
                login = await client.post(f"{base}/auth/login", json={"user_id": BOT})
                if login.status_code != 200:
                    return login.status_code
                session["token"] = login.json()["token"]
        response = await client.post(f"{base}{ENDPOINT}", json={"message": f"spam {number}"},
                                     headers={"Authorization": f"Bearer {session['token']}"})
        return response.status_code

    storm = HttpStorm(send, total=STORM_COUNT_BOUND, duration=seconds, concurrency=concurrency, base_url=lambda: base)
    storm.inject()
    try:
        while storm.is_active():
            time.sleep(0.05)
    finally:
        storm.restore()
    statuses = storm.statuses()
    errors = statuses.pop(ERROR_STATUS, 0)
    responses = sum(statuses.values())
    not_2xx = sum(n for status, n in statuses.items() if not 200 <= status < 400)
    return LoadRun("HttpStorm", responses / storm.elapsed(), responses, not_2xx, errors)
