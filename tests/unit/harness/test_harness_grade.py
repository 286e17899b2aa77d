"""`gameday grade` on a fake system (harness.testing, no Docker): the scorecard per section, the same
scorecard when graded twice, re-rendered from its journal alone, and bad bindings refused before
anything starts."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from harness.cli import main
from harness.gameday import StackPool
from harness.grade import plan_grade, run_grade
from harness.journal import GradeStarted, read_journal
from harness.report import load_journals, redacted_journals, render_reports, write_reports
from harness.report.model import build_gameday
from harness.report.scorecard import SCORECARD_JSON, SCORECARD_MD, build_scorecard, grade_record, scorecard_data
from harness.scenarios import DrillContext, Observation, Scenario
from harness.stack.definition import StackDefinition
from harness.testing import FakeHost, FakeStack, FakeStackPool, FlagFault, write_fake_stack
from harness.vocabulary import SectionVerdict

ROOT = Path(__file__).resolve().parents[3]
SEED = ROOT.parent / "shared" / "seeds" / "OPS_RUNBOOK.chatkit.md"
SEED_BINDINGS = ROOT / "bindings" / "OPS_RUNBOOK.chatkit.toml"

RUNBOOK = """\
# Shop runbook

## 1. Flag trouble

**Diagnosis**:

```bash
check-flag
# Expected: flag: clear
# Expected if the flag is set: flag: set
```

### 1a. Flag set

**Fix**:

```bash
clear-flag --user USER_ID
```

**Verification**:

```bash
check-flag
# Expected: flag: clear
```

### 1b. Flag stuck

**Fix**:

```bash
shrug
```

### 1c. Flag looked at

**Check status**:

```bash
systemctl status flag
systemctl start flag
```

**Verification**:

```bash
check-flag
# Expected: flag: clear
```

## 2. Not drilled

**Fix**:

```bash
echo nothing
```
"""

BINDINGS = """\
default_host = "app"

[placeholders]
USER_ID = "u-42"

[[hosts]]
pattern = 'systemctl'
host = "db"

[sections."1a-flag-set"]
scenario = "shop/flag-set"

[sections."1b-flag-stuck"]
scenario = "shop/flag-stuck"

