"""Hostile bindings for `gameday grade`: each refused with exit 2 and its `file:line`, by the real entry
point in its own process, and nothing started (no container created or left by that process, no
reports folder written). The bindings name the project's ChatKit scenarios."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.hostile.test_hostile_inputs import CASE_TIMEOUT, containers_of, one_line_with, run_cli

RUNBOOK = """\
# Team runbook

## 1. Database down

**Check**:

```bash
systemctl status postgresql
```

**Fix**:

```bash
systemctl start postgresql
```
"""

CASES = [
    pytest.param('[sections."9-nowhere"]\nscenario = "chatkit/db-down"\n',
                 (":1: ", "unknown section anchor #9-nowhere"), id="unknown-section"),
    pytest.param('[sections."1-database-down"]\nscenario = "chatkit/db-down"\nhost = "mainframe"\n',
                 (":3: ", "unknown host 'mainframe'", "hosts: app, db"), id="unknown-host"),
    pytest.param('[sections."1-database-down"]\nscenario = "chatkit/tea-kettle"\n',
                 (":2: ", "unknown scenario 'chatkit/tea-kettle'"), id="unknown-scenario"),
    pytest.param('[sections."1-database-down"]\nscenario = "chatkit/db-down"\n[sections."1-database-down".blocks.3]\n'
                 'host = "db"\n', (":3: ", "has no block '3': it has 2 block(s)"), id="no-such-block"),
    pytest.param('[sections."1-database-down"\n', (":1: ", "not valid TOML"), id="not-toml"),
    pytest.param('[sections."1-database-down"]\nhost = "db"\n', ("no section names a scenario",),
                 id="nothing-to-drill"),
]


@pytest.mark.parametrize(("bindings", "fragments"), CASES)
def test_hostile_bindings_are_refused_and_nothing_starts(tmp_path: Path, bindings: str,
                                                        fragments: tuple[str, ...]) -> None:
    (tmp_path / "RUNBOOK.md").write_text(RUNBOOK)
    (tmp_path / "b.toml").write_text(bindings)
    argv = ["grade", str(tmp_path / "RUNBOOK.md"), "--bindings", str(tmp_path / "b.toml"), "--report",
            str(tmp_path / "reports")]
    outcome = run_cli(argv, env={**os.environ, "PYTHONUNBUFFERED": "1"}, timeout=CASE_TIMEOUT, memory_limit=None)
    shown = f"exit {outcome.code}\n--- stdout\n{outcome.stdout}\n--- stderr\n{outcome.stderr}"
    assert outcome.code == 2, shown
    assert "Traceback" not in outcome.stdout + outcome.stderr, shown
    assert one_line_with(outcome.stderr, [f"{tmp_path / 'b.toml'}", *fragments]), shown
    assert not (tmp_path / "reports").exists()
    created, left = containers_of(outcome)
    assert not created, shown
    assert not left, shown
