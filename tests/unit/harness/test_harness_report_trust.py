"""Reports you can trust: drill identity across journals, journals that do not add up, linear rendering,
bounded texts, atomic writes that never go through a link, the reports-root marker."""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path

import pytest

from harness.journal import (
    DrillFinished,
    DrillStarted,
    Event,
    FaultRecorded,
    FindingRecorded,
    GamedayFinished,
    GamedayStarted,
    Series,
    StepRecorded,
)
from harness.report import postmortem_names, write_reports
from harness.report.html import render_html
from harness.report.markdown import render_postmortem
from harness.report.model import MAX_RENDERED_CHARS, JournalEvents, build_gameday, build_view
from harness.report.output import REPORTS_MARKER, ReportOutputError, write_atomic
from harness.report.summary import render_json, render_junit
from harness.vocabulary import DrillPhase, FaultAction, FindingKind, Priority, Verdict

SCALE = 20_000  # constructs of one kind in the big journal; a quarter of it in the small one
GROWTH_BOUND = 8  # four times the constructs: linear code takes about 4 times as long, a quadratic part 16
TIMING_FLOOR = 0.05  # CPU seconds: below this the small run's time is mostly noise


def start(drill: str, scenario: str = "db-down") -> DrillStarted:
    return DrillStarted(drill, scenario, "t", "R.md", "s", Priority.P0, 10.0, 60.0, 3, "chatkit")


def finish(drill: str, verdict: Verdict = Verdict.PASSED, scenario: str = "db-down",
           findings: tuple[FindingKind, ...] = ()) -> DrillFinished:
    return DrillFinished(drill, scenario, verdict, findings, None, 5.0)


def journal(source: str, *events: Event, folder: str = "") -> JournalEvents:
    return JournalEvents(source, tuple(enumerate(events, start=1)), folder or source)


# -- identity and problems ------------------------------------------------------------------------------


def test_the_same_drill_id_in_two_journals_is_two_drills_each_with_its_own_verdict() -> None:
    view = build_gameday([
        journal("gw0.jsonl", start("db-down#1"), finish("db-down#1")),
        journal("gw1.jsonl", start("db-down#1"),
                finish("db-down#1", Verdict.FAILED, findings=(FindingKind.FIX_FAILED,))),
    ])
    assert [d.verdict for d in view.drills] == [Verdict.PASSED, Verdict.FAILED]
    assert [d.name for d in view.drills] == ["db-down#1 (gw0.jsonl)", "db-down#1 (gw1.jsonl)"]
    assert not view.passed
    assert 'failures="1"' in render_junit(view)


def test_a_failed_finish_without_a_start_is_kept_as_a_problem() -> None:
    view = build_view([finish("db-down", Verdict.FAILED)])
    (drill,) = view.drills
    assert drill.verdict == Verdict.FAILED
    assert "without a DrillStarted" in drill.problems[0]
    assert 'tests="1"' in render_junit(view)


def test_a_passed_finish_that_does_not_add_up_is_never_a_pass() -> None:
    view = build_view([finish("db-down")])
    (drill,) = view.drills
    assert drill.recorded_verdict == Verdict.PASSED
    assert drill.verdict == Verdict.HARNESS_ERROR
    assert not drill.passed
    assert 'errors="1"' in render_junit(view)
    assert "Journal problems" in render_postmortem(drill)
    assert 'id="problems"' in render_html(view)


def test_a_summary_that_disagrees_with_the_drills_is_a_problem_of_the_drills() -> None:
    view = build_view([GamedayStarted("r", ("db-down",), "t"), start("db-down"), finish("db-down"),
                       GamedayFinished("r", (("db-down", Verdict.FAILED),), 1.0)])
    (drill,) = view.drills
    assert not drill.passed
    assert "gameday summary" in drill.problems[0]


def test_a_parallel_summary_is_checked_against_the_lanes_beside_it() -> None:
    view = build_gameday([
        journal("g/journal.jsonl", GamedayStarted("r", ("db-down",), "t"),
                GamedayFinished("r", (("db-down", Verdict.PASSED),), 1.0), folder="g"),
        journal("g/journal-lane-1.jsonl", start("db-down"), finish("db-down"), folder="g"),
    ])
    assert view.passed
    assert not view.problems


def test_a_passed_verdict_with_findings_is_a_problem() -> None:
    view = build_view([start("db-down"), FindingRecorded("db-down", FindingKind.FIX_FAILED, "fix", "m", ""),
                       finish("db-down")])
    assert not view.passed
    assert "yet it holds findings" in view.problems[0]


def test_post_mortem_names_are_distinct_and_bounded() -> None:
    view = build_view([start("a/b"), finish("a/b"), start("a?b"), finish("a?b"), start("x" * 400), finish("x" * 400)])
    names = postmortem_names(view)
    assert len(set(names)) == 3
    assert all(len(n) <= 120 for n in names)


# -- scale --------------------------------------------------------------------------------------------------


def render_all(events: list[Event]) -> float:
    """CPU seconds to build the view and render every format (CPU time: other load on a shared machine aside),
    with the cycle collector paused: in a test worker holding many objects, its full passes cost more the
    more the rendering allocates, which measures the worker, not the renderer."""
    gc.collect()
    gc.disable()
    try:
        began = time.process_time()
        view = build_view(events)
        render_html(view)
        render_json(view)
        render_junit(view)
        for drill in view.drills:
            render_postmortem(drill)
        return time.process_time() - began
    finally:
        gc.enable()


