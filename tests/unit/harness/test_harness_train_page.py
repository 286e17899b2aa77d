"""The page tells symptoms only: never the scenario's id, title, runbook section or fix (no Docker)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness.gameday import make_plans
from harness.observe.samples import ProbeSample, RequestSample
from harness.runbook.commands import command_lines
from harness.scenarios import Scenario, load_scenarios
from harness.train.exercise import load_exercises
from harness.train.page import forbidden_words, leaks, observe, page_text, scrub

REPO = Path(__file__).resolve().parents[3]
T0 = 100.0
NOW = datetime(2026, 11, 22, 3, 12, 45, tzinfo=UTC)
ENDPOINTS = {"http://127.0.0.1:40123": "app:8000"}


def samples() -> tuple[list[ProbeSample], list[RequestSample]]:
    """What the observers typically see during a fault of the reference stack."""
    probes = [ProbeSample(T0 - 0.2, True, 200, 0.01, '200 {"status":"ok","database":"connected"}')]
    probes += [ProbeSample(T0 + 0.2 * i, False, None, 0.01,
                           "GET http://127.0.0.1:40123/health: ConnectError [Errno 111] Connection refused")
               for i in range(1, 6)]
    probes += [ProbeSample(T0 + 1.2 + 0.2 * i, False, 503, 0.01,
                           '503 {"status":"degraded","database":"disconnected","uptime_seconds":12.5}')
               for i in range(4)]
    requests = [RequestSample(T0 + 0.5, "synthetic-1", "chat", False, 503, 0.01),
                RequestSample(T0 + 0.7, "synthetic-2", "login", False, None, 0.01),
                RequestSample(T0 + 0.9, "synthetic-3", "save", False, 429, 0.01),
                RequestSample(T0 + 1.1, "synthetic-1", "error", False, None, 0.01),
                RequestSample(T0 + 1.3, "synthetic-2", "chat", True, 200, 0.01)]
    return probes, requests


@pytest.fixture(scope="module")
def scenarios() -> list[Scenario]:
    found = load_scenarios(["scenarios"])
    assert len(found) >= 5
    return found


def page_for(scenario: Scenario, note: str = "") -> tuple[str, list[str]]:
    plan = make_plans([scenario])[0]
    forbidden = forbidden_words(scenario.name, scenario.title, scenario.section, plan.section_titles,
                                [p.step.code for p in plan.fixes])
    probes, requests = samples()
    symptoms = observe(probes, requests, T0, ENDPOINTS)
    text = page_text(stack="chatkit", stack_name="gameday-chatkit-0a1b2c3d", hosts=["db", "app"],
                     severity=scenario.severity, symptoms=symptoms, since=NOW - timedelta(seconds=4), now=NOW,
                     probe_interval=0.2, users=3, note=note, time_limit=600, forbidden=forbidden)
    fix_lines = [line for p in plan.fixes for line in command_lines(p.step.code)]
    return text, [scenario.key, scenario.name, scenario.title, scenario.section, *plan.section_titles, *fix_lines]


def test_no_scenarios_page_names_its_scenario_section_or_fix(scenarios: list[Scenario]) -> None:
    notes = {e.scenario: e.page for e in load_exercises(REPO / "drills" / "onboarding")}
    for scenario in scenarios:
        text, secrets = page_for(scenario, notes.get(scenario.key, ""))
        flat = " ".join(text.split()).lower()
        for secret in secrets:
            assert " ".join(secret.split()).lower() not in flat, f"{scenario.key}: the page says {secret!r}:\n{text}"
        assert "PAGE" in text
        assert scenario.severity in text


def test_the_page_says_what_fails_since_when_and_how_bad(scenarios: list[Scenario]) -> None:
    text, _ = page_for(scenarios[0])
    assert "FIRING" in text
    assert "Since:  2026-11-22 03:12:41 UTC (4 s ago" in text
    assert "Health check (every 0.2 s): 9 of 9 checks failed" in text
    assert "no answer (ConnectError) x5, HTTP 503 x4" in text
    assert 'last:    503 {"status":"degraded","database":"disconnected"' in text
    assert "4 of 5 requests failed; 3 of 3 users affected" in text
    assert "chat: 1 of 2 failed (HTTP 503)" in text
    assert "requests that got no answer at all: 1 of 1 failed (no answer)" in text
    assert "`gameday shell app`" in text
    assert "`gameday hint`" in text


def test_published_ports_are_shown_as_the_service_they_belong_to() -> None:
    probes, requests = samples()
    symptoms = observe(probes[:6], requests, T0, ENDPOINTS)
    assert symptoms.last_failure == "GET app:8000/health: ConnectError [Errno 111] Connection refused"


def test_an_observed_detail_that_spells_out_a_fix_is_masked() -> None:
    forbidden = forbidden_words("db-down", "PostgreSQL stops", "6a-database-server-down", ["6a. Database Server Down"],
                                ["systemctl start postgresql\n"])
    text = "last: 503 hint: run  systemctl   start postgresql on 6a-database-server-down"
    assert scrub(text, forbidden) == "last: 503 hint: run  [...] on [...]"


def test_leaks_find_forbidden_words_in_an_exercise_page_whatever_the_case() -> None:
    forbidden = forbidden_words("db-down", "PostgreSQL stops", "6a-database-server-down", [],
                                ["systemctl start postgresql"])
    assert leaks("Is it DB-DOWN again?", forbidden) == ["db-down"]
    assert leaks("Users cannot log in.", forbidden) == []


def test_a_fault_nobody_observes_pages_with_the_reporters_words() -> None:
    symptoms = observe([ProbeSample(T0 + 1, True, 200, 0.01, "200 ok")], [], T0)
    text = page_text(stack="chatkit", stack_name="s", hosts=["app"], severity="P0", symptoms=symptoms, since=None,
                     now=NOW, probe_interval=0.2, users=0, note="Security: a token was seen in a log.",
                     time_limit=1200, forbidden=[])
    assert "no automated check of chatkit is failing" in text
    assert "Reported: Security: a token was seen in a log." in text
    assert "after 20 min" in text
