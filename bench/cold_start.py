"""Cold start: from no harness image at all to the first healthy stack (`gameday check`).

Every image whose tag starts with `gameday/` is removed (the stack's images, the network helper
image and the debootstrap base `gameday/debian:bookworm`), then `gameday check` runs: it builds the
base and the images, brings a stack up and reports it healthy. The time to its "healthy" line is
the cold start; the rest (the health table, tear-down) is reported apart. At the end every image is
built again, whatever happened, so the machine is left as it was found.

It refuses to start while a running container uses one of those images (someone else's stack or
test), since removing the images would break it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import docker
import docker.errors
from gameday_runs import GAMEDAY, ROOT

from harness.faults.network import ensure_nettools_image
from harness.stack.images import BASE_ENV, LOCAL_BASE, REGISTRY_BASE

PREFIX = "gameday/"
CHECK_TIMEOUT = 1800.0  # debootstrap + two image builds take ~4 min here; a hung build must end
REMOVE_PASSES = 4  # children first: the base cannot go while images built FROM it exist
HEALTHY_LINE = " healthy in "  # `gameday check` prints "stack NAME healthy in 4.9s"


class ImagesInUse(Exception):
    """Running containers use the harness's images: removing them would break someone's work."""


@dataclass(frozen=True)
class ColdRun:
    to_healthy: float | None  # None when the stack never reported healthy
    total: float
    exit_code: int
    output_tail: str


def harness_images(client: docker.DockerClient) -> list[Any]:
    return [image for image in client.images.list() if any(t.startswith(PREFIX) for t in image.tags)]


def base_note(client: docker.DockerClient) -> str:
    """Which base a cold build starts from (only gameday/* images are removed)."""
    if os.environ.get(BASE_ENV):
        return f"base from {BASE_ENV}={os.environ[BASE_ENV]} (kept)"
    try:
        client.images.get(REGISTRY_BASE)
    except docker.errors.ImageNotFound:
        return f"base {LOCAL_BASE} made with debootstrap"
    return f"base {REGISTRY_BASE} present (kept): no debootstrap"


def refuse_if_in_use(client: docker.DockerClient) -> None:
    ids = {image.id for image in harness_images(client)}
    users = [c.name for c in client.containers.list(ignore_removed=True) if c.attrs.get("Image") in ids]
    if users:
        raise ImagesInUse(f"{len(users)} running container(s) use gameday/* images ({', '.join(users[:3])}"
                          f"{', ...' if len(users) > 3 else ''}); cold start not measured")


def remove_harness_images(client: docker.DockerClient) -> None:
    """Remove every gameday/* image, children before the base they are built from."""
    for _ in range(REMOVE_PASSES):
        images = harness_images(client)
        if not images:
            return
        for image in images:
            with contextlib.suppress(docker.errors.APIError):  # a parent: next pass
                client.images.remove(image.id, force=True)
    left = [t for image in harness_images(client) for t in image.tags]
    if left:
        raise RuntimeError(f"could not remove {', '.join(left)}")


def timed_check() -> ColdRun:
    """`gameday check`, timed to its "healthy" line and to its end."""
    started = time.monotonic()
    to_healthy = None
    lines: list[str] = []
    process = subprocess.Popen([str(GAMEDAY), "check"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.stdout is not None
    watchdog = threading.Timer(CHECK_TIMEOUT, process.terminate)  # SIGTERM: the stack is removed, the lock freed
    watchdog.start()
    try:
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if to_healthy is None and line.startswith("stack ") and HEALTHY_LINE in line:
                to_healthy = time.monotonic() - started
        process.wait()
    except BaseException:
        process.terminate()
        process.wait()
        raise
    finally:
        watchdog.cancel()
    return ColdRun(to_healthy, time.monotonic() - started, process.returncode, "\n".join(lines[-10:]))


@contextlib.contextmanager
def images_rebuilt_after(client: docker.DockerClient) -> Iterator[None]:
    """Whatever happens inside, leave every harness image built (stack images and network helper)."""
    try:
        yield
    finally:
        subprocess.run([str(GAMEDAY), "build"], cwd=ROOT, check=False, timeout=CHECK_TIMEOUT)
        ensure_nettools_image(client, progress=lambda message: print(f"  {message}", flush=True))


def cold_starts(client: docker.DockerClient, runs: int) -> list[ColdRun]:
    refuse_if_in_use(client)
    results = []
    with images_rebuilt_after(client):
        for number in range(1, runs + 1):
            refuse_if_in_use(client)
            print(f"  cold start {number}/{runs}: removing gameday/* images", flush=True)
            remove_harness_images(client)
            results.append(timed_check())
    return results
