"""The stand-in upstream (stack/common/upstream/openai_fake.py), run in this process on loopback:
its lead API, its health check under each switched mode, and what it records (never a key)."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

import httpx
import pytest

FAKE = Path(__file__).resolve().parents[3] / "stack" / "common" / "upstream" / "openai_fake.py"
KEY = "lp-test-key-0123456789"


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[ModuleType, str, str]]:
    spec = importlib.util.spec_from_file_location("openai_fake_under_test", FAKE)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), module.ApiHandler),
               ThreadingHTTPServer(("127.0.0.1", 0), module.ControlHandler)]
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    api, control = (f"http://127.0.0.1:{s.server_address[1]}" for s in servers)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("UPSTREAM_API_KEY", KEY)
        yield module, api, control
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def upstream(fake: tuple[ModuleType, str, str]) -> tuple[str, str]:
    _module, api, control = fake
    httpx.post(f"{control}/control", json={"mode": "healthy"}, timeout=5).raise_for_status()
    httpx.delete(f"{control}/control/requests", timeout=5).raise_for_status()
    return api, control


LEAD = {"lead_id": "abc-1", "first_name": "Ada", "email": "ada@example.test", "phone": "555-0100"}


def test_a_lead_with_the_bearer_key_is_accepted_and_recorded(upstream: tuple[str, str]) -> None:
    api, control = upstream
    answer = httpx.post(f"{api}/direct_post", json=LEAD, headers={"Authorization": f"Bearer {KEY}"}, timeout=5)
    assert answer.status_code == 200
    assert answer.json()["status"] == "ACCEPTED"
    recorded = httpx.get(f"{control}/control/requests", params={"path": "/direct_post"}, timeout=5).json()
    assert [entry["body"]["lead_id"] for entry in recorded] == ["abc-1"]
    assert recorded[0]["status"] == 200


def test_a_key_in_the_body_counts_but_is_never_recorded(upstream: tuple[str, str]) -> None:
    api, control = upstream
    answer = httpx.post(f"{api}/direct_post", json={**LEAD, "lp_key": KEY}, timeout=5)
    assert answer.status_code == 200
    text = httpx.get(f"{control}/control/requests", timeout=5).text
    assert KEY not in text
    assert "(not recorded)" in text


def test_a_wrong_key_is_refused(upstream: tuple[str, str]) -> None:
    api, _control = upstream
    answer = httpx.post(f"{api}/direct_post", json={**LEAD, "lp_key": "wrong"}, timeout=5)
    assert answer.status_code == 401
    assert httpx.get(f"{api}/health", timeout=5).status_code == 401  # no key: the health check needs it too


def test_a_lead_without_contact_is_a_bad_request(upstream: tuple[str, str]) -> None:
    api, _control = upstream
    answer = httpx.post(f"{api}/direct_post", json={"lead_id": "x"}, headers={"Authorization": f"Bearer {KEY}"},
                        timeout=5)
    assert answer.status_code == 400


@pytest.mark.parametrize(("mode", "options", "status"), [
    ("healthy", {}, 200), ("error", {"status": 503}, 503), ("rate-limited", {"retry_after": 3}, 429),
    ("unauthorized", {}, 401)])
def test_the_health_check_follows_the_switched_mode(upstream: tuple[str, str], mode: str,
                                                     options: dict[str, object], status: int) -> None:
    api, control = upstream
    httpx.post(f"{control}/control", json={"mode": mode, **options}, timeout=5).raise_for_status()
    answer = httpx.get(f"{api}/health", headers={"Authorization": f"Bearer {KEY}"}, timeout=5)
    assert answer.status_code == status
    if mode == "rate-limited":
        assert answer.headers["Retry-After"] == "3"


def test_the_path_filter_keeps_one_path(upstream: tuple[str, str]) -> None:
    api, control = upstream
    auth = {"Authorization": f"Bearer {KEY}"}
    httpx.get(f"{api}/health", headers=auth, timeout=5)
    httpx.post(f"{api}/direct_post", json=LEAD, headers=auth, timeout=5)
    every = httpx.get(f"{control}/control/requests", timeout=5).json()
    leads = httpx.get(f"{control}/control/requests?path=/direct_post", timeout=5).json()
    assert {entry["path"] for entry in every} == {"/health", "/direct_post"}
    assert [entry["path"] for entry in leads] == ["/direct_post"]
