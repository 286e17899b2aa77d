"""Scenarios made slow on purpose, for the interrupt tests: every phase lasts long enough to be hit.

Run with `python -m harness.cli run --scenarios tests.integration.slow_scenarios -k slow-db-down`.
"""

from . import slow_db_down as slow_db_down
from . import slow_link_down as slow_link_down
