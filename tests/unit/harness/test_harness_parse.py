"""The runbook parser on tricky markdown: sections, anchors, phases, steps, attributes, expectations, lines.

Corpus runbooks live in `runbooks/` next to this file; small cases are inline text. Line numbers are
always checked exactly, found with `line_of` so that a reader sees which line is meant.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import EXIT_BAD_INPUT, BadInput
from harness.runbook.model import (
    ExpectationKind,
    LintLevel,
    Phase,
    Runbook,
    Section,
    Step,
    UnknownSection,
)
from harness.runbook.parse import RunbookReadError, parse_runbook, slugify
from harness.runbook.phases import phase_of_label

CORPUS = Path(__file__).parent / "runbooks"


def corpus(name: str) -> Path:
    return CORPUS / name


def line_of(path_or_text: Path | str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the `occurrence`-th line containing `needle`."""
    text = path_or_text.read_text(encoding="utf-8") if isinstance(path_or_text, Path) else path_or_text
    hits = [number for number, line in enumerate(text.split("\n"), start=1) if needle in line]
    assert len(hits) >= occurrence, f"{needle!r} occurs {len(hits)} time(s)"
    return hits[occurrence - 1]


def md(*lines: str) -> str:
    """Inline runbook text, one argument per line (line N is argument N)."""
    return "\n".join(lines) + "\n"


def parse_text(text: str) -> Runbook:
    return parse_runbook("inline.md", text=text)


def only_step(runbook: Runbook) -> Step:
    steps = runbook.steps()
    assert len(steps) == 1, [s.ref for s in steps]
    return steps[0]


def step_with(runbook: Runbook, command: str) -> Step:
    found = [s for s in runbook.steps() if command in s.code]
    assert len(found) == 1, f"{command!r} is in {len(found)} steps"
    return found[0]


def problem_codes(runbook: Runbook) -> list[tuple[str, int]]:
    return [(p.code, p.location.line) for p in runbook.problems]


def shape(runbook: Runbook) -> list[object]:
    """What a runbook says, path left out: to compare two parses of the same document."""
    out: list[object] = []
    for section in runbook.sections:
        out.append((section.anchor, section.title, section.level, section.location.line, section.parent))
        for step in section.steps:
            out.append((step.index, step.language, step.phase, step.location.line, step.host, step.timeout,
                        step.attributes, [(seg.code, seg.line, [(e.kind, e.condition, e.text, e.location.line)
                                                                for e in seg.expectations])
                                          for seg in step.segments]))
        out.extend((m.text, m.phase, m.location.line) for m in section.manual)
    out.extend((p.code, p.severity, p.location.line) for p in runbook.problems)
    return out


# --- nested lists, indented fences, ~~~ fences ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def nested() -> Runbook:
    return parse_runbook(corpus("nested_lists.md"))


def test_fenced_block_nested_in_a_numbered_item_is_a_step_with_its_fence_line(nested: Runbook) -> None:
    step = step_with(nested, "systemctl is-active queue-worker")
    assert step.phase is Phase.DIAGNOSE
    assert step.language == "bash"
    assert step.location.line == line_of(corpus("nested_lists.md"), "```bash", 1)
    assert step.code == "systemctl is-active queue-worker\n# Expected: \"active\"\n"


def test_numbered_item_holding_a_block_is_not_also_a_manual_step(nested: Runbook) -> None:
    texts = [m.text for m in nested.manual_steps()]
    assert not any("Look at the worker unit" in t for t in texts)
    assert not any("Count jobs waiting" in t for t in texts)
    assert not any("Drain the stuck workers" in t for t in texts)
    assert not any("then restart the pool" in t for t in texts)


def test_numbered_item_without_code_is_a_manual_step_with_its_line(nested: Runbook) -> None:
    path = corpus("nested_lists.md")
    manual = {m.text: (m.phase, m.location.line) for m in nested.manual_steps()}
    assert manual == {
        "Open the queue dashboard and note the backlog size":
            (Phase.DIAGNOSE, line_of(path, "Open the queue dashboard")),
        "first pause the producers": (Phase.FIX, line_of(path, "first pause the producers")),
        "Tell the support channel that jobs are delayed": (Phase.FIX, line_of(path, "Tell the support channel")),
    }


def test_fence_indented_further_inside_a_list_item_is_still_a_step(nested: Runbook) -> None:
    step = step_with(nested, "redis-cli llen jobs:pending\n# Expected: /")
    assert step.language == "sh"
    assert step.executable
    assert step.location.line == line_of(corpus("nested_lists.md"), "```sh")
    assert step.segments[0].code == "redis-cli llen jobs:pending"


def test_tilde_fence_is_a_step_like_a_backtick_fence(nested: Runbook) -> None:
    path = corpus("nested_lists.md")
    step = step_with(nested, "journalctl -u queue-worker")
    assert step.language == "bash"
    assert step.location.line == line_of(path, "~~~bash")
    assert [e.text for e in step.expectations] == ['"worker ready"']
    assert step.expectations[0].location.line == line_of(path, '# Expected: "worker ready"')


