"""The fault contract and the faults' pure logic, without Docker: fakes and loopback-free storms."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from harness.clock import Clock
from harness.errors import BadInput, InfrastructureError
from harness.faults.base import (
    BlastRadiusError,
    Fault,
    FaultError,
    FaultNotEffective,
    FaultRecord,
    check_owned,
    is_loopback,
    listening,
    owned_host,
    require_loopback,
)
from harness.faults.envfile import edit_env, parse_env
from harness.faults.hog import dsn_target, is_refusal
from harness.faults.storm import ERROR_STATUS, HttpStorm
from harness.stack.waits import wait_for

# -- a fake fault: a flag in a dict ---------------------------------------------------------------


class Flag(Fault):
    name = "flag"

    def __init__(self, world: dict[str, Any], *, fail_inject: bool = False, fail_verify: bool = False,
                 fail_restore: int = 0, **kw: Any) -> None:
        super().__init__(**kw)
        self.world = world
        self.fail_inject, self.fail_verify, self.fail_restore = fail_inject, fail_verify, fail_restore
        self.restores = 0

    def describe(self) -> str:
        return "flag raised"

    def inject(self) -> None:
        self.world["half"] = True
        if self.fail_inject:
            raise OSError("inject blew up half-way")
        self.world["up"] = True

    def verify(self) -> str:
        if self.fail_verify:
            raise FaultNotEffective("nothing changed")
        return "the flag is up"

    def is_active(self) -> bool:
        return bool(self.world.get("up"))

    def restore(self) -> None:
        self.restores += 1
        if self.fail_restore:
            self.fail_restore -= 1
            raise OSError("restore blew up")
        self.world.pop("up", None)
        self.world.pop("half", None)


def actions(records: list[FaultRecord] | tuple[FaultRecord, ...]) -> list[str]:
    return [r.action for r in records]


def test_with_block_injects_verifies_and_rolls_back_in_order_to_the_listener() -> None:
    world: dict[str, Any] = {}
    seen: list[FaultRecord] = []
    ticks = iter(range(100))
    fault = Flag(world, clock=Clock(now=lambda: float(next(ticks))))
    with listening(seen.append), fault as entered:
        assert entered is fault
        assert world["up"]
    assert "up" not in world
    assert actions(seen) == ["injected", "verified", "rolled-back"]
    assert [r.at for r in seen] == [0.0, 1.0, 2.0]
    assert seen[1].detail == "the flag is up"
    assert all(r.fault == "flag" for r in seen)
    assert fault.records == tuple(seen)


def test_second_rollback_is_a_no_op_and_never_injected_is_a_no_op() -> None:
    world: dict[str, Any] = {}
    never = Flag(world)
    never.rollback()
    assert never.restores == 0
    assert never.records == ()
    fault = Flag(world)
    with fault:
        pass
    fault.rollback()
    fault.rollback()
    assert fault.restores == 1
    assert actions(fault.records) == ["injected", "verified", "rolled-back"]


def test_rollback_after_the_fault_was_fixed_records_already_restored_and_still_cleans_up() -> None:
    world: dict[str, Any] = {}
    with Flag(world) as fault:
        world.pop("up")  # the runbook fixed it
    assert actions(fault.records)[-1] == "already-restored"
    assert fault.restores == 1  # leftovers cleaned anyway
    assert "half" not in world


def test_leftover_cleanup_failing_after_a_fix_does_not_raise() -> None:
    world: dict[str, Any] = {}
    with Flag(world, fail_restore=1) as fault:
        world.pop("up")
    assert actions(fault.records)[-1] == "already-restored"
    assert "leftovers failed" in fault.records[-1].detail


def test_exception_in_the_block_still_rolls_back_and_propagates() -> None:
    world: dict[str, Any] = {}
    fault = Flag(world)
    with pytest.raises(KeyError), fault:
        raise KeyError("boom")
    assert "up" not in world
    assert actions(fault.records)[-1] == "rolled-back"


def test_failed_verify_rolls_back_before_re_raising() -> None:
    world: dict[str, Any] = {}
    fault = Flag(world, fail_verify=True)
    with pytest.raises(FaultNotEffective), fault:
        pytest.fail("the block must not run")
    assert "up" not in world
    assert actions(fault.records) == ["injected", "rolled-back"]


def test_partial_inject_is_restored_and_reported_as_a_fault_error() -> None:
    world: dict[str, Any] = {}
    fault = Flag(world, fail_inject=True)
    with pytest.raises(FaultError, match="could not inject flag raised: OSError: inject blew up"):
        fault.start()
    assert world == {}
    assert actions(fault.records) == ["rolled-back"]
    assert "partial inject" in fault.records[0].detail


def test_rollback_failure_is_recorded_raised_and_can_be_retried() -> None:
    world: dict[str, Any] = {}
    fault = Flag(world, fail_restore=1)
    with pytest.raises(FaultError, match="could not roll back flag raised"), fault:
        pass
    assert actions(fault.records)[-1] == "rollback-failed"
    assert isinstance(FaultError("x"), InfrastructureError)
    fault.rollback()  # a later attempt tries again, and succeeds
    assert actions(fault.records)[-2:] == ["rollback-failed", "rolled-back"]
    fault.rollback()
    assert fault.restores == 2


def test_a_failing_listener_never_stops_a_rollback() -> None:
    def broken(record: FaultRecord) -> None:
        raise RuntimeError("journal is full")

    world: dict[str, Any] = {}
    with listening(broken), Flag(world) as fault:
        pass
    assert actions(fault.records) == ["injected", "verified", "rolled-back"]
    assert "up" not in world


def test_listener_is_kept_for_records_made_outside_the_block() -> None:
    seen: list[FaultRecord] = []
    fault = Flag({})
    with listening(seen.append):
        fault.start()
    fault.rollback()  # e.g. from a watchdog thread, or after the drill's context ended
    assert actions(seen) == ["injected", "verified", "rolled-back"]


def test_a_fault_cannot_be_injected_twice_at_once_but_can_be_reused() -> None:
    fault = Flag({})
    fault.start()
    with pytest.raises(RuntimeError, match="already injected"):
        fault.start()
    fault.rollback()
    with fault:
        pass
    assert actions(fault.records) == ["injected", "verified", "rolled-back"] * 2


# -- blast radius ------------------------------------------------------------------------------


def fake_stack() -> Any:
    services = (SimpleNamespace(name="db"), SimpleNamespace(name="app"))
    own = SimpleNamespace(name="gameday-x-db", labels={"gameday.stack-id": "abc"}, attrs={})
    return SimpleNamespace(stack_id="abc", name="gameday-x-abc", definition=SimpleNamespace(services=services),
                           container=lambda service: own)


def test_check_owned_refuses_a_container_without_the_stacks_label_and_names_it() -> None:
    stack = fake_stack()
    foreign = SimpleNamespace(name="someones-postgres", labels={}, attrs={})
    with pytest.raises(BlastRadiusError, match="someones-postgres") as caught:
        check_owned(stack, foreign)
    assert isinstance(caught.value, BadInput)
    other = SimpleNamespace(name="other-stack-db", labels={"gameday.stack-id": "zzz"}, attrs={})
    with pytest.raises(BlastRadiusError, match=r"other-stack-db.*found gameday.stack-id=zzz"):
        check_owned(stack, other)
    assert check_owned(stack, stack.container("db")).name == "gameday-x-db"


def test_owned_host_refuses_local_and_unknown_hosts() -> None:
    stack = fake_stack()
    for name in ("local", "elsewhere"):
        with pytest.raises(BlastRadiusError, match=name):
            owned_host(stack, SimpleNamespace(name=name))
    host = SimpleNamespace(name="db")
    assert owned_host(stack, host) is host


# -- environment files -----------------------------------------------------------------------

ENV = "# settings\nSECRET_KEY=abc\r\nexport DATABASE_URL='postgresql://u@db/x'\nMODE=false\nMODE=dup\n"


def test_parse_env_reads_like_the_service() -> None:
    assert parse_env(ENV) == {"SECRET_KEY": "abc", "DATABASE_URL": "postgresql://u@db/x", "MODE": "dup"}
    assert parse_env("# SECRET_KEY=x\n\nnot a line\n") == {}


def test_edit_env_removes_sets_and_keeps_every_other_byte() -> None:
    edited = edit_env(ENV, remove=["SECRET_KEY"], set_values={"MODE": "true", "NEW": "1"})
    assert edited == "# settings\nexport DATABASE_URL='postgresql://u@db/x'\nMODE=true\nNEW=1\n"
    assert edit_env(ENV, set_values={"SECRET_KEY": "xyz"}).splitlines(keepends=True)[1] == "SECRET_KEY=xyz\r\n"
    assert edit_env("A=1", set_values={"B": "2"}) == "A=1\nB=2\n"
    assert edit_env(ENV) == ENV
    assert edit_env("# SECRET_KEY=keep\n", remove=["SECRET_KEY"]) == "# SECRET_KEY=keep\n"


# -- loopback, DSNs, refusals ------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://localhost/x", "http://[::1]:9/", "127.0.0.2"])
def test_loopback_targets_are_accepted(url: str) -> None:
    assert require_loopback(url, "a storm") == url


@pytest.mark.parametrize("url", ["http://10.0.0.1", "http://example.com", "http://172.17.0.1:80", "", "http://"])
def test_other_targets_are_refused(url: str) -> None:
    with pytest.raises(BadInput, match=r"127\.0\.0\.1, localhost or ::1"):
        require_loopback(url, "a storm")
    assert not is_loopback("0.0.0.0")  # noqa: S104  (an address checked, not bound)


def test_dsn_target_never_shows_the_password_and_wants_loopback() -> None:
    assert dsn_target("postgresql://u:s3cret@127.0.0.1:5555/app") == "127.0.0.1:5555/app"
    with pytest.raises(BadInput, match="loopback"):
        dsn_target("postgresql://u:s3cret@db.example.com/app")
    with pytest.raises(BadInput, match="local socket"):
        dsn_target("dbname=app")


def test_refusals_are_told_from_other_connection_errors() -> None:
    assert is_refusal(Exception('connection failed: FATAL:  sorry, too many clients already'))
    assert is_refusal(Exception("FATAL:  remaining connection slots are reserved for superusers"))
    assert not is_refusal(Exception("password authentication failed for user"))


# -- the storm, against no network at all ----------------------------------------------------------


def test_storm_never_exceeds_its_total_nor_its_concurrency() -> None:
    in_flight, peak = [0], [0]

    async def send(client: httpx.AsyncClient, number: int) -> int:
        in_flight[0] += 1
        peak[0] = max(peak[0], in_flight[0])
        await asyncio.sleep(0.001)
        in_flight[0] -= 1
        return 429 if number % 2 else 200

    storm = HttpStorm(send, total=120, duration=10, concurrency=7)
    with storm:
        wait_for(lambda: (not storm.is_active(), storm.summary()), what="storm over", timeout=10, interval=0.02)
    assert storm.sent() == 120
    assert storm.statuses() == {200: 60, 429: 60}
    assert peak[0] <= 7
    assert not storm.is_active()
    assert storm.records[-1].action == "already-restored"


def test_storm_never_runs_longer_than_its_duration() -> None:
    async def send(client: httpx.AsyncClient, number: int) -> int:
        await asyncio.sleep(30)  # a request that hangs
        return 200

    storm = HttpStorm(send, total=1000, duration=0.5, concurrency=5, verify_timeout=0.2)
    started = time.monotonic()
    with pytest.raises(FaultNotEffective):
        storm.start()  # 50 requests are never reached: not effective, and stopped
    assert time.monotonic() - started < 3
    assert storm.sent() <= 5
    assert not storm.is_active()


def test_storm_ends_at_its_duration_on_its_own() -> None:
    async def send(client: httpx.AsyncClient, number: int) -> int:
        await asyncio.sleep(0.01)
        return 200

    storm = HttpStorm(send, total=10**9, duration=0.6, concurrency=3)
    storm.start()
    deadline = time.monotonic() + 5
    while storm.is_active() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not storm.is_active()
    assert 0.5 < storm.elapsed() < 1.5
    storm.rollback()
    assert storm.records[-1].action == "already-restored"


def test_storm_counts_errors_and_can_be_stopped_early() -> None:
    async def send(client: httpx.AsyncClient, number: int) -> int:
        if number % 3 == 0:
            raise httpx.ConnectError("nothing there")
        await asyncio.sleep(0.005)
        return 200

    storm = HttpStorm(send, total=100_000, duration=30, concurrency=4)
    started = time.monotonic()
    with storm:
        assert storm.sent() >= 50
    assert time.monotonic() - started < 5
    assert storm.records[-1].action == "rolled-back"
    assert storm.statuses()[ERROR_STATUS] >= 1
    assert storm.errors()["ConnectError"] == storm.statuses()[ERROR_STATUS]


def test_storm_refuses_a_non_loopback_base_url_and_requests_elsewhere() -> None:
    async def send(client: httpx.AsyncClient, number: int) -> int:
        return (await client.get("http://192.0.2.1/")).status_code

    with pytest.raises(BadInput, match="loopback"):
        HttpStorm(send, total=5, duration=1, base_url=lambda: "http://192.0.2.1:80").start()
    storm = HttpStorm(send, total=5, duration=5)
    with pytest.raises(BadInput, match=r"refused a request to '192\.0\.2\.1'"):
        storm.start()
    assert storm.sent() <= 5
    assert not storm.is_active()


@pytest.mark.parametrize("kwargs", [{"total": 0, "duration": 1}, {"total": 5, "duration": 0},
                                    {"total": 5, "duration": float("inf")}, {"total": 5, "duration": 1,
                                                                            "concurrency": 0}])
def test_storm_bounds_must_be_finite_and_positive(kwargs: dict[str, Any]) -> None:
    async def send(client: httpx.AsyncClient, number: int) -> int:
        return 200

    with pytest.raises(BadInput):
        HttpStorm(send, **kwargs)


@pytest.mark.parametrize(("field", "value"), [
    ("database", "chatkit; DROP DATABASE x"), ("role", "Robert'); --"), ("table", "chats WHERE 1=1"),
    ("privilege", "ALL PRIVILEGES"), ("table", "a.b.c"),
])
def test_privilege_revoked_takes_plain_names_only(field: str, value: str) -> None:
    from harness.faults.privilege import PrivilegeRevoked

    names = {"database": "chatkit", "role": "chatkit", "table": "public.chats", "privilege": "insert"}
    with pytest.raises(BadInput, match=field):
        PrivilegeRevoked(fake_stack(), SimpleNamespace(name="db"), **{**names, field: value})


@pytest.mark.parametrize(("prefix", "value_bytes", "limit"), [
    ("cache:*", 65536, None), ("", 65536, None), ("a b", 65536, None), ("cache:", 10, None),
    ("cache:", 65536, 1024), ("cache:", 65536, 8 * 1024**3),
])
def test_redis_filled_refuses_unsafe_arguments_before_touching_anything(prefix: str, value_bytes: int,
                                                                       limit: int | None) -> None:
    from harness.faults.keyspace import RedisFilled

    with pytest.raises(BadInput):
        RedisFilled(fake_stack(), SimpleNamespace(name="redis"), prefix=prefix, value_bytes=value_bytes, limit=limit)
