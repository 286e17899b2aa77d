"""Runbooks as other teams write them: phase scopes, labels, prose expectations, front matter, and
what lint says when nothing would run. (The corpus of whole runbooks is scored in tests/corpus.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.runbook.lint import lint
from harness.runbook.model import Phase, Runbook
from harness.runbook.parse import parse_runbook
from harness.runbook.report import lint_json, lint_text
from tests.unit.harness.test_harness_lint import found, md


def parsed(text: str) -> Runbook:
    return parse_runbook("team.md", text)


def phase_of(runbook: Runbook, command: str) -> Phase | None:
    """The phase of the one block whose code holds `command`."""
    (step,) = [s for s in runbook.steps() if command in s.code]
    return step.phase


SCOPES = md(
    "# Kafka consumer lag",  # the document's title: names no phase, even when its words would
    "",
    "## Symptoms",
    "```bash",
    "echo symptom-check",
    "```",
    "## Investigation Steps",
    "### 1. Check consumer lag",
    "```bash",
    "echo numbered-subsection",
    "```",
    "### 2. Broker health",
    "**Commands:**",
    "```bash",
    "echo neutral-label",
    "```",
    "#### Deeper still",
    "```bash",
    "echo deeper-heading",
    "```",
    "## Mitigation",
    "**Example:**",
    "```bash",
    "echo example-under-mitigation",
    "```",
    "## Immediate Actions",
    "1. **Check web server status:**",
    "   ```bash",
    "   echo list-item-check",
    "   ```",
    "2. **Restart services:**",
    "   ```bash",
    "   echo list-item-restart",
    "   ```",
    "3. **Redis connection issues:**",
    "   ```bash",
    "   echo list-item-neutral",
    "   ```",
    "## ✅ Verify",
    "### 1. Check the health endpoint",
    "```bash",
    "echo check-under-verify",
    "```",
    "## **🚀 How to fix**",
    "```bash",
    "echo how-to-fix",
    "```",
    "## Confirm it worked",
    "```bash",
    "echo confirm-it-worked",
    "```",
    "## Prevention",
    "```bash",
    "echo prevention",
    "```",
    "## Rollback",
    "Step 1: Revert the deploy:",
    "```bash",
    "echo rollback",
    "```",
)


@pytest.mark.parametrize(("command", "phase"), [
    ("symptom-check", Phase.DIAGNOSE),
    ("numbered-subsection", Phase.DIAGNOSE),
    ("neutral-label", Phase.DIAGNOSE),  # **Commands:** keeps the phase
    ("deeper-heading", Phase.DIAGNOSE),  # a heading without a phase word inherits it
    ("example-under-mitigation", Phase.FIX),  # a same-level heading ended Investigation; **Example:** keeps Fix
    ("list-item-check", Phase.DIAGNOSE),  # a list-item label refines the phase around it
    ("list-item-restart", Phase.FIX),
    ("list-item-neutral", Phase.FIX),
    ("check-under-verify", Phase.VERIFY),  # checking inside a verification verifies
    ("how-to-fix", Phase.FIX),
    ("confirm-it-worked", Phase.VERIFY),
    ("prevention", None),
    ("rollback", Phase.FIX),
])
def test_phase_scopes_follow_the_document(command: str, phase: Phase | None) -> None:
    assert phase_of(parsed(SCOPES), command) is phase


def test_a_phase_ends_at_a_heading_of_its_level_not_at_a_deeper_one() -> None:
    runbook = parsed(md("## Mitigation", "### Step one", "```bash", "echo deeper", "```", "## Background",
                        "```bash", "echo sibling", "```"))
    assert phase_of(runbook, "echo deeper") is Phase.FIX
    assert phase_of(runbook, "echo sibling") is None


def test_a_label_holds_in_deeper_headings_and_ends_at_a_heading_of_its_level() -> None:
    """`**Solutions:**` before `### Too many connections` introduces the subsections; `## Next` ends it."""
    runbook = parsed(md("## Database issues", "**Solutions:**", "### Too many connections", "```bash",
                        "echo under-the-label", "```", "### Slow queries", "```bash", "echo still-under-it", "```",
                        "## Background", "```bash", "echo label-ended", "```"))
    assert phase_of(runbook, "echo under-the-label") is Phase.FIX
    assert phase_of(runbook, "echo still-under-it") is Phase.FIX
    assert phase_of(runbook, "echo label-ended") is None


def test_labels_replace_each_other_in_a_subsection_whose_phase_came_from_a_label() -> None:
    runbook = parsed(md("## 1. Site down", "**Diagnosis:**", "```bash", "echo d", "```", "### 1a. FPM stopped",
                        "**Fix:**", "```bash", "echo f", "```", "**Verification:**", "```bash", "echo v",
                        "# Expected: ok", "```"))
    assert [phase_of(runbook, f"echo {x}") for x in "dfv"] == [Phase.DIAGNOSE, Phase.FIX, Phase.VERIFY]


def test_action_words_under_a_topic_start_no_fix_but_phase_names_do() -> None:
    runbook = parsed(md("## Maintenance", "### Rotate admin tokens", "```bash", "echo rotate", "```",
                        "### Fix", "```bash", "echo named-fix", "```"))
    assert phase_of(runbook, "echo rotate") is None
    assert phase_of(runbook, "echo named-fix") is Phase.FIX


def test_the_action_after_a_condition_or_the_part_that_names_one_decides() -> None:
    runbook = parsed(md("## Immediate actions", "1. **If still down, check disk space:**", "   ```bash",
                        "   echo if-check", "   ```", "## Common Causes & Solutions", "```bash", "echo solutions",
                        "```"))
    assert phase_of(runbook, "echo if-check") is Phase.DIAGNOSE
    assert phase_of(runbook, "echo solutions") is Phase.FIX


def test_symptom_bullets_describe_the_fault_and_are_no_checklist() -> None:
    runbook = parsed(md("## 1. Site down", "", "**Symptoms:**", "- users see 502", "- alerts fire", "",
                        "**Immediate Actions:**", "1. Notify the channel", "2. Page the database owner"))
    assert [m.text for m in runbook.manual_steps()] == ["Notify the channel", "Page the database owner"]


# -- expectations as people write them ---------------------------------------------------------------------------

PROSE = md(
    "## Diagnosis",  # 1
    "",
    "```bash",  # 3
    "redis-cli ping",
    "```",
    "",
    "You should see `PONG`.",  # 7
    "",
    "```bash",  # 9
    "systemctl is-active redis",
    "# Should see: active",  # 11
    "df -h /data",
    "# Output:",  # 13
    "# /dev/sda1  50G  10G  40G  20% /data",
    "```",
    "",
    "**Expected output:**",  # 17
    "",
    "```",
    "/dev/sda1  50G  10G  40G  20% /data",
    "```",
    "",
    "## Verification",  # 23
    "",
    "The health check should return `ok`:",  # 25
    "",
    "```bash",  # 27
    "curl -s localhost/health",
    "```",
)


def test_expectations_written_as_prose_or_other_comments_are_read_and_marked_inferred() -> None:
    runbook = parsed(PROSE)
    seen = {(step.location.line, e.location.line, e.text): e.inferred for step in runbook.steps()
            for e in step.expectations}
    assert set(seen) == {
        (3, 7, "PONG"),
        (9, 11, "active"),
        (9, 13, "/dev/sda1  50G  10G  40G  20% /data"),
        (9, 17, "/dev/sda1  50G  10G  40G  20% /data"),
        (27, 25, "ok"),  # stated before the block it introduces
    }
    assert all(seen.values()), "every one of these forms is an inference, and says which"
    assert seen[(3, 7, "PONG")] == "the sentence 'You should see'"
    assert seen[(9, 11, "active")] == "a `# Should see:` comment"
    # The `**Expected output:**` fence is the expectation, not a block of its own.
    assert [s.location.line for s in runbook.steps()] == [3, 9, 27]


def test_lint_names_each_inferred_expectation_so_a_person_can_check_the_reading() -> None:
    inferred = [f for f in lint(parsed(PROSE)) if f.code == "GD045"]
    assert [(f.location.line, f.also) for f in inferred] == [(7, (11, 13, 17)), (25, ())]  # one per section
    (verification,) = [f for f in lint(parsed(PROSE)) if f.code == "GD045" and f.section == "verification"]
    assert "curl" not in verification.message
    assert "line 27" in verification.message


def test_an_expectation_without_quoted_output_is_not_invented() -> None:
    runbook = parsed(md("## Diagnosis", "```bash", "kubectl get pods", "```", "You should see the pods come back."))
    assert runbook.steps()[0].expectations == ()


def test_house_style_expectations_are_not_marked_inferred() -> None:
    runbook = parsed(md("## Diagnosis", "```bash", "curl -s x", "# Expected: ok", "# Expected output: ok", "```"))
    assert [e.inferred for e in runbook.steps()[0].expectations] == ["", ""]


def test_an_escaped_quote_does_not_end_a_json_string_in_an_open_expectation() -> None:
    runbook = parsed(md("## Diagnosis", "```bash", "curl -s x", '# Expected: {"a": "say \\"}\\"",', '#  "b": 1}',
                        "```"))
    (expectation,) = runbook.steps()[0].expectations
    assert expectation.text == '{"a": "say \\"}\\"",\n"b": 1}'


# -- front matter as YAML people write ---------------------------------------------------------------------------


def test_front_matter_block_lists_declare_variables_and_metadata_is_quiet() -> None:
    text = md("---", "title: Redis memory", "tags:", "  - redis", "  - memory", "variables:", "  - REDIS_URL",
              "  - POD  # the pod, bound by the scenario", "owner:", "  team: platform", "---", "## Diagnosis",
              "```bash", 'redis-cli -u "$REDIS_URL" info memory', "# Expected: used_memory", "```")
    runbook = parsed(text)
    assert runbook.front_matter.variables == ("REDIS_URL", "POD")
    assert [(f.code, f.location.line) for f in lint(runbook)] == []


def test_unknown_front_matter_keys_are_one_line() -> None:
    text = md("---", "colour: red", "flavour: mint", "weight: 3", "---", "# T")
    findings = [f for f in lint(parsed(text)) if f.code == "GD030"]
    assert len(findings) == 1
    assert findings[0].location.line == 2
    assert "colour (line 2), flavour (line 3), weight (line 4)" in findings[0].message


# -- nothing silently fine ---------------------------------------------------------------------------------------


def test_commands_with_no_runnable_step_are_a_warning_that_says_why() -> None:
    text = md("# Nginx 502", "", "## Commands to know", "", "```bash", "systemctl status nginx", "```", "",
              "## Queries", "", "```sql", "SELECT 1;", "```")
    (finding,) = [f for f in lint(parsed(text)) if f.code == "GD062"]
    assert finding.location.line == 5
    assert "1 shell block(s) sit under no Diagnosis, Fix or Verification heading or label" in finding.message
    assert "`Commands to know` (line 3)" in finding.message
    assert "1 block(s) are sql, which are shown, never run" in finding.message


def test_no_nothing_runs_warning_when_a_step_runs() -> None:
    assert found(md("## Fix", "```bash", "systemctl restart nginx", "```"), "GD062") == []


def test_repeated_findings_collapse_per_section_with_every_line_kept() -> None:
    text = md("## Fix", "```bash", 'redis-cli -u "$REDIS_URL" ping', "```", "```bash", 'redis-cli -u "$REDIS_URL" info',
              "```", "## Verification", "```bash", 'redis-cli -u "$REDIS_URL" ping', "# Expected: PONG", "```")
    unset = [f for f in lint(parsed(text)) if f.code == "GD002"]
    assert [(f.location.line, f.also) for f in unset] == [(3, (6,)), (10, ())]  # per section
    assert str(unset[0]).endswith("(also line 6)")
    assert '"also": [\n        6\n      ]' in lint_json(parsed(text), unset)


def test_a_link_reference_on_the_last_line_is_not_nesting() -> None:
    assert found(md("## Fix", "```bash", "systemctl restart app", "```", "", "[docs]: https://example.com"),
                 "GD044") == []


def test_an_unclosed_fence_in_a_list_says_which_lines_it_swallows() -> None:
    text = md("## Diagnosis", "1. **Check:**", "   ```bash", "   uptime", "", "2. Next item", "", "## Fix")
    (finding,) = [f for f in lint(parsed(text)) if f.code == "GD040"]
    assert finding.location.line == 3
    assert "list item or quote ends, so lines 4-5 are read as code" in finding.message


def test_inherited_diagnosis_counts_only_blocks_that_run() -> None:
    text = md("## 1. Parent", "**Diagnosis:**", "```sql", "SELECT 1;", "```", "### 1a. Child", "**Fix:**",
              "```bash", "systemctl restart app", "```")
    runbook = parsed(text)
    assert "inherited" not in lint_text(runbook, lint(runbook))


def test_lint_into_a_closed_pipe_stops_quietly(tmp_path: Path) -> None:
    """`gameday lint ... | head`: the reader goes away; no traceback, the shell's exit status for it."""
    process = subprocess.Popen([sys.executable, "-c", "import sys; from harness.cli import main; "
                                "sys.exit(main(sys.argv[1:]))", "lint", *[str(p) for p in _many_runbooks(tmp_path)]],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.readline()
    process.stdout.close()  # as `head -1` does once it has its line
    returncode = process.wait(timeout=60)
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert "Traceback" not in stderr
    assert "BrokenPipeError" not in stderr
    assert returncode == 141


def _many_runbooks(folder: Path) -> list[Path]:
    text = md("## Fix", *[f"```bash\nrm -rf /tmp/x{i} $UNSET{i}\n```" for i in range(200)])
    paths = []
    for i in range(20):  # far more output than a pipe holds
        path = folder / f"r{i}.md"
        path.write_text(text)
        paths.append(path)
    return paths


# -- blocks as people paste them ---------------------------------------------------------------------------------


def test_a_pasted_session_runs_its_prompt_lines_only_line_for_line() -> None:
    text = md("## Diagnosis", "```console", "$ systemctl is-active nginx", "active", "# Expected: active",
              "$ curl -s localhost/health \\", ">   -H 'Accept: json'", '{"status": "ok"}', "```")
    (step,) = parsed(text).steps()
    assert step.executable
    assert step.code.split("\n") == ["systemctl is-active nginx", "", "# Expected: active",
                                     "curl -s localhost/health \\", "-H 'Accept: json'", "", ""]
    assert [(s.line, [e.text for e in s.expectations]) for s in step.segments] == [
        (3, ["active"]), (6, [])]
    assert step.text.startswith("$ systemctl")  # the block as written stays for people


def test_a_redis_session_is_shown_not_run_and_still_checked() -> None:
    text = md("## Mitigation", "```", "127.0.0.1:6379> slowlog get 10", "(empty array)",
              "127.0.0.1:6379> FLUSHALL", "OK", "```")
    (step,) = parsed(text).steps()
    assert not step.executable
    assert [line for _, _, line in found(text, "GD010")] == [5]  # not the `>` of the slowlog prompt


def test_a_destructive_finding_names_the_command_line_and_shows_it() -> None:
    text = md("## Fix", "```bash", "# clear the old logs", "rm -rf /var/log/app/old", "```")
    (finding,) = [f for f in lint(parsed(text)) if f.code == "GD010"]
    assert finding.location.line == 4
    assert "`rm -rf /var/log/app/old`" in finding.message


@pytest.mark.parametrize(("command", "code"), [
    ("tail -f /var/log/app.log", "GD050"),
    ("kubectl exec -it web-0 -- sh", "GD051"),
    ("sudo nano /etc/php/8.2/fpm/php.ini", "GD052"),
    ("docker system prune", "GD053"),
    ("SELECT count(*) FROM jobs;", "GD054"),
])
def test_steps_that_cannot_run_unattended_are_warnings_when_a_drill_runs_them(command: str, code: str) -> None:
    runs = md("## Fix", "```bash", "echo start", command, "```")
    shown = md("## Background", "```bash", "echo start", command, "```")
    assert [(severity.value, line) for _, severity, line in found(runs, code)] == [("warning", 4)]
    assert [(severity.value, line) for _, severity, line in found(shown, code)] == [("info", 4)]


def test_sudo_is_a_note_not_a_warning() -> None:
    assert [(severity.value, line) for _, severity, line in
            found(md("## Fix", "```bash", "sudo systemctl restart nginx", "```"), "GD055")] == [("info", 3)]


def test_near_misses_of_hazards_are_quiet() -> None:
    text = md("## Fix", "```bash", "tail -n 50 /var/log/app.log", "top -b -n 1 | head", "psql -c 'select 1'",
              "docker system prune -f", "```")
    assert [f.code for f in lint(parsed(text)) if f.code.startswith("GD05")] == []


def test_a_phase_heading_after_subsections_belongs_to_the_section_holding_them() -> None:
    text = md("# Replica lag", "## Resolution", "### 1. Cancel the blocking query", "```bash", "echo cancel", "```",
              "### 2. Restart the receiver", "```bash", "echo restart", "```", "## Verification", "```bash",
              "echo verify", "# Expected: verify", "```")
    runbook = parsed(text)
    (verify,) = [s for s in runbook.steps() if "echo verify" in s.code]
    assert (verify.phase, verify.section) == (Phase.VERIFY, "replica-lag")  # not "2-restart-the-receiver"
    assert found(text, "GD020") == []  # each fix is verified by its document's verification


def test_a_fix_is_verified_by_a_later_sibling_section_but_not_an_earlier_one() -> None:
    text = md("# Kafka lag", "## Mitigation", "### 1. Scale up", "```bash", "echo scale", "```",
              "### 2. Confirm lag is dropping", "```bash", "echo lag", "# Expected: 0", "```",
              "### 3. Skip the backlog", "```bash", "echo skip", "```")
    assert [line for _, _, line in found(text, "GD020")] == [12]  # only the fix after the verification


def test_a_later_sibling_that_is_another_problem_does_not_verify_a_fix() -> None:
    text = md("## 1. Flags", "### 1a. Stuck", "**Fix:**", "```bash", "echo fix", "```", "### 1b. Other",
              "**Diagnosis:**", "```bash", "echo look", "# Expected: ok", "```", "**Verification:**", "```bash",
              "echo ok", "# Expected: ok", "```")
    assert [line for _, _, line in found(text, "GD020")] == [2]


def test_a_variable_assigned_after_do_or_then_is_set() -> None:
    text = md("## Diagnosis", "```bash", "for i in 1 2 3; do STATUS=$(systemctl is-active app); echo $STATUS; done",
              "if true; then N=1; echo $N; fi", "# Expected: active", "```")
    assert found(text, "GD002") == []
