"""Journal and redaction: typed events round-trip, nothing secret or unbounded is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.eventlog import SCHEMA_VERSION, truncate
from harness.journal import (
    CheckRecord,
    DrillFinished,
    FaultRecorded,
    Journal,
    JournalError,
    Metrics,
    Series,
    StepRecorded,
    read_journal,
)
from harness.redact import MASK, Redactor

SECRET = "s3cr3t-value-that-must-not-leak"
TOKEN = "ck_eyJzaWQiOiJhYmMifQ.c2lnbmF0dXJlLXZhbHVl"


def step(stdout: str) -> StepRecorded:
    check = CheckRecord("healthy", None, '"connected"', 12, False, "expected connected", "- connected\n+ gone")
    return StepRecorded("db-down", "diagnose", "6[1]", "app", "RUNBOOK.md:10", "curl -s localhost/health", 0,
                        stdout, "", 0.25, False, 1, "fault", False, (check,), 3.5)


def metrics() -> Metrics:
    return Metrics(True, True, 0.4, 2.0, 9.5, 3.1, 7.0, 10.0, 60.0, 40, 6, ("synthetic-1",), 1.0,
                   (("fix:6a[1]", 1.25),))


def test_events_round_trip_through_the_file_as_the_same_typed_records(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    events = [
        step("ok"),
        FaultRecorded("db-down", "service-stopped", "injected", "postgresql stopped on db", 1.0),
        Series("db-down", ((0.0, True), (1.2, False)), ((0.0, 3, 0), (1.0, 1, 2)), 1.0, (("inject", 1.0),)),
        DrillFinished("db-down", "db-down", "passed", (), metrics(), 30.0),
    ]
    for event in events:
        journal.write(event)
    read = read_journal(journal.path)
    assert read == events
    assert isinstance(read[0], StepRecorded)
    assert isinstance(read[0].checks[0], CheckRecord)
    assert isinstance(read[3], DrillFinished)
    assert read[3].metrics == metrics()


def test_every_line_carries_the_schema_version_and_type(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.write(step("ok"))
    body = json.loads(journal.path.read_text())
    assert body["schema_version"] == SCHEMA_VERSION
    assert body["type"] == "StepRecorded"


def test_outputs_are_redacted_before_they_are_written(tmp_path: Path) -> None:
    redactor = Redactor(secrets=[SECRET], patterns=[r"ck_[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"])
    journal = Journal(tmp_path / "j.jsonl", redactor)
    journal.write(step(f"key={SECRET} token={TOKEN} url=postgresql://chatkit:pw12345@db:5432/chatkit"))
    text = journal.path.read_text()
    assert SECRET not in text
    assert TOKEN not in text
    assert "pw12345" not in text
    assert "postgresql://chatkit:[REDACTED]@db" in text
    assert journal.events[0].stdout.count(MASK) == 3  # type: ignore[union-attr]


def test_a_value_seen_during_the_drill_is_masked_from_then_on(tmp_path: Path) -> None:
    redactor = Redactor()
    journal = Journal(tmp_path / "j.jsonl", redactor)
    journal.write(step("leaked abcdef123456"))
    redactor.add("abcdef123456")
    journal.write(step("leaked abcdef123456"))
    lines = journal.path.read_text().splitlines()
    assert "abcdef123456" in lines[0]
    assert "abcdef123456" not in lines[1]


def test_short_values_are_not_treated_as_secrets() -> None:
    redactor = Redactor(secrets=["ok", "db"])
    assert redactor("ok: db is up") == "ok: db is up"


def test_a_secret_containing_another_is_masked_whole() -> None:
    redactor = Redactor(secrets=["abcdefgh", "abcdefgh-longer-secret"])
    assert redactor("x abcdefgh-longer-secret y") == f"x {MASK} y"


def test_bearer_credentials_and_jwts_are_masked_by_default() -> None:
    redactor = Redactor()
    text = redactor("Authorization: Bearer abcdef0123456789 jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl")
    assert "abcdef0123456789" not in text
    assert "eyJhbGciOiJIUzI1NiJ9" not in text


def test_long_outputs_keep_head_and_tail_and_say_what_was_cut() -> None:
    text = "a" * 5000 + "b" * 5000
    cut = truncate(text, 1000)
    assert cut.startswith("a" * 500)
    assert cut.endswith("b" * 500)
    assert "9000 characters cut" in cut
    assert truncate("short", 1000) == "short"


@pytest.mark.parametrize(("content", "line", "fragment"), [
    ('{"schema_version": 1, "type": "Nope"}\n', 1, "unknown event type"),
    ('{"schema_version": 99, "type": "Series"}\n', 1, "schema_version 99"),
    ("not json at all\n", 1, "not a journal event"),
    ('\n{"schema_version": 1, "type": "Series", "drill": "x"}\n', 2, "not a journal event"),
    ("[1, 2, 3]\n", 1, "not a JSON object"),
    ('{"schema_version": true, "type": "Series"}\n', 1, "schema_version True"),
    ('\n\n{"schema_version": 1, "type": "ProbeTransition", "drill": "x", "ok": true, "status": 200, "detail": "", '
     '"t": NaN}\n', 3, "NaN is not a number"),
    ('{"schema_version": 1, "type": "ProbeTransition", "t": -Infinity}\n', 1, "Infinity is not a number"),
    ('{"schema_version": 1, "type": "ProbeTransition", "t": 1e999}\n', 1, "out of range"),
    ('{"schema_version": 1, "type": "ProbeTransition", "t": 1e300}\n', 1, "out of range"),
    ('{"schema_version": 1, "type": "ProbeTransition", "drill": "\\udc80"}\n', 1, "lone surrogate"),
    ('{"schema_version": 1, "\\ud800": 1}\n', 1, "lone surrogate"),
    ('{"schema_version": 1, "x": ' + "[" * 40 + "]" * 40 + "}\n", 1, "nested deeper than 32"),
    ('{"schema_version": 1, "x": ' + "[" * 200_000 + "\n", 1, "nested deeper than 32"),
])
def test_a_corrupt_journal_is_an_error_with_file_and_line(tmp_path: Path, content: str, line: int,
                                                         fragment: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(JournalError) as failure:
        read_journal(path)
    assert failure.value.line == line
    assert str(failure.value).startswith(f"{path}:{line}: ")
    assert fragment in str(failure.value)
    assert failure.value.exit_code == 2


def test_a_missing_journal_is_an_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="no such journal file"):
        read_journal(tmp_path / "missing.jsonl")


def test_a_journal_line_with_a_wrongly_typed_value_is_an_error(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.write(FaultRecorded("db-down", "service-stopped", "injected", "detail", 1.0))
    body = json.loads(journal.path.read_text())
    body["t"] = "soon"
    journal.path.write_text(json.dumps(body) + "\n")
    with pytest.raises(JournalError, match="expected float"):
        read_journal(journal.path)


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "journal.jsonl")
    with pytest.raises(JournalError, match="not a regular file"):
        read_journal(tmp_path / "journal.jsonl")


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="is a folder"):
        read_journal(tmp_path)


def test_a_lone_surrogate_in_a_recorded_text_is_written_as_a_replacement_character(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.write(FaultRecorded("db-down", "service-stopped", "injected", "bad \udc80 byte", 1.0))
    (event,) = read_journal(journal.path)
    assert isinstance(event, FaultRecorded)
    assert event.detail == "bad \ufffd byte"
