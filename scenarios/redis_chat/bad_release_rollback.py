"""bad-release-rollback: the new chat path is switched on and it is broken; roll the flag back."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from harness import DrillContext, EnvFileChange
from scenarios.redis_chat import APP_PORT, ENV_FILE, redis_chat_scenario

# The release's own restart: pm2 takes the new value only with --update-env (from the shell, which
# reads .env.local), as the team's deploy script does it.
RESTART = "pm2 restart next-app --update-env"


def _new_chat(drill: DrillContext) -> object:
    """What the running app (not its file) says of the new chat path: True, False, or why it cannot tell."""
    try:
        return httpx.get(f"{drill.stack.endpoint('app', APP_PORT)}/api/health", timeout=5).json().get("new_chat")
    except (httpx.HTTPError, ValueError) as exc:
        return f"no answer from /api/health ({type(exc).__name__})"


def new_chat_off(drill: DrillContext) -> tuple[bool, str]:
    """The running app says the new chat path is off (not only the file)."""
    state = _new_chat(drill)
    return state is False, f"/api/health says new_chat={state}"


@redis_chat_scenario("bad-release-rollback", section="1-feature-flag-rollback", severity="P1", detect_within="15s",
                     recover_within="30s", checks=(new_chat_off,))
def bad_release_rollback(drill: DrillContext) -> Iterator[None]:
    """A release turns on ENABLE_NEW_CHAT and the new chat path fails every message"""
    def released() -> tuple[bool, str]:  # the release is out once the restarted app runs the new path
        state = _new_chat(drill)
        return state is True, f"/api/health says new_chat={state}"

    with EnvFileChange(drill.stack, drill.stack.host("app"), ENV_FILE, set={"ENABLE_NEW_CHAT": "true"},
                       restart_command=RESTART, proof=released):
        yield
