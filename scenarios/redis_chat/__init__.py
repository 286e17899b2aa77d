"""The Redis chat system: what its scenarios share (where the stack and runbook are, how to watch
the stack, how to reach the two upstreams' control ports). The package is `redis_chat` because
Python names hold no dash; the system is `redis-chat`. Each scenario is a module of this package.

The synthetic journey is a visitor of a legal-help chat: a session first (GET /api/chat sets the
signed cookie; Redis holds `sess:<id>`), then messages whose practice area the app must detect
through the OpenAI upstream, and now and then a lead (name, email, phone) that the app queues in
Redis and the lead worker submits to LeadProsper. The journey proves more than HTTP answers: a
generic `general` category for a message that names its area is a failed step (detection fell
back), a visitor whose session vanished is logged out (a failed step, then a new session, as a
person reloading the page), and every lead must reach the LeadProsper upstream's record within a
deadline (read from the upstream itself).

Visitors share one HTTP client, so each request carries its own Cookie header (the shared cookie
jar is never used: an explicit header wins over it).
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
    WaitTimeout,
    http_check,
    scenario,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "stack" / "redis-chat" / "compose.yaml"
RUNBOOK = ROOT / "stack" / "redis-chat" / "RUNBOOK.md"
APP_PORT = 80
CONTROL_PORT = 8081
APP_DIR = "/srv/chat-system"
ENV_FILE = f"{APP_DIR}/.env.local"
LOG_FILE = f"{APP_DIR}/logs/application.log"
COOKIE = "chat_session"
CONTROL_TIMEOUT = 5.0
LEAD_EVERY = 3  # every third message of a visitor carries a lead
LEAD_CHECK_EVERY = 2  # every second step of a visitor with leads in flight checks they arrived
LEAD_DEADLINE = 5.0  # seconds from queued to received by LeadProsper before a lead counts as late
LEAD_SETTLE_SECONDS = 8.0  # how long a check waits for leads queued a moment ago
# What visitors write, and the practice area the app must find in it (through the OpenAI upstream).
MESSAGES = (
    ("I was hurt in a car accident last week", "personal-injury"),
    ("I need help with my divorce and the custody of my kids", "family-law"),
    ("my work visa runs out next month", "immigration"),
    ("my employer has not paid my wage for two months", "employment"),
    ("I was arrested and charged yesterday", "criminal-defense"),
)


def health(stack: Stack) -> HealthCheck:
    def healthy(response: httpx.Response) -> bool:
        return response.status_code == 200 and response.json().get("status") == "ok"

    base = stack.endpoint_source("app", APP_PORT)
    return http_check(lambda: f"{base()}/api/health", healthy)


def control(stack: Stack, upstream: str) -> str:
    """An upstream's control URL (`openai` or `leadprosper`) on the machine's loopback."""
    return f"{stack.endpoint(upstream, CONTROL_PORT)}/control"


def delivered_leads(stack: Stack) -> set[str]:
    """The lead ids LeadProsper accepted (its own record of what it received)."""
    response = httpx.get(f"{control(stack, 'leadprosper')}/requests", params={"path": "/direct_post"},
                         timeout=CONTROL_TIMEOUT)
    response.raise_for_status()
    return {str(entry["body"].get("lead_id")) for entry in response.json()
            if entry.get("status") == 200 and isinstance(entry.get("body"), dict)}


def journey(stack: Stack) -> Journey:
    base = stack.endpoint_source("app", APP_PORT)

    def new_session(user: JourneyContext) -> Attempt:
        # A Cookie header of our own keeps the shared client's jar (another visitor's cookie) out.
        response = user.http.get(f"{base()}/api/chat", headers={"Cookie": f"visitor={user.user}"})
        value = response.cookies.get(COOKIE)
        if response.status_code == 200 and value:
            user.state["cookie"] = value
            return Attempt.http("session", response)
        return Attempt("session", False, response.status_code, _error_of(response))

    def check_leads(user: JourneyContext, pending: list[tuple[str, float]]) -> Attempt:
        try:
            arrived = delivered_leads(stack)
        except (httpx.HTTPError, ValueError) as exc:
            return Attempt("lead-delivered", False, None, f"LeadProsper's record unreadable: {type(exc).__name__}")
        pending[:] = [(lead, sent) for lead, sent in pending if lead not in arrived]
        late = [lead for lead, sent in pending if time.monotonic() - sent > LEAD_DEADLINE]
        if late:
            return Attempt("lead-delivered", False, None, f"{len(late)} lead(s) not received after {LEAD_DEADLINE:g}s")
        return Attempt("lead-delivered", True, None, f"{len(pending)} lead(s) in flight")

    def step(user: JourneyContext) -> Attempt:
        state = user.state
        turn = int(str(state.get("turn", 0))) + 1
        state["turn"] = turn
        cookie = state.get("cookie")
        if not cookie:
            return new_session(user)
        pending: list[tuple[str, float]] = state.setdefault("pending", [])  # type: ignore[assignment]
        if pending and turn % LEAD_CHECK_EVERY == 0:
            return check_leads(user, pending)
        text, area = MESSAGES[turn % len(MESSAGES)]
        body: dict[str, object] = {"message": f"{text} ({user.user}, message {turn})"}
        if turn % LEAD_EVERY == 0:
            body["lead"] = {"name": f"Visitor {user.user}", "email": f"{user.user}.{turn}@example.test",
                            "phone": "555-0100"}
        response = user.http.post(f"{base()}/api/chat", json=body, headers={"Cookie": f"{COOKIE}={cookie}"})
        if response.status_code == 401:
            state.pop("cookie", None)  # logged out: the next step starts a new session, as a reload does
            return Attempt("chat", False, 401, f"logged out: {_error_of(response)}")
        if response.status_code != 200:
            return Attempt("chat", False, response.status_code, _error_of(response))
        answer = response.json()
        if answer.get("lead_id"):
            pending.append((str(answer["lead_id"]), time.monotonic()))
        category = answer.get("category")
        return Attempt("chat", category == area, 200, "" if category == area else f"category {category}, not {area}")

    return Journey(step, stack)


def _error_of(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error") or "")[:80]
    except ValueError:
        return response.text[:80]


WATCH = Observation(health=health, journey=journey, users=3, pace=1.0, probe_interval=0.2)


def variables(ctx: DrillContext) -> Mapping[str, str]:
    """What the on-call shell has from the app's .env.local (the runbook's front matter names them)."""
    secret = ctx.stack.secrets
    return {"REDIS_URL": f"redis://default:{secret['REDIS_PASSWORD']}@redis:6379/0",
            "OPENAI_API_KEY": f"sk-{secret['OPENAI_API_KEY']}",
            "OPENAI_BASE_URL": "http://api.openai.internal:8080/v1",
            "LEADPROSPER_API_KEY": secret["LEADPROSPER_API_KEY"],
            "LEADPROSPER_API_URL": "http://api.leadprosper.internal:8080",
            "CRON_SECRET": secret["CRON_SECRET"]}


SHELL_VARIABLES = ("REDIS_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL", "LEADPROSPER_API_KEY", "LEADPROSPER_API_URL",
                   "CRON_SECRET")
redis_chat_scenario = functools.partial(scenario, stack=STACK, runbook=RUNBOOK, observation=WATCH,
                                        variables=variables, binds=SHELL_VARIABLES)


def lead_counts(stack: Stack) -> dict[str, int]:
    """The app's own view of its lead queue: queue, processing, failed."""
    response = httpx.get(f"{stack.endpoint('app', APP_PORT)}/api/cron/process-leads", timeout=CONTROL_TIMEOUT)
    response.raise_for_status()
    counts: dict[str, int] = response.json()
    return counts


