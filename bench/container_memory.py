"""Peak memory of a process tree (a gameday and its lane processes) and of the stacks it starts,
sampled while it runs.

Processes: the sum of the resident set sizes (/proc/PID/statm) of every process below the root
(the root, `/usr/bin/time`, left out); `/usr/bin/time %M` gives only the largest single process.

Memory is what `docker stats` shows: the container's cgroup usage minus its inactive file cache.
It is read from the cgroup files (cgroup v1 `memory/docker/ID/`, or v2 `system.slice/docker-ID.scope`
or `docker/ID`): a file read per container per sample, cheap enough to sample every half second on
a busy 2-core machine. Where no cgroup file is found, the docker API's one-shot stats are used.

Only containers whose `gameday.pid` label names a process of the watched tree are counted, so stacks
of other people's runs on the same machine are left out; a fault's helper container is counted
with its stack (it carries the stack's `gameday.stack-id`).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import docker
import docker.errors

from harness.stack.labels import PID, SERVICE, STACK_ID

SAMPLE_INTERVAL = 0.5
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
LIST_INTERVAL = 1.0  # containers come and go with each drill: list them again this often
CGROUP_ROOT = Path("/sys/fs/cgroup")
MB = 1024 * 1024


def _children_map() -> dict[int, list[int]]:
    """Parent pid -> child pids, from /proc."""
    children: dict[int, list[int]] = defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # gone meanwhile
        fields = text.rsplit(")", 1)[1].split()
        children[int(fields[1])].append(int(stat.parent.name))
    return children


def children(pid: int) -> list[int]:
    return list(_children_map().get(pid, []))


def descendants(root: int) -> set[int]:
    """`root` and every process below it."""
    tree = _children_map()
    found, todo = {root}, [root]
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _stat_value(memory_stat: str, key: str) -> int:
    for line in memory_stat.splitlines():
        name, _, value = line.partition(" ")
        if name == key:
            return int(value)
    return 0


def cgroup_memory(container_id: str) -> int | None:
    """Bytes in use by the container as `docker stats` counts them, or None without a cgroup file."""
    v1 = CGROUP_ROOT / "memory" / "docker" / container_id
    if (v1 / "memory.usage_in_bytes").exists():
        try:
            usage = int((v1 / "memory.usage_in_bytes").read_text())
            return usage - _stat_value((v1 / "memory.stat").read_text(), "total_inactive_file")
        except (OSError, ValueError):
            return None
    for v2 in (CGROUP_ROOT / "system.slice" / f"docker-{container_id}.scope", CGROUP_ROOT / "docker" / container_id):
        if (v2 / "memory.current").exists():
            try:
                usage = int((v2 / "memory.current").read_text())
                return usage - _stat_value((v2 / "memory.stat").read_text(), "inactive_file")
            except (OSError, ValueError):
                return None
    return None


def api_memory(container: Any) -> int | None:
    """The same figure from the docker API (slower: one request per container)."""
    try:
        stats = container.stats(stream=False, one_shot=True)
    except docker.errors.APIError:
        return None
    memory = stats.get("memory_stats") or {}
    if "usage" not in memory:
        return None
    details = memory.get("stats") or {}
    return int(memory["usage"]) - int(details.get("total_inactive_file", details.get("inactive_file", 0)))


@dataclass
class StackPeaks:
    """The peaks seen: per stack id, its containers together; per service, one container."""

    by_stack: dict[str, int] = field(default_factory=dict)
    by_service: dict[str, int] = field(default_factory=dict)
    processes: int = 0  # the process tree's resident memory, all processes together
    samples: int = 0
    source: str = "none"  # cgroup | docker-api | mixed | none

    def largest_stack_mb(self) -> float | None:
        return max(self.by_stack.values()) / MB if self.by_stack else None

    def processes_mb(self) -> float | None:
        return self.processes / MB if self.processes else None


def resident(pid: int) -> int:
    """Bytes of `pid` resident in memory, 0 when it is gone."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


class MemorySampler:
    """`with MemorySampler(client, pid) as sampler:` samples in a thread until the block ends;
    then `sampler.peaks`."""

    def __init__(self, client: docker.DockerClient, root_pid: int, interval: float = SAMPLE_INTERVAL) -> None:
        self.client = client
        self.root_pid = root_pid
        self.interval = interval
        self.peaks = StackPeaks()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-stack-memory", daemon=True)
        self._sources: set[str] = set()

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self.peaks.source = "mixed" if len(self._sources) > 1 else next(iter(self._sources), "none")

    def _watched(self) -> tuple[set[int], list[Any]]:
        """The processes below the root, and the running containers they created."""
        pids = descendants(self.root_pid) - {self.root_pid}
        labels = {str(pid) for pid in pids}
        with contextlib.suppress(docker.errors.APIError):
            running = self.client.containers.list(ignore_removed=True, filters={"label": STACK_ID})
            return pids, [c for c in running if c.labels.get(PID) in labels]
        return pids, []

    def _run(self) -> None:
        pids: set[int] = set()
        containers: list[Any] = []
        listed = 0.0
        while not self._stop.is_set():
            if time.monotonic() - listed >= LIST_INTERVAL:
                (pids, containers), listed = self._watched(), time.monotonic()
            self.peaks.processes = max(self.peaks.processes, sum(resident(pid) for pid in pids))
            self._sample(containers)
            self._stop.wait(self.interval)

    def _sample(self, containers: list[Any]) -> None:
        totals: dict[str, int] = defaultdict(int)
        for container in containers:
            used = cgroup_memory(container.id)
            source = "cgroup"
            if used is None:
                used, source = api_memory(container), "docker-api"
            if used is None:
                continue  # removed since it was listed
            self._sources.add(source)
            totals[container.labels[STACK_ID]] += used
            service = container.labels.get(SERVICE, "helper")
            self.peaks.by_service[service] = max(self.peaks.by_service.get(service, 0), used)
        for stack_id, total in totals.items():
            self.peaks.by_stack[stack_id] = max(self.peaks.by_stack.get(stack_id, 0), total)
        self.peaks.samples += 1
