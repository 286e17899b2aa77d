"""The pytest plugin is tested by running pytest itself, on projects made in a temporary folder."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest

from harness.scenarios import REGISTRY

# What the inner runs use, imported once here: pytester's inline runs forget every module imported
# during them, and importing these again on every run (the drill, Docker's client, the reports and
# their templates) would cost a second or more each time.
for _module in ("harness.drill", "harness.gameday", "harness.report.history", "harness.report.html",
                "harness.report.markdown", "harness.report.summary"):
    importlib.import_module(_module)


@pytest.fixture(autouse=True)
def own_scenario_registry() -> Iterator[None]:
    """An in-process inner pytest registers its project's scenarios in this process's registry:
    each test starts with none (not this project's chatkit ones) and leaves it as it found it."""
    saved = dict(REGISTRY)
    REGISTRY.clear()
    try:
        yield
    finally:
        REGISTRY.clear()
        REGISTRY.update(saved)
