"""Settings loaded from environment variables, with every problem reported as a FATAL message.

Secrets (SECRET_KEY, DATABASE_URL) are never echoed in messages or in the dataclass repr.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlsplit

DEFAULT_LOG_FILE = "/var/log/chatkit-backend.log"
MIN_SECRET_LENGTH = 16
KNOWN_DEFAULT_SECRETS = frozenset(
    {"change-me", "changeme", "secret", "dev-secret", "change-me-in-production", "your-secret-key-here"}
)
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})

T = TypeVar("T", int, float)


class ConfigError(Exception):
    """Raised with every configuration problem found; each message starts with ``FATAL: ``."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


@dataclass(frozen=True)
class Settings:
    """Validated service configuration."""

    secret_key: str = field(repr=False)
    database_url: str = field(repr=False)
    log_file: str = DEFAULT_LOG_FILE
    host: str = "0.0.0.0"
    port: int = 8000
    session_expiry_hours: int = 24
    rate_limit_window_seconds: int = 60
    rate_limit_max_requests: int = 10
    rate_limit_save_chat: int = 5
    rate_limit_global_max_requests: int = 600
    integration_test_mode: bool = False
    db_pool_max: int = 5
    db_pool_timeout_seconds: float = 2.0
    db_connect_timeout_seconds: int = 2
    db_conn_max_age_seconds: float = 0.0  # 0: a fresh connection for every use

    @property
    def redaction_enabled(self) -> bool:
        """Log redaction is on unless the integration-test escape hatch is set."""
        return not self.integration_test_mode

    @property
    def session_ttl_seconds(self) -> int:
        return self.session_expiry_hours * 3600


def _is_valid_database_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return False
    return (
        parts.scheme in ("postgresql", "postgres") and bool(parts.hostname) and bool(parts.path.lstrip("/"))
    )


def load_settings(env: Mapping[str, str]) -> Settings:
    """Build Settings from ``env``; raise ConfigError listing every problem found."""
    errors: list[str] = []

    def raw(name: str) -> str | None:
        value = env.get(name)
        return None if value is None or value.strip() == "" else value.strip()

    def number(name: str, default: T, cast: Callable[[str], T], minimum: T, maximum: T | None = None) -> T:
        value = raw(name)
        if value is None:
            return default
        kind = "an integer" if cast is int else "a number"
        bounds = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        try:
            parsed = cast(value)
        except ValueError:
            errors.append(f"FATAL: {name} must be {kind} {bounds} (got {value[:40]!r})")
            return default
        if not math.isfinite(parsed) or parsed < minimum or (maximum is not None and parsed > maximum):
            errors.append(f"FATAL: {name} must be {kind} {bounds} (got {value[:40]!r})")
            return default
        return parsed

    secret_key = env.get("SECRET_KEY") or ""
    if secret_key.strip() == "":
        errors.append("FATAL: SECRET_KEY environment variable is not set")
    elif len(secret_key) < MIN_SECRET_LENGTH or secret_key.strip().lower() in KNOWN_DEFAULT_SECRETS:
        errors.append("FATAL: SECRET_KEY is too weak (need at least 16 characters, not a default value)")

    database_url = raw("DATABASE_URL") or ""
    if not database_url:
        errors.append("FATAL: DATABASE_URL environment variable is not set")
    elif not _is_valid_database_url(database_url):
        errors.append(
            "FATAL: DATABASE_URL is invalid (expected postgresql://user:password@host:port/database)"
        )

    test_mode = False
    mode = raw("INTEGRATION_TEST_MODE")
    if mode is not None:
        if mode.lower() in _TRUE:
            test_mode = True
        elif mode.lower() not in _FALSE:
            errors.append("FATAL: INTEGRATION_TEST_MODE must be one of true/false/1/0/yes/no")

    settings = Settings(
        secret_key=secret_key,
        database_url=database_url,
        log_file=raw("LOG_FILE") or DEFAULT_LOG_FILE,
        host=raw("HOST") or "0.0.0.0",
        port=number("PORT", 8000, int, 1, 65535),
        session_expiry_hours=number("SESSION_EXPIRY_HOURS", 24, int, 1),
        rate_limit_window_seconds=number("RATE_LIMIT_WINDOW_SECONDS", 60, int, 1),
        rate_limit_max_requests=number("RATE_LIMIT_MAX_REQUESTS", 10, int, 1),
        rate_limit_save_chat=number("RATE_LIMIT_SAVE_CHAT", 5, int, 1),
        rate_limit_global_max_requests=number("RATE_LIMIT_GLOBAL_MAX_REQUESTS", 600, int, 1),
        integration_test_mode=test_mode,
        db_pool_max=number("DB_POOL_MAX", 5, int, 1),
        db_pool_timeout_seconds=number("DB_POOL_TIMEOUT_SECONDS", 2.0, float, 0.01),
        db_connect_timeout_seconds=number("DB_CONNECT_TIMEOUT_SECONDS", 2, int, 1),
        db_conn_max_age_seconds=number("DB_CONN_MAX_AGE_SECONDS", 0.0, float, 0.0, 3600.0),
    )
    if errors:
        raise ConfigError(errors)
    return settings
