"""Pure request validation shared by the API and the admin CLI."""

from __future__ import annotations

import re
from typing import TypeGuard

USER_ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,128}")
MAX_MESSAGE_CHARS = 4000
MAX_TITLE_CHARS = 200
MAX_SAVED_MESSAGES = 1000


class ValidationError(ValueError):
    """The request body is unacceptable; the message is safe to return to the client."""


def is_valid_user_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and USER_ID_PATTERN.fullmatch(value) is not None


def is_valid_request_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and REQUEST_ID_PATTERN.fullmatch(value) is not None


def _require_object(body: object) -> dict[str, object]:
    if not isinstance(body, dict):
        raise ValidationError("request body must be a JSON object")
    return body


def parse_login(body: object) -> str:
    user_id = _require_object(body).get("user_id")
    if is_valid_user_id(user_id):
        return user_id
    raise ValidationError("user_id must be 1-64 characters of letters, digits, '_', '.', '-'")


def _bounded_text(body: dict[str, object], name: str, limit: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        raise ValidationError(f"{name} must be a string of 1-{limit} characters")
    return value


def parse_chat(body: object) -> str:
    return _bounded_text(_require_object(body), "message", MAX_MESSAGE_CHARS)


def parse_save(body: object) -> tuple[str, list[object]]:
    data = _require_object(body)
    title = _bounded_text(data, "title", MAX_TITLE_CHARS)
    messages = data.get("messages")
    if not isinstance(messages, list) or len(messages) > MAX_SAVED_MESSAGES:
        raise ValidationError(f"messages must be a list of at most {MAX_SAVED_MESSAGES} items")
    return title, messages


def parse_bearer(header: str | None) -> str | None:
    """The credential of an ``Authorization: Bearer <credential>`` header, or None."""
    if not header:
        return None
    scheme, _, credential = header.strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        return None
    return credential
