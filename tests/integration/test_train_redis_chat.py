"""Onboarding on the Redis chat system: a scripted trainee works the lead-worker-stopped exercise
through `gameday shell app`, as a person would, and the debrief matches what they did to the runbook."""

from __future__ import annotations

from pathlib import Path

from conftest import Stoppable
from test_train import Controller, Shell, events, gameday


def test_a_scripted_trainee_restarts_the_lead_worker_and_the_queue_drains(
    tmp_path: Path, cleanup: list[Stoppable]
) -> None:
    controller = Controller(tmp_path, "redis-chat/lead-worker-stopped", "--time-limit", "3m")
    cleanup.append(controller)
    page = controller.wait_for_page()
    for told in ("lead-worker-stopped", "3-leads-stuck-in-the-queue", "pm2 restart", "lead-worker"):
        assert told not in page, f"the page gives away {told!r}:\n{page}"
    assert "no new leads" in page

    shell = Shell(controller.report, "app", cleanup)
    screen = shell.run('redis-cli -u "$REDIS_URL" --no-auth-warning llen lead_queue')
    assert "(integer) " in screen, screen  # redis-cli on a terminal
    hint = gameday("hint", "--report", str(controller.report))
    assert hint.returncode == 0, hint
    assert "stopped" in shell.run("pm2 jlist | jq -r '.[] | select(.name == \"lead-worker\") | .pm2_env.status'")
    shell.run("pm2 restart lead-worker", may_end=True)  # the exercise may end (and close this shell) first
    assert shell.exit() == 0

    assert controller.wait() == 0, controller.text()
    session = controller.session()
    md = (session / "debrief.md").read_text()
    assert "**Outcome**: RECOVERED" in md
    assert "- **Hints used**: 1 of " in md
    assert "| fix | `3-leads-stuck-in-the-queue[3]` | app | matched |" in md, md
    faults = [e["action"] for e in events(session) if e["type"] == "FaultRecorded"]
    assert faults[-1] == "already-restored", faults
    assert controller.leftovers() == []