def test_block_in_a_doubly_nested_item_takes_the_phase_of_its_label(nested: Runbook) -> None:
    step = step_with(nested, "systemctl restart queue-worker")
    assert step.phase is Phase.FIX
    assert step.location.line == line_of(corpus("nested_lists.md"), "```bash", 2)


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.md")))
def test_every_step_keeps_its_fence_line_and_every_expectation_its_comment_line(name: str) -> None:
    lines = corpus(name).read_text(encoding="utf-8").split("\n")
    runbook = parse_runbook(corpus(name))
    for step in runbook.steps():
        assert lines[step.location.line - 1].lstrip().startswith(("```", "~~~")), step.ref
        for segment in step.segments:
            assert lines[segment.line - 1].strip() == segment.code.split("\n")[0].strip(), step.ref
        for expectation in step.expectations:
            assert lines[expectation.location.line - 1].strip().startswith("# Expected"), step.ref
    for manual in runbook.manual_steps():
        assert manual.text.split(" ")[0] in lines[manual.location.line - 1]
    for section in runbook.sections:
        assert lines[section.location.line - 1].startswith("#")


# --- CRLF, BOM ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["nested_lists.md", "phase_labels.md", "front_matter.md", "good.md"])
def test_crlf_file_parses_exactly_like_its_lf_original(name: str, tmp_path: Path) -> None:
    original = corpus(name).read_bytes()
    crlf = tmp_path / name
    crlf.write_bytes(original.replace(b"\n", b"\r\n"))
    assert b"\r\n" in crlf.read_bytes()
    assert shape(parse_runbook(crlf)) == shape(parse_runbook(corpus(name)))


def test_crlf_text_gives_the_same_runbook_and_lines() -> None:
    text = corpus("attributes.md").read_text(encoding="utf-8")
    assert parse_text(text.replace("\n", "\r\n")) == parse_text(text)


def test_utf8_bom_is_accepted_and_does_not_shift_lines(tmp_path: Path) -> None:
    path = tmp_path / "bom.md"
    path.write_bytes(b"\xef\xbb\xbf" + corpus("good.md").read_bytes())
    assert shape(parse_runbook(path)) == shape(parse_runbook(corpus("good.md")))
    assert parse_runbook(path).front_matter.default_host == "app"


# --- headings and anchors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "anchor"),
    [
        ("1. Service Won't Start", "1-service-wont-start"),
        ("1a. Missing SECRET_KEY", "1a-missing-secret_key"),
        ("1b. DATABASE_URL Missing/Invalid", "1b-database_url-missinginvalid"),
        ("Backups & Restores (v2.0)", "backups--restores-v20"),
        ("Operations - Payments", "operations---payments"),
        ("🔥 Disk Full", "-disk-full"),  # GitHub drops the emoji but keeps the space after it
        ("Disk 💾 Full", "disk--full"),
        ("Service Won\u2019t Start", "service-wont-start"),
        ("Café Menu", "café-menu"),
    ],
)
def test_heading_anchor_is_githubs(title: str, anchor: str) -> None:
    assert slugify(title) == anchor


def test_corpus_headings_get_github_anchors_levels_and_parents() -> None:
    path = corpus("headings.md")
    runbook = parse_runbook(path)
    got = [(s.anchor, s.level, s.parent, s.location.line) for s in runbook.sections]
    assert got == [
        ("storage-runbook", 1, None, 1),
        ("1-service-wont-start", 2, "storage-runbook", line_of(path, "## 1. Service")),
        ("1a-missing-secret_key", 3, "1-service-wont-start", line_of(path, "### 1a.")),
        ("-disk-full", 2, "storage-runbook", line_of(path, "Disk Full")),
        ("backups--restores-v20", 2, "storage-runbook", line_of(path, "Backups & Restores")),
        ("notes", 2, "storage-runbook", line_of(path, "## Notes", 1)),
        ("notes-1", 2, "storage-runbook", line_of(path, "## Notes", 2)),
        ("notes-2", 2, "storage-runbook", line_of(path, "## Notes", 3)),
        ("the-pg_dump-job-fails", 2, "storage-runbook", line_of(path, "pg_dump")),
    ]


def test_heading_title_keeps_inline_code_text_without_backticks() -> None:
    runbook = parse_runbook(corpus("headings.md"))
    assert runbook.section("the-pg_dump-job-fails").title == "The pg_dump Job Fails"


def test_section_lookup_accepts_a_leading_hash() -> None:
    runbook = parse_runbook(corpus("headings.md"))
    assert runbook.section("#notes-1").location.line == line_of(corpus("headings.md"), "## Notes", 2)


