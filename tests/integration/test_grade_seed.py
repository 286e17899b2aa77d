"""The three seed runbooks (../shared/seeds/) graded as written, on real Docker, each against its
system with the bindings in bindings/: the verdict of every drilled section is pinned. A change
here is a regression: the harness started to pass a broken section, or to fail a working one.

Skipped, saying why, when ../shared is absent (CI has it). About six minutes for ChatKit (eight
drills, four of which wait out their recovery budget: their sections have no fix that works),
three for the Redis chat system and four for the PHP chatbot (their failing sections get short
recovery budgets in their bindings, so the grade does not wait long for a fix that cannot work).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.grade import plan_grade, run_grade
from harness.report import load_journals, redacted_journals, write_reports
from harness.report.model import build_gameday
from harness.report.scorecard import build_scorecard, grade_record
from harness.systems import load, modules_option
from harness.vocabulary import SectionVerdict

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT.parent / "shared" / "seeds"
Pinned = dict[str, tuple[str, set[str]]]

# Section -> (verdict, finding kinds that must be among its findings).
CHATKIT: Pinned = {
    "1-service-wont-start": ("held", set()),
    "1a-missing-secret_key": ("failed", {"fix-failed"}),  # `export SECRET_KEY=...` never reaches the service
    "1b-database_url-missinginvalid": ("failed", {"fix-failed", "verify-failed"}),  # the same `export`, for the URL
    "2-users-report-authentication-failures": ("held", set()),
    # sqlite3 on a PostgreSQL system: the old sessions stay, so restoring the old key would revive them
    "2b-invalidcorrupted-tokens": ("failed", {"verify-failed"}),
    "3-rate-limit-complaints": ("held", set()),
    "3b-botabuse-detection": ("failed", {"no-fix"}),  # "Ban abusive user (manual intervention)": no command
    "4-suspected-token-leakage": ("held", set()),
    "4a-tokens-in-logs-critical": ("failed", {"verify-failed"}),  # the key is not rotated; redaction stays off
    "5-high-error-rate": ("failed", {"fix-failed", "verify-failed", "no-fix"}),  # no fix: the privilege stays revoked
    "6-database-connectivity-issues": ("held", set()),
    "6a-database-server-down": ("failed", {"diagnosis-side-effect", "no-fix"}),  # "check status" starts PostgreSQL
    "6b-connection-pool-exhausted": ("failed", {"fix-failed", "no-fix"}),
}
REDIS_CHAT: Pinned = {
    "1-session-not-found-errors": ("failed", {"step-error"}),  # `tail -f` of Redis's log inside the fix
    # held: the fix calls the API and checks the key's format, and the provider's window ends meanwhile
    "2-category-detection-failures": ("held", set()),
    # the worker restart and the cron POST hold for a stopped worker; nothing requeues `lead_failed` after a 5xx
    "3-lead-submission-failures": ("failed", {"fix-failed", "verify-failed"}),
    # `--latency-history` never ends; "Clear old sessions" logs everyone out and frees nothing
    "4-performance-issues": ("failed", {"step-error", "fix-failed", "verify-failed"}),
    # its one block, run on the Redis server, restarts Redis: but pm2 and nginx are not on that host
    "1-system-down": ("failed", {"step-error"}),
    "1-feature-flag-rollback": ("failed", {"fix-failed", "verify-failed"}),  # pm2 keeps the old environment
}
PHP_CHATBOT: Pinned = {
    "site-completely-down": ("held", set()),
    "high-error-rate": ("held", set()),  # its diagnosis, inherited by php-memory-exhausted
    "php-memory-exhausted": ("failed", {"fix-failed"}),  # `sudo nano php.ini`: no edit is ever made
    "background-worker-stopped": ("held", set()),
    "database-connection-issues": ("held", set()),  # its diagnosis, inherited by too-many-connections
    "too-many-connections": ("failed", {"fix-failed"}),  # kills sessions idle 5 minutes: a fresh leak has none
    # "Rate Limiting (429)" is swallowed by a broken fence; its parent has prose only, and the DLQ stays full
    "openai-api-failures": ("failed", {"fix-failed", "verify-failed", "no-fix"}),
    "timeout-issues": ("failed", {"no-fix"}),  # comments only: "increase timeout in config.php"
    "disk-space-critical": ("failed", {"fix-failed"}),  # deletes logs older than a week: today's stay
    "security-breach-suspected": ("failed", {"fix-failed", "verify-failed"}),  # no ufw; the token is not rotated
}

SEED_GRADES = [
    pytest.param("OPS_RUNBOOK.chatkit.md", "OPS_RUNBOOK.chatkit.toml", CHATKIT, (13, 21, 5, 13), id="chatkit"),
    pytest.param("RUNBOOK.redis-chat.md", "RUNBOOK.redis-chat.toml", REDIS_CHAT, (6, 16, 1, 6), id="redis-chat"),
    pytest.param("RUNBOOK.php-chatbot.md", "RUNBOOK.php-chatbot.toml", PHP_CHATBOT, (9, 25, 4, 10), id="php-chatbot"),
]


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"the seed runbooks are not here ({SEEDS}): ../shared is absent")
@pytest.mark.parametrize(("seed", "bindings", "pinned", "counts"), SEED_GRADES)
def test_a_seed_runbook_graded_as_written(tmp_path: Path, seed: str, bindings: str, pinned: Pinned,
                                          counts: tuple[int, int, int, int]) -> None:
    grade = plan_grade(SEEDS / seed, ROOT / "bindings" / bindings, load(modules_option("discover"), ROOT))
    result = run_grade(grade, tmp_path / "grade")
    write_reports(result.journals, tmp_path / "grade", index=False)
    loaded = redacted_journals(load_journals(result.journals), str(tmp_path))
    record = grade_record(loaded)
    assert record is not None
    card = build_scorecard(record, build_gameday(loaded))
    drilled = {r.anchor: r for r in card.rows if r.verdict is not SectionVerdict.NOT_DRILLED}
    assert set(drilled) == set(pinned)
    for anchor, (verdict, kinds) in pinned.items():
        row = drilled[anchor]
        assert row.verdict == verdict, (anchor, [f.kind for f in row.findings])
        assert kinds <= {str(f.kind) for f in row.findings}, (anchor, [f.kind for f in row.findings])
    assert (card.drilled_with_commands, card.with_commands, card.held, len(card.drilled)) == counts
    assert (tmp_path / "grade" / "scorecard.html").is_file()