[sections."1c-flag-looked-at"]
scenario = "shop/flag-looked"
"""


def make_stack(definition: StackDefinition) -> FakeStack:
    """A fresh fake stack: a flag the fault sets; `clear-flag --user u-42` and `systemctl start flag` clear it."""
    fault = FlagFault("flag")
    app = FakeHost("app")
    app.on("check-flag", lambda cmd: (0, "flag: set" if fault.broken else "flag: clear", ""))
    app.on("clear-flag --user u-42", lambda cmd: fault.repair())
    app.on("shrug", (0, "", ""))
    db = FakeHost("db")
    db.on("systemctl status flag", (3, "inactive", ""))
    db.on("systemctl start flag", lambda cmd: fault.repair())
    return FakeStack(definition, [app, db], faults=[fault])


def health(stack: Any) -> Any:
    fault = stack.fault("flag")
    return lambda: (False, 503, "flag set") if fault.broken else (True, 200, "ok")


def flag_set(drill: DrillContext) -> Iterator[None]:
    with drill.stack.fault("flag"):
        yield


@pytest.fixture
def system(tmp_path: Path) -> tuple[Path, Path, list[Scenario]]:
    stack = write_fake_stack(tmp_path / "stack", "shop", ["app", "db"], default_host="app")
    runbook = tmp_path / "RUNBOOK.md"
    runbook.write_text(RUNBOOK, encoding="utf-8")
    bindings = tmp_path / "RUNBOOK.bindings.toml"
    bindings.write_text(BINDINGS, encoding="utf-8")
    watch = Observation(health=health, probe_interval=0.02)
    scenarios = [Scenario("shop", name, f"the flag ({name})", stack, tmp_path / "own.md", "own", "P1", 1.0, 0.3,
                          flag_set, watch, steady_consecutive=2)
                 for name in ("flag-set", "flag-stuck", "flag-looked")]
    return runbook, bindings, scenarios


def grade(system: tuple[Path, Path, list[Scenario]], folder: Path) -> Path:
    runbook, bindings, scenarios = system
    plan = plan_grade(runbook, bindings, scenarios)
    result = run_grade(plan, folder, pool=cast(StackPool, FakeStackPool(make_stack)))
    write_reports(result.journals, folder, index=False)
    return result.journal


def card_of(journal: Path) -> Any:
    loaded = redacted_journals(load_journals([journal]), str(journal))
    record = grade_record(loaded)
    assert record is not None
    return build_scorecard(record, build_gameday(loaded))


def test_each_section_gets_a_verdict_and_the_findings_of_its_lines(system: Any, tmp_path: Path) -> None:
    card = card_of(grade(system, tmp_path / "grade"))
    rows = {r.anchor: r for r in card.rows}
    assert rows["1-flag-trouble"].verdict is SectionVerdict.HELD  # its diagnosis ran in all three drills
    assert rows["1-flag-trouble"].drilled_by == ("shop/flag-set", "shop/flag-stuck", "shop/flag-looked")
    assert rows["1a-flag-set"].verdict is SectionVerdict.HELD
    assert rows["1a-flag-set"].bindings == ("block 1 (line 17): placeholders: USER_ID -> u-42",)
    stuck = rows["1b-flag-stuck"]
    assert stuck.verdict is SectionVerdict.FAILED
    assert [f.kind for f in stuck.findings] == ["fix-failed"]
    assert [code for code, *_ in stuck.lint] == ["GD020"]  # a fix without verification, said in its row
    assert rows["2-not-drilled"].verdict is SectionVerdict.NOT_DRILLED
    assert rows["2-not-drilled"].commands == 1
    assert (card.with_commands, card.drilled_with_commands, card.held, len(card.drilled)) == (5, 4, 2, 4)
    assert card.verdict is SectionVerdict.FAILED


def test_a_diagnosis_that_repairs_is_a_diagnosis_with_side_effects(system: Any, tmp_path: Path) -> None:
    card = card_of(grade(system, tmp_path / "grade"))
    looked = next(r for r in card.rows if r.anchor == "1c-flag-looked-at")
    assert looked.verdict is SectionVerdict.FAILED
    side = [f for f in looked.findings if f.kind == "diagnosis-side-effect"]
    assert len(side) == 1
    assert side[0].location.endswith("RUNBOOK.md:42")  # `systemctl start flag`, the line that repaired
    assert side[0].seen == "systemctl start flag"
    assert "a diagnosis with side effects" in side[0].message
    assert "no-fix" in [f.kind for f in looked.findings]  # and no fix of its own ran


NOISY_RUNBOOK = """\
# Shop runbook

## 1. Flag set

**Diagnosis**:

```bash
check-flag
# Expected: flag: clear
# Expected if the flag is set: flag: set
```

### 1a. Clear and tell

**Fix**:

```bash
clear-flag --user u-42
notify-team
```

### 1b. Clear and tell, knowingly

**Fix**:

```bash
clear-flag --user u-42
notify-team
# Expected: webhook refused
```

### 1c. Tell first

**Fix**:

