"""Bindings beside a runbook: every key, every error with file:line, the document's own attributes winning."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.bindings import BindingsError, apply_bindings, load_bindings, rebound
from harness.runbook.model import Runbook
from harness.runbook.parse import parse_runbook
from harness.scenarios import DrillContext, Observation, Scenario

RUNBOOK = """\
# Shop runbook

## 1. Database trouble

**Diagnosis**:

```bash
check-db
# Expected: database: up
```

### 1a. Database down

**Check**:

```bash
systemctl status postgresql
systemctl start postgresql
```

**Fix**:

```bash {host=app}
restart-db --user USER_ID
```

```bash {skip="needs a person"}
page-dba
```

**Verification**:

```bash
check-db
# Expected: database: up
```

## 2. Not drilled

**Fix**:

```bash
echo hi
```
"""

FULL = """\
default_host = "app"

[placeholders]
USER_ID = "u-42"

[[hosts]]
pattern = 'systemctl\\s+\\w+\\s+postgresql'
host = "db"

[sections."1a-database-down"]
scenario = "shop/db-down"
host = "local"
detect_within = "5s"
recover_within = "30s"
placeholders = { USER_ID = "u-7" }

[sections."1a-database-down".blocks.2]
host = "db"
timeout = "10s"

[sections."1a-database-down".blocks.3]
skip = "the bindings skip it too"

