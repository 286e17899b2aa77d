"""Scrub credentials from structured log records before they are written."""

from __future__ import annotations

import re
from collections.abc import Mapping

from .tokens import TOKEN_PATTERN

REDACTED = "[REDACTED]"
SENSITIVE_KEY = re.compile(r"token|secret|password|authorization|api[_-]?key|cookie", re.IGNORECASE)
NEVER_REDACTED_KEYS = frozenset({"event"})
_BEARER = re.compile(r"(\bBearer\s+)[^\s\"',;]+", re.IGNORECASE)
_DB_PASSWORD = re.compile(r"(\bpostgres(?:ql)?://[^:/@\s]*:)[^@\s]+(@)", re.IGNORECASE)


def redact_text(text: str) -> str:
    """Replace token-shaped strings, Bearer credentials and DB URL passwords in ``text``."""
    text = TOKEN_PATTERN.sub(REDACTED, text)
    text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    return _DB_PASSWORD.sub(lambda m: m.group(1) + REDACTED + m.group(2), text)


def _scrub(value: object) -> object:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: _scrub_item(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value


def _scrub_item(key: str, value: object) -> object:
    if key not in NEVER_REDACTED_KEYS and SENSITIVE_KEY.search(key):
        return REDACTED
    return _scrub(value)


def redact(record: Mapping[str, object], enabled: bool) -> dict[str, object]:
    """Return a copy of ``record``, scrubbed when ``enabled`` (untouched otherwise)."""
    if not enabled:
        return dict(record)
    return {key: _scrub_item(key, value) for key, value in record.items()}
