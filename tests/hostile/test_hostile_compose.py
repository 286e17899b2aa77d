"""Compose files that cannot be right, through the real entry point (`gameday check --stack FILE`):
each is refused before anything starts, with exit 2 and one stderr line `file:line: what; what to do`.

`gameday check` reads the definition before it connects to Docker, so none of these needs Docker:
DOCKER_HOST points at a socket that does not exist, and a case that reached the engine would fail
differently (exit 3). Every file is written to tmp_path; the line expected is the one line of the file
holding the case's fragment. Files that use anchors, aliases and merge keys legitimately are read
through `gameday lint --stack FILE`, which loads the stack's hosts and starts nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.hostile.test_hostile_inputs import one_line_with, run_cli

MAX_SECONDS = 5.0
SERVICE = "services:\n  app:\n    image: gameday/app\n"


@dataclass(frozen=True)
class ComposeCase:
    text: str
    fragment: str  # on exactly one line of `text`: the line the error must name
    words: tuple[str, ...]
    files: dict[str, str] = field(default_factory=dict)


def bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)]
    return "\n".join(lines) + "\nservices:\n  app:\n    image: gameday/app\n    labels: *i\n"


CASES = {
    # YAML itself
    "unclosed-flow-list": ComposeCase(SERVICE + "    ports: [8000\n", "", ("not valid YAML",)),
    "tab-indentation": ComposeCase("services:\n  app:\n\timage: x\n", "\timage", ("not valid YAML",)),
    "duplicate-key": ComposeCase(SERVICE + "    image: gameday/other\n", "gameday/other", ("appears twice",)),
    "alias-bomb": ComposeCase(bomb(), 'a: &a ["lol"', ("an alias bomb",)),
    "undefined-alias": ComposeCase(SERVICE + "    environment: *nowhere\n", "*nowhere", ("not valid YAML",)),
    "custom-tag": ComposeCase(SERVICE + "    ports: !reset []\n", "!reset", ("tag '!reset' is not supported",)),
    "python-tag": ComposeCase(SERVICE + "    command: !!python/object/apply:os.system [id]\n", "python/object",
                              ("is not supported",)),
    "deep-nesting": ComposeCase(SERVICE + "    labels: " + "[" * 3000 + "\n", "", ("nested too deeply",)),
    # shapes and types
    "top-level-list": ComposeCase("- services\n", "- services", ("a mapping with `services:`",)),
    "no-services": ComposeCase("name: empty\nvolumes: {}\n", "", ("needs `services:`",)),
    "service-is-a-string": ComposeCase("services:\n  app: gameday/app\n", "app: gameday/app", ("must be a mapping",)),
    "ports-a-string": ComposeCase(SERVICE + "    ports: '8000'\n", "ports:", ("ports must be a list",)),
    "environment-a-string": ComposeCase(SERVICE + "    environment: A=1\n", "environment:", ("must be a mapping",)),
    "healthcheck-test-bad": ComposeCase(SERVICE + "    healthcheck:\n      test: [CURL, x]\n", "test:",
                                        ("healthcheck.test must be",)),
    "retries-negative": ComposeCase(SERVICE + "    healthcheck: {test: 'true',\n      retries: -1}\n", "retries",
                                    ("retries must be a whole number",)),
    "mem-limit-tiny": ComposeCase(SERVICE + "    mem_limit: 1k\n", "mem_limit", ("below the minimum",)),
    "bad-project-name": ComposeCase("name: My Shop!\n" + SERVICE, "name:", ("short lowercase name",)),
    "image-digest": ComposeCase("services:\n  app:\n    image: postgres@sha256:abc\n", "postgres@", ("digests",)),
    # dependencies
    "depends-on-unknown": ComposeCase(SERVICE + "    depends_on: [db]\n", "depends_on",
                                      ("'db', which is not a service",)),
    "depends-on-cycle": ComposeCase(
        "x-gameday: {default_host: a}\nservices:\n  a:\n    image: x\n    depends_on: [b]\n"
        "  b:\n    image: x\n    depends_on:\n      a: {condition: service_healthy}\n",
        "      a: {condition", ("cycle", "a -> b -> a")),
    "depends-on-bad-condition": ComposeCase(
        "x-gameday: {default_host: a}\nservices:\n  db:\n    image: x\n  a:\n    image: x\n    depends_on:\n"
        "      db: {condition: service_ready}\n", "service_ready", ("'service_ready' is not one of",)),
    # refused keys
    "privileged": ComposeCase(SERVICE + "    privileged: true\n", "privileged", ("refused", "take over the machine")),
    "network-mode-host": ComposeCase(SERVICE + "    network_mode: host\n", "network_mode", ("refused",)),
    "pid-host": ComposeCase(SERVICE + "    pid: host\n", "pid:", ("refused",)),
    "bind-etc": ComposeCase(SERVICE + "    volumes:\n      - /etc/shadow:/x:ro\n", "/etc/shadow",
                            ("outside the project folder",)),
    "bind-long-form-upward": ComposeCase(SERVICE + "    volumes:\n      - type: bind\n        source: ../../..\n"
                                         "        target: /host\n", "type: bind", ("outside the project folder",)),
    "unknown-key": ComposeCase(SERVICE + "    helthcheck: {test: 'true'}\n", "helthcheck", ("not supported",)),
    "dangerous-cap": ComposeCase(SERVICE + "    cap_add: [SYS_MODULE]\n", "SYS_MODULE", ("allow_cap_add",)),
    "env-file-outside": ComposeCase(SERVICE + "    env_file: ../../../etc/passwd\n", "env_file",
                                    ("outside the project folder",)),
    "build-context-upward": ComposeCase("services:\n  app:\n    image: myteam/app\n    build: ../..\n", "build:",
                                        ("outside the project folder",)),
    "build-public-image": ComposeCase("services:\n  app:\n    image: postgres\n    build: .\n", "image: postgres",
                                      ("re-tag a public image",)),
    # interpolation
    "required-variable": ComposeCase(SERVICE + "    environment:\n      URL: ${DATABASE_URL:?set it}\n",
                                     "DATABASE_URL", ("required variable DATABASE_URL is missing: set it",)),
    "lone-dollar": ComposeCase(SERVICE + "    command: echo costs $5\n", "costs", ("lone `$`",)),
    "secret-in-ports": ComposeCase("x-gameday: {secrets: {PORT: 16}}\n" + SERVICE + "    ports: ['${PORT}']\n",
                                   "'${PORT}'", ("generated secret PORT",)),
    # x-gameday
    "default-host-unknown": ComposeCase("x-gameday: {default_host: web}\n" + SERVICE, "default_host",
                                        ("names no service",)),
    "no-default-host": ComposeCase("services:\n  a:\n    image: x\n  b:\n    image: x\n", "services:",
                                   ("say where a runbook step without a host runs",)),
    "x-gameday-unknown-key": ComposeCase(SERVICE + "    x-gameday: {setpu: [x]}\n", "setpu", ("not supported",)),
    "secret-bytes-tiny": ComposeCase("x-gameday:\n  secrets:\n    KEY: 4\n" + SERVICE, "KEY: 4", ("16 to 256",)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_compose_file_that_cannot_be_right_is_refused_before_anything_starts(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    stack = tmp_path / "project" / "compose.yaml"
    stack.parent.mkdir()
    (stack.parent / "Dockerfile").write_text("FROM scratch\n")
    stack.write_text(case.text)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}
    outcome = run_cli(["check", "--stack", str(stack)], env=env, timeout=60.0, memory_limit=None)
    shown = f"gameday check --stack {stack}\n{case.text[:2000]}\n--- exit {outcome.code} in {outcome.seconds:.1f}s\n" \
            f"--- stdout\n{outcome.stdout[-3000:]}\n--- stderr\n{outcome.stderr[-3000:]}"

    assert outcome.code == 2, shown
    assert "Traceback" not in outcome.stdout + outcome.stderr, shown
    assert outcome.seconds < MAX_SECONDS, shown
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, shown
    where = f"{stack}:"
    if case.fragment:
        numbers = [n for n, line in enumerate(case.text.splitlines(), start=1) if case.fragment in line]
        assert len(numbers) == 1, f"the fragment {case.fragment!r} must be on one line: {numbers}"
        where = f"{stack}:{numbers[0]}: "
    assert one_line_with(outcome.stderr, [where, *case.words]), shown


def test_the_corpus_is_at_least_twenty_files() -> None:
    assert len(CASES) >= 20


LEGITIMATE = """\
x-defaults: &defaults
  image: gameday/app
  environment: &env
    LOG_LEVEL: info
    REGION: eu
  labels: {team: shop}
