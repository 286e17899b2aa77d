"""Connecting to Docker: one place that sets testcontainers up for these machines and turns
"no engine" into a message that says what to do."""

from __future__ import annotations

import os

import docker
import docker.errors

from harness.errors import DockerUnavailable

DOCKER_TIMEOUT_SECONDS = 120

# Ryuk's image cannot be pulled without a registry; the harness reaps by its own labels instead.
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
# Services are reached on loopback only, never on a bridge address.
os.environ.setdefault("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")


def docker_client() -> docker.DockerClient:
    """A client whose engine answers, or DockerUnavailable with the next step to take."""
    try:
        client = docker.from_env(timeout=DOCKER_TIMEOUT_SECONDS)
        client.ping()
    except (docker.errors.DockerException, OSError) as exc:
        raise DockerUnavailable(
            f"no Docker engine answers ({exc}). Start one with `make docker` "
            "(scripts/ensure-docker.sh installs and starts it on Debian), or start Docker Desktop."
        ) from exc
    return client
