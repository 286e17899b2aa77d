"""The PHP chatbot's calls to the OpenAI API go through the `openai` link, and the
openai-link-stalled drill's proof tells a stalled path from a refused or healthy one."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.stack.definition import load_definition
from harness.testing import FakeHost, FakeStack
from scenarios.php_chatbot.openai_link_stalled import stalled_from_web

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


@pytest.mark.parametrize(("reply", "stalled"), [
    ((28, "000 0.000812", ""), True),   # connected, then nothing before curl's deadline
    ((0, "200 0.000514", ""), False),   # answered
    ((7, "000 0.000000", ""), False),   # refused: a cut link, not a stall
    ((28, "000 0.000000", ""), False),  # never connected
    ((0, "", ""), False),               # curl said nothing
])
def test_the_stall_proof_needs_an_accepted_connection_and_no_answer(reply: tuple[int, str, str],
                                                                     stalled: bool) -> None:
    web = FakeHost("web").on("curl", reply)
    stack = FakeStack(load_definition(STACK), [web])
    ok, detail = stalled_from_web(stack)  # type: ignore[arg-type]
    assert ok is stalled, detail
    assert len(web.ran) == 1
    assert "api.openai.internal:8080" in web.ran[0]