def journal_of(what: str, count: int) -> list[Event]:
    """A one-drill journal with `count` constructs of one kind (and a probe series of `count` points)."""
    events: list[Event] = [start("d")]
    marks = tuple((f"m{i % 7}", i * 0.01) for i in range(count)) if what == "marks" else ()
    events.append(Series("d", tuple((i * 0.01, i % 2 == 0) for i in range(count)), (), 1.0, marks))
    if what == "steps":
        events += [StepRecorded("d", DrillPhase.FIX, f"r{i}", "app", "R.md:1", "echo", 0, "o", "", 0.1, False, 1,
                                "healthy", True, (), 1.0) for i in range(count)]
    if what == "faults":
        events += [FaultRecorded("d", f"f{i}", action, "detail", 1.0)
                   for action in (FaultAction.INJECTED, FaultAction.VERIFIED) for i in range(count // 2)]
    if what == "findings":
        events += [FindingRecorded("d", FindingKind.FIX_FAILED, f"r{i}", f"m{i}", f"R.md:{i}") for i in range(count)]
    events.append(finish("d", Verdict.FAILED if what == "findings" else Verdict.PASSED))
    return events


@pytest.mark.parametrize("what", ["marks", "steps", "findings", "faults"])
def test_rendering_time_grows_linearly_to_20k_constructs(what: str) -> None:
    """A ratio, not a wall-clock bound: it holds on a slow or loaded machine, and a quadratic part fails
    it. The absolute figure is measured by bench/bench_all.py, not asserted here."""
    small, big = render_all(journal_of(what, SCALE // 4)), render_all(journal_of(what, SCALE))
    assert big < GROWTH_BOUND * max(small, TIMING_FLOOR), (small, big)


def test_a_huge_text_is_bounded_again_when_rendering() -> None:
    step = StepRecorded("d", DrillPhase.FIX, "r", "app", "R.md:1", "cat", 0, "x" * 2_000_000, "", 0.1, False, 1,
                        "healthy", True, (), 1.0)
    view = build_view([start("d"), step, finish("d")])
    assert len(view.drills[0].steps[0].stdout) <= MAX_RENDERED_CHARS + 100
    assert len(render_html(view)) < 500_000


# -- writing ---------------------------------------------------------------------------------------------------


def test_write_atomic_refuses_a_symlink_and_leaves_its_target_alone(tmp_path: Path) -> None:
    target = tmp_path / "target.txt"
    target.write_text("keep")
    (tmp_path / "report.html").symlink_to(target)
    with pytest.raises(ReportOutputError, match="symbolic link"):
        write_atomic(tmp_path / "report.html", "new")
    assert target.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "target.txt"]  # no temporary left


def test_write_atomic_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "report.html")
    with pytest.raises(ReportOutputError, match="not a regular file"):
        write_atomic(tmp_path / "report.html", "new")


def test_write_atomic_replaces_a_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    path.write_text("old")
    write_atomic(path, "new")
    assert path.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def write_journal(path: Path) -> Path:
    from harness.journal import Journal

    log = Journal(path)
    log.write(start("d"))
    log.write(finish("d"))
    return path


def test_a_run_marks_its_reports_root_and_a_re_render_only_writes_the_index_there(tmp_path: Path) -> None:
    root = tmp_path / "reports"
    write_reports([write_journal(root / "g1" / "journal.jsonl")], root / "g1")  # as `gameday run` does
    assert (root / REPORTS_MARKER).is_file()
    assert (root / "index.html").is_file()
    elsewhere = tmp_path / "downloads"
    write_reports([write_journal(elsewhere / "g2" / "journal.jsonl")], elsewhere / "g2", claim_root=False)
    assert not (elsewhere / "index.html").exists()
    (root / "index.html").unlink()
    write_reports([root / "g1" / "journal.jsonl"], root / "g1", claim_root=False)
    assert (root / "index.html").is_file()


def test_a_post_mortem_shown_by_a_commonmark_renderer_runs_no_html_from_the_journal() -> None:
    from markdown_it import MarkdownIt

    from harness.journal import Metrics

    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    metrics = Metrics(True, False, 1.0, 1.0, None, None, 1.0, 10.0, 60.0, 3, 1, (evil,), None, ())
    events: list[Event] = [
        DrillStarted("d", evil, evil, evil, evil, Priority.P0, 10.0, 60.0, 3, evil, mode=evil),
        FaultRecorded("d", evil, FaultAction.INJECTED, evil, 1.0),
        FindingRecorded("d", FindingKind.FIX_FAILED, evil, evil, evil, evil, evil),
        DrillFinished("d", evil, Verdict.FAILED, (FindingKind.FIX_FAILED,), metrics, 5.0),
    ]
    (drill,) = build_view(events).drills
    html = MarkdownIt("commonmark").render(render_postmortem(drill))
    assert "<script" not in html
    assert "<img" not in html


def test_a_run_whose_index_is_a_symlink_keeps_its_own_reports_and_leaves_the_target(tmp_path: Path) -> None:
    root = tmp_path / "reports"
    journal_path = write_journal(root / "g1" / "journal.jsonl")
    (tmp_path / "target.html").write_text("keep")
    (root / "index.html").symlink_to(tmp_path / "target.html")
    written = write_reports([journal_path], root / "g1")  # as `gameday run` does: the index is not worth the run
    assert root / "g1" / "report.html" in written
    assert (tmp_path / "target.html").read_text() == "keep"
