"""Hostile inputs for `gameday report`: results you can trust under bad input.

No false green, no crash, no hang, nothing written outside the output folder. Each case runs the
real entry point (`python -m harness.cli report ...`, the runner of test_hostile_inputs) in its own
process and holds it to:

- the exit code: 0 every drill passed, 1 a drill did not pass (failed, harness error, interrupted,
  a journal that does not add up) or no drill at all, 2 unreadable input or an output it must not write;
- one stderr line naming the file (and `:LINE` where one is knowable) or the argument;
- no `Traceback`, and under CASE_SECONDS;
- no file created, changed or removed in the test's tmp tree outside the output folder;
- where reports were written (exit 0 or 1): JUnit failures + errors, summary.json and the HTML agree
  with each other and with the exit code.

Corpus journals are `corpus/journals/rep_*.jsonl`; FIFOs, links, deep and huge inputs are made in tmp_path.
"""

from __future__ import annotations

import json
import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.cli import main
from tests.hostile.test_hostile_inputs import CORPUS, ROOT, expand, one_line_with, run_cli

CASE_SECONDS = 5.0
J = "@C/journals"
Maker = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    argv: tuple[str, ...]
    code: int
    fragments: tuple[str, ...]  # all on one stderr line
    out: str  # the only folder the case may write in
    make: Maker | None = None
    check: Callable[[Path], None] | None = None  # more about what was written (gets tmp_path)


# -- generated inputs ---------------------------------------------------------------------------------

