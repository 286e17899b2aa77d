"""The usual way to get a running stack: reap leftovers, make the images, start it."""

from __future__ import annotations

import logging
from pathlib import Path

import docker

from harness.stack.definition import StackDefinition, load_definition
from harness.stack.docker_env import docker_client
from harness.stack.images import Progress, ensure_stack_images
from harness.stack.links import proxy_server
from harness.stack.reaper import reap_orphans
from harness.stack.stack import Stack

log = logging.getLogger(__name__)


Prepared = tuple[StackDefinition, docker.DockerClient, dict[str, str]]
"""What `prepare` gives: the loaded definition, a Docker client, and each service's image."""


def prepare(definition: StackDefinition | Path | str, *, client: docker.DockerClient | None = None,
            progress: Progress = log.info) -> Prepared:
    """Load the definition (saying its warnings), connect, reap what dead runs left, and make sure the
    images exist."""
    if not isinstance(definition, StackDefinition):
        definition = load_definition(definition)
    for warning in definition.warnings:
        progress(f"warning: {warning}")
    client = client or docker_client()
    reaped = reap_orphans(client)
    if reaped.total:
        progress(f"removed {reaped.total} object(s) left by runs that are gone")
    images = {name: built.tag for name, built in ensure_stack_images(client, definition, progress).items()}
    if definition.links:
        proxy_server(client, progress)  # its image made now, before any stack's clock starts
    return definition, client, images


def launch(definition: StackDefinition | Path | str, *, progress: Progress = log.info) -> Stack:
    """A healthy stack (the caller brings it down, or uses it as a context manager)."""
    definition, client, images = prepare(definition, progress=progress)
    return Stack(definition, images, client=client).up()
