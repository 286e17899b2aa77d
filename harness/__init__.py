"""gameday-harness: executable runbooks and chaos drills.

The public surface is re-exported here; everything else is internal.
"""

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
from harness.stack import ContainerHost, ExecResult, Host, LocalHost, Stack, StackDefinition, load_definition
from harness.stack.launch import launch, prepare

__version__ = "0.1.0.dev0"

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
    "Stack",
    "StackDefinition",
    "StackStartError",
    "launch",
    "load_definition",
    "prepare",
]