def test_unknown_section_raises_unknown_section_a_bad_input() -> None:
    runbook = parse_runbook(corpus("headings.md"))
    with pytest.raises(UnknownSection) as caught:
        runbook.section("missing")
    assert isinstance(caught.value, BadInput)
    assert caught.value.exit_code == EXIT_BAD_INPUT
    assert caught.value.anchor == "missing"
    assert "no section #missing" in str(caught.value)


def test_unknown_section_suggests_anchors_with_the_same_number() -> None:
    runbook = parse_runbook(corpus("headings.md"))
    with pytest.raises(UnknownSection, match="did you mean 1-service-wont-start, 1a-missing-secret_key"):
        runbook.section("1-service-will-not-start")


def test_duplicate_anchor_suffix_never_collides_with_a_real_heading() -> None:
    runbook = parse_text(md("## Notes", "## Notes", "## Notes 1"))
    anchors = [s.anchor for s in runbook.sections]
    assert len(set(anchors)) == len(anchors), anchors


# --- sections, diagnosis inheritance -----------------------------------------------------------------------------


def test_subsection_inherits_its_parents_diagnosis_first() -> None:
    runbook = parse_runbook(corpus("inheritance.md"))
    chain = runbook.diagnosis("2a-database-errors")
    assert [s.code.split("\n")[0] for s in chain] == ["curl -s localhost/health", "pg_isready -h db"]
    assert [s.section for s in chain] == ["2-api-errors", "2a-database-errors"]


def test_grandchild_inherits_every_ancestors_diagnosis_in_order() -> None:
    runbook = parse_runbook(corpus("inheritance.md"))
    chain = runbook.diagnosis("2a-i-replica-lag")
    assert [s.section for s in chain] == ["2-api-errors", "2a-database-errors", "2a-i-replica-lag"]
    assert runbook.section("2a-i-replica-lag").parent == "2a-database-errors"


def test_diagnosis_of_a_top_section_is_only_its_own() -> None:
    runbook = parse_runbook(corpus("inheritance.md"))
    assert [s.section for s in runbook.diagnosis("2-api-errors")] == ["2-api-errors"]
    assert runbook.diagnosis("inheritance") == ()


def test_steps_are_numbered_per_section_and_referenced_by_anchor_and_index() -> None:
    runbook = parse_runbook(corpus("inheritance.md"))
    assert [s.ref for s in runbook.section("2a-database-errors").steps] == [
        "2a-database-errors[1]", "2a-database-errors[2]", "2a-database-errors[3]"]


# --- phase labels ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def labels() -> Runbook:
    return parse_runbook(corpus("phase_labels.md"))


def _phase_after(runbook: Runbook, command: str) -> Phase | None:
    return step_with(runbook, command).phase


@pytest.mark.parametrize(
    ("label", "phase"),
    [
        ("**Diagnosis**:", Phase.DIAGNOSE),
        ("**Check**:", Phase.DIAGNOSE),
        ("**Check metrics**:", Phase.DIAGNOSE),
        ("**Investigation**:", Phase.DIAGNOSE),
        ("**Fix**:", Phase.FIX),
        ("**Fix (PostgreSQL)**:", Phase.FIX),
        ("**Resolution**:", Phase.FIX),
        ("**Solutions**:", Phase.FIX),
        ("**Immediate Actions**:", Phase.FIX),
        ("**Verification**:", Phase.VERIFY),
        ("**Verify**:", Phase.VERIFY),
        ("**Diagnosis:**", Phase.DIAGNOSE),
    ],
)
def test_bold_label_starts_its_phase(labels: Runbook, label: str, phase: Phase) -> None:
    label_line = line_of(corpus("phase_labels.md"), label)
    step = min((s for s in labels.steps() if s.location.line > label_line), key=lambda s: s.location.line)
    assert step.location.line == label_line + 2
    assert step.phase is phase


def test_fix_and_verification_labels_in_order(labels: Runbook) -> None:
    phases = [s.phase for s in labels.section("colon-outside").steps]
    assert phases == [Phase.DIAGNOSE] * 4 + [Phase.FIX] * 5 + [Phase.VERIFY] * 2


