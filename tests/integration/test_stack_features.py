"""Stack definitions' service features, for real: one image run by several services, `command`
overrides (shell and exec form), a local image used as it is, sized tmpfs, a memory limit, named
volumes shared by name and kept across a restart, readiness checks that wait (exec, tcp) and that
can say no. Built from the reference stack's db image, so nothing new is built.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import docker.models.images
import pytest

from harness.errors import ImageBuildError, StackStartError
from harness.stack import labels as L
from harness.stack.definition import load_definition
from harness.stack.host import ExecResult
from harness.stack.launch import Prepared, prepare
from harness.stack.reaper import reap_orphans
from harness.stack.stack import Stack
from harness.stack.waits import wait_for

CHATKIT_DIR = Path(__file__).resolve().parents[2] / "stack" / "chatkit"
SPOOL = "/var/lib/app/spool"
MiB = 1024 * 1024
WORKER_LOOP = f"sleep 2; touch /tmp/ready; while true; do date +%s > {SPOOL}/heartbeat; sleep 1; done"

# Three services, two images: db builds the reference db recipe (same recipe, same tag: no build),
# worker runs that build with its own command, tool runs the built tag as a local image. db comes
# last in the start order, so what holds right after up() proves that its tcp check was waited for.
FEATURES = """\
name = "features"
default_host = "worker"

[services.worker]
image = "gameday/chatkit-db"
command = "{loop}"
tmpfs = {{ "{spool}" = "16m" }}
volumes = {{ shared = "/data" }}

[services.worker.health]
exec = "test -f /tmp/ready"
timeout = "30s"
interval = "200ms"

[services.tool]
image = "{local}"
command = ["sleep", "infinity"]
depends_on = ["worker"]

[services.db]
image = "gameday/chatkit-db"
dockerfile = "{chatkit}/images/db/Dockerfile"
context = "{chatkit}"
inputs = ["images/db/**", "images/common/**"]
depends_on = ["tool"]
memory = "256m"
volumes = {{ shared = "/srv/shared" }}

[services.db.health]
tcp = 5432
timeout = "60s"
interval = "200ms"
"""

# Two services on one local image, sharing a named volume: nothing to wait for but the engine.
PAIR = """\
name = "volumes"
default_host = "writer"

[services.writer]
image = "{local}"
command = ["sleep", "infinity"]
volumes = {{ shared = "/data" }}
tmpfs = {{ "/scratch" = "1m" }}

[services.reader]
image = "{local}"
command = ["sleep", "infinity"]
volumes = {{ shared = "/mnt/shared" }}
"""

NOBODY_LISTENS = """\
name = "deaf"

[services.tool]
image = "{local}"
command = ["sleep", "infinity"]

[services.tool.health]
tcp = 9
timeout = "2s"
"""


@dataclass(frozen=True)
class Started:
    stack: Stack
    images: dict[str, str]
    ready_file: ExecResult  # on worker, right after up(): its exec readiness check was waited for
    db_accepts: ExecResult  # on db, right after up(): pg_isready


def write(tmp: Path, template: str, local: str) -> Path:
    """The definition, next to a copy of the reference db recipe: a build context must lie in the
    definition's folder (the copy hashes to the same tag, so nothing is built)."""
    chatkit = tmp / "chatkit"
    for part in ("images/db", "images/common"):
        shutil.copytree(CHATKIT_DIR / part, chatkit / part, symlinks=True, dirs_exist_ok=True)
    path = tmp / "stack.toml"
    path.write_text(template.format(loop=WORKER_LOOP, spool=SPOOL, local=local, chatkit=chatkit))
    return path


def stack_objects(client: docker.DockerClient, stack: Stack) -> list[str]:
    wanted = {"label": f"{L.STACK_ID}={stack.stack_id}"}
    return ([f"container {c.name}" for c in client.containers.list(ignore_removed=True, all=True, filters=wanted)]
            + [f"network {n.name}" for n in client.networks.list(filters=wanted)]
            + [f"volume {v.name}" for v in client.volumes.list(filters=wanted)])


def cmdline(stack: Stack, service: str) -> list[str]:
    result = stack.host(service).exec("cat /proc/1/cmdline")
    assert result.ok, result.stderr
    return result.stdout.rstrip("\0").split("\0")


