"""The gameday pytest plugin through pytest itself (pytester), on a fake system without Docker.

The project made for each test has its own scenario module (`fake_scenarios`, ini option
`gameday_scenarios`): a stack definition in a tiny TOML, a runbook, a flag fault from
harness.testing, and a health check reading the flag. Its conftest overrides the plugin's
`gameday_stacks` fixture with a `FakeStackPool`, so each drill runs on a fresh fake stack, on
the real clock (a probe every 20 ms: each drill takes well under a second).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.journal import DrillFinished, DrillStarted, RunbookCovered, read_journal
from harness.report import load_journals, write_reports
from harness.report.model import build_gameday
from harness.testing import write_fake_stack
from harness.vocabulary import Verdict

# Here, not in this folder's conftest: pytest refuses `pytest_plugins` in a conftest below the
# rootdir that is not loaded at start-up (this one is not when `pytest` runs from the top).
pytest_plugins = ["pytester"]

# Scenario keys as the plugin shows them (test ids, `-k`): system/name.
FIXED = "fake/flag-fixed"  # P0: the runbook clears the flag
IGNORED = "fake/flag-ignored"  # P2: the runbook's fix does nothing (fix-failed, verify-failed)

# Inner runs leave out plugins they do not need (hypothesis' alone takes a second to import, each run).
INNER_INI = """\
[pytest]
addopts = -p no:hypothesispytest -p no:cacheprovider
"""


def item_id(key: str) -> str:
    return f"test_fake_drills.py::test_drill[{key}]"


SCENARIOS = f'''
"""The fake system: a flag that a fault sets; the app's commands read it and clear it."""

from pathlib import Path

from harness.scenarios import Observation, scenario
from harness.testing import FakeHost, FakeStack, FlagFault

HERE = Path(__file__).parent
STACK = HERE / "stack" / "stack.toml"
RUNBOOK = HERE / "RUNBOOK.md"


def health(stack):
    fault = stack.fault("flag")
    return lambda: (False, 503, "flag set") if fault.broken else (True, 200, "ok")


WATCH = Observation(health=health, probe_interval=0.02)


def make_stack(definition):
    """A fresh fake stack: its own flag, and an app host whose commands read and clear it."""
    fault = FlagFault("flag")
    app = FakeHost("app")
    app.on("check-flag", lambda cmd: (0, "flag: set" if fault.broken else "flag: clear", ""))
    app.on("clear-flag", lambda cmd: fault.repair())
    app.on("shrug", (0, "", ""))
    return FakeStack(definition, [app], faults=[fault])


def flag_set(drill):
    """The flag is set"""
    with drill.stack.fault("flag"):
        yield


scenario("{FIXED.split("/")[1]}", system="fake", stack=STACK, runbook=RUNBOOK, section="1-flag-set", severity="P0",
         detect_within="5s", recover_within="5s", observation=WATCH, steady_consecutive=2)(flag_set)
scenario("{IGNORED.split("/")[1]}", system="fake", stack=STACK, runbook=RUNBOOK, section="2-flag-set-ignored",
         severity="P2", detect_within="1s", recover_within="0.2s", observation=WATCH, steady_consecutive=2)(flag_set)
