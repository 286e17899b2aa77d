"""Startup refusal: FATAL config messages go to the service log and to stderr."""

import json
from pathlib import Path

import chatkit_backend.__main__ as entry
import pytest


def test_bad_environment_exits_1_and_logs_fatal_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "chatkit-backend.log"
    monkeypatch.setenv("LOG_FILE", str(log))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://ck:topsecretpw@db:5432/")
    assert entry.main() == 1
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["level"], r["event"]) for r in records] == [("CRITICAL", "startup_failed")] * 2
    assert [r["message"] for r in records] == [
        "FATAL: SECRET_KEY environment variable is not set",
        "FATAL: DATABASE_URL is invalid (expected postgresql://user:password@host:port/database)",
    ]
    err = capsys.readouterr().err
    assert "FATAL: SECRET_KEY environment variable is not set" in err.splitlines()
    assert "topsecretpw" not in err + log.read_text()


def test_unwritable_log_still_reports_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entry.report_fatal(["FATAL: X"], {"LOG_FILE": str(tmp_path / "missing-dir" / "x.log")})
    assert "FATAL: X" in capsys.readouterr().err.splitlines()
