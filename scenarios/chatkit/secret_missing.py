"""secret-missing: the service restarted with SECRET_KEY gone from its environment file."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from harness import DrillContext, EnvFileChange
from scenarios.chatkit import APP_PORT, ENV_FILE, RESTART, chatkit_scenario


@chatkit_scenario(
    "secret-missing", section="1a-missing-secret_key", severity="P0", detect_within="10s", recover_within="60s"
)
def secret_missing(drill: DrillContext) -> Iterator[None]:
    """SECRET_KEY disappears from the service's environment file and the service restarts"""
    stack = drill.stack

    def health_gone() -> tuple[bool, str]:
        try:
            response = httpx.get(f"{stack.endpoint('app', APP_PORT)}/health", timeout=2)
        except httpx.HTTPError as exc:
            return True, f"/health does not answer ({type(exc).__name__})"
        return False, f"/health still answers {response.status_code}"

    with EnvFileChange(
        stack, stack.host("app"), ENV_FILE, remove=("SECRET_KEY",), restart_command=RESTART, proof=health_gone
    ):
        yield
