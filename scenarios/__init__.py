"""Scenario packages, one per system: `scenarios/<system>/` holds that system's observation
(health check, synthetic journey) in its `__init__.py` and one module per scenario.

Nothing here lists them: `gameday` and the pytest plugin discover every `scenarios/*/` package
and import each of its modules (harness.systems).
"""