@pytest.mark.parametrize(
    ("label", "phase"),
    [
        ("Diagnosis", Phase.DIAGNOSE), ("Check", Phase.DIAGNOSE), ("Check metrics", Phase.DIAGNOSE),
        ("Investigation", Phase.DIAGNOSE), ("Fix", Phase.FIX), ("Fix (PostgreSQL)", Phase.FIX),
        ("Resolution", Phase.FIX), ("Solutions", Phase.FIX), ("Immediate Actions", Phase.FIX),
        ("Verification", Phase.VERIFY), ("Verify", Phase.VERIFY), ("Diagnosis:", Phase.DIAGNOSE),
        ("2. Fix", Phase.FIX), ("Symptoms", Phase.DIAGNOSE), ("Impact", None), ("Notes", None),
            ("Root cause (common ones)", Phase.DIAGNOSE), ("Is it fixed?", Phase.VERIFY),
            ("4. Check it worked", Phase.VERIFY), ("1. Confirm the symptom", Phase.DIAGNOSE),
            ("Buy time", Phase.FIX), ("Stabilise", Phase.FIX), ("Deleted files still held open", None),
            ("Detailed diagnosis", Phase.DIAGNOSE),
            ("🚀 Quick Fix:", Phase.FIX), ("✅ Verify", Phase.VERIFY), ("How to fix", Phase.FIX),
            ("Confirm it worked", Phase.VERIFY), ("### 1. Check consumer lag", Phase.DIAGNOSE),
            ("Step 3: Restart the workers", Phase.FIX), ("Investigation Steps", Phase.DIAGNOSE),
            ("Triage", Phase.DIAGNOSE), ("Mitigation", Phase.FIX), ("Remediation", Phase.FIX),
            ("Rollback", Phase.FIX), ("Recovery", Phase.FIX), ("Validation", Phase.VERIFY),
            ("Commands", None), ("Example", None), ("Steps", None), ("Prevention", None), ("Overview", None),
    ],
)
def test_phase_of_label(label: str, phase: Phase | None) -> None:
    assert phase_of_label(label) is phase


def test_label_that_is_not_a_phase_ends_the_previous_phase(labels: Runbook) -> None:
    assert _phase_after(labels, 'echo "under impact"') is None  # **Impact**: after **Fix**:


def test_symptoms_are_how_a_fault_is_detected(labels: Runbook) -> None:
    assert _phase_after(labels, 'echo "under symptoms"') is Phase.DIAGNOSE  # **Symptoms**: after **Diagnosis:**


def test_phase_heading_under_a_section_is_a_label_not_a_new_section(labels: Runbook) -> None:
    path = corpus("phase_labels.md")
    anchors = [s.anchor for s in labels.sections]
    assert "diagnosis" not in anchors
    assert "fix" not in anchors
    assert "verification" not in anchors
    section = labels.section("heading-labels")
    assert [(s.phase, s.location.line) for s in section.steps] == [
        (None, line_of(path, 'echo "no label yet"') - 1),
        (Phase.DIAGNOSE, line_of(path, "### Diagnosis") + 2),
        (Phase.FIX, line_of(path, "### Fix") + 2),
        (Phase.VERIFY, line_of(path, "### Verification") + 2),
    ]


def test_new_heading_resets_the_phase(labels: Runbook) -> None:
    assert _phase_after(labels, 'echo "phase was reset"') is None


def test_label_with_inline_text_is_a_manual_step_of_that_phase(labels: Runbook) -> None:
    path = corpus("phase_labels.md")
    section = labels.section("label-with-text")
    assert [(m.text, m.phase, m.location.line) for m in section.manual] == [
        ("Users must log in again.", Phase.FIX, line_of(path, "Users must log in again.")),
    ]


def test_label_with_text_ending_in_a_colon_introduces_code_and_is_not_a_manual_step(labels: Runbook) -> None:
    section = labels.section("label-with-text")
    assert not any("run these commands" in m.text for m in section.manual)
    assert _phase_after(labels, "systemctl restart sessions") is Phase.FIX


def test_bold_text_without_a_colon_is_not_a_label() -> None:
    runbook = parse_text(md("## S", "", "**Fix**:", "", "**Careful** with this one.", "", "```bash",
                            "systemctl restart app", "```"))
    assert only_step(runbook).phase is Phase.FIX


# --- code blocks that do not run, HTML -----------------------------------------------------------------------------


def test_block_without_a_language_runs_when_it_holds_commands() -> None:
    """Teams leave fences unlabelled: one holding commands is read as shell, one holding output is not."""
    path = corpus("html_and_plain.md")
    runbook = parse_runbook(path)
    plain = step_with(runbook, "curl -s localhost:8080/status\n")
    assert plain.language == ""
    assert plain.executable
    assert [s.code for s in plain.segments] == ["curl -s localhost:8080/status"]
    assert plain.location.line == line_of(path, "```", 3)
    output = parse_text(md("## Diagnosis", "```", "HTTP/1.1 200 OK", "Content-Type: text/plain", "```")).steps()[0]
    assert not output.executable
    text = step_with(runbook, "HTTP/1.1 200 OK")
    assert (text.language, text.executable) == ("text", False)


def test_html_comments_are_ignored_even_when_they_hold_a_fence() -> None:
    path = corpus("html_and_plain.md")
    runbook = parse_runbook(path)
    assert not any("rm -rf" in s.code for s in runbook.steps())
    assert runbook.problems == ()
    assert [s.anchor for s in runbook.sections] == ["comments-and-plain-blocks", "proxy-errors"]
    executable = [s for s in runbook.steps() if s.executable]
    assert [(s.phase, s.location.line) for s in executable] == [
        (Phase.DIAGNOSE, line_of(path, "```", 3)), (Phase.DIAGNOSE, line_of(path, "```bash", 2))]


