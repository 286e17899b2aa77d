"""Images without a registry: a Debian base made locally when none can be pulled, and stack
images built from their recipes only when a recipe's inputs changed.

Each built image is tagged `REPOSITORY:HASH`, where HASH covers the base image, the Dockerfile,
the build arguments and every input file, so "rebuild only when the recipe changed" is a tag
lookup. Builds of several processes (pytest-xdist workers, parallel gamedays) are serialised
with a file lock, so the same image is never built twice at once. Services sharing a recipe share
its one build; a local image (no recipe) must already be present: it is never built or pulled.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors

from harness.errors import ImageBuildError
from harness.stack.definition import ImageRecipe, LocalImage, StackDefinition
from harness.stack.labels import LABEL_PREFIX

log = logging.getLogger(__name__)

REGISTRY_BASE = "debian:bookworm-slim"
LOCAL_BASE = "gameday/debian:bookworm"
BASE_ENV = "GAMEDAY_BASE_IMAGE"
MIRROR_ENV = "GAMEDAY_DEBIAN_MIRROR"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEBOOTSTRAP_TIMEOUT = 900.0
PREPARE_TIMEOUT = 1200.0
BUILD_LOCK = Path(tempfile.gettempdir()) / "gameday-image-build.lock"
BUILD_LOG_TAIL_LINES = 40
RECIPE_HASH_LABEL = f"{LABEL_PREFIX}recipe-hash"
_IGNORED_PARTS = {"__pycache__", ".git", ".mypy_cache", ".pytest_cache"}

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    rebuilt: bool
    seconds: float


@contextlib.contextmanager
def build_lock(path: Path = BUILD_LOCK) -> Iterator[None]:
    """An exclusive lock across processes for the duration of image work."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _has_image(client: docker.DockerClient, name: str) -> bool:
    try:
        client.images.get(name)
    except docker.errors.ImageNotFound:
        return False
    return True


def ensure_base_image(client: docker.DockerClient, progress: Progress = log.info) -> str:
    """The base every recipe builds FROM: GAMEDAY_BASE_IMAGE, else debian:bookworm-slim when it is
    present or can be pulled, else a local image made once from Debian's packages."""
    forced = os.environ.get(BASE_ENV)
    if forced:
        if not _has_image(client, forced):
            raise ImageBuildError(f"{BASE_ENV}={forced} names an image that is not present; "
                                  "build or load it first, or unset the variable", image=forced)
        return forced
    for name in (REGISTRY_BASE, LOCAL_BASE):
        if _has_image(client, name):
            return name
    try:
        repository, tag = REGISTRY_BASE.split(":")
        client.images.pull(repository, tag=tag)
        return REGISTRY_BASE
    except docker.errors.APIError:
        progress(f"no registry answers for {REGISTRY_BASE}; making {LOCAL_BASE} from Debian's packages")
    make_local_base(client, progress)
    return LOCAL_BASE


def make_local_base(client: docker.DockerClient, progress: Progress = log.info) -> None:
    """debootstrap a minimal bookworm and import it as LOCAL_BASE (about 40 s, done once)."""
    if shutil.which("debootstrap") is None:
        raise ImageBuildError(
            "no base image can be pulled and debootstrap is not installed; "
            "install it (apt-get install debootstrap) or set GAMEDAY_BASE_IMAGE to a local Debian image",
            image=LOCAL_BASE)
    if os.geteuid() != 0:
        raise ImageBuildError("making a base image with debootstrap needs root; run `make images` as root "
                              "once, or set GAMEDAY_BASE_IMAGE to a local Debian image", image=LOCAL_BASE)
    mirror = os.environ.get(MIRROR_ENV, DEFAULT_MIRROR)
    work = Path(tempfile.mkdtemp(prefix="gameday-rootfs-", dir="/var/tmp"))
    rootfs, tarball = work / "rootfs", work / "rootfs.tar"
    try:
        started = time.monotonic()
        result = subprocess.run(
            ["debootstrap", "--variant=minbase", "bookworm", str(rootfs), mirror],
            capture_output=True, text=True, timeout=DEBOOTSTRAP_TIMEOUT, check=False)
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-BUILD_LOG_TAIL_LINES:])
            raise ImageBuildError(f"debootstrap from {mirror} failed (exit {result.returncode})",
                                  image=LOCAL_BASE, log_tail=tail)
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(tarball), "."], check=True,
                       capture_output=True, timeout=DEBOOTSTRAP_TIMEOUT)
        repository, tag = LOCAL_BASE.split(":")
        client.api.import_image_from_file(
            str(tarball), repository=repository, tag=tag,
            changes=[f"LABEL {LABEL_PREFIX}image=base", 'CMD ["/bin/bash"]'])
        progress(f"made {LOCAL_BASE} in {time.monotonic() - started:.0f}s")
    except subprocess.TimeoutExpired as exc:
        raise ImageBuildError(f"making the base image took longer than {exc.timeout:.0f}s",
                              image=LOCAL_BASE) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _input_files(recipe: ImageRecipe) -> list[Path]:
    files: set[Path] = set()
    for pattern in recipe.inputs:
        # pathlib's "dir/**" names folders only; people mean everything below the folder.
        pattern = f"{pattern}/*" if pattern.endswith("**") else pattern
        for path in recipe.context.glob(pattern):
            inside = path.relative_to(recipe.context).parts
            if path.is_file() and not _IGNORED_PARTS.intersection(inside) and path.suffix != ".pyc":
                files.add(path)
    files.add(recipe.dockerfile)
    return sorted(files)