@pytest.fixture(scope="module")
def features(chatkit_parts: Prepared, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Started]:
    _, client, chatkit_images = chatkit_parts
    path = write(tmp_path_factory.mktemp("features"), FEATURES, local=chatkit_images["db"])
    definition, client, images = prepare(path, client=client)
    stack = Stack(definition, images, client=client)
    try:
        stack.up()
        started = Started(stack, images, stack.host("worker").exec("test -f /tmp/ready"),
                          stack.host("db").exec("pg_isready -h 127.0.0.1 -p 5432"))
        yield started
    finally:
        stack.down()
    assert stack_objects(client, stack) == []


# -- images and commands ---------------------------------------------------------------------------


def test_one_build_serves_two_services_and_a_local_image_is_used_as_it_is(
        features: Started, chatkit_parts: Prepared) -> None:
    _, _, chatkit_images = chatkit_parts
    assert features.images["db"] == features.images["worker"] == chatkit_images["db"]
    assert features.images["tool"] == chatkit_images["db"]  # the local reference, as written
    for service in ("db", "worker", "tool"):
        assert features.stack.container(service).attrs["Config"]["Image"] == chatkit_images["db"]


def test_a_command_string_runs_under_sh_and_a_list_is_the_argv(features: Started) -> None:
    assert cmdline(features.stack, "worker") == ["/bin/sh", "-c", WORKER_LOOP]
    assert cmdline(features.stack, "tool") == ["sleep", "infinity"]
    # No command: the image's CMD (supervisord is a Python script, run by its interpreter).
    supervisord = ["/usr/bin/supervisord", "-n", "-c", "/etc/supervisor/supervisord.conf"]
    assert cmdline(features.stack, "db")[-4:] == supervisord
    assert features.stack.host("worker").exec(f"cat {SPOOL}/heartbeat").ok  # the loop really runs
    processes = features.stack.host("tool").exec("ps -eo args=").stdout
    assert "supervisord" not in processes
    assert "postgres" not in processes


# -- readiness -------------------------------------------------------------------------------------


def test_up_waited_for_the_exec_and_tcp_readiness_checks(features: Started) -> None:
    assert features.ready_file.ok, "up() returned before worker's exec check held"
    assert features.db_accepts.ok, f"up() returned before db accepted connections: {features.db_accepts.stdout}"
    healthy, seen = features.stack.check_health("db")
    assert healthy
    assert seen == "tcp 5432: accepts connections"
    assert features.stack.container("db").attrs["HostConfig"]["PortBindings"] in (None, {})  # nothing published


def test_a_tcp_check_on_a_port_nobody_listens_on_fails_the_start_and_leaves_nothing(
        chatkit_parts: Prepared, tmp_path: Path) -> None:
    _, client, chatkit_images = chatkit_parts
    definition = load_definition(write(tmp_path, NOBODY_LISTENS, local=chatkit_images["db"]))
    stack = Stack(definition, {"tool": chatkit_images["db"]}, client=client)
    with pytest.raises(StackStartError) as failure:
        stack.up()
    assert failure.value.service == "tool"
    assert "tool was not healthy within 2s" in str(failure.value)
    assert "tcp 9: " in str(failure.value)
    assert "refused" in str(failure.value).lower()
    assert stack_objects(client, stack) == []


# -- tmpfs and memory ------------------------------------------------------------------------------


def test_the_tmpfs_is_mounted_with_its_size_and_fills_up(features: Started) -> None:
    worker = features.stack.host("worker")
    df = worker.exec(f"df -B1 --output=fstype,size {SPOOL} | tail -n 1")
    assert df.stdout.split() == ["tmpfs", str(16 * MiB)]
    try:
        full = worker.exec(f"dd if=/dev/zero of={SPOOL}/fill bs=1M count=32")
        assert not full.ok
        assert "No space left on device" in full.stderr
    finally:
        assert worker.exec(f"rm -f {SPOOL}/fill").ok
    assert features.stack.container("worker").attrs["HostConfig"]["Tmpfs"] == {SPOOL: f"size={16 * MiB}"}


def test_the_memory_limit_is_applied_to_its_service_only(features: Started) -> None:
    assert features.stack.container("db").attrs["HostConfig"]["Memory"] == 256 * MiB
    assert features.stack.container("worker").attrs["HostConfig"]["Memory"] == 0
    inside = features.stack.host("db").exec(
        "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes")
    assert inside.stdout.strip() == str(256 * MiB)


