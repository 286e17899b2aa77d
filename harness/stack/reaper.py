"""Cleanup by label: remove what the harness created, and nothing else.

`reap_orphans` removes the objects of runs whose process is gone (a crashed or SIGKILLed run,
or a machine whose processes were all killed); `remove_all` removes every harness object, on
demand (`gameday clean`). Both only ever look at objects carrying the `gameday.run` label.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import docker
import docker.errors

from harness.stack import labels as L

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reaped:
    containers: int = 0
    networks: int = 0
    volumes: int = 0

    @property
    def total(self) -> int:
        return self.containers + self.networks + self.volumes


def _orphaned(obj_labels: dict[str, str]) -> bool:
    if obj_labels.get(L.HOSTNAME, socket.gethostname()) != socket.gethostname():
        return False  # another machine's run (a shared engine): not ours to judge
    try:
        pid = int(obj_labels.get(L.PID, ""))
    except ValueError:
        return True
    return not L.process_alive(pid, obj_labels.get(L.PID_START, ""))


def _remove(client: docker.DockerClient, wanted: Callable[[dict[str, str]], bool]) -> Reaped:
    counts = {"containers": 0, "networks": 0, "volumes": 0}
    label_filter = {"label": L.RUN}
    kinds: list[tuple[str, Callable[[], list[Any]], Callable[[Any], None]]] = [
        ("containers", lambda: client.containers.list(ignore_removed=True, all=True, filters=label_filter),
         lambda c: c.remove(force=True, v=True)),
        ("networks", lambda: client.networks.list(filters=label_filter), lambda n: n.remove()),
        ("volumes", lambda: client.volumes.list(filters=label_filter), lambda v: v.remove(force=True)),
    ]
    for kind, listing, remove in kinds:  # containers first: networks and volumes are in use until then
        for obj in listing():
            obj_labels = obj.attrs.get("Labels") or obj.attrs.get("Config", {}).get("Labels") or {}
            if L.RUN not in obj_labels or not wanted(obj_labels):
                continue
            try:
                remove(obj)
                counts[kind] += 1
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:
                log.warning("could not remove %s %s: %s", kind, getattr(obj, "name", obj), exc)
    return Reaped(**counts)


def reap_orphans(client: docker.DockerClient) -> Reaped:
    """Remove the objects of harness runs whose process no longer exists."""
    return _remove(client, _orphaned)


def remove_all(client: docker.DockerClient) -> Reaped:
    """Remove every object the harness created, whichever run made it."""
    return _remove(client, lambda _labels: True)


def remove_run(client: docker.DockerClient, run_id: str) -> Reaped:
    """Remove every object of one run."""
    return _remove(client, lambda obj_labels: obj_labels.get(L.RUN) == run_id)


def leftovers(client: docker.DockerClient, run_id: str | None = None) -> list[str]:
    """Names of harness objects still present (of one run, or of all): for checks and tests."""
    label = f"{L.RUN}={run_id}" if run_id else L.RUN
    containers = client.containers.list(ignore_removed=True, all=True, filters={"label": label})
    names = [f"container {c.name}" for c in containers]
    names += [f"network {n.name}" for n in client.networks.list(filters={"label": label})]
    names += [f"volume {v.name}" for v in client.volumes.list(filters={"label": label})]
    return names