def test_indented_code_block_is_a_not_executed_note() -> None:
    runbook = parse_text(md("## S", "", "**Check**:", "", "    uptime", ""))
    assert runbook.steps() == ()
    assert [(p.code, p.severity, p.location.line) for p in runbook.problems] == [("GD060", LintLevel.INFO, 5)]


# --- block attributes -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def attributes() -> Runbook:
    return parse_runbook(corpus("attributes.md"))


def test_block_attributes_set_host_phase_timeout_and_name(attributes: Runbook) -> None:
    step = step_with(attributes, "systemctl start postgresql")
    assert (step.host, step.phase, step.timeout, step.name) == ("db", Phase.FIX, 30.0, "start-db")
    assert step.ref == "start-db"
    assert step.attributes == (("host", "db"), ("phase", "fix"), ("timeout", "30s"), ("name", "start-db"))
    assert step.location.line == line_of(corpus("attributes.md"), "name=start-db")


def test_quoted_skip_reason_keeps_its_spaces(attributes: Runbook) -> None:
    assert step_with(attributes, "xdg-open").skip == "needs a browser"


def test_bare_skip_still_skips(attributes: Runbook) -> None:
    assert step_with(attributes, "not today").skip


def test_within_and_retry_are_durations_and_phase_overrides_the_label(attributes: Runbook) -> None:
    step = step_with(attributes, "pg_isready")
    assert (step.within, step.retry_interval, step.phase) == (20.0, 2.0, Phase.VERIFY)


def test_destructive_attribute_records_the_reason(attributes: Runbook) -> None:
    assert step_with(attributes, "rm -rf /var/lib/app/tmp").destructive_ok == "archived first"


def test_unknown_attribute_is_gd030_at_the_fence_line(attributes: Runbook) -> None:
    line = line_of(corpus("attributes.md"), "colour=blue")
    assert [(p.code, p.location.line) for p in attributes.problems if p.code == "GD030"] == [("GD030", line)]
    assert step_with(attributes, "unknown attribute").attributes == ()


@pytest.mark.parametrize(("needle", "word"), [("timeout=soon", "timeout"), ("phase=repair", "phase")])
def test_bad_attribute_value_is_gd031_at_the_fence_line(attributes: Runbook, needle: str, word: str) -> None:
    line = line_of(corpus("attributes.md"), needle)
    found = [p for p in attributes.problems if p.location.line == line]
    assert [p.code for p in found] == ["GD031"]
    assert word in found[0].message


def test_bad_values_fall_back_to_defaults(attributes: Runbook) -> None:
    assert step_with(attributes, "bad timeout").timeout is None
    assert step_with(attributes, "bad phase").phase is Phase.FIX  # the label's phase


def test_unbalanced_quote_in_attributes_is_gd031_and_no_attribute_is_taken(attributes: Runbook) -> None:
    line = line_of(corpus("attributes.md"), 'host="db name=x')
    assert [p.code for p in attributes.problems if p.location.line == line] == ["GD031"]
    step = step_with(attributes, "unbalanced quote")
    assert (step.host, step.name, step.attributes) == (None, None, ())


def test_every_attribute_problem_is_on_its_own_fence() -> None:
    path = corpus("attributes.md")
    assert problem_codes(parse_runbook(path)) == [
        ("GD030", line_of(path, "colour=blue")),
        ("GD031", line_of(path, "timeout=soon")),
        ("GD031", line_of(path, "phase=repair")),
        ("GD031", line_of(path, 'host="db')),
    ]


def test_text_after_the_language_that_is_not_an_attribute_list_is_a_note() -> None:
    runbook = parse_text(md("## S", "", "**Check**:", "", "```bash title=check", "uptime",
                            "# Expected: \"load\"", "```"))
    assert [(p.code, p.severity, p.location.line) for p in runbook.problems] == [("GD031", LintLevel.INFO, 5)]
    assert only_step(runbook).executable


def test_attributes_on_a_block_that_never_runs_are_gd031() -> None:
    runbook = parse_text(md("## S", "", "**Check**:", "", "```sql {host=db}", "SELECT 1;", "```"))
    assert problem_codes(runbook) == [("GD031", 5)]


def test_attribute_list_without_a_language() -> None:
    runbook = parse_text(md("## S", "", "```{phase=fix}", "echo hi", "```"))
    step = only_step(runbook)
    assert (step.language, step.executable, step.phase) == ("", True, Phase.FIX)  # it holds a command


# --- front matter -------------------------------------------------------------------------------------------------


def test_front_matter_sets_defaults_hosts_and_variables() -> None:
    runbook = parse_runbook(corpus("front_matter.md"))
    matter = runbook.front_matter
    assert (matter.default_host, matter.default_timeout) == ("app", 45.0)
    assert matter.hosts == ("app", "db")
    assert matter.variables == ("REQUEST_ID", "USER_ID")
    assert runbook.problems == ()


