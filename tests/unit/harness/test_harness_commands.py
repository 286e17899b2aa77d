"""Trainee commands against runbook steps: the simple, documented rule of harness.runbook.commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.gameday import make_plans
from harness.runbook.commands import PlanStep, Typed, command_lines, match_plan, runs_line, split_command, steps_of
from harness.scenarios import get_scenario, load_scenarios
from harness.train.session import plan_steps

FIX = """\
NEW_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
sed -i '/^SECRET_KEY=/d' /etc/chatkit-backend.env
echo "SECRET_KEY=$NEW_KEY" >> /etc/chatkit-backend.env
systemctl restart chatkit-backend
"""


def step(phase: str, ref: str, code: str, host: str = "app") -> PlanStep:
    return PlanStep(phase, ref, host, "s", "RUNBOOK.md:1", code)


def test_command_lines_drop_comments_and_blank_lines_and_join_continuations() -> None:
    code = "# Is it up?\nsystemctl   is-active x\n\ncurl -s \\\n  http://localhost/health\n# Expected: ok\n"
    assert command_lines(code) == ("systemctl is-active x", "curl -s http://localhost/health")


def test_a_command_typed_as_written_runs_the_line() -> None:
    assert runs_line("systemctl restart chatkit-backend", "systemctl restart chatkit-backend")
    assert runs_line("  systemctl   restart chatkit-backend ", "systemctl restart chatkit-backend")
    assert runs_line("sudo systemctl restart chatkit-backend", "systemctl restart chatkit-backend")


def test_another_command_does_not_run_the_line() -> None:
    assert not runs_line("systemctl status chatkit-backend", "systemctl restart chatkit-backend")
    assert not runs_line("systemctl restart chatkit-backend-old", "systemctl restart chatkit-backend")


def test_variables_and_placeholders_are_wildcards() -> None:
    assert runs_line('echo "SECRET_KEY=abc" >> /etc/chatkit-backend.env',
                     'echo "SECRET_KEY=$NEW_KEY" >> /etc/chatkit-backend.env')
    assert runs_line('grep -F "req-42" /var/log/x.log', 'grep -F "$REQUEST_ID" /var/log/x.log')
    assert runs_line("chatkit-admin ban u-7", "chatkit-admin ban <user-id>")
    assert runs_line("kill 4242", "kill PID")


def test_a_part_of_a_compound_command_runs_the_line() -> None:
    assert runs_line("cd /tmp && systemctl restart chatkit-backend; echo done", "systemctl restart chatkit-backend")


def test_compound_commands_split_outside_quotes_and_substitutions_only() -> None:
    assert split_command("a && b || c; d\ne") == ["a", "b", "c", "d", "e"]
    assert split_command("echo 'a; b' \"c && d\" $(x; y)") == ["echo 'a; b' \"c && d\" $(x; y)"]
    assert split_command("tail -n 5 f | grep x") == ["tail -n 5 f | grep x"]


def test_a_step_matches_on_its_own_host_only_and_a_local_step_anywhere() -> None:
    fix = step("fix", "fix", FIX)
    local = step("verify", "check", "curl -s http://localhost:8000/health", host="local")
    typed = [Typed("db", "systemctl restart chatkit-backend", 5.0),
             Typed("app", "curl -s http://localhost:8000/health", 6.0),
             Typed("app", "systemctl restart chatkit-backend", 9.0)]
    matches = match_plan([fix, local], typed)
    assert (matches[0].command, matches[0].t) == (2, 9.0)
    assert (matches[1].command, matches[1].t) == (1, 6.0)
    assert steps_of(typed[2], [fix, local]) == ["fix"]


def test_a_step_nobody_ran_is_skipped() -> None:
    (only,) = match_plan([step("diagnose", "d", "systemctl is-active chatkit-backend")], [Typed("app", "ls", 1.0)])
    assert not only.matched
    assert only.t is None


@pytest.fixture(scope="module")
def secret_missing_path() -> list[PlanStep]:
    load_scenarios(["scenarios"])
    return list(plan_steps(make_plans([get_scenario("secret-missing")])[0]))


def test_the_reference_runbooks_secret_missing_path_is_matched_by_what_a_trainee_types(
    secret_missing_path: list[PlanStep],
) -> None:
    typed = [
        Typed("app", "systemctl is-active chatkit-backend", 3.0),
        Typed("app", "tail -n 100 /var/log/chatkit-backend.log | grep FATAL", 8.0),
        Typed("app", "sed -i '/^SECRET_KEY=/d' /etc/chatkit-backend.env", 20.0),
        Typed("app", 'echo "SECRET_KEY=[REDACTED]" >> /etc/chatkit-backend.env', 21.0),
        Typed("app", "systemctl restart chatkit-backend", 22.0),
    ]
    matched = {m.step.ref: m.t for m in match_plan(secret_missing_path, typed) if m.matched}
    assert matched == {"1-service-wont-start[1]": 3.0, "1-service-wont-start[2]": 8.0, "1a-missing-secret_key[2]": 20.0}
    assert [s.phase for s in secret_missing_path] == ["diagnose"] * 4 + ["fix", "verify"]
    assert Path(secret_missing_path[0].location.split(":")[0]).name == "RUNBOOK.md"
