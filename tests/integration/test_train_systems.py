"""Onboarding on the PHP chatbot and the Redis chat system: a scripted trainee works a stopped-worker
exercise through `gameday shell HOST`, as a person would, and the debrief matches what they did to
the system's runbook. One script, one case per system."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import Stoppable
from test_train import Controller, Shell, events, gameday


@dataclass(frozen=True)
class Exercise:
    scenario: str
    secrets: tuple[str, ...]  # what the page must not give away
    symptom: str  # what the page says instead
    host: str  # where the trainee's shell runs
    look: str  # a first look, and what it shows on a terminal
    looked: str
    status: str  # the command that shows the worker down, and the word it prints
    down: str
    fix: str
    debrief_row: str  # the fix row of the debrief: the runbook step the trainee's command matched


EXERCISES = [
    Exercise(
        "php-chatbot/worker-stopped",
        ("worker-stopped", "chatbot-worker", "background-worker-stopped", "systemctl"),
        "the bot never answers", "web",
        'curl -s localhost/admin-api.php/job_stats -H "Authorization: Bearer $ADMIN_TOKEN" | jq -M -c .jobs',
        '"pending":',
        "systemctl is-active chatbot-worker", "inactive",
        "systemctl restart chatbot-worker",
        "| fix | `background-worker-stopped[5]` | web | matched |"),
    Exercise(
        "redis-chat/lead-worker-stopped",
        ("lead-worker-stopped", "3-leads-stuck-in-the-queue", "pm2 restart", "lead-worker"),
        "no new leads", "app",
        'redis-cli -u "$REDIS_URL" --no-auth-warning llen lead_queue',
        "(integer) ",  # redis-cli on a terminal
        "pm2 jlist | jq -r '.[] | select(.name == \"lead-worker\") | .pm2_env.status'", "stopped",
        "pm2 restart lead-worker",
        "| fix | `3-leads-stuck-in-the-queue[3]` | app | matched |"),
]


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.scenario.split("/")[0] for e in EXERCISES])
def test_a_scripted_trainee_restarts_the_stopped_worker_and_the_backlog_drains(
    exercise: Exercise, tmp_path: Path, cleanup: list[Stoppable]
) -> None:
    controller = Controller(tmp_path, exercise.scenario, "--time-limit", "3m")
    cleanup.append(controller)
    page = controller.wait_for_page()
    for told in exercise.secrets:
        assert told not in page, f"the page gives away {told!r}:\n{page}"
    assert exercise.symptom in page

    shell = Shell(controller.report, exercise.host, cleanup)
    screen = shell.run(exercise.look)
    assert exercise.looked in screen, screen
    hint = gameday("hint", "--report", str(controller.report))
    assert hint.returncode == 0, hint
    assert exercise.down in shell.run(exercise.status)
    # The worker is back within a second or two, and the exercise ends as soon as steady state is:
    # its stack, this shell's host included, may be gone before the prompt comes back.
    shell.run(exercise.fix, may_end=True)
    assert shell.exit() == 0

    assert controller.wait() == 0, controller.text()
    session = controller.session()
    md = (session / "debrief.md").read_text()
    assert "**Outcome**: RECOVERED" in md
    assert "- **Hints used**: 1 of " in md
    assert exercise.debrief_row in md, md
    faults = [e["action"] for e in events(session) if e["type"] == "FaultRecorded"]
    assert faults[-1] == "already-restored", faults
    assert controller.leftovers() == []
