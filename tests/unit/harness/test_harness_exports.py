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
