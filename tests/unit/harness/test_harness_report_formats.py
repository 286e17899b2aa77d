"""Report formats from a journal, no Docker: the Markdown post-mortem, the JSON summary, JUnit XML.

The fixture journal `report_fixtures/journal.jsonl` is built by `write_fixture` below from
- `report_fixtures/real_run.jsonl`: the db-down and token-leak drills of a real gameday
  (reports/gameday-20261122-063713/journal.jsonl, lines copied verbatim; the journal was already
  redacted), both passed;
- `hand_built_events()`: a failed drill (four findings of three kinds, hostile text from commands:
  markup, `]]>`, quotes, ANSI colour codes, control characters, backtick runs in code), a drill that
  ended in a harness error, and one that was interrupted after its fault was injected.

Rendered reports are compared byte for byte with the files in `report_fixtures/golden/`. After a
deliberate change to a renderer, the view model or the hand-built events, regenerate the fixture
journal and every golden file with

    GAMEDAY_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/harness/test_harness_report_formats.py

then read the diff before committing it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.journal import (
    CheckRecord,
    DrillFinished,
    DrillStarted,
    Event,
    FaultRecorded,
    FindingRecorded,
    GamedayFinished,
    GamedayStarted,
    Journal,
    ManualChecklist,
    Metrics,
    PhaseStarted,
    ProbeTransition,
    Series,
    StepRecorded,
    read_journal,
)
from harness.report.markdown import PASSED_ACTIONS, render_postmortem
from harness.report.model import ACTION_ITEMS, DrillView, FindingView, GamedayView, build_view
from harness.report.summary import render_json, render_junit
from harness.report.text import printable

FIXTURES = Path(__file__).parent / "report_fixtures"
JOURNAL = FIXTURES / "journal.jsonl"
REAL_RUN = FIXTURES / "real_run.jsonl"
GOLDEN = FIXTURES / "golden"
UPDATE = os.environ.get("GAMEDAY_UPDATE_GOLDEN") == "1"

DRILLS = ("db-down", "token-leak", "error-storm", "secret-missing", "pool-exhausted")
RUN_ID = "0f1e2d3c4b5a"
RUNBOOK = "/work/main/stack/chatkit/RUNBOOK.md"
HOSTILE = "\x1b[31m<script>alert('x')</script>\x1b[0m ]]> \"quoted\" & 'single'\x00\x07\x0c end"


# -- the fixture journal ------------------------------------------------------------------------


def _step(drill: str, phase: str, ref: str, line: int, code: str, stdout: str, t: float, at: str, *,
          expect: str, passed: bool = True, exit_code: int = 0, checks: tuple[CheckRecord, ...] = (),
          duration: float = 0.1) -> StepRecorded:
    return StepRecorded(drill, phase, ref, "app", f"{RUNBOOK}:{line}", code, exit_code, stdout, "", duration,
                        False, 1, expect, passed, checks, t, at=at)


def _error_storm() -> list[Event]:
    """A failed drill: the runbook misses the fault twice, recovers too slowly, and users still fail."""
    d = "error-storm"
    at = "2026-11-22T06:38:37.{:03d}+00:00".format
    rate = ("curl -s http://localhost:8000/metrics | jq .error_rate_percent\n# Expected: /^[0-4](\\.[0-9]+)?$/\n"
            "# Expected if errors are high: /^([5-9]|[1-9][0-9]+)(\\.[0-9]+)?$/\n")
    which = ("# Which errors, most frequent first.\ngrep '\"level\":\"ERROR\"' /var/log/chatkit-backend.log | jq -r "
             ".event | sort | uniq -c | sort -rn | head -5\n# Expected: No results\n"
             "# Expected if errors are high: /database_error|unhandled_exception/\n")
    types = ("grep '\"event\":\"unhandled_exception\"' /var/log/chatkit-backend.log | jq -r .exception_type | "
             "sort | uniq -c | sort -rn\n# Expected: No results\n# Expected if the code is failing: /[0-9]+ \\w+/\n")
    fix = "systemctl restart chatkit-backend\nprintf '%s\\n' '````restart done````' >> /tmp/gameday-note.md\n"
    seen = f"no match for regex /database_error|unhandled_exception/ in the output (1 line): {HOSTILE}"
    patch = ('POST /chat raises RuntimeError("boom <script>alert(1)</script>") on app; restart: '
             "`systemctl restart chatkit-backend` exit 0")
    ok_rate = CheckRecord("healthy", None, "/^[0-4](\\.[0-9]+)?$/", 345, True, "expected regex; ok", "")
    high = CheckRecord("fault", "if errors are high", "/^([5-9]|[1-9][0-9]+)(\\.[0-9]+)?$/", 346, True,
                       "expected regex; ok", "")
    missed = CheckRecord("fault", "if errors are high", "/database_error|unhandled_exception/", 353, False,
                         f"expected regex; {seen}", seen)
    metrics = Metrics(True, True, 0.6, 1.3, 39.7, 38.4, 38.5, 10.0, 30.0, 96, 71, ("synthetic-1", "synthetic-2"),
                      0.833, (("baseline:5-high-error-rate[1]", 0.1), ("diagnose:5-high-error-rate[2]", 0.1),
                              ("fix:5b-unhandled-exceptions[2]", 2.5)))
    kinds = ("not-detected", "not-detected", "slow-recovery", "verify-failed")
    return [
        PhaseStarted(d, "stack-up", 0.0, at="2026-11-22T06:38:33.000+00:00"),
        DrillStarted(d, d, 'Unhandled exceptions flood the chat API: "5xx" & <retry> storms', RUNBOOK,
                     "5b-unhandled-exceptions", "P1", 10.0, 30.0, 5, "chatkit", mode="auto", at=at(0)),
        PhaseStarted(d, "baseline", 0.1, at=at(100)),
        _step(d, "baseline", "5-high-error-rate[1]", 344, rate, "0\n", 0.2, at(200), expect="healthy",
              checks=(ok_rate,)),
        _step(d, "baseline", "5-high-error-rate[2]", 351, which, "", 0.3, at(300), expect="healthy"),
        _step(d, "baseline", "5b-unhandled-exceptions[1]", 364, types, "", 0.34, at(340), expect="healthy",
              exit_code=1),
        PhaseStarted(d, "observe", 0.35, at=at(350)),
        ProbeTransition(d, True, 200, '200 {"status":"ok","database":"connected"}', 0.4),
        PhaseStarted(d, "inject", 0.8, at=at(800)),
        FaultRecorded(d, "code-patch", "injected", patch, 1.3, at="2026-11-22T06:38:38.300+00:00"),
        ProbeTransition(d, False, 500, '500 {"detail":"An unexpected error occurred"}', 1.4),
        FaultRecorded(d, "code-patch", "verified", '3 of 3 test requests answered 500 ]]> "An unexpected error"',
                      1.5, at="2026-11-22T06:38:38.500+00:00"),
        PhaseStarted(d, "detect", 1.5, at="2026-11-22T06:38:38.500+00:00"),
        PhaseStarted(d, "diagnose", 1.5, at="2026-11-22T06:38:38.500+00:00"),
        _step(d, "diagnose", "5-high-error-rate[1]", 344, rate, "12.5\n", 1.6, "2026-11-22T06:38:38.600+00:00",
              expect="fault", checks=(high,)),
        _step(d, "diagnose", "5-high-error-rate[2]", 351, which, "\x1b[31m     42 unhandled_error\x1b[0m\n", 1.8,
              "2026-11-22T06:38:38.800+00:00", expect="fault", passed=False, checks=(missed,)),
        FindingRecorded(d, "not-detected", "5-high-error-rate[2]", "its fault-time expectation does not hold "
                        "during the fault", f"{RUNBOOK}:353", "regex /database_error|unhandled_exception/", seen,
                        1.8),
        _step(d, "diagnose", "5b-unhandled-exceptions[1]", 364, types, "", 2.0, "2026-11-22T06:38:39.000+00:00",
              expect="fault", passed=False, exit_code=1),
        FindingRecorded(d, "not-detected", "5b-unhandled-exceptions[1]", "its fault-time expectation does not "
                        "hold during the fault", f"{RUNBOOK}:366", "regex /[0-9]+ \\w+/",
                        "no output at all (exit 1)\n```\n(empty)\n```", 2.0),
        PhaseStarted(d, "fix", 2.1, at="2026-11-22T06:38:39.100+00:00"),
        _step(d, "fix", "5b-unhandled-exceptions[2]", 372, fix, "", 4.6, "2026-11-22T06:38:41.600+00:00",
              expect="healthy", duration=2.5),
        PhaseStarted(d, "recover", 4.6, at="2026-11-22T06:38:41.600+00:00"),
        ProbeTransition(d, True, 200, '200 {"status":"ok","database":"connected"}', 39.9),
        FindingRecorded(d, "slow-recovery", "5b-unhandled-exceptions[2]", "recovered 38.4s after the fix "
                        "started; the budget is 30s", "", "<= 30s", "38.4s", 40.5),
        PhaseStarted(d, "verify", 40.5, at="2026-11-22T06:39:17.500+00:00"),
        _step(d, "verify", "5b-unhandled-exceptions[3]", 377, "curl -s http://localhost:8000/health | jq -r "
              ".status\n# Expected: ok\n", "ok\n", 40.7, "2026-11-22T06:39:17.700+00:00", expect="healthy"),
        FindingRecorded(d, "verify-failed", "synthetic-users", "legitimate users' success ratio after recovery "
                        "is 83.3%", "", ">= 95%", "10/12 ok", 46.0),
        PhaseStarted(d, "rollback", 46.0, at="2026-11-22T06:39:23.000+00:00"),
        FaultRecorded(d, "code-patch", "rolled-back", patch, 47.9, at="2026-11-22T06:39:24.900+00:00"),
        Series(d, ((0.4, True), (1.4, False), (39.9, True)),
               ((0.0, 6, 0), (5.0, 0, 6), (10.0, 0, 6), (15.0, 0, 6), (20.0, 0, 6), (25.0, 0, 6), (30.0, 0, 6),
                (35.0, 1, 5), (40.0, 5, 1), (45.0, 5, 1)), 5.0,
               (("inject", 0.8), ("diagnosed", 2.1), ("fix", 2.1), ("recovered", 40.5))),
        ManualChecklist(d, (("5b-unhandled-exceptions", "File a bug with the exception type and three request "
                             "IDs from the log.", 373),
                            ("5b-unhandled-exceptions", "Deploy the fix, then watch `error_rate_percent` fall.",
                             374))),
        DrillFinished(d, d, "failed", kinds, metrics, 48.0, at="2026-11-22T06:39:25.000+00:00"),
    ]


def _secret_missing() -> list[Event]:
    """A harness error: the stack never looked healthy, so the fault was never injected."""
    d = "secret-missing"
    refused = "GET http://127.0.0.1:32925/health: ConnectError [Errno 111] Connection refused"
    return [
        PhaseStarted(d, "stack-up", 0.0, at="2026-11-22T06:39:26.000+00:00"),
        DrillStarted(d, d, "SECRET_KEY disappears from the service's environment file and the service restarts",
                     RUNBOOK, "1a-missing-secret_key", "P0", 10.0, 60.0, 5, "chatkit", mode="auto",
                     at="2026-11-22T06:39:30.000+00:00"),
        PhaseStarted(d, "baseline", 0.1, at="2026-11-22T06:39:30.100+00:00"),
        _step(d, "baseline", "1-service-wont-start[1]", 45, "systemctl is-active chatkit-backend\n"
              "# Expected: /^active$/\n", "active\n", 0.3, "2026-11-22T06:39:30.300+00:00", expect="healthy"),
        PhaseStarted(d, "observe", 0.4, at="2026-11-22T06:39:30.400+00:00"),
        ProbeTransition(d, False, None, refused, 0.5),
        FindingRecorded(d, "harness-error", "-", "the stack did not look healthy to the probes before the fault "
                        f"(last probe: {refused})", "", "", "", 30.4),
        ManualChecklist(d, ()),
        DrillFinished(d, d, "harness-error", ("harness-error",), None, 30.5, at="2026-11-22T06:40:00.500+00:00"),
    ]


def _pool_exhausted() -> list[Event]:
    """Interrupted (Ctrl-C) after the fault went in: no DrillFinished."""
    d = "pool-exhausted"
    return [
        PhaseStarted(d, "stack-up", 0.0, at="2026-11-22T06:40:05.000+00:00"),
        DrillStarted(d, d, "A leaking client holds every database connection idle in a transaction", RUNBOOK,
                     "6b-connection-pool-exhausted", "P1", 10.0, 60.0, 5, "chatkit", mode="auto",
                     at="2026-11-22T06:40:09.000+00:00"),
        PhaseStarted(d, "baseline", 0.1, at="2026-11-22T06:40:09.100+00:00"),
        PhaseStarted(d, "observe", 0.5, at="2026-11-22T06:40:09.500+00:00"),
        ProbeTransition(d, True, 200, '200 {"status":"ok","database":"connected"}', 0.55),
        PhaseStarted(d, "inject", 1.0, at="2026-11-22T06:40:10.000+00:00"),
        FaultRecorded(d, "connection-hog", "injected", "holding 27 sessions idle in transaction on "
                      "127.0.0.1:32912/chatkit", 1.6, at="2026-11-22T06:40:10.600+00:00"),
    ]


def hand_built_events() -> tuple[list[Event], list[Event], list[Event]]:
    """(before the real drills, after them, the end): the hand-built part of the fixture journal."""
    start: list[Event] = [GamedayStarted(RUN_ID, DRILLS, "0.1.0.dev0", at="2026-11-22T06:37:13.729+00:00")]
    drills = [*_error_storm(), *_secret_missing(), *_pool_exhausted()]
    verdicts = (("db-down", "passed"), ("token-leak", "passed"), ("error-storm", "failed"),
                ("secret-missing", "harness-error"))
    end: list[Event] = [GamedayFinished(RUN_ID, verdicts, 177.771, at="2026-11-22T06:40:11.500+00:00")]
    return start, drills, end


def write_fixture(path: Path) -> None:
    """The fixture journal: a gameday start, the real drills verbatim, the hand-built drills, the end."""
    path.unlink(missing_ok=True)
    journal = Journal(path)
    start, drills, end = hand_built_events()
    for event in start:
        journal.write(event)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(REAL_RUN.read_text(encoding="utf-8"))
    for event in [*drills, *end]:
        journal.write(event)


@pytest.fixture(scope="module")
def view() -> GamedayView:
    if UPDATE:
        write_fixture(JOURNAL)
    return build_view(read_journal(JOURNAL))


def drill_of(view: GamedayView, drill: str) -> DrillView:
    return next(d for d in view.drills if d.drill == drill)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    assert path.is_file(), f"no golden file {path}; run with GAMEDAY_UPDATE_GOLDEN=1 to create it"
    assert text == path.read_bytes().decode("utf-8"), f"{name} differs from its golden copy"


def parse_xml(text: str) -> ET.Element:
    return ET.fromstring(text.encode("utf-8"))  # noqa: S314 - our own output, parsed to prove it well-formed


# -- golden files -------------------------------------------------------------------------------


def test_fixture_journal_is_what_write_fixture_makes(tmp_path: Path, view: GamedayView) -> None:
    rebuilt = tmp_path / "journal.jsonl"
    write_fixture(rebuilt)
    assert rebuilt.read_bytes() == JOURNAL.read_bytes(), "run with GAMEDAY_UPDATE_GOLDEN=1 to rebuild it"
    assert tuple(d.drill for d in view.drills) == DRILLS


@pytest.mark.parametrize("drill", DRILLS)
def test_postmortem_matches_golden(view: GamedayView, drill: str) -> None:
    check_golden(f"postmortem-{drill}.md", render_postmortem(drill_of(view, drill)))


def test_json_summary_matches_golden(view: GamedayView) -> None:
    check_golden("summary.json", render_json(view))


def test_junit_matches_golden(view: GamedayView) -> None:
    check_golden("junit.xml", render_junit(view))


def test_golden_folder_holds_no_stale_files(view: GamedayView) -> None:
    expected = {f"postmortem-{d}.md" for d in DRILLS} | {"summary.json", "junit.xml"}
    assert {p.name for p in GOLDEN.iterdir()} == expected


# -- behaviour ----------------------------------------------------------------------------------


def test_json_summary_parses_with_schema_version_and_every_drill(view: GamedayView) -> None:
    summary = json.loads(render_json(view))
    assert summary["schema_version"] == 1
    assert summary["run_id"] == RUN_ID
    assert summary["passed"] is False
    assert summary["counts"] == {"passed": 2, "failed": 1, "harness-error": 1, "interrupted": 1}
    drills = {d["drill"]: d for d in summary["drills"]}
    assert list(drills) == list(DRILLS)
    assert drills["db-down"]["metrics"]["time_to_detect"] == 0.57
    assert drills["db-down"]["fault_outcomes"] == {"service-stopped": "already-restored"}
    assert drills["error-storm"]["fault_outcomes"] == {"code-patch": "rolled-back"}
    assert [f["kind"] for f in drills["error-storm"]["findings"]] == ["not-detected", "not-detected",
                                                                      "slow-recovery", "verify-failed"]
    assert drills["error-storm"]["findings"][0]["seen"].endswith(HOSTILE)  # JSON carries text as it was
    assert set(drills["error-storm"]["metrics"]) == {f.name for f in dataclasses.fields(Metrics)}
    assert drills["secret-missing"]["metrics"] is None
    assert drills["pool-exhausted"]["verdict"] == "interrupted"
    sections = {s["section"]: s for s in summary["sections"]}
    assert sections["6a-database-server-down"]["last_verified"] == "2026-11-22T06:37:24.060+00:00"
    assert sections["5b-unhandled-exceptions"]["last_verified"] is None


def test_junit_counts_tests_failures_and_errors(view: GamedayView) -> None:
    suite = parse_xml(render_junit(view))
    assert suite.tag == "testsuite"
    assert (suite.get("name"), suite.get("tests"), suite.get("failures"), suite.get("errors")) == \
        ("gameday", "5", "1", "2")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert list(cases) == list(DRILLS)
    assert all(c.get("classname") == "gameday.chatkit" for c in cases.values())
    assert cases["db-down"].find("failure") is None
    assert cases["db-down"].find("error") is None
    failure = cases["error-storm"].find("failure")
    assert failure is not None
    assert failure.get("type") == "not-detected"
    assert failure.get("message") == "not-detected, slow-recovery, verify-failed"
    assert "  location: /work/main/stack/chatkit/RUNBOOK.md:353" in (failure.text or "")
    for name, kind in (("secret-missing", "harness-error"), ("pool-exhausted", "interrupted")):
        error = cases[name].find("error")
        assert error is not None
        assert error.get("type") == kind
    out = cases["db-down"].find("system-out")
    assert out is not None
    assert "time to detect: 0.570 s (budget 10.000 s)" in (out.text or "")


def test_junit_stays_well_formed_with_hostile_text(view: GamedayView) -> None:
    hostile = HOSTILE + " \ud800 \ufffe é ✓"
    base = drill_of(view, "error-storm")
    drill = dataclasses.replace(
        base, title=hostile, scenario=f"bad<{hostile}", stack='st"ack]]>',
        findings=(FindingView("not-detected", hostile, hostile, hostile, "]]>" + hostile, hostile),))
    text = render_junit(dataclasses.replace(view, drills=(drill,), run_id=hostile))
    assert "\x1b" not in text
    assert "\x00" not in text
    suite = parse_xml(text)
    case = suite.find("testcase")
    assert case is not None
    assert case.get("classname") == 'gameday.st"ack]]>'
    assert (case.get("name") or "").startswith("bad<<script>alert('x')</script> ]]> \"quoted\"")
    failure = case.find("failure")
    assert failure is not None
    body = failure.text or ""
    assert "<script>alert('x')</script> ]]> \"quoted\" & 'single'\\x00\\x07\\x0c end \\ud800 \\ufffe é ✓" in body
    assert "[31m" not in body  # ANSI colour codes are dropped whole, not half
    summary = render_json(dataclasses.replace(view, drills=(drill,)))
    assert summary.encode("utf-8")  # writable as UTF-8, non-ASCII kept readable
    assert "é ✓" in summary
    assert json.loads(summary)["drills"][0]["title"] == hostile
    assert render_postmortem(drill).encode("utf-8")  # no lone surrogate left to break a UTF-8 file


def test_printable_keeps_what_xml_can_hold() -> None:
    assert printable("tab\tnew\nline\r é ✓ 😀") == "tab\tnew\nline\r é ✓ 😀"
    assert printable("\x1b[1;31mred\x1b[0m \x1b]0;title\x07x") == "red x"
    assert printable("a\x00b\x1fc\x7f") == "a\\x00b\\x1fc\x7f"


def test_postmortem_of_a_passed_drill_says_the_runbook_worked(view: GamedayView) -> None:
    text = render_postmortem(drill_of(view, "db-down"))
    assert text.startswith("# Post-mortem: PostgreSQL stops on the database server (db-down)\n")
    actions = text.split("## Action items\n", 1)[1].split("\n## ", 1)[0]
    assert PASSED_ACTIONS in actions
    assert "- [ ]" not in text
    assert "the runbook restored the system" in text
    assert "Gameday drill: deliberate fault." in text
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## Impact", "## Timeline", "## Root cause", "## Resolution", "## Prevention",
                        "## Action items", "## Manual checklist"]


def test_postmortem_of_a_failed_drill_lists_an_action_item_per_finding_kind(view: GamedayView) -> None:
    drill = drill_of(view, "error-storm")
    text = render_postmortem(drill)
    actions = text.split("## Action items\n", 1)[1].split("\n## ", 1)[0]
    items = [line[len("- [ ] "):] for line in actions.splitlines() if line.startswith("- [ ] ")]
    assert PASSED_ACTIONS not in text
    for finding in drill.findings:
        expected = ACTION_ITEMS[finding.kind].format(section="#5b-unhandled-exceptions", step=finding.step,
                                                     message=finding.message, kind=finding.kind)
        assert expected in items, finding.kind
    assert len(items) == 4  # two not-detected steps, one slow recovery, one verification
    assert "the harness restored the system" in text
    assert "**over budget** by 8.4 s" in text


def test_postmortem_fences_code_longer_than_any_backtick_run_inside(view: GamedayView) -> None:
    text = render_postmortem(drill_of(view, "error-storm"))
    assert "`````sh\nsystemctl restart chatkit-backend\nprintf '%s\\n' '````restart done````'" in text
    assert "````text\nno output at all (exit 1)\n```\n(empty)\n```\n````" in text
    assert "\x1b" not in text
    assert "\x00" not in text
    assert "(1 line): <script>alert('x')</script> ]]> \"quoted\" & 'single'\\x00\\x07\\x0c end\n" in text


def test_postmortem_of_interrupted_and_harness_error_drills(view: GamedayView) -> None:
    interrupted = render_postmortem(drill_of(view, "pool-exhausted"))
    assert "- **Duration**: unknown: the drill never finished" in interrupted
    assert f"- [ ] {ACTION_ITEMS['interrupted']}" in interrupted
    assert "never rolled back during the drill (last record: injected)" in interrupted
    errored = render_postmortem(drill_of(view, "secret-missing"))
    assert "No fault was injected" in errored
    assert "Nothing was measured" in errored


def test_rendering_is_deterministic(view: GamedayView) -> None:
    again = build_view(read_journal(JOURNAL))
    assert render_json(again) == render_json(view)
    assert render_junit(again) == render_junit(view)
    for first, second in zip(view.drills, again.drills, strict=True):
        assert render_postmortem(first) == render_postmortem(second)
