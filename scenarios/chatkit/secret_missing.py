"""secret-missing: the service restarted with SECRET_KEY gone from its environment file."""

from __future__ import annotations

from collections.abc import Iterator

from harness import DrillContext, EnvFileChange
from scenarios.chatkit import ENV_FILE, RESTART, chatkit_scenario, health_gone


@chatkit_scenario(
    "secret-missing", section="1a-missing-secret_key", severity="P0", detect_within="10s", recover_within="60s"
)
def secret_missing(drill: DrillContext) -> Iterator[None]:
    """SECRET_KEY disappears from the service's environment file and the service restarts"""
    stack = drill.stack
    with EnvFileChange(
        stack, stack.host("app"), ENV_FILE, remove=("SECRET_KEY",), restart_command=RESTART, proof=health_gone(stack)
    ):
        yield