[sections."1a-database-down".blocks.4]
within = "8s"
host = "db"
"""


def _noop(drill: DrillContext) -> Iterator[None]:
    yield


def shop(name: str = "db-down") -> Scenario:
    watch = Observation(health=lambda stack: lambda: (True, 200, "ok"))
    return Scenario("shop", name, name, Path("stack.toml"), Path("RUNBOOK.md"), "1-database-trouble", "P1", 10.0,
                    60.0, _noop, watch)


HOSTS = {"shop/db-down": ("app", "db", "local"), "shop/other": ("app", "db", "local")}


@pytest.fixture
def runbook(tmp_path: Path) -> Runbook:
    path = tmp_path / "RUNBOOK.md"
    path.write_text(RUNBOOK, encoding="utf-8")
    return parse_runbook(path)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "RUNBOOK.bindings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, runbook: Runbook, text: str):  # type: ignore[no-untyped-def]
    return load_bindings(write(tmp_path, text), runbook, [shop(), shop("other")], HOSTS)


def test_every_key_is_read(tmp_path: Path, runbook: Runbook) -> None:
    bindings = load(tmp_path, runbook, FULL)
    assert bindings.default_host == "app"
    assert bindings.placeholders == (("USER_ID", "u-42"),)
    assert [(p.pattern, p.host, p.line) for p in bindings.hosts] == [(r"systemctl\s+\w+\s+postgresql", "db", 6)]
    section = bindings.section("1a-database-down")
    assert section is not None
    assert section.line == 10
    assert section.scenarios == ("shop/db-down",)
    assert (section.host, section.detect_within, section.recover_within) == ("local", 5.0, 30.0)
    assert section.placeholders == (("USER_ID", "u-7"),)
    assert [(b.index, b.host, b.skip, b.timeout, b.within) for b in section.blocks] == [
        (2, "db", None, 10.0, None), (3, None, "the bindings skip it too", None, None), (4, "db", None, None, 8.0)]
    assert bindings.drills == (("1a-database-down", "shop/db-down"),)


def test_a_bare_scenario_name_unique_across_systems_is_its_key(tmp_path: Path, runbook: Runbook) -> None:
    bindings = load(tmp_path, runbook, '[sections."2-not-drilled"]\nscenarios = ["other"]\n')
    assert bindings.drills == (("2-not-drilled", "shop/other"),)


def test_applied_bindings_place_skip_time_and_fill_the_blocks(tmp_path: Path, runbook: Runbook) -> None:
    bound, applied = apply_bindings(runbook, load(tmp_path, runbook, FULL))
    steps = {s.ref: s for s in bound.steps()}
    check, fix, page, verify = (steps[f"1a-database-down[{i}]"] for i in (1, 2, 3, 4))
    assert check.host == "db"  # the pattern, before the section's host
    assert (fix.host, fix.timeout) == ("app", 10.0)  # the block's own {host=app} wins; its timeout from the bindings
    assert "u-7" in fix.code
    assert "USER_ID" not in fix.segments[0].code
    assert page.skip == "needs a person"  # the document's skip wins
    assert (verify.host, verify.within) == ("db", 8.0)
    assert steps["1-database-trouble[1]"].host == "app"  # no binding of its own: the bindings' default_host
    assert steps["2-not-drilled[1]"].host == "app"  # the bindings' default_host
    words = [a.what for a in applied]
    assert "skip from the bindings ignored: the block says skip= itself" in words
    assert any(w.startswith("placeholders: USER_ID -> u-7") for w in words)


def test_a_section_host_places_its_blocks_and_nothing_else(tmp_path: Path, runbook: Runbook) -> None:
    bound, _ = apply_bindings(runbook, load(tmp_path, runbook, '[sections."1-database-trouble"]\nhost = "db"\n'))
    steps = {s.ref: s for s in bound.steps()}
    assert steps["1-database-trouble[1]"].host == "db"
    assert steps["1a-database-down[4]"].host is None  # left to the stack's default_host


def test_budgets_of_the_section_replace_the_scenarios(tmp_path: Path, runbook: Runbook) -> None:
    section = load(tmp_path, runbook, FULL).section("1a-database-down")
    assert section is not None
    scenario = rebound(shop(), tmp_path / "RUNBOOK.md", section)
    assert (scenario.section, scenario.detect_within, scenario.recover_within) == ("1a-database-down", 5.0, 30.0)
    assert scenario.runbook == tmp_path / "RUNBOOK.md"


@pytest.mark.parametrize(("text", "line", "words"), [
    ('[sections."9z-nowhere"]\nscenario = "shop/db-down"\n', 1, "unknown section anchor #9z-nowhere"),
    ('[sections."1-database"]\nscenario = "shop/db-down"\n', 1, "did you mean #1-database-trouble, #1a-database-down"),
    ('[sections."1a-database-down"]\nscenario = "shop/no-such"\n', 2, "unknown scenario 'shop/no-such'"),
    ('[sections."1a-database-down"]\nscenario = "shop/db-down"\nhost = "cache"\n', 3, "unknown host 'cache'"),
    ('default_host = "web"\n', 1, "unknown host 'web'"),
    ('[[hosts]]\npattern = "x"\nhost = "web"\n', 3, "unknown host 'web'"),
    ('\n[sections."1a-database-down"]\nscenario = "shop/db-down"\n\n[sections."1a-database-down".blocks.7]\n'
     'host = "db"\n', 5, "has no block '7': it has 4 block(s), numbered 1 to 4"),
    ('[sections."1a-database-down".blocks.first]\nhost = "db"\n', 1, "has no block 'first'"),
    ('[sections."1a-database-down".blocks.2]\nhost = "nowhere"\n', 2, "block 2 host: unknown host 'nowhere'"),
    ('[sections."1a-database-down".blocks.2]\ntimeout = "soon"\n', 2, "block 2 timeout: not a duration: 'soon'"),
    ('[sections."1a-database-down".blocks.2]\nskip = ""\n', 2, "block 2 skip (the reason) must be a non-empty"),
    ('[sections."1a-database-down".blocks.2]\ncolour = "red"\n', 2, "unknown key 'colour'"),
    ('[sections."1a-database-down"]\nrecover_within = "-1s"\n', 2, "recover_within: not a duration"),
    ('[sections."1a-database-down"]\nscenario = 3\n', 2, "scenario must be a scenario key or a list"),
    ('[sections."1a-database-down"]\nplaceholders = { X = 1 }\n', 2, "placeholder 'X': its value must be a string"),
    ('[[hosts]]\npattern = "(["\nhost = "db"\n', 2, "is not a regular expression"),
    ('hosts = "db"\n', 1, "hosts must be an array of tables"),
    ('owner = "team"\n', 1, "bindings: unknown key 'owner'"),
    ('[sections\n', 1, "not valid TOML"),
])
def test_each_problem_is_refused_at_its_line(tmp_path: Path, runbook: Runbook, text: str, line: int,
                                             words: str) -> None:
    with pytest.raises(BindingsError) as caught:
        load(tmp_path, runbook, text)
    message = str(caught.value)
    assert f"RUNBOOK.bindings.toml:{line}: " in message, message
    assert words in message, message
    assert caught.value.exit_code == 2


def test_every_problem_is_reported_at_once_in_line_order(tmp_path: Path, runbook: Runbook) -> None:
    text = ('[sections."1a-database-down"]\nscenario = "shop/nope"\n\n'
            '[sections."1a-database-down".blocks.9]\nhost = "db"\n\n[sections."zz"]\nhost = "mars"\n')
    with pytest.raises(BindingsError) as caught:
        load(tmp_path, runbook, text)
    assert [line for line, _ in caught.value.problems] == [2, 4, 7, 8]
    assert str(caught.value).startswith("4 problems in the bindings:")


def test_an_unreadable_bindings_file_is_bad_input(tmp_path: Path, runbook: Runbook) -> None:
    with pytest.raises(BindingsError, match="is a folder"):
        load_bindings(tmp_path, runbook, [shop()], HOSTS)
    (tmp_path / "bad.toml").write_bytes(b"\xff\xfe")
    with pytest.raises(BindingsError, match="not UTF-8"):
        load_bindings(tmp_path / "bad.toml", runbook, [shop()], HOSTS)


def test_hosts_are_checked_against_the_stacks_the_file_drills(tmp_path: Path, runbook: Runbook) -> None:
    """Two systems: a host is checked against the stack of the scenarios the section (else the file) names."""
    other = Scenario("web", "down", "down", Path("web.toml"), Path("RUNBOOK.md"), "x", "P1", 10.0, 60.0, _noop,
                     Observation(health=lambda stack: lambda: (True, 200, "ok")))
    hosts = {**HOSTS, "web/down": ("nginx", "local")}
    path = write(tmp_path, 'default_host = "db"\n[sections."1a-database-down"]\nscenario = "shop/db-down"\n\n'
                           '[sections."2-not-drilled"]\nhost = "db"\n')
    bindings = load_bindings(path, runbook, [shop(), other], hosts)
    assert bindings.default_host == "db"
    path = write(tmp_path, '[sections."1a-database-down"]\nscenario = "web/down"\nhost = "db"\n')
    with pytest.raises(BindingsError, match=r":3: section '1a-database-down' host: unknown host 'db' \(hosts: nginx"):
        load_bindings(path, runbook, [shop(), other], hosts)
