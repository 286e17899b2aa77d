"""One-line JSON logging: format, request ids, redaction and surviving log rotation."""

import json
import os
from pathlib import Path

import pytest
from chatkit_backend.jsonlog import JsonLogger, fatal_line, iso_utc, request_id_var

TOKEN = "ck_eyJzaWQiOiJzLTEifQ.c2lnbmF0dXJl"
T0 = 1_700_000_000.5


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def make_logger(path: Path, redact_enabled: bool = True) -> JsonLogger:
    return JsonLogger(str(path), redact_enabled=redact_enabled, clock=lambda: T0)


def test_each_record_is_one_compact_json_line_with_base_keys_first(tmp_path: Path) -> None:
    path = tmp_path / "svc.log"
    make_logger(path).error("database_error", error_type="PoolTimeout", attempt=2)
    text = path.read_text()
    assert text.endswith("\n")
    assert text.count("\n") == 1
    assert '"level":"ERROR"' in text
    assert ": " not in text
    record = lines(path)[0]
    assert list(record) == ["timestamp", "level", "service", "event", "request_id", "error_type", "attempt"]
    assert record["timestamp"] == "2023-11-14T22:13:20.500Z"
    assert record["service"] == "chatkit-backend"
    assert record["event"] == "database_error"
    assert record["request_id"] is None
    assert record["attempt"] == 2


def test_iso_utc_has_milliseconds_and_z() -> None:
    assert iso_utc(0) == "1970-01-01T00:00:00.000Z"
    assert iso_utc(1.2345) == "1970-01-01T00:00:01.234Z"


def test_request_id_comes_from_the_context_variable(tmp_path: Path) -> None:
    path = tmp_path / "svc.log"
    logger = make_logger(path)
    reset = request_id_var.set("req-42")
    try:
        logger.info("request_completed", status=200)
    finally:
        request_id_var.reset(reset)
    logger.info("service_started")
    assert [r["request_id"] for r in lines(path)] == ["req-42", None]


def test_convenience_methods_set_the_level(tmp_path: Path) -> None:
    path = tmp_path / "svc.log"
    logger = make_logger(path)
    logger.info("a")
    logger.warning("b")
    logger.error("c")
    logger.critical("d")
    assert [r["level"] for r in lines(path)] == ["INFO", "WARNING", "ERROR", "CRITICAL"]


def test_caller_fields_cannot_overwrite_base_keys(tmp_path: Path) -> None:
    path = tmp_path / "svc.log"
    make_logger(path).info("x", service="spoofed", timestamp="never")
    record = lines(path)[0]
    assert (record["service"], record["timestamp"]) == ("chatkit-backend", "2023-11-14T22:13:20.500Z")


def test_tokens_are_redacted_when_enabled(tmp_path: Path) -> None:
    path = tmp_path / "svc.log"
    make_logger(path).info("login_success", user_id="alice", token=TOKEN, note=f"echo {TOKEN}")
    text = path.read_text()
    assert TOKEN not in text
    assert lines(path)[0]["token"] == "[REDACTED]"
    assert lines(path)[0]["user_id"] == "alice"


def test_tokens_are_logged_raw_when_redaction_is_disabled(tmp_path: Path) -> None:
    path = tmp_path / "svc.log"
    make_logger(path, redact_enabled=False).info("login_success", token=TOKEN)
    assert lines(path)[0]["token"] == TOKEN


def test_logging_continues_after_the_file_is_truncated(tmp_path: Path) -> None:
    path = tmp_path / "svc.log"
    logger = make_logger(path)
    logger.info("before")
    path.write_text("")
    logger.info("after")
    assert [r["event"] for r in lines(path)] == ["after"]


def test_logging_continues_after_the_file_is_moved_or_removed(tmp_path: Path) -> None:
    path = tmp_path / "svc.log"
    logger = make_logger(path)
    logger.info("first")
    os.replace(path, tmp_path / "svc.log.1")
    logger.info("second")
    path.unlink()
    logger.info("third")
    assert [r["event"] for r in lines(path)] == ["third"]
    assert [r["event"] for r in lines(tmp_path / "svc.log.1")] == ["first"]


def test_unwritable_log_falls_back_to_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    JsonLogger(str(tmp_path), clock=lambda: T0).warning("disk_trouble", token=TOKEN)
    record = json.loads(capsys.readouterr().err)
    assert (record["event"], record["token"]) == ("disk_trouble", "[REDACTED]")


def test_fatal_line_is_a_critical_startup_failed_record() -> None:
    line = fatal_line("FATAL: SECRET_KEY environment variable is not set", now=T0)
    assert "\n" not in line
    assert "FATAL: SECRET_KEY" in line
    assert json.loads(line) == {
        "timestamp": "2023-11-14T22:13:20.500Z",
        "level": "CRITICAL",
        "service": "chatkit-backend",
        "event": "startup_failed",
        "request_id": None,
        "message": "FATAL: SECRET_KEY environment variable is not set",
    }
