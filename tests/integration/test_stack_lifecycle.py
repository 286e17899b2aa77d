"""Stack lifecycle guarantees: complete teardown, cleanup after a failed start, reaping orphans."""

from __future__ import annotations

import contextlib
import dataclasses

import docker
import pytest

from harness.errors import StackStartError
from harness.stack import labels as L
from harness.stack.definition import HealthCheck, HttpCheck, StackDefinition
from harness.stack.launch import Prepared
from harness.stack.reaper import reap_orphans
from harness.stack.stack import Stack


def objects_of(client: docker.DockerClient, stack: Stack) -> list[str]:
    wanted = {"label": f"{L.STACK_ID}={stack.stack_id}"}
    return ([c.name for c in client.containers.list(ignore_removed=True, all=True, filters=wanted)]
            + [n.name for n in client.networks.list(filters=wanted)]
            + [v.name for v in client.volumes.list(filters=wanted)])


def expected_objects(definition: StackDefinition) -> int:
    """A container per service, the Toxiproxy server's when the stack has links, the network, the volumes."""
    return len(definition.services) + (1 if definition.links else 0) + 1 + len(definition.volumes)


def test_down_removes_every_container_and_network_of_the_stack(chatkit_parts: Prepared) -> None:
    definition, client, images = chatkit_parts
    assert definition.links  # ChatKit's app reaches db through the stack's proxy
    stack = Stack(definition, images, client=client).up()
    try:
        created = objects_of(client, stack)
        assert len(created) == expected_objects(definition) == 4
        assert f"{stack.name}-toxiproxy" in created
        container_labels = stack.container("app").labels
        for key in (L.RUN, L.PID, L.PID_START, L.CREATED, L.STACK_ID):
            assert container_labels[key]
    finally:
        stack.down()
    assert objects_of(client, stack) == []
    stack.down()  # idempotent


def test_a_stack_already_up_is_entered_as_it_is_and_removed_on_exit(chatkit_parts: Prepared) -> None:
    definition, client, images = chatkit_parts
    started = Stack(definition, images, client=client).up()  # as launch() gives it
    with started as stack:  # `with launch(...) as stack:` must not start a second copy
        assert stack is started
        assert len(objects_of(client, stack)) == expected_objects(definition)
    assert objects_of(client, started) == []


def test_a_service_that_never_gets_healthy_fails_the_start_and_leaves_nothing(chatkit_parts: Prepared) -> None:
    definition, client, images = chatkit_parts
    app = definition.service("app")
    broken_app = dataclasses.replace(app, health=HealthCheck(HttpCheck("/no-such-page", 8000), timeout=3.0))
    broken = dataclasses.replace(definition, services=(definition.service("db"), broken_app))
    stack = Stack(broken, images, client=client)
    with pytest.raises(StackStartError) as failure:
        stack.up()
    assert failure.value.service == "app"
    assert "/no-such-page" in str(failure.value)
    assert "evidence from app" in str(failure.value)
    assert stack.secrets["SECRET_KEY"] not in str(failure.value)
    assert objects_of(client, stack) == []


def test_objects_of_a_dead_process_are_reaped_and_live_ones_kept(chatkit_parts: Prepared) -> None:
    _definition, client, _images = chatkit_parts
    ghost = L.RunIdentity(run_id="ghost0000000", pid=2**22 - 7)  # a pid no process has
    orphan = client.networks.create("gameday-reaper-test-orphan", labels=ghost.labels())
    mine = client.networks.create("gameday-reaper-test-mine", labels=L.current_run().labels())
    try:
        reaped = reap_orphans(client)
        names = {n.name for n in client.networks.list(filters={"label": L.RUN})}
        assert "gameday-reaper-test-orphan" not in names
        assert "gameday-reaper-test-mine" in names
        assert reaped.networks >= 1
    finally:
        for network in (orphan, mine):
            with contextlib.suppress(docker.errors.NotFound):
                network.remove()
