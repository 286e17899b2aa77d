"""The harness's exceptions: one root, two families that map to the CLI's exit codes.

    GamedayError                      root; never raised itself
    +-- BadInput                      exit 2: the user's input is wrong; nothing was started
    |   +-- DefinitionError           a stack definition (file, line) is malformed
    +-- InfrastructureError           exit 3: Docker, images or the stack failed us
        +-- DockerUnavailable         no engine answers
        +-- ImageBuildError           a recipe did not build (carries the build log tail)
        +-- StackStartError           a service did not become healthy (carries its logs)
        +-- ExecError                 a command could not be run on a host
            +-- ExecTimeout           ... or did not finish within its timeout

Every exception carries what a person needs to act: where (file and line, service, host)
and, for infrastructure failures, the evidence (last log lines).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from harness.vocabulary import Verdict

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2
EXIT_INFRASTRUCTURE = 3
EXIT_INTERRUPTED = 130  # as a shell reports a process ended by Ctrl-C
EXIT_BROKEN_PIPE = 141  # as a shell reports a process whose reader went away (`gameday lint ... | head`)


def gameday_exit_code(verdicts: Iterable[Verdict], *, complete: bool = True) -> int:
    """A gameday's exit code from its drills' verdicts: infrastructure when a drill could not run to
    its end (or, `complete` false, never ran), findings when any drill failed, else ok."""
    verdicts = list(verdicts)
    if not complete or Verdict.HARNESS_ERROR in verdicts:
        return EXIT_INFRASTRUCTURE
    return EXIT_OK if all(v is Verdict.PASSED for v in verdicts) else EXIT_FINDINGS


class GamedayError(Exception):
    """Root of every error the harness raises on purpose."""

    exit_code = EXIT_INFRASTRUCTURE


class BadInput(GamedayError):
    """The input is wrong; the message says where and what to do. Nothing was started."""

    exit_code = EXIT_BAD_INPUT


class DefinitionError(BadInput):
    """A stack definition file is malformed."""

    def __init__(self, message: str, *, path: Path | str, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        where = f"{self.path}:{line}" if line else str(self.path)
        super().__init__(f"{where}: {message}")


class InfrastructureError(GamedayError):
    """Docker, an image build or the stack itself failed; not the user's input."""

    exit_code = EXIT_INFRASTRUCTURE


class DockerUnavailable(InfrastructureError):
    """No Docker engine answers."""


class ImageBuildError(InfrastructureError):
    """An image recipe failed to build."""

    def __init__(self, message: str, *, image: str, log_tail: str = "") -> None:
        self.image = image
        self.log_tail = log_tail
        text = f"{message}\n--- last lines of the build of {image} ---\n{log_tail}" if log_tail else message
        super().__init__(text)


class StackStartError(InfrastructureError):
    """A service of the stack did not start or did not become healthy in time."""

    def __init__(self, message: str, *, service: str, evidence: str = "") -> None:
        self.service = service
        self.evidence = evidence
        text = f"{message}\n--- evidence from {service} ---\n{evidence}" if evidence else message
        super().__init__(text)


class ExecError(InfrastructureError):
    """A command could not be run on a host at all (not: it ran and failed)."""

    def __init__(self, message: str, *, host: str, command: str) -> None:
        self.host = host
        self.command = command
        super().__init__(f"{host}: {message} (command: {command!r})")


class ExecTimeout(ExecError):
    """A command did not finish within its timeout."""
