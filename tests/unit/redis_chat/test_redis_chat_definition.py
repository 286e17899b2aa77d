"""The Redis chat compose file as the harness reads it (no Docker), and the host build's guard."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from harness.stack.compose import load_compose
from harness.stack.definition import ImageRecipe

ROOT = Path(__file__).resolve().parents[3]
SYSTEM = ROOT / "stack" / "redis-chat"


def test_the_services_names_and_hosts_are_the_contract() -> None:
    definition = load_compose(SYSTEM / "compose.yaml", environ={})
    services = {s.name: s for s in definition.services}
    assert set(services) == {"redis", "openai", "leadprosper", "app"}
    assert definition.default_host == "app"
    assert {s.name for s in definition.secrets} == {
        "SESSION_SECRET", "OPENAI_API_KEY", "LEADPROSPER_API_KEY", "CRON_SECRET", "REDIS_PASSWORD"}
    app = services["app"]
    assert app.working_dir == "/srv/chat-system"
    assert app.ports == (80,)
    assert app.memory == 512 * 1024 * 1024
    assert set(app.depends_on) == {"redis", "openai", "leadprosper"}
    assert "/srv/chat-system/logs/application.log" in app.logs
    assert services["redis"].logs == ("/var/log/redis/redis-server.log",)
    assert "api.openai.internal" in services["openai"].aliases
    assert "api.leadprosper.internal" in services["leadprosper"].aliases
    assert services["openai"].image == services["leadprosper"].image


def test_the_app_image_is_rebuilt_from_dist_not_from_node_modules() -> None:
    definition = load_compose(SYSTEM / "compose.yaml", environ={})
    recipe = next(s.image for s in definition.services if s.name == "app")
    assert isinstance(recipe, ImageRecipe)
    assert "redis-chat/app/dist/**" in recipe.inputs
    assert not [i for i in recipe.inputs if "node_modules" in i or ".next" in i]
    ignored = (ROOT / "stack" / ".dockerignore").read_text().split()
    assert {"redis-chat/app/node_modules", "redis-chat/app/.next"} <= set(ignored)


def test_the_host_build_says_what_is_missing_without_node(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "sha256sum", "cut", "find", "sort", "cat"):
        path = subprocess.run(["bash", "-c", f"command -v {tool}"], capture_output=True, text=True).stdout.strip()
        if path:
            (bin_dir / tool).symlink_to(path)
    result = subprocess.run([str(SYSTEM / "app" / "build.sh")], capture_output=True, text=True, timeout=30,
                            env={**os.environ, "PATH": str(bin_dir)})
    assert result.returncode == 2
    assert "'node' is not installed" in result.stderr
