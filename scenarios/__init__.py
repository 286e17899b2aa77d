"""Scenario fixtures for the reference ChatKit stack, one module per scenario.

Importing this package registers them all (`gameday_scenarios = scenarios` in pytest's ini).
"""

from scenarios import db_down, pool_exhausted, rate_limit_storm, secret_missing, token_leak

__all__ = ["db_down", "pool_exhausted", "rate_limit_storm", "secret_missing", "token_leak"]