def _copy(name: str, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes((CORPUS / "journals" / name).read_bytes())
    return dest


def fifo_journal(tmp: Path) -> None:
    os.mkfifo(tmp / "journal.jsonl")


def fifo_report(tmp: Path) -> None:
    (tmp / "out").mkdir()
    os.mkfifo(tmp / "out" / "report.html")


def fifo_out(tmp: Path) -> None:
    os.mkfifo(tmp / "out")


def symlink_report(tmp: Path) -> None:
    (tmp / "out").mkdir()
    (tmp / "precious.txt").write_text("do not overwrite\n")
    (tmp / "out" / "report.html").symlink_to(tmp / "precious.txt")


def symlink_junit(tmp: Path) -> None:
    (tmp / "out").mkdir()
    (tmp / "out" / "junit.xml").symlink_to(tmp / "elsewhere.xml")  # dangling: would create a file outside


def out_is_file(tmp: Path) -> None:
    (tmp / "out").write_text("a file\n")


def unmarked_folder(tmp: Path) -> None:
    _copy("rep_passed.jsonl", tmp / "downloads" / "gameday-x" / "journal.jsonl")
    (tmp / "downloads" / "gameday-other").mkdir()
    (tmp / "downloads" / "gameday-other" / "journal.jsonl").write_text("{not json\n")


def marked_root(tmp: Path, sibling: str | None = None, text: str | None = None) -> None:
    root = tmp / "reports"
    _copy("rep_passed.jsonl", root / "gameday-new" / "journal.jsonl")
    (root / ".gameday-reports").write_text("marker\n")
    if sibling is not None:
        _copy(sibling, root / "gameday-bad" / "journal.jsonl")
    if text is not None:
        (root / "gameday-bad").mkdir(parents=True, exist_ok=True)
        (root / "gameday-bad" / "journal.jsonl").write_text(text)


def index_symlink(tmp: Path) -> None:
    marked_root(tmp)
    (tmp / "precious.txt").write_text("do not overwrite\n")
    (tmp / "reports" / "index.html").symlink_to(tmp / "precious.txt")


def deep_json(tmp: Path) -> None:
    start = (CORPUS / "journals" / "rep_passed.jsonl").read_text().splitlines()[0]
    (tmp / "deep.jsonl").write_text(start + "\n" + '{"schema_version":1,"type":"Series","drill":' + "[" * 100_000
                                    + "]" * 100_000 + "}\n")


def workers(tmp: Path) -> None:
    _copy("rep_same_id_passed.jsonl", tmp / "pytest-x" / "journal-gw0.jsonl")
    _copy("rep_same_id_failed.jsonl", tmp / "pytest-x" / "journal-gw1.jsonl")


def symlinked_twice(tmp: Path) -> None:
    _copy("rep_passed.jsonl", tmp / "a.jsonl")
    (tmp / "b.jsonl").symlink_to(tmp / "a.jsonl")


def _events(*lines: dict[str, object]) -> str:
    return "".join(json.dumps({"schema_version": 1, **e}) + "\n" for e in lines)


AT = "2026-11-22T06:37:13.000+00:00"


def _start(drill: str, **extra: object) -> dict[str, object]:
    return {"type": "DrillStarted", "drill": drill, "scenario": "db-down", "title": "t", "runbook": "R.md",
            "section": "s", "severity": "P0", "detect_within": 10.0, "recover_within": 60.0,
            "steady_consecutive": 3, "stack": "chatkit", "at": AT, **extra}


def _finish(drill: str, verdict: str = "passed", findings: tuple[str, ...] = ()) -> dict[str, object]:
    return {"type": "DrillFinished", "drill": drill, "scenario": "db-down", "verdict": verdict,
            "findings": list(findings), "metrics": None, "t": 5.0, "at": AT}


def colliding_ids(tmp: Path) -> None:
    (tmp / "j.jsonl").write_text(_events(_start("a/b"), _finish("a/b", "failed", ("fix-failed",)),
                                         _start("a?b"), _finish("a?b"), _start("../../x"), _finish("../../x")))


def long_id(tmp: Path) -> None:
    drill = "d" * 400
    (tmp / "j.jsonl").write_text(_events(_start(drill), _finish(drill)))


def huge_output(tmp: Path) -> None:
    step = {"type": "StepRecorded", "drill": "db-down", "phase": "fix", "ref": "fix[1]", "host": "app",
            "location": "R.md:1", "code": "cat big", "exit_code": 0, "stdout": "x" * 3_000_000, "stderr": "",
            "duration": 0.1, "timed_out": False, "attempts": 1, "expect": "healthy", "passed": True, "checks": [],
            "t": 1.0, "at": AT}
    (tmp / "j.jsonl").write_text(_events(_start("db-down"), step, _finish("db-down")))


def many_marks(tmp: Path) -> None:
    series = {"type": "Series", "drill": "db-down", "probe": [[i * 0.01, i % 2 == 0] for i in range(20_000)],
              "traffic": [], "bucket": 1.0, "marks": [[f"m{i % 7}", i * 0.01] for i in range(20_000)]}
    (tmp / "j.jsonl").write_text(_events(_start("db-down"), series, _finish("db-down")))


def html_title(tmp: Path) -> None:
    _copy("rep_html_title.jsonl", tmp / "j.jsonl")


# -- checks of what was written ---------------------------------------------------------------------

def junit_counts(folder: Path) -> tuple[int, int, int]:
    suite = ET.parse(folder / "junit.xml").getroot()  # noqa: S314 (our own output)
    return int(suite.attrib["tests"]), int(suite.attrib["failures"]), int(suite.attrib["errors"])


def assert_agree(folder: Path, code: int) -> dict[str, object]:
    """JUnit, summary.json, the HTML and the exit code tell the same story."""
    summary = json.loads((folder / "summary.json").read_text())
    tests, failures, errors = junit_counts(folder)
    not_passed = sum(not d["passed"] for d in summary["drills"])
    assert tests == len(summary["drills"])
    assert failures + errors == not_passed == summary["not_passed"]
    assert summary["passed"] == (code == 0)
    assert code == (0 if summary["passed"] else 1)
    html = (folder / "report.html").read_text()
    assert html.count('class="drill-row"') == len(summary["drills"])
    assert ('id="problems"' in html) == bool(summary["problems"])
    for drill in summary["drills"]:
        if drill["problems"]:
            assert not drill["passed"]
    return dict(summary)


def agree_out(out: str) -> Callable[[Path], None]:
    def check(tmp: Path) -> None:
        folder = Path(expand(out, tmp))
        assert_agree(folder, 0 if json.loads((folder / "summary.json").read_text())["passed"] else 1)
    return check


def precious_untouched(tmp: Path) -> None:
    assert (tmp / "precious.txt").read_text() == "do not overwrite\n"
    assert (tmp / "out" / "report.html").is_symlink()


def precious_kept(tmp: Path) -> None:
    assert (tmp / "precious.txt").read_text() == "do not overwrite\n"


def no_index_above(tmp: Path) -> None:
    assert not (tmp / "downloads" / "index.html").exists()
    assert (tmp / "downloads" / "gameday-x" / "report.html").is_file()


def index_with_note(tmp: Path) -> None:
    index = (tmp / "reports" / "index.html").read_text()
    assert "gameday-bad/journal.jsonl: skipped" in index
    assert "gameday-new" in index


def distinct_postmortems(tmp: Path) -> None:
    names = sorted(p.name for p in (tmp / "out").glob("postmortem-*.md"))
    assert len(names) == 3, names
    assert all(len(n.encode()) <= 120 for n in names)


def bounded_name(tmp: Path) -> None:
    (name,) = [p.name for p in (tmp / "out").glob("postmortem-*.md")]
    assert len(name) <= 120


def bounded_html(tmp: Path) -> None:
    assert (tmp / "out" / "report.html").stat().st_size < 1_000_000
    assert (tmp / "out" / "postmortem-db-down.md").stat().st_size < 1_000_000


def escaped_markdown(tmp: Path) -> None:
    text = (tmp / "out" / "postmortem-db-down.md").read_text()
    assert "<script" not in text
    assert "<img" not in text
    assert "&lt;script&gt;" in text


def workers_both_counted(tmp: Path) -> None:
    assert junit_counts(tmp / "out") == (2, 1, 0)


def created_out(tmp: Path) -> None:
    assert (tmp / "new" / "deeper" / "report.html").is_file()


# -- the corpus ---------------------------------------------------------------------------------------

def rep(name: str, code: int, *fragments: str, check: Callable[[Path], None] | None = None) -> Case:
    return Case(("report", f"{J}/{name}", "--out", "@T/out"), code, fragments, "@T/out",
                check=check or (agree_out("@T/out") if code in (0, 1) else None))


CASES = [
    # -- 1. a failed drill never reads as passed, nor vanishes ------------------------------------------
    pytest.param(Case(("report", f"{J}/rep_same_id_passed.jsonl", f"{J}/rep_same_id_failed.jsonl", "--out", "@T/out"),
                      1, ("1 of 2 drill(s) did not pass",), "@T/out", check=agree_out("@T/out")),
                 id="same-drill-id-in-two-journals-both-counted"),
    pytest.param(Case(("report", "@T/pytest-x", "--out", "@T/out"), 1, ("1 of 2 drill(s) did not pass",), "@T/out",
                      make=workers, check=workers_both_counted), id="xdist-workers-same-drill-id"),
    pytest.param(rep("rep_finish_without_start.jsonl", 1, "rep_finish_without_start.jsonl", "without a DrillStarted"),
                 id="failed-finish-without-start-is-not-dropped"),
    pytest.param(rep("rep_passed_finish_without_start.jsonl", 1, "rep_passed_finish_without_start.jsonl",
                     "line 2", "without a DrillStarted"), id="passed-finish-without-start-is-not-a-pass"),
    pytest.param(rep("rep_start_without_finish.jsonl", 1, "rep_start_without_finish.jsonl", "line 2",
                     "never finished"), id="start-without-finish"),
    pytest.param(rep("rep_summary_disagrees.jsonl", 1, "rep_summary_disagrees.jsonl", "line 4", "gameday summary"),
                 id="summary-disagrees-with-drills"),
    pytest.param(rep("rep_summary_phantom.jsonl", 1, "rep_summary_phantom.jsonl", "gameday summary",
                     "recorded nothing"), id="summary-lists-a-drill-that-is-not-there"),
    pytest.param(rep("rep_passed_with_findings.jsonl", 1, "rep_passed_with_findings.jsonl",
                     "recorded as passed, yet it holds findings"), id="passed-verdict-with-findings"),
    pytest.param(rep("rep_started_twice.jsonl", 1, "rep_started_twice.jsonl", "started again at line 3"),
                 id="drill-started-twice"),
    pytest.param(rep("rep_empty.jsonl", 1, "no drill"), id="empty-journal-verifies-nothing"),
    pytest.param(rep("rep_passed.jsonl", 0, ), id="clean-journal-passes"),
    # -- 2. one bad journal never breaks every later report -----------------------------------------------
    pytest.param(rep("rep_nan_metric.jsonl", 2, f"{J}/rep_nan_metric.jsonl:3: ", "NaN"), id="nan-number"),
    pytest.param(rep("rep_infinity.jsonl", 2, f"{J}/rep_infinity.jsonl:3: ", "Infinity"), id="infinity"),
    pytest.param(rep("rep_huge_number.jsonl", 2, f"{J}/rep_huge_number.jsonl:3: ", "out of range"),
                 id="number-beyond-float"),
    pytest.param(rep("rep_extreme_numbers.jsonl", 1, "1 of 1 drill(s) did not pass"),
                 id="extreme-but-finite-numbers-and-bad-dates"),
    pytest.param(Case(("report", "@T/big.jsonl", "--out", "@T/out"), 2, ("@T/big.jsonl:1: ", "out of range"), "@T/out",
                      make=lambda t: (t / "big.jsonl").write_text(
                          (CORPUS / "journals" / "rep_extreme_numbers.jsonl").read_text().replace("1e+14", "1e+308"))),
                 id="number-that-overflows-arithmetic"),
    pytest.param(rep("rep_lone_surrogate.jsonl", 2, f"{J}/rep_lone_surrogate.jsonl:2: ", "lone surrogate"),
                 id="lone-surrogate"),
    pytest.param(Case(("report", "@T/deep.jsonl", "--out", "@T/out"), 2, ("@T/deep.jsonl:2: ", "nested deeper"),
                      "@T/out", make=deep_json), id="json-nested-100k-deep"),
    pytest.param(Case(("report", "@T/reports/gameday-new/journal.jsonl"), 0, (), "@T/reports",
                      make=lambda t: marked_root(t, sibling="rep_nan_metric.jsonl"), check=index_with_note),
                 id="nan-sibling-skipped-in-index-with-a-note"),
    pytest.param(Case(("report", "@T/reports/gameday-new/journal.jsonl"), 0, (), "@T/reports",
                      make=lambda t: marked_root(t, sibling="rep_lone_surrogate.jsonl"), check=index_with_note),
                 id="surrogate-sibling-skipped-in-index"),
    pytest.param(Case(("report", "@T/reports/gameday-new/journal.jsonl"), 0, (), "@T/reports",
                      make=lambda t: marked_root(t, text='{"schema_version":1,"type":' + "[" * 50_000 + "\n"),
                      check=index_with_note), id="deep-sibling-skipped-in-index"),
    # -- 3. write only where asked, never through a link ---------------------------------------------------
    pytest.param(Case(("report", "@T/downloads/gameday-x/journal.jsonl"), 0, (), "@T/downloads/gameday-x",
                      make=unmarked_folder, check=no_index_above), id="no-index-above-an-unmarked-folder"),
    pytest.param(Case(("report", f"{J}/rep_passed.jsonl", "--out", "@T/out"), 2,
                      ("@T/out/report.html: ", "symbolic link"), "@T/out", make=symlink_report,
                      check=precious_untouched), id="report-html-is-a-symlink"),
    pytest.param(Case(("report", "@T/reports/gameday-new/journal.jsonl"), 2,
                      ("@T/reports/index.html: ", "symbolic link"), "@T/reports", make=index_symlink,
                      check=precious_kept), id="history-index-is-a-symlink"),
    pytest.param(Case(("report", f"{J}/rep_passed.jsonl", "--out", "@T/out"), 2,
                      ("@T/out/junit.xml: ", "symbolic link"), "@T/out", make=symlink_junit),
                 id="dangling-symlink-at-junit-xml"),
    pytest.param(Case(("report", f"{J}/rep_passed.jsonl", "--out", "@T/out"), 2, ("@T/out: ", "not a folder"),
                      "@T/out", make=out_is_file), id="out-is-a-file"),
    pytest.param(Case(("report", f"{J}/rep_passed.jsonl", "--out", "@T/new/deeper"), 0, (), "@T/new",
                      check=created_out), id="out-missing-is-created"),
    pytest.param(Case(("report", f"{J}/rep_passed.jsonl", "--out", "/proc/gameday-hostile"), 2,
                      ("/proc/gameday-hostile: ", "cannot"), "@T/none"), id="out-cannot-be-created"),
    pytest.param(Case(("report", f"{J}/rep_passed.jsonl", "--out", "/proc/self"), 2,
                      ("/proc/self: ", "writ"), "@T/none"), id="out-read-only"),
    pytest.param(Case(("report", f"{J}/rep_passed.jsonl", f"{J}/rep_passed.jsonl", "--out", "@T/out"), 2,
                      ("rep_passed.jsonl: ", "given twice"), "@T/out"), id="same-journal-twice"),
    pytest.param(Case(("report", "@T/a.jsonl", "@T/b.jsonl", "--out", "@T/out"), 2, ("@T/b.jsonl: ", "given twice"),
                      "@T/out", make=symlinked_twice), id="same-journal-twice-through-a-link"),
    pytest.param(Case(("report", "@T/j.jsonl", "--out", "@T/out"), 1, ("1 of 3 drill(s) did not pass",), "@T/out",
                      make=colliding_ids, check=distinct_postmortems), id="drill-ids-sanitise-to-one-name"),
    pytest.param(Case(("report", "@T/j.jsonl", "--out", "@T/out"), 0, (), "@T/out", make=long_id,
                      check=bounded_name), id="drill-id-too-long-for-a-file-name"),
    pytest.param(rep("rep_schema_bool.jsonl", 2, f"{J}/rep_schema_bool.jsonl:1: ", "schema_version True"),
                 id="schema-version-true"),
    # -- 4. nothing hangs, nothing grows without bound -------------------------------------------------------
    pytest.param(Case(("report", "@T/journal.jsonl", "--out", "@T/out"), 2,
                      ("@T/journal.jsonl: ", "not a regular file"), "@T/out", make=fifo_journal), id="fifo-as-journal"),
    pytest.param(Case(("report", "/dev/zero", "--out", "@T/out"), 2, ("/dev/zero: ", "not a regular file"), "@T/out"),
                 id="device-as-journal"),
    pytest.param(Case(("report", f"{J}/rep_passed.jsonl", "--out", "@T/out"), 2, ("@T/out/report.html: ",
                      "not a regular file"), "@T/out", make=fifo_report), id="fifo-as-report-html"),
    pytest.param(Case(("report", f"{J}/rep_passed.jsonl", "--out", "@T/out"), 2, ("@T/out: ", "not a folder"),
                      "@T/out", make=fifo_out), id="fifo-as-out-folder"),
    pytest.param(Case(("report", "@T/j.jsonl", "--out", "@T/out"), 0, (), "@T/out", make=huge_output,
                      check=bounded_html), id="3mb-output-line-is-bounded"),
    pytest.param(Case(("report", "@T/j.jsonl", "--out", "@T/out"), 0, (), "@T/out", make=many_marks,
                      check=agree_out("@T/out")), id="20k-timeline-marks"),
    # -- 5. small ones ---------------------------------------------------------------------------------------
    pytest.param(Case(("report", "@T/j.jsonl", "--out", "@T/out"), 0, (), "@T/out", make=html_title,
                      check=escaped_markdown), id="raw-html-escaped-in-postmortem"),
]


def snapshot(tmp: Path) -> dict[str, tuple[int, int, bool]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(tmp):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            info = path.lstat()
            out[str(path)] = (info.st_size, info.st_mtime_ns, path.is_symlink())
    return out


@pytest.mark.parametrize("case", CASES)
def test_hostile_report(case: Case, tmp_path: Path) -> None:
    if case.make is not None:
        case.make(tmp_path)
    before = snapshot(tmp_path)
    argv = [expand(a, tmp_path) for a in case.argv]
    outcome = run_cli(argv, env={**os.environ, "PYTHONUNBUFFERED": "1"}, timeout=CASE_SECONDS * 4, memory_limit=None)
    shown = (f"gameday {' '.join(argv)[:300]}\n--- exit {outcome.code} in {outcome.seconds:.1f}s\n"
             f"--- stdout\n{outcome.stdout[-2000:]}\n--- stderr\n{outcome.stderr[-2000:]}")
    assert not outcome.timed_out, f"hung\n{shown}"
    assert outcome.seconds < CASE_SECONDS, f"took {outcome.seconds:.1f}s\n{shown}"
    assert outcome.code == case.code, f"exit {outcome.code}, expected {case.code}\n{shown}"
    assert "Traceback" not in outcome.stdout + outcome.stderr, shown
    if case.fragments:
        fragments = [expand(f, tmp_path) for f in case.fragments]
        assert one_line_with(outcome.stderr, fragments), f"no stderr line holds all of {fragments}\n{shown}"
    allowed = expand(case.out, tmp_path).rstrip("/") + "/"
    after = snapshot(tmp_path)
    changed = {p for p in set(before) | set(after)
               if before.get(p) != after.get(p) and not (p + "/").startswith(allowed)}  # the folder itself may change
    assert not changed, f"written outside {allowed}: {sorted(changed)}\n{shown}"
    if case.code == 2:
        assert not any(p.startswith(allowed) and p not in before for p in after), f"wrote on bad input\n{shown}"
    if case.check is not None:
        case.check(tmp_path)


def test_corpus_is_big_enough() -> None:
    ids = [p.id for p in CASES]
    assert len(ids) >= 30
    assert len(set(ids)) == len(ids)


# -- every corpus journal: the formats and the exit code agree ---------------------------------------------

EVERY_JOURNAL = sorted([*(CORPUS / "journals").glob("*.jsonl"), *(ROOT / "tests/fixtures/journals").glob("*.jsonl"),
                        *(ROOT / "tests/unit/harness/report_fixtures").glob("*.jsonl")])


@pytest.mark.parametrize("journal", EVERY_JOURNAL, ids=lambda p: p.name)
def test_formats_and_exit_code_agree_on_every_corpus_journal(journal: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["report", str(journal), "--out", str(tmp_path / "out")])
    if code == 2:
        assert not (tmp_path / "out" / "summary.json").exists()
        assert str(journal) in capsys.readouterr().err
        return
    assert code in (0, 1)
    assert_agree(tmp_path / "out", code)


# -- generated journals, valid and broken ------------------------------------------------------------------

VERDICTS = ["passed", "failed", "harness-error", "interrupted"]
KINDS = ["not-detected", "false-alarm", "fix-failed", "slow-recovery", "verify-failed", "step-error"]


TEXT = st.text(max_size=20)
TIMES = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def journal_lines(draw: st.DrawFn) -> list[dict[str, object]]:
    """A journal of up to five drills, valid or broken: starts and finishes dropped, ids repeated,
    findings beside any verdict, a summary that may disagree, hostile text and odd times; sometimes shuffled."""
    ids = draw(st.lists(st.sampled_from(["db-down", "db-down#1", "a/b", "a?b", "x"]), min_size=0, max_size=5))
    lines: list[dict[str, object]] = [{"type": "GamedayStarted", "run_id": "r", "scenarios": [], "harness_version": "t",
                                       "at": AT}]
    summary = []
    for drill in ids:
        if draw(st.integers(0, 3)):
            lines.append(_start(drill, title=draw(TEXT)))
        findings = draw(st.lists(st.sampled_from(KINDS), max_size=2))
        for kind in findings if draw(st.booleans()) else []:
            lines.append({"type": "FindingRecorded", "drill": drill, "kind": kind, "step": draw(TEXT),
                          "message": draw(TEXT), "location": ""})
        if draw(st.booleans()):
            lines.append({"type": "Series", "drill": drill, "probe": [[draw(TIMES), draw(st.booleans())]],
                          "traffic": [[draw(TIMES), 1, 1]], "bucket": 1.0,
                          "marks": [[draw(st.sampled_from(["inject", "fix", "recovered", "?"])), draw(TIMES)]]})
        if draw(st.integers(0, 3)):
            verdict = draw(st.sampled_from(VERDICTS))
            finish = _finish(drill, verdict, tuple(findings) if draw(st.booleans()) else ())
            finish["t"] = draw(TIMES)
            lines.append(finish)
            summary.append(["db-down", draw(st.sampled_from([verdict, *VERDICTS]))])
    if draw(st.booleans()):
        lines.append({"type": "GamedayFinished", "run_id": "r", "verdicts": summary, "seconds": 1.0, "at": AT})
    return draw(st.permutations(lines)) if draw(st.integers(0, 4)) == 0 else lines


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journals=st.lists(journal_lines(), min_size=1, max_size=3))
def test_report_never_raises_and_junit_counts_every_drill_not_passed(journals: list[list[dict[str, object]]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for number, lines in enumerate(journals):
            path = Path(tmp) / f"g{number % 2}" / f"journal-{number}.jsonl"
            path.parent.mkdir(exist_ok=True)
            path.write_text(_events(*lines))
            paths.append(str(path))
        code = main(["report", *paths, "--out", str(Path(tmp) / "out")])
        assert code in (0, 1)
        summary = assert_agree(Path(tmp) / "out", code)
        finishes = [e for lines in journals for e in lines if e["type"] == "DrillFinished"]
        if any(e["verdict"] != "passed" for e in finishes):  # a failed drill never reads as passed, nor vanishes
            assert not summary["passed"]
            assert summary["not_passed"] >= 1