# -- named volumes ---------------------------------------------------------------------------------


def test_a_volume_named_by_two_services_is_one_volume_shared_by_them(features: Started) -> None:
    stack = features.stack
    assert stack.host("worker").exec("echo from-worker > /data/note").ok
    assert stack.host("db").exec("cat /srv/shared/note").stdout == "from-worker\n"
    mounts = {m["Destination"]: m["Name"] for m in stack.container("db").attrs["Mounts"] if m["Type"] == "volume"}
    assert mounts["/srv/shared"] == stack.volume_name("shared")


def test_a_named_volume_keeps_its_files_across_a_restart_and_goes_with_the_stack(
        chatkit_parts: Prepared, tmp_path: Path) -> None:
    _, client, chatkit_images = chatkit_parts
    definition = load_definition(write(tmp_path, PAIR, local=chatkit_images["db"]))
    stack = Stack(definition, {name: chatkit_images["db"] for name in ("writer", "reader")}, client=client)
    try:
        stack.up()
        (volume,) = client.volumes.list(filters={"label": f"{L.STACK_ID}={stack.stack_id}"})
        assert volume.name == stack.volume_name("shared")
        assert volume.attrs["Labels"][L.RUN] == L.current_run().run_id
        assert volume.attrs["Labels"][L.STACK] == "volumes"

        writer = stack.host("writer")
        assert writer.exec("echo kept > /data/note && echo lost > /scratch/note").ok
        before = stack.container("writer").attrs["State"]["StartedAt"]
        stack.container("writer").restart(timeout=1)
        wait_for(lambda: _restarted(stack, before), what="writer running again", timeout=30, interval=0.2)

        assert writer.exec("cat /data/note").stdout == "kept\n"
        assert writer.exec("ls /scratch").stdout == ""  # a tmpfs starts empty; the volume does not
        assert stack.host("reader").exec("cat /mnt/shared/note").stdout == "kept\n"
    finally:
        stack.down()
    assert client.volumes.list(filters={"label": f"{L.STACK_ID}={stack.stack_id}"}) == []
    with pytest.raises(docker.errors.NotFound):
        client.volumes.get(f"{stack.name}-shared")
    assert stack_objects(client, stack) == []


def test_the_reaper_removes_the_volumes_of_a_run_that_died(chatkit_parts: Prepared, tmp_path: Path) -> None:
    _, client, chatkit_images = chatkit_parts
    dead = subprocess.Popen(["true"])
    dead.wait()
    definition = load_definition(write(tmp_path, PAIR, local=chatkit_images["db"]))
    stack = Stack(definition, {name: chatkit_images["db"] for name in ("writer", "reader")}, client=client,
                  run=L.RunIdentity(pid=dead.pid))
    try:
        stack.up()
        assert [v.name for v in client.volumes.list(filters={"label": f"{L.STACK_ID}={stack.stack_id}"})] == [
            stack.volume_name("shared")]
        reaped = reap_orphans(client)
        assert reaped.volumes >= 1
        assert stack_objects(client, stack) == []
    finally:
        stack.down()


def _restarted(stack: Stack, before: str) -> tuple[bool, str]:
    state = stack.container("writer").attrs["State"]
    return state["Running"] and state["StartedAt"] != before, f"{state['Status']} since {state['StartedAt']}"


# -- a local image that is not there ---------------------------------------------------------------


def test_a_missing_local_image_fails_prepare_with_what_to_do_and_is_never_pulled(
        chatkit_parts: Prepared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, client, _ = chatkit_parts
    pulls: list[object] = []
    monkeypatch.setattr(docker.models.images.ImageCollection, "pull", lambda *a, **k: pulls.append(a))
    monkeypatch.setattr(docker.api.client.APIClient, "pull", lambda *a, **k: pulls.append(a))
    path = write(tmp_path, NOBODY_LISTENS, local="gameday/no-such-image:absent")

    with pytest.raises(ImageBuildError) as failure:
        prepare(path, client=client)

    message = str(failure.value)
    assert message.startswith(f"{path.resolve()}:3: services.tool runs the image 'gameday/no-such-image:absent'")
    assert "not on this Docker engine" in message
    assert "docker build -t gameday/no-such-image:absent" in message
    assert failure.value.exit_code == 3
    assert pulls == []
