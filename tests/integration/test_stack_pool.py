"""StackPool: a spare stack for the next drill starts in the background, every drill still gets
a stack nobody used, and nothing the pool started survives `close()`."""

from __future__ import annotations

import docker

from harness.gameday import StackPool
from harness.scenario import Scenario, get_scenario, load_scenarios
from harness.stack import labels as L
from harness.stack.definition import StackDefinition
from harness.stack.stack import Stack
from harness.stack.waits import wait_for

Parts = tuple[StackDefinition, docker.DockerClient, dict[str, str]]


def scenario(scenario_id: str = "db-down") -> Scenario:
    load_scenarios(["scenarios"])
    return get_scenario(scenario_id)


def stack_ids_alive(client: docker.DockerClient) -> set[str]:
    """Stack ids of this process's containers (its own run label: parallel tests are not counted)."""
    run = L.current_run().labels(stack="x", stack_id="x")[L.RUN]
    containers = client.containers.list(ignore_removed=True, all=True, filters={"label": f"{L.RUN}={run}"})
    return {c.labels[L.STACK_ID] for c in containers}


def healthy(stack: Stack) -> bool:
    return all(stack.check_health(spec.name)[0] for spec in stack.definition.services if spec.health)


def test_the_spare_is_a_fresh_healthy_stack_and_the_used_one_goes(chatkit_parts: Parts) -> None:
    docker_client = chatkit_parts[1]
    first_drill, next_drill = scenario("db-down"), scenario("pool-exhausted")
    with StackPool() as pool:
        first = pool.take(first_drill, ahead=lambda: next_drill)
        assert healthy(first)
        wait_for(lambda: (len(stack_ids_alive(docker_client) - {first.stack_id}) == 1, "no spare container yet"),
                 what="the spare stack starting in the background", timeout=30, interval=0.1)
        pool.give_back(first)
        second = pool.take(next_drill)
        assert second.stack_id != first.stack_id
        assert healthy(second)
        wait_for(lambda: (first.stack_id not in stack_ids_alive(docker_client), "first stack still there"),
                 what="the used stack removed in the background", timeout=30, interval=0.2)
        pool.give_back(second)
    assert stack_ids_alive(docker_client) == set()


def test_close_removes_a_spare_nobody_took(chatkit_parts: Parts) -> None:
    docker_client = chatkit_parts[1]
    pool = StackPool()
    first = pool.take(scenario(), ahead=scenario)
    pool.give_back(first)
    pool.close()  # the spare may still be starting: it is removed anyway
    assert stack_ids_alive(docker_client) == set()


def test_a_spare_that_fails_to_start_is_replaced(chatkit_parts: Parts) -> None:
    docker_client = chatkit_parts[1]
    """The next drill still gets a healthy stack, started on demand, and the broken spare is gone."""
    pool = StackPool()
    try:
        drill = scenario()
        good = pool.take(drill)
        definition, client, images = pool._prepared[drill.stack.resolve()]
        broken_images = {**images, "app": "gameday/no-such-image:never-built"}
        pool._prepared[drill.stack.resolve()] = (definition, client, broken_images)
        pool.make_spare(drill)
        pool._prepared[drill.stack.resolve()] = (definition, client, images)
        replacement = pool.take(drill)
        assert healthy(replacement)
        assert stack_ids_alive(docker_client) == {good.stack_id, replacement.stack_id}
        pool.give_back(good)
        pool.give_back(replacement)
    finally:
        pool.close()
    assert stack_ids_alive(docker_client) == set()