def test_front_matter_defaults_apply_unless_the_block_says_otherwise() -> None:
    runbook = parse_runbook(corpus("front_matter.md"))
    assert (step_with(runbook, "grep").host, step_with(runbook, "grep").timeout) == ("app", 45.0)
    assert (step_with(runbook, "UPDATE carts").host, step_with(runbook, "UPDATE carts").timeout) == ("db", 120.0)


def test_front_matter_keeps_later_line_numbers_right() -> None:
    path = corpus("front_matter.md")
    runbook = parse_runbook(path)
    assert runbook.section("checkout").location.line == line_of(path, "# Checkout")
    assert runbook.section("slow-orders").location.line == line_of(path, "## Slow Orders")
    step = step_with(runbook, "grep")
    assert step.location.line == line_of(path, "```bash", 1)
    assert step.expectations[0].location.line == line_of(path, '# Expected: "order accepted"')
    assert runbook.line_count == len(path.read_text(encoding="utf-8").split("\n"))


def test_front_matter_lists_may_be_bracketed_and_quoted() -> None:
    runbook = parse_text(md("---", 'hosts: ["app", "db"]', "variables: [ORDER_ID]", "---", "# T"))
    assert runbook.front_matter.hosts == ("app", "db")
    assert runbook.front_matter.variables == ("ORDER_ID",)


def test_unclosed_front_matter_is_gd042_and_the_rest_is_still_parsed() -> None:
    path = corpus("unclosed_front_matter.md")
    runbook = parse_runbook(path)
    assert problem_codes(runbook) == [("GD042", 1)]
    assert runbook.front_matter.default_host is None
    step = only_step(runbook)
    assert (step.phase, step.location.line) == (Phase.DIAGNOSE, line_of(path, "```bash"))


def test_front_matter_line_that_is_not_key_value_is_gd042_at_its_line() -> None:
    runbook = parse_text(md("---", "default_host: app", "just words", "---", "# T"))
    assert problem_codes(runbook) == [("GD042", 3)]
    assert runbook.front_matter.default_host == "app"


def test_unknown_front_matter_key_is_an_info_gd030_at_its_line() -> None:
    runbook = parse_text(md("---", "default_host: app", "colour: red", "---", "# T"))
    assert [(p.code, p.severity, p.location.line) for p in runbook.problems] == [("GD030", LintLevel.INFO, 3)]


def test_indented_unknown_front_matter_key_is_reported_not_a_crash() -> None:
    runbook = parse_text(md("---", "  colour: red", "---", "# T"))
    assert problem_codes(runbook) == [("GD030", 2)]


def test_unknown_front_matter_key_that_prefixes_a_known_one_is_reported_at_its_own_line() -> None:
    runbook = parse_text(md("---", "hosts: app, db", "host: db", "---", "# T"))
    assert problem_codes(runbook) == [("GD030", 3)]


def test_bad_default_timeout_is_gd031_at_its_line() -> None:
    runbook = parse_text(md("---", "default_host: app", "default_timeout: soon", "---", "# T"))
    assert problem_codes(runbook) == [("GD031", 3)]


# --- unterminated fences -------------------------------------------------------------------------------------------


def test_unterminated_fence_is_an_error_gd040_at_its_line_and_parsing_goes_on() -> None:
    path = corpus("unterminated.md")
    runbook = parse_runbook(path)
    assert [(p.code, p.severity, p.location.line) for p in runbook.problems] == [
        ("GD040", LintLevel.ERROR, line_of(path, "```bash"))]
    step = only_step(runbook)
    assert "## This Heading Is Inside The Fence" in step.code
    assert [s.anchor for s in runbook.sections] == ["broken-fence", "cache-flush"]


def test_fence_closed_on_the_last_line_without_a_newline_is_not_gd040() -> None:
    runbook = parse_runbook("inline.md", text="## S\n\n**Check**:\n\n```bash\nuptime\n# Expected: \"load\"\n```")
    assert runbook.problems == ()
    assert only_step(runbook).expectations[0].text == '"load"'


def test_fence_in_a_list_item_cut_short_by_the_next_item_is_gd040() -> None:
    runbook = parse_text(md("## S", "", "**Check**:", "", "1. Look:", "   ```bash", "   uptime", "2. Next item"))
    assert problem_codes(runbook) == [("GD040", 6)]


def test_fence_closed_by_a_longer_fence_is_not_gd040() -> None:
    runbook = parse_text(md("## S", "", "**Check**:", "", "```bash", "uptime", "# Expected: \"load\"", "`````"))
    assert runbook.problems == ()


def test_four_backtick_fence_is_not_closed_by_three_backticks() -> None:
    runbook = parse_text(md("## S", "", "**Check**:", "", "````bash", "uptime", "# Expected: \"load\"", "```"))
    assert problem_codes(runbook) == [("GD040", 5)]


