"""database-url-invalid: a typo in DATABASE_URL's scheme, and the service restarted on it."""

from __future__ import annotations

from collections.abc import Iterator

from harness import DrillContext, EnvFileChange
from scenarios.chatkit import ENV_FILE, RESTART, chatkit_scenario, health_gone

# The URL the stack was given, with one letter of the scheme lost (postgresql -> postgresq), as a
# hand edit of the file or a bad template would leave it. Host, role, password and database are right.
TYPO_SCHEME = "postgresq"


def file_url_connects(drill: DrillContext) -> tuple[bool, str]:
    """The URL now in the environment file reaches the database, as the service reads it."""
    result = drill.stack.host("app").exec(
        "psql \"$(sed -n 's/^DATABASE_URL=//p' /etc/chatkit-backend.env)\" -tAc 'SELECT 1'")
    return result.ok and result.stdout.strip() == "1", \
        f"psql with the file's DATABASE_URL: {(result.stdout or result.stderr).strip()[:200]}"


@chatkit_scenario(
    "database-url-invalid", section="1b-database_url-missing-or-invalid", severity="P0",
    detect_within="10s", recover_within="60s", checks=(file_url_connects,),
)
def database_url_invalid(drill: DrillContext) -> Iterator[None]:
    """DATABASE_URL in the service's environment file is mistyped and the service restarts"""
    stack = drill.stack
    password = stack.secrets["DB_PASSWORD"]
    broken = f"{TYPO_SCHEME}://chatkit:{password}@db:5432/chatkit"
    with EnvFileChange(
        stack, stack.host("app"), ENV_FILE, set={"DATABASE_URL": broken}, restart_command=RESTART,
        proof=health_gone(stack),
    ):
        yield