def queued_leads(stack: Stack) -> set[str]:
    """Every lead the app queued during this stack's life, from its log."""
    result = stack.host("app").exec(f"grep -o 'Lead queued lead=[^ ]*' {LOG_FILE} | cut -d= -f2", timeout=10)
    return set(result.stdout.split())


def every_lead_delivered(drill: DrillContext) -> tuple[bool, str]:
    """Nothing waits in the queue, in processing or among the failed, and every lead the app
    queued reached LeadProsper (given the few seconds a lead queued a moment ago needs)."""
    try:
        return True, wait_for(lambda: _leads_settled(drill.stack), what="every lead delivered",
                              timeout=LEAD_SETTLE_SECONDS, interval=0.5)
    except WaitTimeout as exc:
        return False, str(exc.last)


def _leads_settled(stack: Stack) -> tuple[bool, str]:
    try:
        counts = lead_counts(stack)
        missing = queued_leads(stack) - delivered_leads(stack)
    except (httpx.HTTPError, ValueError) as exc:
        return False, f"the lead queue or LeadProsper's record did not answer: {type(exc).__name__}"
    waiting = {name: counts.get(name) for name in ("queue", "processing", "failed")}
    ok = not missing and all(value == 0 for value in waiting.values())
    return ok, f"{waiting}; leads queued but never received: {len(missing)}"
