"""The public surface: one curated, sorted list, every name importable."""

from __future__ import annotations

import subprocess
import sys

import harness


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert harness.__all__ == sorted(harness.__all__)
    assert harness.__all__ == sorted(harness._EXPORTS)
    for name in harness.__all__:
        assert getattr(harness, name) is not None, name


def test_importing_the_package_does_not_load_docker() -> None:
    """`gameday lint` must start fast and work without Docker's libraries being imported."""
    code = ("import sys, harness.cli, harness.runbook.lint; "
            "print('docker' in sys.modules, 'testcontainers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_type_checkers_see_every_public_name() -> None:
    """The lazily imported names are imported under TYPE_CHECKING too, or mypy users lose them."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(harness.__file__).read_text(encoding="utf-8"))
    guarded = next(node for node in tree.body if isinstance(node, ast.If)
                   and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
    seen = {alias.name: node.module for node in guarded.body if isinstance(node, ast.ImportFrom)
            for alias in node.names}
    assert seen == harness._EXPORTS


def test_the_reference_scenarios_are_written_with_the_public_surface_alone() -> None:
    """What our own scenario modules need is what a user's need: every name they take from the
    harness comes from `harness` itself, and is public."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[3] / "scenarios"
    modules = sorted(root.rglob("*.py"))
    assert modules
    for module in modules:
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("harness"):
                assert node.module == "harness", f"{module}:{node.lineno}: imports from {node.module}"
                missing = [a.name for a in node.names if a.name not in harness.__all__]
                assert not missing, f"{module}:{node.lineno}: {missing} not public"
