"""gameday-harness: executable runbooks and chaos drills.

The public surface: what a user writes in a scenario module (`@scenario`, `Observation`, the
`DrillContext` a fixture gets, the faults, `http_check`, `wait_for` for a check's bounded wait),
what a test reads back (`DrillResult`, `Verdict`, `FindingKind`), the stack and runbook types,
and the errors. Imported on first use, so that `gameday lint` and other commands that never
touch Docker start fast. Plumbing (step runners, matchers, launch helpers) stays in its modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

_EXPORTS = {
    "Attempt": "harness.observe.traffic",
    "BadInput": "harness.errors",
    "Blackhole": "harness.faults.network",
    "ConfigSwitch": "harness.faults.envfile",
    "ConnectionHog": "harness.faults.hog",
    "ContainerKilled": "harness.faults.container",
    "ContainerPaused": "harness.faults.container",
    "ContainerStopped": "harness.faults.container",
    "DefinitionError": "harness.errors",
    "DiskFilled": "harness.faults.disk",
    "DockerUnavailable": "harness.errors",
    "DrillContext": "harness.scenarios",
    "DrillResult": "harness.drill",
    "EnvFileChange": "harness.faults.envfile",
    "ExecError": "harness.errors",
    "ExecResult": "harness.stack.host",
    "ExecTimeout": "harness.errors",
    "Fault": "harness.faults.base",
    "FaultNotEffective": "harness.faults.base",
    "FindingKind": "harness.vocabulary",
    "GamedayError": "harness.errors",
    "HealthCheck": "harness.scenarios",
    "Host": "harness.stack.host",
    "HttpStorm": "harness.faults.storm",
    "HttpSwitch": "harness.faults.switch",
    "ImageBuildError": "harness.errors",
    "InfrastructureError": "harness.errors",
    "Journey": "harness.observe.traffic",
    "LinkBandwidth": "harness.faults.proxy",
    "LinkDown": "harness.faults.proxy",
    "LinkLatency": "harness.faults.proxy",
    "LinkReset": "harness.faults.proxy",
    "LinkTimeout": "harness.faults.proxy",
    "LinkToxic": "harness.faults.proxy",
    "JourneyContext": "harness.observe.traffic",
    "NetworkPartition": "harness.faults.network",
    "Observation": "harness.scenarios",
    "PacketLoss": "harness.faults.network",
    "PortRefused": "harness.faults.network",
    "Priority": "harness.vocabulary",
    "PrivilegeRevoked": "harness.faults.privilege",
    "RedisFilled": "harness.faults.keyspace",
    "Runbook": "harness.runbook.model",
    "Scenario": "harness.scenarios",
    "ServiceStopped": "harness.faults.service",
    "Stack": "harness.stack.stack",
    "StackDefinition": "harness.stack.definition",
    "StackStartError": "harness.errors",
    "Verdict": "harness.vocabulary",
    "WaitTimeout": "harness.stack.waits",
    "http_check": "harness.observe.probe",
    "lint": "harness.runbook.lint",
    "load_definition": "harness.stack.definition",
    "parse_runbook": "harness.runbook.parse",
    "scenario": "harness.scenarios",
    "wait_for": "harness.stack.waits",
}

__all__ = [
    "Attempt",
    "BadInput",
    "Blackhole",
    "ConfigSwitch",
    "ConnectionHog",
    "ContainerKilled",
    "ContainerPaused",
    "ContainerStopped",
    "DefinitionError",
    "DiskFilled",
    "DockerUnavailable",
    "DrillContext",
    "DrillResult",
    "EnvFileChange",
    "ExecError",
    "ExecResult",
    "ExecTimeout",
    "Fault",
    "FaultNotEffective",
    "FindingKind",
    "GamedayError",
    "HealthCheck",
    "Host",
    "HttpStorm",
    "HttpSwitch",
    "ImageBuildError",
    "InfrastructureError",
    "Journey",
    "JourneyContext",
    "LinkBandwidth",
    "LinkDown",
    "LinkLatency",
    "LinkReset",
    "LinkTimeout",
    "LinkToxic",
    "NetworkPartition",
    "Observation",
    "PacketLoss",
    "PortRefused",
    "Priority",
    "PrivilegeRevoked",
    "RedisFilled",
    "Runbook",
    "Scenario",
    "ServiceStopped",
    "Stack",
    "StackDefinition",
    "StackStartError",
    "Verdict",
    "WaitTimeout",
    "http_check",
    "lint",
    "load_definition",
    "parse_runbook",
    "scenario",
    "wait_for",
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
    from harness.drill import DrillResult
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
    from harness.faults.base import Fault, FaultNotEffective
    from harness.faults.container import ContainerKilled, ContainerPaused, ContainerStopped
    from harness.faults.disk import DiskFilled
    from harness.faults.envfile import ConfigSwitch, EnvFileChange
    from harness.faults.hog import ConnectionHog
    from harness.faults.keyspace import RedisFilled
    from harness.faults.network import Blackhole, NetworkPartition, PacketLoss, PortRefused
    from harness.faults.privilege import PrivilegeRevoked
    from harness.faults.proxy import LinkBandwidth, LinkDown, LinkLatency, LinkReset, LinkTimeout, LinkToxic
    from harness.faults.service import ServiceStopped
    from harness.faults.storm import HttpStorm
    from harness.faults.switch import HttpSwitch
    from harness.observe.probe import http_check
    from harness.observe.traffic import Attempt, Journey, JourneyContext
    from harness.runbook.lint import lint
    from harness.runbook.model import Runbook
    from harness.runbook.parse import parse_runbook
    from harness.scenarios import DrillContext, HealthCheck, Observation, Scenario, scenario
    from harness.stack.definition import StackDefinition, load_definition
    from harness.stack.host import ExecResult, Host
    from harness.stack.stack import Stack
    from harness.stack.waits import WaitTimeout, wait_for
    from harness.vocabulary import FindingKind, Priority, Verdict
