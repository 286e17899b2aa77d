"""Stack definitions that cannot be right, through the real entry point (`gameday check --stack`):
each is refused before anything starts, with exit 2 and one stderr line `file:line: what; what to do`.

`gameday check` loads the definition before it connects to Docker, so none of these needs Docker:
DOCKER_HOST points at a socket that does not exist, and a case that reached the engine would fail
differently. Generated inputs (a 5,000-service chain) are written to tmp_path.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hostile.test_hostile_inputs import CORPUS, ROOT, expand, one_line_with, run_cli

MAX_SECONDS = 5.0


@dataclass(frozen=True)
class StackCase:
    stack: str  # @C/stacks/NAME.toml or @T/NAME.toml
    line: int
    fragments: tuple[str, ...]
    make: Callable[[Path], None] | None = None


def chain_of_5000(tmp: Path) -> None:
    """5,000 services, each depending on the next: deep enough to crash a recursive ordering."""
    parts = ['name = "chain"\ndefault_host = "s0"\n']
    for i in range(5000):
        parts.append(f'\n[services.s{i}]\nimage = "gameday/chain"\n')
        if i + 1 < 5000:
            parts.append(f'depends_on = ["s{i + 1}"]\n')
    (tmp / "chain.toml").write_text("".join(parts))


def corpus(name: str, line: int, *fragments: str) -> pytest.ParameterSet:
    return pytest.param(StackCase(f"@C/stacks/{name}.toml", line, fragments), id=name.replace("_", "-"))


CASES = [
    # 1. environment: shell-like names, one-line values
    corpus("env_key_with_equals", 10, "'LD_PRELOAD=/tmp/x.so' is not a variable name"),
    corpus("env_key_with_newline", 9, "is not a variable name"),
    corpus("env_value_with_newline", 10, "environment.NOTE", "line break"),
    # 2. the build context inside the definition's folder
    corpus("context_root", 6, "context '/'", "outside the folder of this definition"),
    corpus("context_upward", 6, "context '../../..'", "outside the folder of this definition"),
    # 3. the Dockerfile inside its context
    corpus("dockerfile_outside_context", 6, "outside the build context"),
    # 4. files: plain absolute paths, permission bits only
    corpus("file_path_root", 8, "'/' must name a file by a plain absolute path"),
    corpus("file_path_upward", 8, "plain absolute path"),
    corpus("file_path_relative", 8, "'etc/app.env' must be an absolute path"),
    corpus("file_mode_setuid", 10, "mode '4755'", "setuid"),
    # 5. inputs inside the project
    corpus("inputs_absolute", 7, "'/etc/**' reaches outside the build context"),
    corpus("inputs_upward", 7, "'../../**' reaches outside the build context"),
    # 6. a built image never re-tags a public one
    corpus("image_public", 4, "'postgres' would re-tag a public image"),
    corpus("image_public_library", 4, "'docker.io/library/redis' would re-tag a public image"),
    # 7. health timings within bounds
    corpus("health_timeout_huge", 10, "timeout = '24h' must be from 50ms to 15 minutes"),
    corpus("health_interval_tiny", 11, "interval = '1ms' must be from 50ms to the timeout"),
    # 8. a dependency chain too long to be a system (and no RecursionError on the way)
    pytest.param(StackCase("@T/chain.toml", 2 + 4 * 200 + 2,  # [services.s200]: the first too many
                           ("too many services (5000; at most 200)",),
                           chain_of_5000), id="depends-on-chain-5000"),
]


@pytest.mark.parametrize("case", CASES)
def test_a_stack_that_cannot_be_right_is_refused_before_anything_starts(case: StackCase, tmp_path: Path) -> None:
    if case.make is not None:
        case.make(tmp_path)
    stack = expand(case.stack, tmp_path)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}
    outcome = run_cli(["check", "--stack", stack], env=env, timeout=60.0, memory_limit=None)
    shown = f"gameday check --stack {stack}\n--- exit {outcome.code} in {outcome.seconds:.1f}s\n" \
            f"--- stdout\n{outcome.stdout[-3000:]}\n--- stderr\n{outcome.stderr[-3000:]}"

    assert outcome.code == 2, shown
    assert "Traceback" not in outcome.stdout + outcome.stderr, shown
    assert "RecursionError" not in outcome.stderr, shown
    assert outcome.seconds < MAX_SECONDS, shown
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, shown
    assert one_line_with(outcome.stderr, [f"{Path(stack).resolve()}:{case.line}: ", *case.fragments]), shown


def test_every_new_corpus_stack_is_a_case() -> None:
    named = {Path(expand(p.values[0].stack, Path("/"))).name for p in CASES}
    for name in named - {"chain.toml"}:
        assert (CORPUS / "stacks" / name).is_file(), name
    assert len(CASES) >= 10
    assert ROOT.is_dir()
