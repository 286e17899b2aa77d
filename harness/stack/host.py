"""Hosts: the named places where a command runs, as if an operator had a shell there.

A container host runs `bash -c COMMAND` through `docker exec` (like an SSH session on that
server: a fresh shell each time, so an `export` in one command is gone in the next); the
`local` host runs it on the machine that runs the harness. Both bound every command by a
timeout, enforced inside the container by coreutils `timeout` and outside by a watchdog.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import docker.errors

from harness import timing
from harness.errors import ExecError, ExecTimeout

DEFAULT_EXEC_TIMEOUT = 30.0
# Extra time the outside watchdog grants after the in-container timeout before giving up.
WATCHDOG_GRACE_SECONDS = 10.0
# The in-container `timeout` sends TERM, then KILL this many seconds later.
KILL_AFTER_SECONDS = 2
TIMEOUT_EXIT_CODE = 124


@dataclass(frozen=True)
class ExecResult:
    host: str
    command: str
    exit_code: int
    stdout: str
    stderr: str
    duration: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


class Host(Protocol):
    """Somewhere a runbook command can run."""

    @property
    def name(self) -> str: ...

    def exec(self, command: str, *, timeout: float = DEFAULT_EXEC_TIMEOUT,
             env: Mapping[str, str] | None = None) -> ExecResult: ...


class LocalHost:
    """The operator's own shell on the machine running the harness."""

    name = "local"

    def exec(self, command: str, *, timeout: float = DEFAULT_EXEC_TIMEOUT,
             env: Mapping[str, str] | None = None) -> ExecResult:
        with timing.waiting(timing.STACK):
            return self._exec(command, timeout, env)

    def _exec(self, command: str, timeout: float, env: Mapping[str, str] | None) -> ExecResult:
        started = time.monotonic()
        try:
            proc = subprocess.run(["bash", "-c", command], capture_output=True, text=True,
                                  timeout=timeout, env={**os.environ, **(env or {})}, check=False,
                                  stdin=subprocess.DEVNULL, errors="replace")
        except subprocess.TimeoutExpired as exc:
            return ExecResult(self.name, command, TIMEOUT_EXIT_CODE, _text(exc.stdout), _text(exc.stderr),
                              time.monotonic() - started, timed_out=True)
        return ExecResult(self.name, command, proc.returncode, proc.stdout, proc.stderr,
                          time.monotonic() - started)


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", "replace")


class ContainerHost:
    """A stack container, reached with `docker exec` as root."""

    def __init__(self, name: str, container: Callable[[], Any]) -> None:
        self._name = name
        self._container = container

    @property
    def name(self) -> str:
        return self._name

    def exec(self, command: str, *, timeout: float = DEFAULT_EXEC_TIMEOUT,
             env: Mapping[str, str] | None = None, user: str = "root") -> ExecResult:
        with timing.waiting(timing.STACK):
            return self._exec(command, timeout, env, user)

    def _exec(self, command: str, timeout: float, env: Mapping[str, str] | None, user: str) -> ExecResult:
        container = self._container()
        argv = ["timeout", "-k", str(KILL_AFTER_SECONDS), f"{timeout:g}", "bash", "-c", command]
        started = time.monotonic()
        try:
            exec_id = container.client.api.exec_create(
                container.id, argv, environment=dict(env or {}), user=user, stdout=True, stderr=True)
        except docker.errors.APIError as exc:
            raise ExecError(f"cannot exec: {exc.explanation or exc}", host=self.name, command=command) from exc
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["output"] = container.client.api.exec_start(exec_id, demux=True)
            except Exception as exc:  # reported below, in the caller's thread
                outcome["error"] = exc

        worker = threading.Thread(target=run, name=f"exec-{self.name}", daemon=True)
        worker.start()
        worker.join(timeout + KILL_AFTER_SECONDS + WATCHDOG_GRACE_SECONDS)
        duration = time.monotonic() - started
        if worker.is_alive():
            raise ExecTimeout(f"no answer from docker exec after {duration:.0f}s", host=self.name, command=command)
        if "error" in outcome:
            raise ExecError(f"exec failed: {outcome['error']}", host=self.name, command=command)
        stdout, stderr = outcome["output"]
        exit_code = container.client.api.exec_inspect(exec_id).get("ExitCode")
        if exit_code is None:
            raise ExecError("the exec ended without an exit code", host=self.name, command=command)
        timed_out = exit_code in (TIMEOUT_EXIT_CODE, 128 + 9) and duration >= timeout
        return ExecResult(self.name, command, int(exit_code), _text(stdout), _text(stderr), duration, timed_out)
