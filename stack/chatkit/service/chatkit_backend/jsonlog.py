"""One-line JSON log records appended to a file, reopened for every write.

Reopening per write means an operator may truncate (``> file``) or move the file at any time.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from .redaction import redact

SERVICE = "chatkit-backend"
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def iso_utc(epoch_seconds: float) -> str:
    """``2026-01-01T12:34:56.789Z`` for an epoch timestamp."""
    moment = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _dumps(record: dict[str, object]) -> str:
    return json.dumps(record, separators=(",", ":"), default=str)


def fatal_line(message: str, now: float | None = None, service: str = SERVICE) -> str:
    """The JSON line (no newline) recorded when the service refuses to start."""
    return _dumps(
        {
            "timestamp": iso_utc(time.time() if now is None else now),
            "level": "CRITICAL",
            "service": service,
            "event": "startup_failed",
            "request_id": None,
            "message": message,
        }
    )


class JsonLogger:
    """Structured logger: base keys first, then the caller's fields, redacted when enabled."""

    def __init__(
        self,
        path: str,
        service: str = SERVICE,
        redact_enabled: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.service = service
        self.redact_enabled = redact_enabled
        self._clock = clock
        self._lock = threading.Lock()

    def format(self, level: str, event: str, **fields: object) -> str:
        record: dict[str, object] = {
            "timestamp": iso_utc(self._clock()),
            "level": level,
            "service": self.service,
            "event": event,
            "request_id": request_id_var.get(),
        }
        for key, value in fields.items():
            record.setdefault(key, value)
        return _dumps(redact(record, enabled=self.redact_enabled))

    def log(self, level: str, event: str, **fields: object) -> None:
        line = self.format(level, event, **fields) + "\n"
        with self._lock:
            try:
                with open(self.path, "a", encoding="utf-8") as handle:
                    handle.write(line)
            except OSError:
                sys.stderr.write(line)

    def info(self, event: str, **fields: object) -> None:
        self.log("INFO", event, **fields)

    def warning(self, event: str, **fields: object) -> None:
        self.log("WARNING", event, **fields)

    def error(self, event: str, **fields: object) -> None:
        self.log("ERROR", event, **fields)

    def critical(self, event: str, **fields: object) -> None:
        self.log("CRITICAL", event, **fields)
