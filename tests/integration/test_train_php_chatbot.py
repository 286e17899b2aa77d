"""Onboarding on the PHP chatbot: a scripted trainee works the worker-stopped exercise through
`gameday shell web`, as a person would, and the debrief matches what they did to the runbook."""

from __future__ import annotations

from pathlib import Path

from conftest import Stoppable
from test_train import Controller, Shell, events, gameday


def test_a_scripted_trainee_restarts_the_stopped_worker_and_the_backlog_drains(
    tmp_path: Path, cleanup: list[Stoppable]
) -> None:
    controller = Controller(tmp_path, "php-chatbot/worker-stopped", "--time-limit", "3m")
    cleanup.append(controller)
    page = controller.wait_for_page()
    for told in ("worker-stopped", "chatbot-worker", "background-worker-stopped", "systemctl"):
        assert told not in page, f"the page gives away {told!r}:\n{page}"
    assert "the bot never answers" in page

    shell = Shell(controller.report, "web", cleanup)
    stats = 'curl -s localhost/admin-api.php/job_stats -H "Authorization: Bearer $ADMIN_TOKEN"'
    screen = shell.run(f"{stats} | jq -M -c .jobs")
    assert '"pending":' in screen
    hint = gameday("hint", "--report", str(controller.report))
    assert hint.returncode == 0, hint
    assert "inactive" in shell.run("systemctl is-active chatbot-worker")
    # The worker is back within a second or two, and the exercise ends as soon as steady state is:
    # its stack, this shell's host included, may be gone before the prompt comes back.
    shell.run("systemctl restart chatbot-worker", may_end=True)
    assert shell.exit() == 0

    assert controller.wait() == 0, controller.text()
    session = controller.session()
    md = (session / "debrief.md").read_text()
    assert "**Outcome**: RECOVERED" in md
    assert "- **Hints used**: 1 of " in md
    assert "| fix | `background-worker-stopped[5]` | web | matched |" in md, md
    faults = [e["action"] for e in events(session) if e["type"] == "FaultRecorded"]
    assert faults[-1] == "already-restored", faults
    assert controller.leftovers() == []
