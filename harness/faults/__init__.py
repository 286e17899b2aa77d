"""Faults: context managers that break one thing in a stack, prove it, and always undo it.

One module per family: `service` (a unit stopped), `container` (stopped, killed, paused),
`envfile` (an environment file edited, the service restarted), `hog` (database connection
slots held), `storm` (an HTTP flood, bounded), `network` (partition, refused port, blackhole,
packet loss), `disk` (a file system filled), `keyspace` (a Redis filled to its memory limit),
`privilege` (a database privilege revoked), `proxy` (toxics on a stack's proxied links: latency, a
stall, resets, a slow pipe, the link cut), `switch` (a stand-in dependency switched through its
control endpoint). The contract is in `base`. Nothing here knows any particular stack: callers
pass service names, commands, paths, URLs and callables.
"""

from harness.faults.base import (
    BlastRadiusError,
    Fault,
    FaultError,
    FaultListener,
    FaultNotEffective,
    FaultRecord,
    check_owned,
    fault_listener,
    listening,
    owned_container,
    owned_host,
)
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

__all__ = [
    "Blackhole",
    "BlastRadiusError",
    "ConfigSwitch",
    "ConnectionHog",
    "ContainerKilled",
    "ContainerPaused",
    "ContainerStopped",
    "DiskFilled",
    "EnvFileChange",
    "Fault",
    "FaultError",
    "FaultListener",
    "FaultNotEffective",
    "FaultRecord",
    "HttpStorm",
    "HttpSwitch",
    "LinkBandwidth",
    "LinkDown",
    "LinkLatency",
    "LinkReset",
    "LinkTimeout",
    "LinkToxic",
    "NetworkPartition",
    "PacketLoss",
    "PortRefused",
    "PrivilegeRevoked",
    "RedisFilled",
    "ServiceStopped",
    "check_owned",
    "fault_listener",
    "listening",
    "owned_container",
    "owned_host",
]
