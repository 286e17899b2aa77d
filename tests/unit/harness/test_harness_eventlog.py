"""The generic event log, and the journals and exercise logs the first version wrote, still read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.eventlog import EventLog, EventLogError, LogFormat
from harness.exercise_log import ExerciseFinished, ExerciseLogError, HintTaken, read_exercise_log
from harness.journal import DrillFinished, FaultRecorded, JournalError, read_journal
from harness.redact import Redactor
from harness.report import write_reports
from harness.report.debrief import write_debrief
from harness.runbook.model import Phase
from harness.vocabulary import FaultAction, Outcome, Verdict

FIXTURES = Path(__file__).parents[2] / "fixtures" / "journals"
V1_GAMEDAY = FIXTURES / "v1-gameday.jsonl"
V1_EXERCISE = FIXTURES / "v1-exercise.jsonl"


@dataclass(frozen=True)
class Said:
    who: str
    text: str
    phase: Phase


NOTES: LogFormat[Said] = LogFormat("note log", "note", {"Said": Said}, 1_000_000)


def test_a_log_writes_redacted_lines_and_keeps_what_it_wrote(tmp_path: Path) -> None:
    heard: list[Said] = []
    log = EventLog(NOTES, tmp_path / "sub" / "notes.jsonl", Redactor(secrets=["hunter2-secret"]), heard.append)
    written = log.write(Said("ops", "the password is hunter2-secret", Phase.FIX))
    assert written == Said("ops", "the password is [REDACTED]", Phase.FIX)
    assert log.events == heard == [written]
    body = json.loads(log.path.read_text())
    assert body == {"schema_version": 1, "type": "Said", "who": "ops", "text": "the password is [REDACTED]",
                    "phase": "fix"}
    assert NOTES.read(log.path) == [written]


def test_a_log_refuses_an_event_of_another_table(tmp_path: Path) -> None:
    log = EventLog(NOTES, tmp_path / "notes.jsonl")
    with pytest.raises(TypeError, match="not a note"):
        log.write(FaultRecorded("d", "f", FaultAction.INJECTED, "x", 0.0))  # type: ignore[arg-type]


def test_a_bad_line_is_reported_with_its_file_line_and_the_logs_name(tmp_path: Path) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_text('{"schema_version": 1, "type": "Said", "who": "a", "text": "b", "phase": "fix"}\n'
                    '{"schema_version": 1, "type": "Said", "who": "a", "text": "b", "phase": "lunch"}\n')
    with pytest.raises(EventLogError, match=rf"^{path}:2: not a note \('lunch' is not a Phase"):
        NOTES.read(path)
    with pytest.raises(EventLogError, match="no such note log file"):
        NOTES.read(tmp_path / "missing.jsonl")


def test_each_log_raises_its_own_error(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text("nope\n")
    with pytest.raises(JournalError, match="not a journal event"):
        read_journal(path)
    with pytest.raises(ExerciseLogError, match="not an exercise event"):
        read_exercise_log(path)


def test_a_v1_gameday_journal_decodes_every_line() -> None:
    events = read_journal(V1_GAMEDAY)
    assert len(events) == len(V1_GAMEDAY.read_text().splitlines())
    finished = [e for e in events if isinstance(e, DrillFinished)]
    assert [(f.scenario, f.verdict) for f in finished] == [("db-down", Verdict.PASSED), ("token-leak", Verdict.PASSED)]


def test_a_v1_gameday_journal_renders_every_report(tmp_path: Path) -> None:
    folder = tmp_path / "gameday-20261122-063713"
    written = write_reports([V1_GAMEDAY], folder)
    names = {p.name for p in written}
    assert {"report.html", "summary.json", "junit.xml", "postmortem-db-down.md", "postmortem-token-leak.md",
            "index.html"} <= names
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["passed"] is True
    assert summary["counts"] == {"passed": 2, "failed": 0, "harness-error": 0, "interrupted": 0}
    assert "✓ passed" in (folder / "report.html").read_text()


def test_a_v1_exercise_log_decodes_and_renders_its_debrief(tmp_path: Path) -> None:
    events = read_exercise_log(V1_EXERCISE)
    assert len(events) == len(V1_EXERCISE.read_text().splitlines())
    hint = next(e for e in events if isinstance(e, HintTaken))
    assert hint.phase == Phase.DIAGNOSE
    assert isinstance(hint.phase, Phase)
    end = events[-1]
    assert isinstance(end, ExerciseFinished)
    assert end.outcome is Outcome.RECOVERED
    _, md = write_debrief(V1_EXERCISE, tmp_path)
    assert "**Outcome**: RECOVERED (recovered: steady state came back)" in md.read_text()