def test_closed_fence_inside_a_blockquote_is_not_gd040() -> None:
    runbook = parse_text(md("## S", "", "**Check**:", "", "> ```bash", "> uptime", '> # Expected: "load"', "> ```"))
    assert runbook.problems == ()


# --- unreadable files ----------------------------------------------------------------------------------------------


def _read_error(path: Path) -> RunbookReadError:
    with pytest.raises(RunbookReadError) as caught:
        parse_runbook(path)
    assert isinstance(caught.value, BadInput)
    assert caught.value.exit_code == EXIT_BAD_INPUT
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)
    return caught.value


def test_binary_file_is_a_read_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "image.md"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert "binary" in str(_read_error(path))


def test_file_that_is_not_utf8_is_a_read_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.md"
    path.write_bytes("# Caf\u00e9\n\n## Men\u00fc\n".encode("latin-1"))
    assert f"{path}:1: not UTF-8" in str(_read_error(path))


def test_folder_is_a_read_error(tmp_path: Path) -> None:
    folder = tmp_path / "runbook.md"
    folder.mkdir()
    assert "folder" in str(_read_error(folder))


def test_missing_file_is_a_read_error(tmp_path: Path) -> None:
    assert "cannot be read" in str(_read_error(tmp_path / "nope.md"))


def test_text_argument_stands_for_the_file_and_is_never_read(tmp_path: Path) -> None:
    runbook = parse_runbook(tmp_path / "not-there.md", text="# Title\n")
    assert runbook.path == str(tmp_path / "not-there.md")
    assert [s.anchor for s in runbook.sections] == ["title"]


def test_empty_text_is_an_empty_runbook() -> None:
    runbook = parse_text("")
    assert (runbook.sections, runbook.problems) == ((), ())


# --- expectations and segments -------------------------------------------------------------------------------------


def block(*code: str, label: str = "**Check**:") -> str:
    """A one-section runbook around a bash block; the fence is line 5, code starts on line 6."""
    return md("## S", "", label, "", "```bash", *code, "```")


def test_expected_after_a_command_is_a_healthy_inline_expectation() -> None:
    step = only_step(parse_text(block("psql -c 'select 1'", '# Expected: "connected"')))
    [segment] = step.segments
    assert (segment.code, segment.line) == ("psql -c 'select 1'", 6)
    [expectation] = segment.expectations
    assert (expectation.kind, expectation.text, expectation.condition, expectation.location.line) == (
        ExpectationKind.HEALTHY, '"connected"', None, 7)


def test_expected_if_condition_with_json_continuation_lines_is_a_fault_expectation() -> None:
    step = only_step(parse_text(block("curl -s localhost/health", "# Expected if DB down:",
                                      '# {"status": "degraded",', '#  "database": "disconnected"}')))
    [expectation] = step.expectations
    assert expectation.kind is ExpectationKind.FAULT
    assert expectation.condition == "if DB down"
    assert expectation.text == '{"status": "degraded",\n"database": "disconnected"}'
    assert expectation.location.line == 7


def test_expected_during_fault_is_a_fault_expectation() -> None:
    [expectation] = only_step(parse_text(block("curl -s localhost/health",
                                               "# Expected during fault: 503"))).expectations
    assert (expectation.kind, expectation.condition, expectation.text) == (ExpectationKind.FAULT, "during fault", "503")


def test_json_left_open_on_the_first_line_continues_until_it_closes() -> None:
    step = only_step(parse_text(block("curl -s localhost/health", '# Expected: {"status": "ok",',
                                      '#   "db": "connected"}', "# then look at the logs", "tail app.log")))
    assert [e.text for e in step.expectations] == ['{"status": "ok",\n"db": "connected"}']
    assert [s.code for s in step.segments] == ["curl -s localhost/health", "# then look at the logs\ntail app.log"]


def test_complete_inline_text_does_not_swallow_the_next_comment_line() -> None:
    step = only_step(parse_text(block("grep -r 'Bearer ' /var/log/app", "# Expected: No results",
                                      "# If results found: CRITICAL, tokens leak")))
    assert [e.text for e in step.expectations] == ["No results"]


def test_continuation_ends_at_an_empty_comment() -> None:
    step = only_step(parse_text(block("curl -s localhost", "# Expected:", '# "one"', "#", "# not part of it")))
    assert [e.text for e in step.expectations] == ['"one"']


def test_continuation_ends_at_a_blank_line() -> None:
    step = only_step(parse_text(block("curl -s localhost", "# Expected:", '# "one"', "", "# not part of it")))
    assert [e.text for e in step.expectations] == ['"one"']


def test_multi_line_text_expectation_keeps_its_lines() -> None:
    step = only_step(parse_text(block("systemctl status app", "# Expected:", "# Active: active (running)",
                                      "# Main PID: ...")))
    assert [e.text for e in step.expectations] == ["Active: active (running)\nMain PID: ..."]


