"""Redaction: no secret or token reaches a journal or a report.

Three nets, applied to every recorded text: the stack's own secrets (exact values, known from the
stack definition), values seen during the drill (tokens issued to synthetic users, leaked tokens
found in logs), and token-shaped strings (the stack definition's patterns plus common shapes).
A person at a shell (an onboarding trainee) also writes new secrets: `secret_assignment_patterns`
and `secret_values` catch the values assigned to a secret's name or set in the stack's env files.
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
SECRETISH = re.compile(r"(?i)secret|password|passwd|token|api_?key|private")  # a setting's name that says secret
_VALUE_SHAPE = r"[A-Za-z0-9_\-+/=.~]{8,}(?=[\s\"';|&)<>`]|$)"  # not a regex, not a sed script
_NAME = re.compile(r"[A-Za-z_]\w*")
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_]\w*)\s*=(.*)$")


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


# -- secrets a person spells out ----------------------------------------------------------------


def secret_assignment_patterns(names: Iterable[str]) -> list[str]:
    """Redaction patterns for token-like values assigned to a secret's name (`SECRET_KEY=...`), leaving
    variable references (`SECRET_KEY=$NEW_KEY`), regexes and sed scripts as they are."""
    return [rf"(?<=\b{name}=){_VALUE_SHAPE}|(?<=\b{name}=[\"']){_VALUE_SHAPE}" for name in sorted(set(names))
            if _NAME.fullmatch(name)]


def secret_values(env_text: str, names: Iterable[str]) -> list[str]:
    """The values of an environment file's settings (`KEY=value`, `export` and one pair of quotes
    allowed, as harness.faults.envfile reads them) that are secrets: named as one, or looking like one."""
    wanted, out = set(names), []
    for line in env_text.splitlines():
        match = _ASSIGNMENT.match(line)
        if not match or line.lstrip().startswith("#"):
            continue
        key, value = match.group(1), match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if value and (key in wanted or SECRETISH.search(key)):
            out.append(value)
    return out
