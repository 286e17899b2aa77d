"""The HTML report and the history index: self-contained, escaped, complete, read back with html.parser."""

from __future__ import annotations

import dataclasses
import logging
from html.parser import HTMLParser
from pathlib import Path

import jinja2
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
    Series,
    StepRecorded,
)
from harness.report import HTML_NAME
from harness.report.history import INDEX_NAME, discover, render_index, trend_keys, write_index
from harness.report.html import environment, render_html, timeline
from harness.report.model import build_view
from harness.report.text import seconds

HOSTILE = "<script>alert(1)</script>"
QUOTES = '"quotes" & ampersands'
RUNBOOK = "stack/chatkit/RUNBOOK.md"


# -- a small journal made of the real events ------------------------------------------------------


def metrics(*, ttd: float | None = 0.6, ttr_fix: float | None = 1.2, failed: int = 3, total: int = 6) -> Metrics:
    return Metrics(detected=ttd is not None, recovered=ttr_fix is not None, time_to_detect=ttd, time_to_diagnose=1.0,
                   time_to_recover=None if ttr_fix is None else ttr_fix + 2.0, time_to_recover_after_fix=ttr_fix,
                   time_degraded=2.0, detect_budget=10.0, recover_budget=60.0, requests_total=total,
                   requests_failed=failed, users_affected=("synthetic-1", "synthetic-2"),
                   success_ratio_after_recovery=1.0, step_seconds=())


def step(drill: str, phase: str, ref: str, *, code: str = "curl -s localhost:8000/health", stdout: str = "ok\n",
         stderr: str = "", passed: bool = True, t: float = 1.0) -> StepRecorded:
    healthy = CheckRecord("healthy", None, '"ok"', 12, passed or phase != "verify", 'expected text "ok"',
                          "" if passed else '- "ok"\n+ "degraded"')
    fault = CheckRecord("fault", "if DB down", '"degraded"', 13, phase == "diagnose", 'expected text "degraded"',
                        "" if phase == "diagnose" else '- "degraded"\n+ "ok"')
    expect = {"diagnose": "fault", "fix": "none"}.get(phase, "healthy")
    return StepRecorded(drill, phase, ref, "app", f"{RUNBOOK}:10", code, 0 if passed else 1, stdout, stderr, 0.25,
                        False, 1, expect, passed, (healthy, fault), t)


def drill_events(drill: str, scenario: str, *, passed: bool, at: str = "2026-11-22T06:00:00.000+00:00",
                 ttr_fix: float | None = 1.2) -> list[Event]:
    events: list[Event] = [
        DrillStarted(drill, scenario, f"{scenario} breaks", RUNBOOK, f"6-{scenario}", "P0", 10.0, 60.0, 5, "chatkit",
                     at=at),
        PhaseStarted(drill, "baseline", 0.1, at=at),
        step(drill, "baseline", f"{scenario}[1]", t=0.2),
        FaultRecorded(drill, "service-stopped", "injected", "postgresql stopped on db", 1.0, at=at),
        FaultRecorded(drill, "service-stopped", "verified", "postgresql is inactive", 1.1, at=at),
        PhaseStarted(drill, "diagnose", 1.5, at=at),
    ]
    if passed:
        events += [step(drill, "diagnose", f"{scenario}[2]", t=1.6),
                   step(drill, "fix", f"{scenario}[3]", t=2.0),
                   step(drill, "verify", f"{scenario}[4]", t=3.5),
                   FaultRecorded(drill, "service-stopped", "already-restored", "already active again", 4.0, at=at)]
        findings: tuple[str, ...] = ()
    else:
        events += [step(drill, "diagnose", f"{scenario}[2]", code=f"echo '{HOSTILE}' # {QUOTES}",
                        stdout=f"{HOSTILE}\n{QUOTES}\n", stderr=HOSTILE, t=1.6),
                   step(drill, "fix", f"{scenario}[3]", t=2.0),
                   step(drill, "verify", f"{scenario}[4]", stdout="degraded\n", passed=False, t=80.0),
                   FindingRecorded(drill, "slow-recovery", f"{scenario}[3]", f"took 75.0s {HOSTILE}", "",
                                   "<= 60s", "75.0s", 78.0),
                   FindingRecorded(drill, "verify-failed", f"{scenario}[4]", "the verification does not hold",
                                   f"{RUNBOOK}:40", 'text "ok"', QUOTES, 80.0),
                   FaultRecorded(drill, "service-stopped", "rolled-back", "started postgresql again", 81.0, at=at)]
        findings = ("slow-recovery", "verify-failed")
    end = 82.0 if not passed else 4.2
    events += [
        Series(drill, ((0.3, True), (1.3, False), (3.2 if passed else 77.0, True)),
               ((0.0, 3, 0), (1.0, 1, 2), (2.0, 0, 3), (3.0, 3, 0)), 1.0,
               (("inject", 1.0), ("diagnosed", 1.7), ("fix", 2.0), ("recovered", 3.2 if passed else 77.0))),
        ManualChecklist(drill, ((f"6-{scenario}", "Tell the owner of the leaking client", 44),)),
        DrillFinished(drill, scenario, "passed" if passed else "failed", findings,
                      metrics(ttr_fix=ttr_fix if passed else 75.0), end, at=at),
    ]
    return events


