"""The ChatKit seed runbook (../shared/seeds/OPS_RUNBOOK.chatkit.md) graded as written, on real
Docker: the verdict of every drilled section is pinned. A change here is a regression: the harness
started to pass a broken section, or to fail a working one.

Skipped, saying why, when ../shared is absent (CI has it). About six minutes: eight drills, four of
which wait out their recovery budget (their sections have no fix that works).
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
SEED = ROOT.parent / "shared" / "seeds" / "OPS_RUNBOOK.chatkit.md"
BINDINGS = ROOT / "bindings" / "OPS_RUNBOOK.chatkit.toml"

# Section -> (verdict, finding kinds that must be among its findings).
PINNED = {
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


@pytest.mark.skipif(not SEED.is_file(), reason=f"the seed runbooks are not here ({SEED.parent}): ../shared is absent")
def test_the_chatkit_seed_runbook_graded_as_written(tmp_path: Path) -> None:
    grade = plan_grade(SEED, BINDINGS, load(modules_option("discover"), ROOT))
    result = run_grade(grade, tmp_path / "grade")
    write_reports(result.journals, tmp_path / "grade", index=False)
    loaded = redacted_journals(load_journals(result.journals), str(tmp_path))
    record = grade_record(loaded)
    assert record is not None
    card = build_scorecard(record, build_gameday(loaded))
    drilled = {r.anchor: r for r in card.rows if r.verdict is not SectionVerdict.NOT_DRILLED}
    assert set(drilled) == set(PINNED)
    for anchor, (verdict, kinds) in PINNED.items():
        row = drilled[anchor]
        assert row.verdict == verdict, (anchor, [f.kind for f in row.findings])
        assert kinds <= {str(f.kind) for f in row.findings}, (anchor, [f.kind for f in row.findings])
    assert (card.drilled_with_commands, card.with_commands, card.held, len(card.drilled)) == (13, 21, 5, 13)
    assert (tmp_path / "grade" / "scorecard.html").is_file()
