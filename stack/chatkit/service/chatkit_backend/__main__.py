"""``python3 -m chatkit_backend``: validate the environment, then serve with uvicorn."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from .config import DEFAULT_LOG_FILE, ConfigError, load_settings
from .jsonlog import fatal_line


def report_fatal(messages: list[str], env: Mapping[str, str]) -> None:
    """Write each FATAL message to the service log (as JSON) and to stderr (as plain text)."""
    log_file = (env.get("LOG_FILE") or "").strip() or DEFAULT_LOG_FILE
    try:
        with open(log_file, "a", encoding="utf-8") as handle:
            for message in messages:
                handle.write(fatal_line(message) + "\n")
    except OSError as exc:
        print(f"could not write to {log_file}: {exc.strerror}", file=sys.stderr)
    for message in messages:
        print(message, file=sys.stderr)


def main() -> int:
    try:
        settings = load_settings(os.environ)
    except ConfigError as exc:
        report_fatal(exc.messages, os.environ)
        return 1

    import uvicorn  # type: ignore[import-untyped,unused-ignore]

    from .app import create_app

    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, log_level="warning", access_log=False
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
