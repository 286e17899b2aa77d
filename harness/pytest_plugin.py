"""The gameday pytest plugin (entry point `pytest11`).

For now it only registers the harness's markers; the drill machinery (each scenario as a
drill test) arrives with the scenario fixtures.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "docker: needs a Docker engine and the stack images")
