"""Redaction: no secret or token reaches a journal or a report.

Three nets, applied to every recorded text: the stack's own secrets (exact values, known from the
stack definition), values seen during the drill (tokens issued to synthetic users, leaked tokens
found in logs), and token-shaped strings (the stack definition's patterns plus common shapes).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

MASK = "[REDACTED]"
MIN_SECRET_LENGTH = 6  # shorter values would mask ordinary words
DEFAULT_PATTERNS: tuple[str, ...] = (
    r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}",
    r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",  # JWT
    r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",  # AWS access key id
)
# user:PASSWORD@ in URLs: keep the user, mask the password.
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]+:)([^@\s/]+)(@)")


class Redactor:
    """Masks secrets in text. Thread-safe; values can be added while a drill runs."""

    def __init__(self, secrets: Iterable[str] = (), patterns: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._patterns = [re.compile(p) for p in (*DEFAULT_PATTERNS, *patterns)]
        self._compiled: re.Pattern[str] | None = None
        self.add(*secrets)

    def add(self, *values: str) -> None:
        """Mask these exact values from now on (ignores values too short to be secrets)."""
        with self._lock:
            before = len(self._values)
            self._values.update(v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH)
            if len(self._values) != before:
                self._compiled = None

    def add_pattern(self, pattern: str) -> None:
        with self._lock:
            self._patterns.append(re.compile(pattern))

    def _values_pattern(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._compiled is None and self._values:
                # Longest first, so a secret that contains another is masked whole.
                alternatives = sorted(self._values, key=len, reverse=True)
                self._compiled = re.compile("|".join(re.escape(v) for v in alternatives))
            return self._compiled

    def __call__(self, text: str) -> str:
        if not text:
            return text
        values = self._values_pattern()
        if values is not None:
            text = values.sub(MASK, text)
        text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", text)
        for pattern in list(self._patterns):
            text = pattern.sub(MASK, text)
        return text

    def known_values(self) -> tuple[str, ...]:
        """The exact values being masked (for canary checks in tests; never print them)."""
        with self._lock:
            return tuple(sorted(self._values))

    def finds_secret(self, text: str) -> bool:
        """Whether `text` still holds anything this redactor would mask (for report checks)."""
        return self(text) != text
