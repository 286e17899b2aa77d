"""The ChatKit system: what every ChatKit scenario shares (where the stack and runbook are, how to
watch the stack: its health check and a few synthetic users logging in, chatting and saving
chats, and the values the runbook's placeholders need). Each scenario is a module of this
package; discovery imports them all (harness.systems)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping

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

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
STACK = ROOT / "stack" / "chatkit" / "compose.yaml"
RUNBOOK = ROOT / "stack" / "chatkit" / "RUNBOOK.md"
APP_PORT = 8000
ENV_FILE = "/etc/chatkit-backend.env"
LOG_FILE = "/var/log/chatkit-backend.log"
RESTART = "systemctl restart chatkit-backend"
SAVE_EVERY = 3  # one chat save for every few chat messages


def app_url(stack: Stack) -> Callable[[], str]:
    """The app's loopback URL, looked up again every couple of seconds."""
    return stack.endpoint_source("app", APP_PORT)


def health(stack: Stack) -> HealthCheck:
    def healthy(response: httpx.Response) -> bool:
        return response.status_code == 200 and response.json().get("database") == "connected"

    base = app_url(stack)
    return http_check(lambda: f"{base()}/health", healthy)


def health_gone(stack: Stack) -> Callable[[], tuple[bool, str]]:
    """A fault's proof that the service is down: its /health no longer answers at all."""

    def gone() -> tuple[bool, str]:
        try:
            response = httpx.get(f"{stack.endpoint('app', APP_PORT)}/health", timeout=2)
        except httpx.HTTPError as exc:
            return True, f"/health does not answer ({type(exc).__name__})"
        return False, f"/health still answers {response.status_code}"

    return gone


def journey(stack: Stack, within: float | None = None) -> Journey:
    """A person using the widget: log in once, then chat, saving a chat now and then; log in
    again when the session is refused (after a key rotation, say). With `within` (seconds), a
    reply slower than that is a failed step."""
    base = app_url(stack)

    def step(user: JourneyContext) -> Attempt:
        state, client = user.state, user.http
        token = state.get("token")
        if not token:
            response = client.post(f"{base()}/auth/login", json={"user_id": user.user})
            if response.status_code == 200:
                state["token"] = response.json()["token"]
            return Attempt.http("login", response, ok=response.status_code == 200, within=within)
        turn = int(str(state.get("turn", 0))) + 1
        state["turn"] = turn
        headers = {"Authorization": f"Bearer {token}", "X-Request-ID": f"{user.user}-{turn}"}
        if turn % SAVE_EVERY == 0:
            response = client.post(f"{base()}/chat/save", headers=headers,
                                   json={"title": f"chat {turn}", "messages": [{"role": "user", "text": "hi"}]})
            action, ok = "save", response.status_code == 201
        else:
            response = client.post(f"{base()}/api/v1/chat", headers=headers, json={"message": f"hello {turn}"})
            action, ok = "chat", response.status_code == 200
        if response.status_code == 401:
            state.pop("token", None)
        return Attempt.http(action, response, ok=ok, within=within)

    return Journey(step, stack)


WATCH = Observation(health=health, journey=journey, users=3, pace=1.5, probe_interval=0.2)


def variables(ctx: DrillContext) -> Mapping[str, str]:
    """REQUEST_ID: a real request from the log (as from a support ticket); DB_PASSWORD: from the
    stack's secrets (as from the password manager)."""
    request_id = f"ticket-{uuid.uuid4().hex[:12]}"
    httpx.post(f"{ctx.stack.endpoint('app', APP_PORT)}/auth/login", json={"user_id": "support-ticket"},
               headers={"X-Request-ID": request_id}, timeout=5)
    return {"REQUEST_ID": request_id, "DB_PASSWORD": ctx.stack.secrets["DB_PASSWORD"]}


chatkit_scenario = functools.partial(scenario, stack=STACK, runbook=RUNBOOK, observation=WATCH, variables=variables,
                                     binds=("REQUEST_ID", "DB_PASSWORD"))
