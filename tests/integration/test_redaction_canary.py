"""Redaction canary: a drill seeded with known secrets and tokens; none may reach any file.

The token-leak drill makes the service log session tokens in clear, and its runbook's own
diagnosis prints them. On top of that this test plants a canary secret in a log line the
diagnosis will print. After the drill, the journal and every rendered report are searched for
the canary, the stack's secrets, every token the drill saw, and anything token-shaped.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from harness.drill import DrillResult
from harness.report import write_reports
from harness.scenarios import DrillContext, get_scenario, load_scenarios

CANARY = "CANARY-9f4e2b7d1c3a-do-not-print"
TOKEN_SHAPE = re.compile(r"ck_[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")


def test_no_secret_or_token_reaches_the_journal_or_any_report(
        gameday_run: Callable[..., DrillResult], gameday_session: Any, tmp_path: Path) -> None:
    load_scenarios(["scenarios"])
    base = get_scenario("token-leak")

    def seeded(drill: DrillContext) -> Iterator[None]:
        drill.remember_secret(CANARY)
        planted = drill.stack.host("app").exec(
            f"echo '{{\"event\":\"operator_note\",\"token_hint\":\"{CANARY}\"}}' >> /var/log/chatkit-backend.log")
        assert planted.ok
        yield from base.fixture(drill)

    result = gameday_run(dataclasses.replace(base, fixture=seeded))
    result.assert_passed()

    journal = gameday_session.journal.path
    written = write_reports([journal], tmp_path / "report", index=False)
    secrets = [CANARY, *gameday_session.gameday.redactor.known_values()]
    assert len(secrets) >= 4  # the canary, the stack's two secrets, and at least one leaked token
    for path in [journal, *written]:
        text = path.read_text()
        for value in secrets:
            assert value not in text, f"a secret reached {path.name}"
        assert not TOKEN_SHAPE.search(text), f"a token-shaped string reached {path.name}"
    # The canary was printed by the runbook's diagnosis, and masked: it was there to be caught.
    assert "[REDACTED]" in journal.read_text()
