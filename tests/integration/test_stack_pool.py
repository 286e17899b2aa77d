"""StackPool: a spare stack for the next drill starts in the background, every drill still gets
a stack nobody used, and nothing the pool started survives `close()`."""

from __future__ import annotations

from collections.abc import Callable

import docker
import pytest

from harness.gameday import StackPool
from harness.scenarios import Scenario, get_scenario, load_scenarios
from harness.stack import labels as L
from harness.stack.launch import Prepared
from harness.stack.stack import Stack
from harness.stack.waits import wait_for


def scenario(scenario_id: str = "db-down") -> Scenario:
    load_scenarios(["scenarios"])
    return get_scenario(scenario_id)


def stack_ids_alive(client: docker.DockerClient) -> set[str]:
    """Stack ids of this process's containers (its own run label: parallel tests are not counted)."""
    run = L.current_run().labels(stack="x", stack_id="x")[L.RUN]
    containers = client.containers.list(ignore_removed=True, all=True, filters={"label": f"{L.RUN}={run}"})
    return {c.labels[L.STACK_ID] for c in containers}


@pytest.fixture
def new_stacks(chatkit_parts: Prepared) -> Callable[[], set[str]]:
    """Stack ids of this process that appeared since the test began (session fixtures' stacks of
    the same process are not this test's)."""
    client = chatkit_parts[1]
    before = stack_ids_alive(client)
    return lambda: stack_ids_alive(client) - before


def healthy(stack: Stack) -> bool:
    return all(stack.check_health(spec.name)[0] for spec in stack.definition.services if spec.health)


def test_the_spare_is_a_fresh_healthy_stack_and_the_used_one_goes(new_stacks: Callable[[], set[str]]) -> None:
    first_drill, next_drill = scenario("db-down"), scenario("pool-exhausted")
    with StackPool() as pool:
        first = pool.take(first_drill, ahead=lambda: next_drill)
        assert healthy(first)
        wait_for(lambda: (len(new_stacks() - {first.stack_id}) == 1, "no spare container yet"),
                 what="the spare stack starting in the background", timeout=30, interval=0.1)
        pool.give_back(first)
        second = pool.take(next_drill)
        assert second.stack_id != first.stack_id
        assert healthy(second)
        wait_for(lambda: (first.stack_id not in new_stacks(), "first stack still there"),
                 what="the used stack removed in the background", timeout=30, interval=0.2)
        pool.give_back(second)
    assert new_stacks() == set()


def test_close_removes_a_spare_nobody_took(new_stacks: Callable[[], set[str]]) -> None:
    pool = StackPool()
    first = pool.take(scenario(), ahead=scenario)
    pool.give_back(first)
    pool.close()  # the spare may still be starting: it is removed anyway
    assert new_stacks() == set()


def test_a_spare_that_fails_to_start_is_replaced(new_stacks: Callable[[], set[str]]) -> None:
    """The next drill still gets a healthy stack, started on demand, and the broken spare is gone."""
    pool = StackPool()
    taken: list[Stack] = []
    try:
        drill = scenario()
        taken.append(pool.take(drill))
        definition, client, images = pool._prepared[drill.stack.resolve()]
        broken_images = {**images, "app": "gameday/no-such-image:never-built"}
        pool._prepared[drill.stack.resolve()] = (definition, client, broken_images)
        pool.make_spare(drill)
        pool._prepared[drill.stack.resolve()] = (definition, client, images)
        taken.append(pool.take(drill))
        assert healthy(taken[1])
        assert new_stacks() == {stack.stack_id for stack in taken}
    finally:
        for stack in taken:
            pool.give_back(stack)
        pool.close()
    assert new_stacks() == set()
