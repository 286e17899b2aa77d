"""Fake projects for the discovery tests: folders with scenarios/<system>/ packages, imported in
this process without leaking into the other tests (the `scenarios` modules, sys.path and the
scenario registry are put back as they were). And the Toxiproxy stand-in, run in this process
with a TCP echo upstream, for the client's contract and the toxics' measurements."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import socketserver
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness import scenarios as scenario_module
from harness.testing import write_fake_stack
from harness.toxiproxy import ToxiproxyClient

SYSTEM_INIT = '''\
"""{system}: a fake system for the discovery tests."""
import functools
from pathlib import Path

from harness.scenarios import Observation, scenario

ROOT = Path(__file__).resolve().parents[2]
WATCH = Observation(health=lambda stack: (lambda: (True, 200, "ok")))
{system_var}_scenario = functools.partial(scenario, stack=ROOT / "stack" / "{folder}" / "stack.toml",
                                   runbook=ROOT / "stack" / "{folder}" / "RUNBOOK.md", observation=WATCH)
'''

SCENARIO_MODULE = '''\
from {package} import {system_var}_scenario


@{system_var}_scenario("{name}", section="1-{name}", severity="{severity}")
def {function}(drill):
    """{title}"""
    yield
'''

Project = Callable[..., Path]


def _forget_scenarios() -> dict[str, object]:
    gone = {name: sys.modules.pop(name) for name in list(sys.modules)
            if name == "scenarios" or name.startswith("scenarios.")}
    return gone


@pytest.fixture
def isolated_scenarios() -> Iterator[None]:
    """The test may import another project's `scenarios` package; afterwards the process has its own back."""
    saved_modules = _forget_scenarios()
    saved_path = list(sys.path)
    saved_registry = dict(scenario_module.REGISTRY)
    scenario_module.REGISTRY.clear()
    try:
        yield
    finally:
        _forget_scenarios()
        sys.modules.update(saved_modules)  # type: ignore[arg-type]
        sys.path[:] = saved_path
        scenario_module.REGISTRY.clear()
        scenario_module.REGISTRY.update(saved_registry)


@pytest.fixture
def fake_project(tmp_path: Path, isolated_scenarios: None) -> Project:
    """`fake_project({"alpha": ["db-down", "storm"], "redis_chat": ["db-down"]})` -> the project folder:
    scenarios/<system>/__init__.py (observation) and one module per scenario; `severity` per name."""

    def make(systems: dict[str, list[str]], severity: dict[str, str] | None = None, root: Path = tmp_path,
             stacks: bool = False) -> Path:
        (root / "scenarios").mkdir(parents=True, exist_ok=True)
        (root / "scenarios" / "__init__.py").write_text('"""Fake systems."""\n')
        for folder, names in systems.items():
            package = root / "scenarios" / folder
            package.mkdir()
            system_var = folder.replace("-", "_")
            (package / "__init__.py").write_text(SYSTEM_INIT.format(system=folder, folder=folder.replace("_", "-"),
                                                                    system_var=system_var))
            if stacks:  # a stack file and a runbook for each system (`gameday list` checks every plan)
                stack_folder = root / "stack" / folder.replace("_", "-")
                write_fake_stack(stack_folder, folder.replace("_", "-"))
                (stack_folder / "RUNBOOK.md").write_text("".join(f"## 1 {n}\n\nWhat to do.\n\n" for n in names))
            for name in names:
                module = name.replace("-", "_")
                (package / f"{module}.py").write_text(textwrap.dedent(SCENARIO_MODULE.format(
                    package=f"scenarios.{folder}", system_var=system_var, name=name, function=module,
                    severity=(severity or {}).get(name, "P1"), title=f"{folder} {name}")))
        return root

    return make


# -- Toxiproxy: the project's stand-in server, run in this process on loopback, and a TCP upstream ----

TOXIPROXY_FALLBACK = Path(__file__).resolve().parents[3] / "harness" / "proxyserver" / "toxiproxy_fallback.py"


class _LineUpstream(socketserver.StreamRequestHandler):
    """Echoes each line; `BULK n` answers n bytes then closes; `HOLD` closes after the client does."""

    def handle(self) -> None:
        for line in self.rfile:
            if line.startswith(b"BULK "):
                remaining = int(line.split()[1])
                block = b"x" * 65536
                while remaining > 0:
                    self.wfile.write(block[:remaining])
                    remaining -= min(remaining, len(block))
                return
            self.wfile.write(line)


class _Upstream(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture(scope="module")
def tcp_upstream() -> Iterator[int]:
    """A line-echo TCP server on 127.0.0.1; its port."""
    server = _Upstream(("127.0.0.1", 0), _LineUpstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


# The client's contract and the toxics' measurements run against the official server when this
# names its API (e.g. `toxiproxy-server` on this machine: GAMEDAY_TOXIPROXY_URL=http://127.0.0.1:8474);
# the server must reach the tests' upstreams on 127.0.0.1. Unset, they run against the stand-in.
SERVER_ENV = "GAMEDAY_TOXIPROXY_URL"


@pytest.fixture(scope="module")
def toxiproxy_url() -> Iterator[str]:
    """The Toxiproxy server the contract runs against: GAMEDAY_TOXIPROXY_URL's, else the stand-in
    (harness/proxyserver/toxiproxy_fallback.py), its own event loop in a background thread, its API
    on 127.0.0.1 and a free port; its base URL."""
    if os.environ.get(SERVER_ENV):
        url = os.environ[SERVER_ENV].rstrip("/")
        with ToxiproxyClient(url) as client:
            client.version()  # a clear error now if nothing answers there
            client.reset()
        yield url
        return
    spec = importlib.util.spec_from_file_location("toxiproxy_fallback_under_test", TOXIPROXY_FALLBACK)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = module.Toxiproxy(max_connections=64)
    _host, port = asyncio.run_coroutine_threadsafe(server.start("127.0.0.1", 0), loop).result(timeout=10)
    yield f"http://127.0.0.1:{port}"

    async def shut_down() -> None:
        await server.stop()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    asyncio.run_coroutine_threadsafe(shut_down(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


@pytest.fixture
def toxiproxy(toxiproxy_url: str) -> Iterator[ToxiproxyClient]:
    """A client of the stand-in; every proxy it made is gone after the test."""
    with ToxiproxyClient(toxiproxy_url) as client:
        yield client
        for name in client.proxies():
            client.delete_proxy(name)
