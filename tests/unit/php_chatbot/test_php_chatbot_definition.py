"""The PHP chatbot system without Docker: its Compose file, its runbook and scenarios agree, and
its onboarding exercises load."""

from __future__ import annotations

from pathlib import Path

from harness.plan import build_plan
from harness.runbook.lint import lint
from harness.runbook.parse import parse_runbook
from harness.scenarios import load_scenarios
from harness.stack.definition import ImageRecipe, load_definition
from harness.train.exercise import load_exercises, resolve_scenarios

REPO = Path(__file__).resolve().parents[3]
STACK = REPO / "stack" / "php-chatbot" / "compose.yaml"
RUNBOOK = REPO / "stack" / "php-chatbot" / "RUNBOOK.md"
SCENARIOS = {"site-down", "worker-stopped", "too-many-connections", "openai-rate-limited", "openai-timeouts",
             "openai-link-stalled", "disk-full", "php-memory-exhausted", "admin-token-leaked"}


def test_the_stack_has_the_hosts_secrets_and_limits_the_runbook_relies_on() -> None:
    definition = load_definition(STACK)
    assert [s.name for s in definition.services] == ["db", "upstream", "web"]
    assert {s.name for s in definition.secrets} == {"ADMIN_TOKEN", "DB_PASSWORD", "OPENAI_API_KEY"}
    web = definition.service("web")
    assert [(t.path, t.size) for t in web.tmpfs] == [("/var/log/chatbot", 4 * 1024**2)]
    assert web.memory
    assert [f.path for f in web.files] == ["/var/www/chatbot/.env"]
    assert "ADMIN_TOKEN=${ADMIN_TOKEN}" in web.files[0].content
    assert definition.default_host == "web"
    assert definition.warnings == ()


def test_the_upstream_is_one_program_every_system_builds_from_one_folder() -> None:
    recipe = load_definition(STACK).service("upstream").image
    assert isinstance(recipe, ImageRecipe)
    assert recipe.context == REPO / "stack" / "common" / "upstream"
    assert recipe.repository == "gameday/openai-upstream"


def test_every_scenario_plans_against_the_runbook_and_the_runbook_lints_without_errors() -> None:
    scenarios = [s for s in load_scenarios(["scenarios"]) if s.system == "php-chatbot"]
    assert {s.name for s in scenarios} == SCENARIOS
    definition = load_definition(STACK)
    for scenario in scenarios:
        plan = build_plan(scenario, definition)
        assert plan.diagnosis, scenario.key
        assert plan.fixes, scenario.key
        assert plan.verifies, scenario.key
    assert [f for f in lint(parse_runbook(RUNBOOK)) if f.severity == "error"] == []


def test_the_onboarding_exercises_load_and_name_its_scenarios() -> None:
    exercises = [e for e in load_exercises(REPO / "drills" / "onboarding") if e.system == "php-chatbot"]
    known = [s.key for s in load_scenarios(["scenarios"])]
    resolved = resolve_scenarios(exercises, known)
    assert {e.scenario for e in resolved} == {"php-chatbot/worker-stopped", "php-chatbot/disk-full"}
