"""The Toxiproxy server of a stack with proxied links (a Compose file's `x-gameday.links`).

A link says that traffic to one service's port goes through a proxy, so that faults can slow,
stall, reset or cut it (`harness.faults.proxy`). When a definition has links, the stack runs one
more container before its services: a Toxiproxy server on the stack's network, its API published
on 127.0.0.1 only. The harness makes one proxy per link (listening on the link's port, forwarding
to the real service by its name), then starts the services. A link's clients reach the proxy in
one of two ways:

- `from: [app]`: the clients' /etc/hosts name the proxy's address for the target's names (its
  service name and aliases), so the client's own configuration (`db:5432`) is unchanged and every
  connection it makes to the target goes through the proxy. Only the link's port is forwarded:
  a client that uses another port of the same target needs a link for that port too.
- `listen: ALIAS:PORT`: the proxy answers to ALIAS on the stack's network, and clients are
  configured to connect to ALIAS:PORT.

Which server runs: the image named by GAMEDAY_TOXIPROXY_IMAGE (pulled if it is missing), else
the official image when it is on this engine or a registry serves it, else the harness's stand-in
(harness/proxyserver: the same HTTP API for the toxics the harness uses, done for real on TCP),
built locally from the harness's base image. `GAMEDAY_TOXIPROXY_IMAGE=stand-in` always builds and
runs the stand-in. The stack says which it runs (`Stack.proxy_server`), and so does its report.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors

from harness.errors import ImageBuildError
from harness.stack.definition import TOXIPROXY_API_PORT, ImageRecipe, LinkSpec, StackDefinition
from harness.stack.images import Progress, _has_image, build_lock, ensure_base_image, ensure_image

log = logging.getLogger(__name__)

OFFICIAL_IMAGE = "ghcr.io/shopify/toxiproxy:2.12.0"
IMAGE_ENV = "GAMEDAY_TOXIPROXY_IMAGE"
STAND_IN = "stand-in"
STAND_IN_DIR = Path(__file__).resolve().parents[1] / "proxyserver"
STAND_IN_REPOSITORY = "gameday/toxiproxy-fallback"
# The official image's entrypoint is the server; it listens on loopback unless told otherwise.
OFFICIAL_COMMAND = ("-host=0.0.0.0", f"-port={TOXIPROXY_API_PORT}")
READY_TIMEOUT = 30.0
PROXY_SERVICE = "toxiproxy"  # the container's role label and the suffix of its name


@dataclass(frozen=True)
class ProxyServer:
    """The image a stack's Toxiproxy server runs, and how to start it."""

    image: str
    stand_in: bool

    @property
    def command(self) -> tuple[str, ...]:
        return () if self.stand_in else OFFICIAL_COMMAND

    def describe(self) -> str:
        return (f"the harness's Toxiproxy stand-in ({self.image})" if self.stand_in
                else f"Toxiproxy ({self.image})")


_official_missing = False  # a registry refused the official image once: do not ask again in this process


def stand_in_recipe() -> ImageRecipe:
    return ImageRecipe(STAND_IN_REPOSITORY, STAND_IN_DIR / "Dockerfile", STAND_IN_DIR,
                       ("Dockerfile", "toxiproxy_fallback.py"))


def proxy_server(client: docker.DockerClient, progress: Progress = log.info) -> ProxyServer:
    """The Toxiproxy server image to run (see the module's docstring for the order)."""
    global _official_missing
    wanted = os.environ.get(IMAGE_ENV, "").strip()
    if wanted and wanted != STAND_IN:
        if not _has_image(client, wanted) and not _pulled(client, wanted):
            raise ImageBuildError(f"{IMAGE_ENV}={wanted} names an image that is not on this engine and no registry "
                                  f"serves it; load it (docker load -i FILE), or set {IMAGE_ENV}={STAND_IN} "
                                  "to run the harness's stand-in", image=wanted)
        return ProxyServer(wanted, stand_in=False)
    if not wanted:
        if _has_image(client, OFFICIAL_IMAGE):
            return ProxyServer(OFFICIAL_IMAGE, stand_in=False)
        if not _official_missing:
            if _pulled(client, OFFICIAL_IMAGE):
                return ProxyServer(OFFICIAL_IMAGE, stand_in=False)
            _official_missing = True
            progress(f"no registry serves {OFFICIAL_IMAGE}: the stack's links run through the harness's "
                     "Toxiproxy stand-in")
    with build_lock():
        base = ensure_base_image(client, progress)
        return ProxyServer(ensure_image(client, stand_in_recipe(), base, progress).tag, stand_in=True)


def _pulled(client: docker.DockerClient, image: str) -> bool:
    repository, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "latest")
    try:
        client.images.pull(repository, tag=tag)
    except docker.errors.APIError as exc:
        log.info("could not pull %s: %s", image, exc)
        return False
    return True


def proxy_aliases(definition: StackDefinition) -> tuple[str, ...]:
    """The names the proxy answers to on the stack's network (`listen:` links)."""
    return tuple(dict.fromkeys(link.listen_alias for link in definition.links if link.listen_alias))


def extra_hosts(definition: StackDefinition, service: str, proxy_address: str) -> dict[str, str]:
    """/etc/hosts entries of a link's client: every name of each target it reaches through the proxy."""
    hosts: dict[str, str] = {}
    for link in definition.links:
        if service in link.clients:
            for name in definition.service(link.target).aliases or (link.target,):
                hosts[name] = proxy_address
            hosts[link.target] = proxy_address
    return hosts


def proxy_definition(link: LinkSpec) -> dict[str, Any]:
    """The proxy of a link as Toxiproxy's API takes it."""
    return {"name": link.name, "listen": f"0.0.0.0:{link.listen}", "upstream": link.upstream, "enabled": True}