```bash
notify-team
clear-flag --user u-42
```
"""


def test_a_fix_step_that_fails_while_health_comes_back_is_flagged(system: Any, tmp_path: Path) -> None:
    _, _, scenarios = system
    runbook = tmp_path / "NOISY.md"
    runbook.write_text(NOISY_RUNBOOK, encoding="utf-8")
    bindings = tmp_path / "NOISY.bindings.toml"
    bindings.write_text('default_host = "app"\n' + "".join(
        f'[sections."{anchor}"]\nscenario = "shop/{name}"\n'
        for anchor, name in (("1a-clear-and-tell", "flag-set"), ("1b-clear-and-tell-knowingly", "flag-stuck"),
                             ("1c-tell-first", "flag-looked"))), encoding="utf-8")

    def noisy(definition: StackDefinition) -> FakeStack:
        stack = make_stack(definition)
        stack.host("app").on("notify-team", (1, "", "notify-team: webhook refused (HTTP 403)\n"))
        return stack

    plan = plan_grade(runbook, bindings, scenarios)
    result = run_grade(plan, tmp_path / "grade", pool=cast(StackPool, FakeStackPool(noisy)))
    rows = {r.anchor: r for r in card_of(result.journal).rows}
    told = rows["1a-clear-and-tell"]
    assert told.verdict is SectionVerdict.FAILED  # the drill passed: health came back after clear-flag
    assert [f.kind for f in told.findings] == ["fix-step-failed"]
    finding = told.findings[0]
    assert finding.location.endswith("NOISY.md:19")  # notify-team, the command whose exit ended the block
    assert finding.seen == "exit 1"
    assert "`notify-team`" in finding.message
    assert "webhook refused (HTTP 403)" in finding.message
    assert rows["1b-clear-and-tell-knowingly"].verdict is SectionVerdict.HELD  # its expectation reads that exit
    assert rows["1c-tell-first"].verdict is SectionVerdict.HELD  # the failure was not the block's last word


def test_a_runbook_graded_twice_gives_the_same_scorecard(system: Any, tmp_path: Path) -> None:
    first, second = grade(system, tmp_path / "one"), grade(system, tmp_path / "two")
    assert scorecard_data(card_of(first), times=False) == scorecard_data(card_of(second), times=False)
    assert (first.parent / SCORECARD_MD).read_text() == (second.parent / SCORECARD_MD).read_text()


def test_the_scorecard_renders_again_from_its_journal_alone(system: Any, tmp_path: Path) -> None:
    journal = grade(system, tmp_path / "grade")
    written, _ = render_reports([journal], tmp_path / "again", claim_root=False)
    names = {p.name for p in written}
    assert {"scorecard.html", "scorecard.md", "scorecard.json", "report.html"} <= names
    assert (tmp_path / "again" / SCORECARD_JSON).read_text() == (journal.parent / SCORECARD_JSON).read_text()
    data = json.loads((journal.parent / SCORECARD_JSON).read_text())
    assert data["verdict"] == "failed"
    assert data["headline"]["sections_with_commands"] == 5
    html = (journal.parent / "scorecard.html").read_text()
    assert "diagnosis-side-effect" in html
    assert "<script" not in html
    assert any(isinstance(e, GradeStarted) for e in read_journal(journal))


def test_a_gameday_journal_has_no_scorecard(tmp_path: Path) -> None:
    fixture = ROOT / "tests" / "unit" / "harness" / "report_fixtures" / "journal.jsonl"
    written, _ = render_reports([fixture], tmp_path / "out", claim_root=False)
    assert not any(p.name.startswith("scorecard") for p in written)


def test_bad_bindings_are_refused_before_anything_starts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runbook = tmp_path / "RUNBOOK.md"
    runbook.write_text(RUNBOOK, encoding="utf-8")
    bindings = tmp_path / "b.toml"
    bindings.write_text('[sections."1a-flag-set"]\nscenario = "chatkit/db-down"\nhost = "mars"\n\n'
                        '[sections."nowhere"]\nscenario = "chatkit/no-such"\n', encoding="utf-8")
    reports = tmp_path / "reports"
    code = main(["grade", str(runbook), "--bindings", str(bindings), "--report", str(reports), "--root", str(ROOT)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{bindings}:3: section '1a-flag-set' host: unknown host 'mars'" in err
    assert f"{bindings}:5: unknown section anchor #nowhere" in err
    assert f"{bindings}:6: unknown scenario 'chatkit/no-such'" in err
    assert not reports.exists()


def test_a_runbook_without_bindings_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runbook = tmp_path / "RUNBOOK.md"
    runbook.write_text(RUNBOOK, encoding="utf-8")
    assert main(["grade", str(runbook), "--report", str(tmp_path / "r"), "--root", str(ROOT)]) == 2
    assert "RUNBOOK.bindings.toml: no bindings file" in capsys.readouterr().err


@pytest.mark.skipif(not SEED.is_file(), reason=f"the seed runbooks are not here ({SEED.parent}: ../shared is absent)")
def test_the_chatkit_seed_bindings_plan_the_eight_scenarios_without_docker() -> None:
    from harness.systems import load, modules_option

    plan = plan_grade(SEED, SEED_BINDINGS, load(modules_option("discover"), ROOT))
    assert {key: p.section.anchor for key, p in plan.drills} == {
        "chatkit/secret-missing": "1a-missing-secret_key", "chatkit/rate-limit-storm": "3b-botabuse-detection",
        "chatkit/token-leak": "4a-tokens-in-logs-critical", "chatkit/db-down": "6a-database-server-down",
        "chatkit/pool-exhausted": "6b-connection-pool-exhausted",
        "chatkit/database-url-invalid": "1b-database_url-missinginvalid",
        "chatkit/secret-key-rotated": "2b-invalidcorrupted-tokens", "chatkit/high-error-rate": "5-high-error-rate"}
    db_down = dict(plan.drills)["chatkit/db-down"]
    assert [(s.ref, s.host) for s in db_down.diagnosis] == [("6-database-connectivity-issues[1]", "app"),
                                                            ("6a-database-server-down[1]", "db")]
    sections = {s.anchor: s for s in plan.record.sections}
    assert sections["6a-database-server-down"].blocks[0].state_changes == (397,)


def test_coverage_counts_drilled_sections_among_those_with_commands(system: Any) -> None:
    from harness.coverage import coverage_of

    plan = plan_grade(*system)
    (covered,) = coverage_of([p for _, p in plan.drills])
    assert covered.with_commands == ("1-flag-trouble", "1a-flag-set", "1b-flag-stuck", "1c-flag-looked-at",
                                     "2-not-drilled")
    assert covered.not_drilled == ("2-not-drilled",)
    assert str(covered) == "4/5 sections with commands drilled"


def test_list_shows_each_runbooks_coverage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--root", str(ROOT), "--system", "chatkit"]) == 0
    out = capsys.readouterr().out
    (line,) = [x for x in out.splitlines() if x.startswith("  runbook stack/chatkit/RUNBOOK.md: ")]
    assert line.endswith("sections with commands drilled")
    assert "not drilled: #" in out


def test_the_gameday_report_and_the_history_index_show_coverage(system: Any, tmp_path: Path) -> None:
    from harness.report.history import write_index
    from harness.report.output import mark_reports_root

    journal = grade(system, tmp_path / "reports" / "grade-1")
    report = (journal.parent / "report.html").read_text()
    assert "Runbook coverage" in report
    assert "<code>#2-not-drilled</code>" in report
    mark_reports_root(tmp_path / "reports")
    index = write_index(tmp_path / "reports").read_text()
    assert "Runbook coverage" in index
    assert "<code>#2-not-drilled</code>" in index


def test_a_gameday_journals_the_coverage_of_its_runbooks(system: Any, tmp_path: Path) -> None:
    from harness.gameday import Gameday
    from harness.journal import RunbookCovered

    runbook, _, scenarios = system
    aimed = [s.with_runbook(runbook, "1a-flag-set") for s in scenarios[:1]]
    with Gameday(tmp_path / "journal.jsonl", aimed, pool=cast(StackPool, FakeStackPool(make_stack))) as gameday:
        gameday.write_coverage()
    (covered,) = [e for e in read_journal(tmp_path / "journal.jsonl") if isinstance(e, RunbookCovered)]
    assert covered.drilled == ("1-flag-trouble", "1a-flag-set")
    assert covered.with_commands[-1] == "2-not-drilled"


# The ChatKit seed runbook graded on real Docker (tests/integration/test_grade_seed.py makes a new one):
# its journal, kept, renders the same scorecard without Docker.
SEED_JOURNAL = ROOT / "tests" / "unit" / "harness" / "report_fixtures" / "grade-chatkit-seed.jsonl"
SEED_VERDICTS = {
    "1-service-wont-start": "held", "1a-missing-secret_key": "failed", "1b-database_url-missinginvalid": "failed",
    "2-users-report-authentication-failures": "held", "2b-invalidcorrupted-tokens": "failed",
    "5-high-error-rate": "failed", "3-rate-limit-complaints": "held",
    "3b-botabuse-detection": "failed", "4-suspected-token-leakage": "held", "4a-tokens-in-logs-critical": "failed",
    "6-database-connectivity-issues": "held", "6a-database-server-down": "failed",
    "6b-connection-pool-exhausted": "failed",
}


def test_the_seed_scorecard_renders_from_its_real_journal_without_docker(tmp_path: Path) -> None:
    written, _ = render_reports([SEED_JOURNAL], tmp_path, claim_root=False)
    assert tmp_path / SCORECARD_JSON in written
    data = json.loads((tmp_path / SCORECARD_JSON).read_text())
    assert {s["anchor"]: s["verdict"] for s in data["sections"] if s["verdict"] != "not-drilled"} == SEED_VERDICTS
    assert data["headline"]["sections_with_commands"] == 21
    assert data["headline"]["sections_with_commands_drilled"] == 13
    assert data["headline"]["sections_held"] == 5
    sections = {s["anchor"]: s for s in data["sections"]}
    secret = {f["kind"]: f for f in sections["1a-missing-secret_key"]["findings"]}
    assert secret["fix-failed"]["location"].endswith("OPS_RUNBOOK.chatkit.md:55")  # the export-then-restart fix
    side = [f for f in sections["6a-database-server-down"]["findings"] if f["kind"] == "diagnosis-side-effect"]
    assert side[0]["location"].endswith("OPS_RUNBOOK.chatkit.md:397")
    assert side[0]["seen"] == "systemctl start postgresql"


def test_history_trends_keep_a_graded_runbooks_drills_apart_from_the_scenarios_own() -> None:
    from harness.journal import DrillFinished, DrillStarted
    from harness.report.history import trends
    from harness.report.model import build_view
    from harness.vocabulary import Priority, Verdict

    def drill(runbook: str, verdict: Verdict) -> list[Any]:
        return [DrillStarted("d", "shop/db-down", "t", runbook, "s", Priority.P1, 10.0, 60.0, 5, "shop"),
                DrillFinished("d", "shop/db-down", verdict, (), None, 1.0)]

    own = build_view(drill("/x/stack/shop/RUNBOOK.md", Verdict.PASSED))
    graded = build_view(drill("../seeds/OPS_RUNBOOK.shop.md", Verdict.FAILED))
    assert [t.scenario for t in trends([(Path("g1"), own)])] == ["shop/db-down"]
    named = {t.scenario: [p.verdict for p in t.points] for t in trends([(Path("g1"), own), (Path("g2"), graded)])}
    assert named == {"shop/db-down (RUNBOOK.md)": ["passed"], "shop/db-down (OPS_RUNBOOK.shop.md)": ["failed"]}


def test_a_section_whose_drill_never_saw_the_fault_is_not_judged(system: Any, tmp_path: Path) -> None:
    """Health that never notices the flag: steady state never left, so the drill cannot tell the working
    fix of 1a from the no-op of 1b. Neither section is held or failed on that: both are not judged."""
    runbook, bindings, scenarios = system
    blind = Observation(health=lambda stack: (lambda: (True, 200, "ok")), probe_interval=0.02)
    unseeing = [dataclasses.replace(s, observation=blind) for s in scenarios]
    rows = {r.anchor: r for r in card_of(grade((runbook, bindings, unseeing), tmp_path / "grade")).rows}
    for anchor in ("1a-flag-set", "1b-flag-stuck"):
        assert rows[anchor].verdict is SectionVerdict.NOT_JUDGED, (anchor, rows[anchor].findings)
        assert rows[anchor].findings == ()
    assert rows["1-flag-trouble"].verdict is SectionVerdict.HELD  # its diagnosis still detected the flag