'''

RUNBOOK = """\
---
default_host: app
---

# Flag runbook

## 1. Flag set

**Diagnosis**:

```bash
check-flag
# Expected: flag: clear
# Expected during fault: flag: set
```

**Fix**:

```bash
clear-flag
```

**Verification**:

```bash
check-flag
# Expected: flag: clear
```

## 2. Flag set, ignored

**Fix**:

```bash
shrug
```

**Verification**:

```bash
check-flag
# Expected: flag: clear
```
"""

CONFTEST = """
import pytest

from fake_scenarios import make_stack
from harness.testing import FakeStackPool


@pytest.fixture(scope="session")
def gameday_stacks():
    return FakeStackPool(make_stack)
"""

DRILLS = """
def test_drill(gameday_drill):
    gameday_drill.assert_passed()
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A project with the fake system's scenarios, its runbook and stack, and one drill test."""
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT"):  # when this suite itself runs under xdist
        monkeypatch.delenv(name, raising=False)
    write_fake_stack(pytester.path / "stack", "flags", ["app"])
    (pytester.path / "RUNBOOK.md").write_text(RUNBOOK, encoding="utf-8")
    # not test_drills.py: an outer run that collected drills/ holds a module of that name
    pytester.makepyfile(fake_scenarios=SCENARIOS, conftest=CONFTEST, test_fake_drills=DRILLS)
    pytester.makeini(INNER_INI + "gameday_scenarios = fake_scenarios\n")
    return pytester


def error_line(text: str) -> str:
    """A regex of a line of pytest's failure report (`E   text...`)."""
    return r"E\s+" + re.escape(text)


def finished(journal: Path) -> dict[str, Verdict]:
    """Scenario -> verdict of the drills a journal holds."""
    events = read_journal(journal)
    scenario = {e.drill: e.scenario for e in events if isinstance(e, DrillStarted)}
    return {scenario[e.drill]: e.verdict for e in events if isinstance(e, DrillFinished)}


def test_each_scenario_is_a_drill_test_named_by_its_id(project: pytest.Pytester) -> None:
    result = project.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines([item_id(FIXED), item_id(IGNORED)])
    assert result.ret == pytest.ExitCode.OK


def test_k_selects_one_drill_by_its_id_and_only_that_drill_runs(project: pytest.Pytester) -> None:
    result = project.runpytest("-k", FIXED, "--gameday-report", "out")
    result.assert_outcomes(passed=1, deselected=1)
    assert finished(project.path / "out" / "journal-main.jsonl") == {FIXED: Verdict.PASSED}


@pytest.mark.parametrize(("marker", "outcomes", "ran"), [
    ("p0", {"passed": 1, "deselected": 1}, {FIXED}),
    ("p2", {"failed": 1, "deselected": 1}, {IGNORED}),
    ("p1", {"deselected": 2}, set()),
    ("drill", {"passed": 1, "failed": 1}, {FIXED, IGNORED}),
])
def test_drill_and_severity_markers_select_drills(project: pytest.Pytester, marker: str,
                                                  outcomes: dict[str, int], ran: set[str]) -> None:
    result = project.runpytest("-m", marker, "--gameday-report", "out")
    result.assert_outcomes(**outcomes)
    journal = project.path / "out" / "journal-main.jsonl"
    assert (set(finished(journal)) if journal.exists() else set()) == ran


def test_gameday_report_dir_receives_the_journal_and_every_report(project: pytest.Pytester) -> None:
    result = project.runpytest("--gameday-report", "out")
    result.assert_outcomes(passed=1, failed=1)
    out = project.path / "out"
    assert finished(out / "journal-main.jsonl") == {FIXED: Verdict.PASSED, IGNORED: Verdict.FAILED}
    for name in ("report.html", "summary.json", "junit.xml"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert {d["scenario"]: d["verdict"] for d in summary["drills"]} == {FIXED: "passed", IGNORED: "failed"}
    assert len(list(out.glob("postmortem-*.md"))) == 2
    assert not (project.path / "reports").exists()  # nothing went to the default folder


def test_failed_drill_fails_its_test_with_the_findings_as_the_message(project: pytest.Pytester) -> None:
    result = project.runpytest("-k", IGNORED, "--gameday-report", "out")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.re_match_lines([
        error_line(f"AssertionError: drill {IGNORED} (RUNBOOK.md#2-flag-set-ignored): failed"),
        error_line("- fix-failed: 2-flag-set-ignored[1]: steady state did not come back within 0.4s of the fix"),
        error_line("- verify-failed: 2-flag-set-ignored[2] (") + r".*RUNBOOK\.md:\d+\): the verification does not hold",
    ])


def test_each_xdist_worker_writes_its_own_journal(project: pytest.Pytester) -> None:
    result = project.runpytest("-n", "2", "--gameday-report", "out")
    result.assert_outcomes(passed=1, failed=1)
    out = project.path / "out"
    assert sorted(p.name for p in out.glob("journal-*.jsonl")) == ["journal-gw0.jsonl", "journal-gw1.jsonl"]
    per_worker = [finished(out / f"journal-gw{n}.jsonl") for n in (0, 1)]
    assert sorted(len(drills) for drills in per_worker) == [1, 1]  # two workers, a drill each
    assert per_worker[0] | per_worker[1] == {FIXED: Verdict.PASSED, IGNORED: Verdict.FAILED}
    assert not (out / "summary.json").exists()  # workers leave the merged reports to `gameday report DIR`
    write_reports(sorted(out.glob("journal*.jsonl")), out)  # what it does
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert {d["scenario"]: d["verdict"] for d in summary["drills"]} == {FIXED: "passed", IGNORED: "failed"}
    # Each worker journals the coverage of what it drilled; the merged reports show what either did.
    covered = [[e for e in read_journal(out / f"journal-gw{n}.jsonl") if isinstance(e, RunbookCovered)]
               for n in (0, 1)]
    assert [len(c) for c in covered] == [1, 1]
    assert covered[0][0].drilled != covered[1][0].drilled
    (merged,) = build_gameday(load_journals(sorted(out.glob("journal*.jsonl")))).coverage
    assert set(merged.drilled) == set(covered[0][0].drilled) | set(covered[1][0].drilled)


def test_without_an_override_drills_take_stacks_from_the_docker_stack_pool(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_default="""
        from harness.gameday import StackPool

        def test_stack_source(gameday_stacks):
            assert type(gameday_stacks) is StackPool
    """)
    pytester.makeini(INNER_INI)
    pytester.runpytest().assert_outcomes(passed=1)
