"""The PHP chatbot system: what its scenarios share (where the stack and runbook are, how to watch
the stack, how to reach its upstream's control port). The package is `php_chatbot` because Python
names hold no dash; the system is `php-chatbot`. Each scenario is a module of this package;
discovery imports them all (harness.systems).

The synthetic journey is a person chatting: each message is queued (202 with a job id) and its
answer polled until the worker has it from the upstream, so the journey proves that jobs complete,
not only that the site answers. The first user is also the admin, who checks `job_stats` now and
then with the admin token (and, told of a rotation, reads the new one from the server).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from harness import (
    Attempt,
    DrillContext,
    HealthCheck,
    Journey,
    JourneyContext,
    Observation,
    Stack,
    http_check,
    scenario,
)

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "stack" / "php-chatbot" / "compose.yaml"
RUNBOOK = ROOT / "stack" / "php-chatbot" / "RUNBOOK.md"
WEB_PORT = 80
UPSTREAM_CONTROL_PORT = 8081
APP_DIR = "/var/www/chatbot"
ENV_FILE = f"{APP_DIR}/.env"
LOG_DIR = "/var/log/chatbot"
ANSWER_DEADLINE = 5.0  # seconds a user waits for an answer before the chat counts as failing
MAX_OUTSTANDING = 3  # messages a user sends without an answer before only waiting
ADMIN_USER = "synthetic-1"
ADMIN_EVERY = 4  # the admin checks job_stats every few of their steps
ADMIN_AGENT = "chatbot-admin-console/1.0"  # the team's admin tool, as the access logs name it
CONTROL_TIMEOUT = 5.0


def health(stack: Stack) -> HealthCheck:
    def healthy(response: httpx.Response) -> bool:
        return response.status_code == 200 and response.json().get("status") == "ok"

    base = stack.endpoint_source("web", WEB_PORT)
    return http_check(lambda: f"{base()}/health", healthy)


def current_admin_token(user: JourneyContext) -> str:
    """The admin token as the admin was last told it: the server's .env (after a rotation, the
    team passes the new one on; here the admin reads it where the runbook wrote it)."""
    result = user.run("web", f"sed -n 's/^ADMIN_TOKEN=//p' {ENV_FILE} | tail -n 1")
    return result.stdout.strip()


def journey(stack: Stack) -> Journey:
    base = stack.endpoint_source("web", WEB_PORT)

    def admin_step(user: JourneyContext) -> Attempt:
        token = str(user.state.get("admin_token") or stack.secrets["ADMIN_TOKEN"])
        response = user.http.get(f"{base()}/admin-api.php/job_stats",
                                 headers={"Authorization": f"Bearer {token}", "User-Agent": ADMIN_AGENT})
        if response.status_code == 401:
            user.state["admin_token"] = current_admin_token(user)
        ok = response.status_code == 200 and "jobs" in response.json()
        return Attempt.http("job_stats", response, ok=ok)

    def step(user: JourneyContext) -> Attempt:
        state = user.state
        turn = int(str(state.get("turn", 0))) + 1
        state["turn"] = turn
        if user.user == ADMIN_USER and turn % ADMIN_EVERY == 0:
            return admin_step(user)
        waiting: list[tuple[int, float]] = state.setdefault("waiting", [])  # type: ignore[assignment]
        if len(waiting) < MAX_OUTSTANDING and (turn % 2 == 1 or not waiting):
            response = user.http.post(f"{base()}/chat.php", json={"session": user.user, "message": f"hello {turn}"})
            if response.status_code == 202:
                waiting.append((int(response.json()["job_id"]), time.monotonic()))
            return Attempt.http("chat", response, ok=response.status_code == 202)
        job, sent = waiting[0]
        response = user.http.get(f"{base()}/chat.php", params={"job": job})
        if response.status_code != 200:
            return Attempt.http("answer", response, ok=False)
        status = response.json().get("status")
        age = time.monotonic() - sent
        if status == "completed":
            waiting.pop(0)
            answered = str(response.json().get("answer") or "").startswith("You said:")
            return Attempt("answer", answered, 200, f"answered in {age:.1f}s" if answered else "an empty answer")
        if status in ("failed", "cancelled"):
            waiting.pop(0)
            return Attempt("answer", False, 200, f"job {job} {status}")
        return Attempt("answer", age <= ANSWER_DEADLINE, 200, f"job {job} {status} after {age:.1f}s")

    return Journey(step, stack)


WATCH = Observation(health=health, journey=journey, users=3, pace=1.0, probe_interval=0.2)


def upstream_control(stack: Stack) -> str:
    """The upstream's control URL on the machine's loopback (looked up again on every call)."""
    return f"{stack.endpoint('upstream', UPSTREAM_CONTROL_PORT)}/control"


def variables(ctx: DrillContext) -> Mapping[str, str]:
    """What the on-call shell has from the app's .env (the runbook's front matter names them)."""
    secret = ctx.stack.secrets
    return {"ADMIN_TOKEN": secret["ADMIN_TOKEN"], "OPENAI_API_KEY": secret["OPENAI_API_KEY"],
            "OPENAI_BASE_URL": "http://api.openai.internal:8080/v1",
            "ADMIN_DATABASE_URL": f"postgresql://chatbot:{secret['DB_PASSWORD']}@db:5432/chatbot_production"}


SHELL_VARIABLES = ("ADMIN_TOKEN", "ADMIN_DATABASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL")
php_chatbot_scenario = functools.partial(scenario, stack=STACK, runbook=RUNBOOK, observation=WATCH,
                                         variables=variables, binds=SHELL_VARIABLES)


def switch_upstream(stack: Stack, mode: str, **options: object) -> dict[str, object]:
    """Switch the upstream's behaviour through its control port; its state as it answers."""
    response = httpx.post(upstream_control(stack), json={"mode": mode, **options}, timeout=CONTROL_TIMEOUT)
    response.raise_for_status()
    result: dict[str, object] = response.json()
    return result


def dead_letters_requeued_and_answered(drill: DrillContext) -> tuple[bool, str]:
    """Nothing left in the dead-letter queue and no job left failed: the DLQ was requeued and the
    requeued jobs completed."""
    try:
        response = httpx.get(f"{drill.stack.endpoint('web', WEB_PORT)}/admin-api.php/job_stats", timeout=5,
                             headers={"Authorization": f"Bearer {drill.stack.secrets['ADMIN_TOKEN']}"})
        stats = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        return False, f"job_stats did not answer: {type(exc).__name__}"
    dlq, failed = stats.get("dead_letter_queue"), stats.get("jobs", {}).get("failed")
    return dlq == 0 and failed == 0, f"dead letters waiting: {dlq}, jobs failed: {failed}"
