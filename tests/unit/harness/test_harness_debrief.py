"""The debrief, rendered from an exercise log alone: times, commands, hints, steps, secrets (no Docker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import BadInput
from harness.exercise_log import (
    ExerciseFinished,
    ExerciseLog,
    ExerciseStarted,
    HintTaken,
    PageSent,
    ReferenceTimes,
    TraineeCommand,
    read_exercise_log,
)
from harness.journal import DrillFinished, DrillStarted, FaultRecorded, Journal, Metrics, Series
from harness.redact import Redactor, secret_assignment_patterns, secret_values
from harness.report.debrief import build_debrief, write_debrief
from harness.runbook.commands import PlanStep
from harness.runbook.model import Phase
from harness.train.reference import reference_times
from harness.vocabulary import Priority, Verdict

STACK_SECRET = "stack-db-password-0123456789"
TYPED_SECRET = "trainee-new-key-abcdefghijklmnop"
PLAN = (
    PlanStep(Phase.DIAGNOSE, "1-service-wont-start[1]", "app", "1-service-wont-start", "RUNBOOK.md:44",
             "# Is the unit running?\nsystemctl is-active chatkit-backend\n# Expected: /^active$/\n"),
    PlanStep(Phase.DIAGNOSE, "1a-missing-secret_key[1]", "app", "1a-missing-secret_key", "RUNBOOK.md:71",
             "grep -c '^SECRET_KEY=.\\{16,\\}' /etc/chatkit-backend.env\n"),
    PlanStep(Phase.FIX, "1a-missing-secret_key[2]", "app", "1a-missing-secret_key", "RUNBOOK.md:81",
             'echo "SECRET_KEY=$NEW_KEY" >> /etc/chatkit-backend.env\nsystemctl restart chatkit-backend\n'),
    PlanStep(Phase.VERIFY, "1a-missing-secret_key[3]", "app", "1a-missing-secret_key", "RUNBOOK.md:90",
             "curl -s http://localhost:8000/health | jq .\n"),
)


def started() -> ExerciseStarted:
    return ExerciseStarted(
        exercise="secret-missing", scenario="secret-missing", title="SECRET_KEY disappears", runbook="RUNBOOK.md",
        section="1a-missing-secret_key", section_title="1a. Missing SECRET_KEY", severity="P0", stack="chatkit",
        stack_name="gameday-chatkit-0a1b2c3d", hosts=("db", "app"), fix_hosts=("app",), time_limit=600.0,
        hints_total=6, plan=PLAN, manual=(("1a-missing-secret_key", "Tell the team", 88),), inject_offset=1.5,
        redaction_patterns=tuple(secret_assignment_patterns(["SECRET_KEY", "DB_PASSWORD"])),
        at="2026-11-22T03:12:40.000+00:00")


def write_log(path: Path, *, recovered: bool, reference: ReferenceTimes) -> Path:
    log = ExerciseLog(path, Redactor(secrets=[STACK_SECRET], patterns=started().redaction_patterns))
    log.write(started())
    log.write(FaultRecorded("secret-missing", "env-file-change", "injected", "SECRET_KEY removed", 7.5))
    log.write(PageSent("PAGE P0 (critical) FIRING chatkit\n", 6.1, 2.2))
    log.write(TraineeCommand("app", "systemctl is-active chatkit-backend", 12.0, "2026-11-22T03:12:54+00:00"))
    log.write(HintTaken(1, 6, Phase.DIAGNOSE, "", "Start on the app server.", 15.0))
    log.write(TraineeCommand("app", f"PGPASSWORD={STACK_SECRET} psql -h db -U chatkit -c 'select 1'", 18.0,
                             "2026-11-22T03:13:00+00:00"))
    log.write(TraineeCommand("app", f'echo "SECRET_KEY={TYPED_SECRET}" >> /etc/chatkit-backend.env', 30.0,
                             "2026-11-22T03:13:12+00:00"))
    log.write(TraineeCommand("app", "systemctl restart chatkit-backend", 31.0, "2026-11-22T03:13:13+00:00"))
    if recovered:
        log.write(FaultRecorded("secret-missing", "env-file-change", "already-restored", "gone", 40.0))
    else:
        log.write(FaultRecorded("secret-missing", "env-file-change", "rolled-back", "undone", 40.0))
    log.write(Series("secret-missing", ((0.0, True), (3.7, False), (35.0, True)), ((0.0, 2, 0), (3.0, 0, 2)), 1.0,
                     (("inject", 1.5), ("page", 7.6), ("recovered", 36.5))))
    log.write(reference)
    log.write(ExerciseFinished("recovered" if recovered else "gave-up", recovered, 2.2, 6.1, 12.0, 12.0,
                               35.0 if recovered else None, 38.0, 1))
    return path


@pytest.fixture
def recovered(tmp_path: Path) -> tuple[str, str]:
    reference = ReferenceTimes(True, "reports/gameday-x/summary.json", "2026-11-22T07:07:38.707+00:00", "passed",
                               0.8, 2.1, 11.7, 3.1)
    html, md = write_debrief(write_log(tmp_path / "exercise.jsonl", recovered=True, reference=reference), tmp_path)
    return html.read_text(), md.read_text()


def test_the_debrief_says_recovered_with_the_trainees_times_against_the_drills(recovered: tuple[str, str]) -> None:
    html, md = recovered
    assert "**Outcome**: RECOVERED" in md
    assert "| Recovered (steady state) | 35.0 s | 11.7 s | 3.0x the drill;" in md
    assert "| Diagnosed | 12.0 s | 2.1 s |" in md
    assert "| First command on the fix host (app) | 12.0 s | — |" in md
    assert "✓ recovered" in html
    assert "<svg" in html


def test_the_debrief_lists_every_command_with_its_time_and_the_step_it_ran(recovered: tuple[str, str]) -> None:
    html, md = recovered
    assert "| 1 | 2026-11-22 03:12:54 UTC | 12 s | app | `systemctl is-active chatkit-backend` | " \
           "`1-service-wont-start[1]` |" in md
    assert "| 4 | 2026-11-22 03:13:13 UTC | 31 s | app | `systemctl restart chatkit-backend` | " \
           "`1a-missing-secret_key[2]` |" in md
    assert "<code>systemctl restart chatkit-backend</code>" in html


def test_the_debrief_counts_hints_and_shows_matched_and_skipped_steps(recovered: tuple[str, str]) -> None:
    html, md = recovered
    assert "- **Hints used**: 1 of 6" in md
    assert "Hints used: <b>1</b> of 6." in html
    assert "| diagnose | `1a-missing-secret_key[1]` | app | skipped |  |" in md
    assert "| fix | `1a-missing-secret_key[2]` | app | matched | ran it at 30 s (command 3) |" in md
    assert "Matched 2 of 4 steps." in md


def test_no_secret_reaches_the_debrief_or_the_log(recovered: tuple[str, str], tmp_path: Path) -> None:
    html, md = recovered
    log = (tmp_path / "exercise.jsonl").read_text()
    for text in (html, md, log):
        assert STACK_SECRET not in text
        assert TYPED_SECRET not in text
    assert 'echo "SECRET_KEY=[REDACTED]" >> /etc/chatkit-backend.env' in md
    assert "grep -c '^SECRET_KEY=.\\{16,\\}' /etc/chatkit-backend.env" in md, "a runbook regex is not a secret"


def test_a_trainee_who_gave_up_gets_not_recovered_and_the_runbooks_path(tmp_path: Path) -> None:
    html, md = write_debrief(write_log(tmp_path / "exercise.jsonl", recovered=False,
                                       reference=ReferenceTimes(False)), tmp_path)
    text = md.read_text()
    assert "**Outcome**: NOT RECOVERED (not recovered: the trainee gave up)" in text
    assert "## What the runbook would have done" in text
    assert "### Fix\n\n`1a-missing-secret_key[2]` on **app**" in text
    assert "rolled back by the harness" in text
    assert "run one with `gameday run -k secret-missing`" in text
    assert "- [ ] Tell the team" in text
    assert "✗ not recovered" in html.read_text()


def test_the_log_reads_back_into_the_same_events(tmp_path: Path) -> None:
    path = write_log(tmp_path / "exercise.jsonl", recovered=True, reference=ReferenceTimes(False))
    events = read_exercise_log(path)
    assert build_debrief(events).started.plan == PLAN
    assert isinstance(events[-1], ExerciseFinished)


def test_a_log_with_a_bad_line_is_refused_at_that_line(tmp_path: Path) -> None:
    path = tmp_path / "exercise.jsonl"
    path.write_text('{"schema_version": 1, "type": "Nope"}\n')
    with pytest.raises(BadInput, match=rf"^{path}:1: not an exercise event"):
        read_exercise_log(path)


def test_the_reference_is_the_newest_recovered_drill_of_the_scenario(tmp_path: Path) -> None:
    def gameday(folder: str, drills: list[tuple[str, bool, float | None]], name: str = "journal.jsonl") -> None:
        journal = Journal(tmp_path / folder / name)
        for number, (started, recovered, ttr) in enumerate(drills):
            drill = f"db-down#{number}"
            journal.write(DrillStarted(drill, "db-down", "t", "RUNBOOK.md", "s", Priority.P0, 10.0, 60.0, 3, "chatkit",
                                       at=started))
            metrics = Metrics(True, recovered, 0.6, 1.0, ttr, 1.2, 3.0, 10.0, 60.0, 10, 2, (), None, ())
            journal.write(DrillFinished(drill, "db-down", Verdict.PASSED if recovered else Verdict.INTERRUPTED, (),
                                        metrics, 9.0))

    gameday("gameday-1", [("2026-11-22T07:00:00+00:00", True, 2.5)])
    gameday("pytest-2", [("2026-11-22T07:05:00+00:00", True, 2.7)], "journal-gw0.jsonl")
    gameday("gameday-3", [("2026-11-22T07:09:00+00:00", False, None)])
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "journal.jsonl").write_text("{not json")
    found = reference_times(tmp_path, "db-down")
    newest = str(tmp_path / "pytest-2" / "journal-gw0.jsonl")
    assert (found.found, found.time_to_recover, found.source, found.verdict) == (True, 2.7, newest, "passed")
    assert not reference_times(tmp_path, "secret-missing").found


def test_secret_settings_of_an_environment_file_are_harvested() -> None:
    env = ("# comment\nSECRET_KEY=abc\nexport API_TOKEN='t0k3n'\nDATABASE_URL=postgresql://u:p@db/x\n"
           "RATE_LIMIT=10\nSECRET_EMPTY=\n")
    assert secret_values(env, ["SECRET_KEY"]) == ["abc", "t0k3n"]