def test_two_commands_with_their_own_expectation_make_two_segments() -> None:
    step = only_step(parse_text(block("curl -s localhost/a", '# Expected: "a"', "curl -s localhost/b",
                                      '# Expected: "b"')))
    assert [(s.code, s.line, [(e.text, e.location.line) for e in s.expectations]) for s in step.segments] == [
        ("curl -s localhost/a", 6, [('"a"', 7)]),
        ("curl -s localhost/b", 8, [('"b"', 9)]),
    ]


def test_commands_after_the_last_expectation_are_their_own_segment() -> None:
    step = only_step(parse_text(block("X=1", "echo $X", '# Expected: "1"', "echo done")))
    assert [(s.code, s.line, len(s.expectations)) for s in step.segments] == [("X=1\necho $X", 6, 1),
                                                                              ("echo done", 9, 0)]


def test_healthy_and_fault_expectations_in_a_row_attach_to_the_same_command() -> None:
    step = only_step(parse_text(block("curl -s localhost", '# Expected: "ok"', '# Expected if cache down: "miss"',
                                      "curl -s localhost/other", '# Expected: "other"')))
    first = step.segments[0]
    assert first.code == "curl -s localhost"
    assert [(e.kind, e.location.line) for e in first.expectations] == [(ExpectationKind.HEALTHY, 7),
                                                                       (ExpectationKind.FAULT, 8)]
    assert first.expectations_of(ExpectationKind.FAULT)[0].text == '"miss"'
    assert len(step.segments) == 2


def test_fault_expectation_after_a_blank_line_at_the_end_attaches_to_the_last_command() -> None:
    step = only_step(parse_text(block("curl -s localhost", '# Expected: "ok"', "", '# Expected if down: "err"')))
    [segment] = step.segments
    assert [e.kind for e in segment.expectations] == [ExpectationKind.HEALTHY, ExpectationKind.FAULT]


def test_fault_expectation_after_a_blank_line_attaches_to_the_command_above_mid_block() -> None:
    step = only_step(parse_text(block("curl -s localhost", '# Expected: "ok"', "", '# Expected if down: "err"',
                                      "curl -s localhost/b", '# Expected: "b"')))
    assert [s.code.strip() for s in step.segments] == ["curl -s localhost", "curl -s localhost/b"]
    assert len(step.segments[0].expectations) == 2


def test_expectation_after_a_comment_line_stays_with_the_command_above() -> None:
    step = only_step(parse_text(block("curl -s localhost", '# Expected: "ok"', "# note: may take a while",
                                      '# Expected if down: "err"')))
    assert [s.code.split("\n")[0] for s in step.segments] == ["curl -s localhost"]


def test_expectation_before_any_command_is_gd041() -> None:
    runbook = parse_text(block('# Expected: "ok"', "curl -s localhost"))
    assert problem_codes(runbook) == [("GD041", 6)]
    assert only_step(runbook).expectations == ()


def test_expectation_after_only_a_comment_is_gd041() -> None:
    runbook = parse_text(block("# check the health endpoint", '# Expected: "ok"', "curl -s localhost"))
    assert problem_codes(runbook) == [("GD041", 7)]
    assert only_step(runbook).expectations == ()


def test_expected_with_nothing_after_it_is_gd041_at_its_line() -> None:
    runbook = parse_text(block("curl -s localhost", "# Expected:", "echo next"))
    assert problem_codes(runbook) == [("GD041", 7)]
    assert only_step(runbook).expectations == ()


def test_expected_is_case_insensitive_and_a_trailing_comment_is_not_an_expectation() -> None:
    step = only_step(parse_text(block("curl -s a", '# expected: "a"', 'curl -s b  # Expected: "b"')))
    assert [e.text for e in step.expectations] == ['"a"']


def test_expected_after_the_fix_is_a_healthy_expectation() -> None:
    [expectation] = only_step(parse_text(block("curl -s localhost", '# Expected after fix: "ok"'))).expectations
    assert expectation.kind is ExpectationKind.HEALTHY


def test_non_shell_blocks_have_no_segments_or_expectations() -> None:
    runbook = parse_text(md("## S", "", "**Check**:", "", "```python", "print(1)", '# Expected: "1"', "```"))
    step = only_step(runbook)
    assert (step.executable, step.segments, step.expectations) == (False, (), ())


# --- sections are records --------------------------------------------------------------------------------------------


def test_steps_in_filters_by_phase() -> None:
    section: Section = parse_runbook(corpus("inheritance.md")).section("2a-database-errors")
    assert [s.index for s in section.steps_in(Phase.FIX)] == [2]
    assert [s.index for s in section.steps_in(Phase.VERIFY)] == [3]
    assert section.steps_in(Phase.MANUAL) == ()