x-limits: &limits
  mem_limit: 128m
x-gameday: {default_host: web}
services:
  web:
    <<: [*defaults, *limits]
    environment:
      <<: *env
      REGION: us
  worker:
    <<: *defaults
    command: ["worker", "--queue", "default"]
"""


def test_anchors_aliases_and_merge_keys_used_legitimately_load(tmp_path: Path) -> None:
    stack = tmp_path / "compose.yaml"
    stack.write_text(LEGITIMATE)
    runbook = tmp_path / "RUNBOOK.md"
    runbook.write_text("# Runbook\n\n## 1. Web down\n\n**Check**:\n\n```bash {host=worker}\ncurl -s web\n"
                       "# Expected: ok\n```\n")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}
    outcome = run_cli(["lint", "--stack", str(stack), str(runbook)], env=env, timeout=60.0, memory_limit=None)
    shown = f"--- exit {outcome.code}\n--- stdout\n{outcome.stdout[-3000:]}\n--- stderr\n{outcome.stderr[-3000:]}"
    assert outcome.code in (0, 1), shown  # 1: lint findings about the runbook, not about the stack
    assert "Traceback" not in outcome.stdout + outcome.stderr, shown
    assert "is not one of" not in outcome.stdout, shown  # the host `worker` is known from the Compose file
