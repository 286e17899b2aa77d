"""`gameday report` through the real entry point: re-render from a journal, no Docker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from harness.journal import DrillFinished, DrillStarted, GamedayFinished, GamedayStarted, Journal, Metrics

GAMEDAY = [sys.executable, "-m", "harness.cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GAMEDAY, *args], capture_output=True, text=True, timeout=60, check=False,
                          env={"PATH": "/usr/bin:/bin", "DOCKER_HOST": "unix:///nonexistent.sock"})


def small_journal(folder: Path) -> Path:
    journal = Journal(folder / "journal.jsonl")
    journal.write(GamedayStarted("run1", ("db-down",), "test"))
    journal.write(DrillStarted("db-down", "db-down", "PostgreSQL stops", "RUNBOOK.md", "6a-database-server-down",
                               "P0", 10.0, 60.0, 5, "chatkit"))
    metrics = Metrics(True, True, 0.5, 1.2, 2.5, 1.5, 1.4, 10.0, 60.0, 6, 3, ("synthetic-1",), 1.0, ())
    journal.write(DrillFinished("db-down", "db-down", "passed", (), metrics, 5.0))
    journal.write(GamedayFinished("run1", (("db-down", "passed"),), 6.0))
    return journal.path


def test_report_re_renders_every_format_from_the_journal_alone(tmp_path: Path) -> None:
    path = small_journal(tmp_path / "gameday-1")
    (tmp_path / ".gameday-reports").write_text("a reports root of the harness\n")
    done = run("report", str(path))
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "gameday-1"
    for name in ("report.html", "summary.json", "junit.xml", "postmortem-db-down.md"):
        assert (folder / name).is_file(), name
    assert json.loads((folder / "summary.json").read_text())["schema_version"] == 1
    assert (tmp_path / "index.html").is_file()


def test_report_on_a_missing_journal_exits_2_naming_it(tmp_path: Path) -> None:
    done = run("report", str(tmp_path / "nope.jsonl"))
    assert done.returncode == 2
    assert "nope.jsonl" in done.stderr
    assert "Traceback" not in done.stderr


def test_report_on_a_corrupt_journal_exits_2_with_file_and_line(tmp_path: Path) -> None:
    path = small_journal(tmp_path)
    with path.open("a") as handle:
        handle.write("{not json\n")
    done = run("report", str(path))
    assert done.returncode == 2
    assert f"{path}:5:" in done.stderr
    assert "Traceback" not in done.stderr


def test_report_on_a_folder_without_journal_exits_2(tmp_path: Path) -> None:
    done = run("report", str(tmp_path))
    assert done.returncode == 2
    assert "no journal" in done.stderr


def test_report_writes_no_index_above_a_folder_that_is_not_a_reports_root(tmp_path: Path) -> None:
    path = small_journal(tmp_path / "gameday-1")
    done = run("report", str(path))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "gameday-1" / "report.html").is_file()
    assert not (tmp_path / "index.html").exists()
