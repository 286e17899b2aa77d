"""The PHP chatbot's calls to the OpenAI API go through the `openai` link."""

from __future__ import annotations

from pathlib import Path

from harness.stack.definition import load_definition

REPO = Path(__file__).resolve().parents[3]
STACK = REPO / "stack" / "php-chatbot" / "compose.yaml"
UPSTREAM_CONTROL_PORT = 8081


def test_every_service_that_calls_the_openai_api_reaches_it_through_the_openai_link() -> None:
    definition = load_definition(STACK)
    link = definition.link("openai")
    assert (link.target, link.port, link.listen_alias) == ("upstream", 8080, "")
    callers = {s.name for s in definition.services
               if any("OPENAI_BASE_URL" in f.content for f in s.files) or "OPENAI_BASE_URL" in dict(s.environment)}
    assert callers == {"web"}
    assert set(link.clients) == callers
    assert "api.openai.internal" in definition.service("upstream").aliases


def test_the_upstreams_control_port_is_never_proxied() -> None:
    assert all(link.port != UPSTREAM_CONTROL_PORT for link in load_definition(STACK).links)

