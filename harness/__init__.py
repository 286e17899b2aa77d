"""gameday-harness: executable runbooks and chaos drills.

The public surface is re-exported here, imported on first use so that `gameday lint` and other
commands that never touch Docker start fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

_EXPORTS = {
    "BadInput": "harness.errors",
    "ContainerHost": "harness.stack.host",
    "DefinitionError": "harness.errors",
    "DockerUnavailable": "harness.errors",
    "ExecError": "harness.errors",
    "ExecResult": "harness.stack.host",
    "ExecTimeout": "harness.errors",
    "GamedayError": "harness.errors",
    "Host": "harness.stack.host",
    "ImageBuildError": "harness.errors",
    "InfrastructureError": "harness.errors",
    "LocalHost": "harness.stack.host",
    "Runbook": "harness.runbook.model",
    "Stack": "harness.stack.stack",
    "StackDefinition": "harness.stack.definition",
    "StackStartError": "harness.errors",
    "launch": "harness.stack.launch",
    "lint": "harness.runbook.lint",
    "load_definition": "harness.stack.definition",
    "match": "harness.runbook.match",
    "parse_runbook": "harness.runbook.parse",
    "prepare": "harness.stack.launch",
    "run_step": "harness.runbook.execute",
}

__all__ = [
    "BadInput",
    "ContainerHost",
    "DefinitionError",
    "DockerUnavailable",
    "ExecError",
    "ExecResult",
    "ExecTimeout",
    "GamedayError",
    "Host",
    "ImageBuildError",
    "InfrastructureError",
    "LocalHost",
    "Runbook",
    "Stack",
    "StackDefinition",
    "StackStartError",
    "launch",
    "lint",
    "load_definition",
    "match",
    "parse_runbook",
    "prepare",
    "run_step",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


if TYPE_CHECKING:
    from harness.errors import (
        BadInput,
        DefinitionError,
        DockerUnavailable,
        ExecError,
        ExecTimeout,
        GamedayError,
        ImageBuildError,
        InfrastructureError,
        StackStartError,
    )
    from harness.runbook.execute import run_step
    from harness.runbook.lint import lint
    from harness.runbook.match import match
    from harness.runbook.model import Runbook
    from harness.runbook.parse import parse_runbook
    from harness.stack.definition import StackDefinition, load_definition
    from harness.stack.host import ContainerHost, ExecResult, Host, LocalHost
    from harness.stack.launch import launch, prepare
    from harness.stack.stack import Stack