def gameday_events() -> list[Event]:
    return [
        GamedayStarted("run-1", ("db-down", "pool-exhausted"), "0.1.0", at="2026-11-22T06:00:00.000+00:00"),
        *drill_events("db-down", "db-down", passed=True),
        *drill_events("pool-exhausted#2", "pool-exhausted", passed=False),
        GamedayFinished("run-1", (("db-down", "passed"), ("pool-exhausted", "failed")), 90.0,
                        at="2026-11-22T06:01:30.000+00:00"),
    ]


# -- reading the HTML back -----------------------------------------------------------------------


@dataclasses.dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = dataclasses.field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def find_all(self, tag: str, cls: str | None = None) -> list[Node]:
        found = []
        for child in self.children:
            if isinstance(child, Node):
                if child.tag == tag and (cls is None or cls in child.attrs.get("class", "").split()):
                    found.append(child)
                found += child.find_all(tag, cls)
        return found


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Tree(HTMLParser):
    """A small DOM from the stdlib parser; remembers every start tag seen, whatever its nesting."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.tags.append((tag, node.attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.tags.append((tag, node.attrs))
        self.stack[-1].children.append(node)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Tree:
    tree = Tree()
    tree.feed(html)
    tree.close()
    return tree


@pytest.fixture(scope="module")
def html() -> str:
    return render_html(build_view(gameday_events()))


@pytest.fixture(scope="module")
def tree(html: str) -> Tree:
    return parse(html)


# -- the report ------------------------------------------------------------------------------------


def test_every_drill_step_ref_and_finding_kind_appears(tree: Tree) -> None:
    text = tree.root.text()
    view = build_view(gameday_events())
    for drill in view.drills:
        assert drill.drill in text
        assert drill.title in text
        for s in drill.steps:
            assert s.ref in text, s.ref
        for f in drill.findings:
            assert f.kind in text, f.kind
    assert {"baseline", "diagnose", "fix", "verify"} <= {h.text().split()[0] for h in tree.root.find_all("h4")}


def test_hostile_output_message_and_command_are_shown_as_text(html: str, tree: Tree) -> None:
    assert "<script" not in html.lower()
    assert not [tag for tag, _ in tree.tags if tag in {"script", "iframe", "object", "embed"}]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    pres = [p.text() for p in tree.root.find_all("pre")]
    assert any(f"{HOSTILE}\n{QUOTES}" in p for p in pres), "stdout must come through as text"
    assert any(p == HOSTILE for p in pres), "stderr must come through as text"
    assert any(f"echo '{HOSTILE}' # {QUOTES}" in p for p in pres), "the command must come through as text"
    assert f"took 75.0s {HOSTILE}" in tree.root.text(), "a finding's message must come through as text"
    assert "&amp; ampersands" in html


def test_no_attribute_points_at_a_remote_resource(html: str, tree: Tree) -> None:
    for tag, attrs in tree.tags:
        for name in ("src", "href", "xlink:href", "action", "srcset", "data"):
            value = attrs.get(name, "").strip().lower()
            assert not value.startswith(("http://", "https://", "//")), (tag, name, value)
    assert "@import" not in html
    assert "url(" not in html


def test_each_drill_has_an_svg_timeline_with_a_title(tree: Tree) -> None:
    svgs = tree.root.find_all("svg")
    assert len(svgs) == 2
    for svg, drill in zip(svgs, ("db-down", "pool-exhausted#2"), strict=True):
        titles = svg.find_all("title")
        assert drill in titles[0].text()
        labels = " ".join(t.text() for t in svg.find_all("text"))
        for mark in ("inject", "diagnosed", "fix", "recovered"):
            assert mark in labels
        assert "0s" in labels.split()
        assert svg.find_all("rect", "band-failing"), "the probe band shows the failing stretch"
        assert svg.find_all("rect", "bar-failed"), "the traffic bars show failed requests"


def test_summary_table_has_a_row_per_drill_and_says_over_budget(tree: Tree) -> None:
    (summary,) = tree.root.find_all("table", "summary")
    rows = summary.find_all("tr", "drill-row")
    assert [r.find_all("th")[0].text().split()[0] for r in rows] == ["db-down", "pool-exhausted"]
    passed, failed = (r.text() for r in rows)
    assert "✓ passed" in passed
    assert "over budget" not in passed
    assert "✗ failed" in failed
    assert "over budget" in failed
    assert "75.0 s" in failed
    assert "3 / 6" in failed
    assert "slow-recovery" in failed
    assert "verify-failed" in failed
    headers = [th.text() for th in summary.find_all("thead")[0].find_all("th")]
    assert any("Time to recover" in h for h in headers)
    assert any("Users affected" in h for h in headers)


def test_who_restored_the_fault_is_said_plainly(tree: Tree) -> None:
    text = " ".join(tree.root.text().split())
    assert "Restored by the runbook" in text
    assert "The harness, not the runbook, had to restore this" in text


def test_checks_show_the_diff_of_a_required_mismatch(tree: Tree) -> None:
    diffs = [p.text() for p in tree.root.find_all("pre", "diff")]
    assert '- "ok"\n+ "degraded"' in diffs


def test_manual_checklist_items_are_unchecked_boxes_and_action_items_follow_findings(tree: Tree) -> None:
    items = [li.text() for ul in tree.root.find_all("ul", "checklist") for li in ul.find_all("li")]
    assert len(items) == 2
    assert all(i.startswith("☐") and "Tell the owner" in i for i in items)
    actions = [li.text() for ol in tree.root.find_all("ol", "actions") for li in ol.find_all("li")]
    assert any("slower than its budget" in a for a in actions)


def test_last_verified_table_lists_each_section(tree: Tree) -> None:
    (table,) = tree.root.find_all("table", "sections")
    text = table.text()
    assert "#6-db-down" in text
    assert "#6-pool-exhausted" in text
    assert "never" in text


def test_rendering_is_pure_the_same_view_gives_the_same_page() -> None:
    events = gameday_events()
    before = list(events)
    view = build_view(events)
    assert render_html(view) == render_html(build_view(events))
    assert events == before


def test_environment_is_shared_autoescaped_and_strict() -> None:
    env = environment()
    assert env is environment()
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
    assert env.get_template("report.html.j2").environment.autoescape is not False
    with pytest.raises(jinja2.UndefinedError, match="missing"):
        env.from_string("{{ missing }}").render()


def test_a_journal_without_drills_or_series_still_renders() -> None:
    events: list[Event] = [DrillStarted("x", "x", "never finished", RUNBOOK, "s", "P2", 5.0, 5.0, 5, "chatkit")]
    view = build_view(events)
    page = parse(render_html(view))
    assert "interrupted" in page.root.text()
    assert timeline(view.drills[0]).empty
    assert "This journal holds no drill." in render_html(build_view([]))


def test_seconds_reads_well() -> None:
    assert [seconds(v) for v in (None, 0.5, 12.34, 250.0, 754.0)] == ["—", "0.50 s", "12.3 s", "250 s", "12 min 34 s"]


# -- history -----------------------------------------------------------------------------------


def write_gameday(folder: Path, run_id: str, at: str, *, passed: bool, ttr: float,
                  scenarios: tuple[str, ...] = ("db-down",)) -> None:
    journal = Journal(folder / "journal.jsonl")
    journal.write(GamedayStarted(run_id, scenarios, "0.1.0", at=at))
    for scenario in scenarios:
        for event in drill_events(scenario, scenario, passed=passed, at=at, ttr_fix=ttr):
            journal.write(event)


def trend_names(root: Path) -> list[str]:
    page = parse(render_index(root))
    return [row.find_all("th")[0].text().strip() for row in page.root.find_all("tr", "trend-row")]


def test_trends_are_by_key_so_two_systems_db_down_are_two_trends(tmp_path: Path) -> None:
    write_gameday(tmp_path / "gameday-20261123-100000", "run-c", "2026-11-23T10:00:00.000+00:00", passed=True,
                  ttr=1.5, scenarios=("chatkit/db-down", "redis-chat/db-down"))
    assert trend_names(tmp_path) == ["chatkit/db-down", "redis-chat/db-down"]


def test_an_old_journals_bare_name_joins_the_one_key_of_that_name(tmp_path: Path) -> None:
    write_gameday(tmp_path / "gameday-20261120-100000", "run-a", "2026-11-20T10:00:00.000+00:00", passed=True,
                  ttr=1.5, scenarios=("db-down", "pool-exhausted"))
    write_gameday(tmp_path / "gameday-20261123-100000", "run-c", "2026-11-23T10:00:00.000+00:00", passed=False,
                  ttr=0.0, scenarios=("chatkit/db-down",))
    assert trend_names(tmp_path) == ["chatkit/db-down", "pool-exhausted"]
    page = parse(render_index(tmp_path))
    row = page.root.find_all("tr", "trend-row")[0]
    assert [c.attrs["title"].rsplit(": ", 1)[1] for c in row.find_all("span", "chip")] == ["passed", "failed"]


def test_a_bare_name_two_systems_share_stays_a_trend_of_its_own() -> None:
    assert trend_keys(["db-down", "chatkit/db-down", "redis-chat/db-down", "storm"]) == {
        "db-down": "db-down", "chatkit/db-down": "chatkit/db-down", "redis-chat/db-down": "redis-chat/db-down",
        "storm": "storm"}


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    write_gameday(tmp_path / "gameday-20261120-100000", "run-a", "2026-11-20T10:00:00.000+00:00", passed=True,
                  ttr=1.5)
    write_gameday(tmp_path / "gameday-20261121-100000", "run-b", "2026-11-21T10:00:00.000+00:00", passed=False,
                  ttr=0.0)
    broken = tmp_path / "gameday-20261122-100000"
    broken.mkdir()
    (broken / "journal.jsonl").write_text('{"schema_version": 1, "type": "GamedayStarted", "run_id": \n')
    (tmp_path / "empty-folder").mkdir()
    return tmp_path


def test_discover_skips_a_corrupt_journal_with_a_warning(reports: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="harness.report.history"):
        found = discover(reports)
    assert [f.name for f, _ in found] == ["gameday-20261120-100000", "gameday-20261121-100000"]
    assert [v.run_id for _, v in found] == ["run-a", "run-b"]
    assert "gameday-20261122-100000" in caplog.text
    assert "skipped" in caplog.text


def test_discover_merges_the_worker_journals_of_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "pytest-20261122-000000"
    for worker, scenario in (("gw0", "db-down"), ("gw1", "pool-exhausted")):
        journal = Journal(folder / f"journal-{worker}.jsonl")
        for event in drill_events(scenario, scenario, passed=True):
            journal.write(event)
    ((_, view),) = discover(tmp_path)
    assert [d.scenario for d in view.drills] == ["db-down", "pool-exhausted"]


def test_index_lists_each_gameday_with_a_link_to_its_report(reports: Path) -> None:
    (reports / "gameday-20261120-100000" / HTML_NAME).write_text("<!DOCTYPE html>")
    page = parse(render_index(reports))
    (table,) = page.root.find_all("table", "gamedays")
    rows = table.find_all("tr", "gameday-row")
    assert len(rows) == 2
    hrefs = [a.attrs["href"] for r in rows for a in r.find_all("a")]
    assert sorted(hrefs) == [f"gameday-20261120-100000/{HTML_NAME}", f"gameday-20261121-100000/{HTML_NAME}"]
    for href in hrefs:
        assert (reports / href).parent.is_dir()
        assert (reports / href).name == HTML_NAME
    assert "gameday-20261122-100000" not in table.text()
    (problems,) = page.root.find_all("section", "problems")
    assert "gameday-20261122-100000/journal.jsonl: skipped" in problems.text()  # the bad one, with a note
    assert "<script" not in render_index(reports).lower()


def test_trends_show_every_verdict_of_a_scenario_in_order(reports: Path) -> None:
    page = parse(render_index(reports))
    (row,) = page.root.find_all("tr", "trend-row")
    chips = [c.attrs["title"] for c in row.find_all("span", "chip")]
    assert [c.rsplit(": ", 1)[1] for c in chips] == ["passed", "failed"]
    assert len(row.find_all("svg")) == 1
    assert "1.50 s" in row.text()
    assert "75.0 s" in row.text()


def test_index_last_verified_spans_every_gameday(reports: Path) -> None:
    page = parse(render_index(reports))
    (table,) = page.root.find_all("table", "sections")
    text = table.text()
    assert "#6-db-down" in text
    assert "2026-11-21" in text, "last drilled on the 21st"
    assert "2026-11-20" in text, "last verified (passed) on the 20th"


def test_write_index_writes_only_the_index(reports: Path) -> None:
    before = {p: p.read_bytes() for p in reports.rglob("*") if p.is_file()}
    path = write_index(reports)
    assert path == reports / INDEX_NAME
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    after = {p: p.read_bytes() for p in reports.rglob("*") if p.is_file() and p != path}
    assert after == before