def recipe_hash(recipe: ImageRecipe, base_id: str) -> str:
    """A digest of everything that decides the image: base, Dockerfile, build args, inputs."""
    digest = hashlib.sha256()
    digest.update(f"base={base_id}\n".encode())
    digest.update(f"dockerfile={recipe.dockerfile.relative_to(recipe.context)}\n".encode())
    for key, value in recipe.build_args:
        digest.update(f"arg {key}={value}\n".encode())
    if recipe.target:  # only when set, so that recipes without one keep their tags
        digest.update(f"target={recipe.target}\n".encode())
    if recipe.base_arg != "BASE":
        digest.update(f"base-arg={recipe.base_arg}\n".encode())
    for path in _input_files(recipe):
        rel = path.relative_to(recipe.context)
        executable = os.access(path, os.X_OK)
        digest.update(f"file {rel} x={executable}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def run_prepare(recipe: ImageRecipe, progress: Progress = log.info) -> None:
    """The recipe's host step (x-gameday.prepare), run in its context; ImageBuildError when it fails."""
    if not recipe.prepare:
        return
    started = time.monotonic()
    shown = " ".join(recipe.prepare)
    try:
        result = subprocess.run([str(recipe.context / recipe.prepare[0]), *recipe.prepare[1:]], cwd=recipe.context,
                                capture_output=True, text=True, timeout=PREPARE_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ImageBuildError(f"the host step `{shown}` ran longer than {exc.timeout:.0f}s",
                              image=recipe.repository) from exc
    except OSError as exc:
        raise ImageBuildError(f"the host step `{shown}` could not start: {exc}", image=recipe.repository) from exc
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-BUILD_LOG_TAIL_LINES:])
        raise ImageBuildError(f"the host step `{shown}` (in {recipe.context}) failed with exit {result.returncode}",
                              image=recipe.repository, log_tail=tail)
    seconds = time.monotonic() - started
    if seconds >= 1:
        progress(f"prepared {recipe.repository} on this machine (`{shown}`) in {seconds:.0f}s")


def ensure_image(client: docker.DockerClient, recipe: ImageRecipe, base: str,
                 progress: Progress = log.info) -> BuiltImage:
    """The image for `recipe`, built only if no image with its recipe hash exists yet (its host
    step runs first: what it makes is part of the recipe's inputs)."""
    started = time.monotonic()
    run_prepare(recipe, progress)
    base_id = client.images.get(base).id
    tag = f"{recipe.repository}:{recipe_hash(recipe, base_id)[:16]}"
    if _has_image(client, tag):
        return BuiltImage(tag, rebuilt=False, seconds=time.monotonic() - started)
    progress(f"building {tag} (FROM {base})")
    lines: list[str] = []
    try:
        stream: Any = client.api.build(
            path=str(recipe.context),
            dockerfile=str(recipe.dockerfile.relative_to(recipe.context)),
            tag=tag,
            buildargs={recipe.base_arg: base, **dict(recipe.build_args)},
            **({"target": recipe.target} if recipe.target else {}),
            labels={RECIPE_HASH_LABEL: tag.rsplit(":", 1)[1], f"{LABEL_PREFIX}image": recipe.repository},
            rm=True, forcerm=True, pull=False, decode=True)
        for chunk in stream:
            if "error" in chunk:
                lines.append(str(chunk["error"]))
                raise ImageBuildError(f"building {tag} failed: {str(chunk['error']).strip()}",
                                      image=tag, log_tail="\n".join(lines[-BUILD_LOG_TAIL_LINES:]))
            if "stream" in chunk:
                lines.extend(str(chunk["stream"]).rstrip("\n").splitlines())
    except docker.errors.APIError as exc:
        raise ImageBuildError(f"building {tag} failed: {exc.explanation or exc}", image=tag,
                              log_tail="\n".join(lines[-BUILD_LOG_TAIL_LINES:])) from exc
    client.images.get(tag).tag(recipe.repository, "latest")
    seconds = time.monotonic() - started
    progress(f"built {tag} in {seconds:.0f}s")
    return BuiltImage(tag, rebuilt=True, seconds=seconds)


def ensure_local_image(client: docker.DockerClient, image: LocalImage, service: str,
                       definition: StackDefinition) -> BuiltImage:
    """A local image as it is, or ImageBuildError saying what is missing and what to do (no pull:
    there may be no registry, and an image fetched behind the user's back is not the one they meant)."""
    started = time.monotonic()
    if not _has_image(client, image.reference):
        spec = definition.service(service)
        where = f"{definition.path}:{spec.line}" if spec.line else str(definition.path)
        raise ImageBuildError(
            f"{where}: services.{service} runs the image {image.reference!r}, which is not on this Docker "
            "engine; the harness builds no recipe for it and never pulls. Build or load it first "
            f"(docker build -t {image.reference} ..., or docker load -i FILE), or give the service a "
            "dockerfile (or name the repository another service of the stack builds)",
            image=image.reference)
    return BuiltImage(image.reference, rebuilt=False, seconds=time.monotonic() - started)


def ensure_stack_images(client: docker.DockerClient, definition: StackDefinition,
                        progress: Progress = log.info) -> dict[str, BuiltImage]:
    """Every service's image, keyed by service name; builds what is missing (each recipe once,
    however many services run it), under the lock. Local images are checked first: a missing one
    fails before any build starts."""
    found = {spec.name: ensure_local_image(client, spec.image, spec.name, definition)
             for spec in definition.services if isinstance(spec.image, LocalImage)}
    recipes = [spec.image for spec in definition.services if isinstance(spec.image, ImageRecipe)]
    if not recipes:
        return found
    with build_lock():
        base = ensure_base_image(client, progress)
        built: dict[ImageRecipe, BuiltImage] = {}
        for recipe in recipes:
            if recipe not in built:
                built[recipe] = ensure_image(client, recipe, base, progress)
    return {spec.name: found[spec.name] if isinstance(spec.image, LocalImage) else built[spec.image]
            for spec in definition.services}
