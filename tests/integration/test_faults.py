"""The fault library on the real reference stack: each fault takes effect, proves it, and its
rollback brings the stack back (or notices that the "runbook" already did)."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest

from harness.errors import GamedayError
from harness.faults import (
    BlastRadiusError,
    ConfigSwitch,
    ConnectionHog,
    ContainerKilled,
    ContainerPaused,
    ContainerStopped,
    EnvFileChange,
    Fault,
    FaultRecord,
    HttpStorm,
    NetworkPartition,
    PortRefused,
    ServiceStopped,
    listening,
)
from harness.stack.host import LocalHost
from harness.stack.labels import STACK_ID
from harness.stack.launch import Prepared
from harness.stack.stack import Stack
from harness.stack.waits import wait_for

LOG = "/var/log/chatkit-backend.log"
ENV_FILE = "/etc/chatkit-backend.env"
RESTART = "systemctl restart chatkit-backend"
POLL = 0.2
TIMEOUT = 30.0


# -- observing the stack from outside -----------------------------------------------------------------


def health(stack: Stack) -> tuple[int, dict[str, Any] | str]:
    """(status, body) of GET /health now; (0, why) when nothing answers."""
    try:
        response = httpx.get(f"{stack.endpoint('app', 8000)}/health", timeout=5.0)
    except (httpx.HTTPError, GamedayError) as exc:  # GamedayError: the port is not published right now
        return 0, type(exc).__name__
    return response.status_code, response.json()


def degraded(stack: Stack) -> tuple[bool, str]:
    status, body = health(stack)
    ok = status == 503 and isinstance(body, dict) and body["status"] == "degraded" \
        and body["database"] == "disconnected"
    return ok, f"{status} {body}"


def healthy(stack: Stack) -> tuple[bool, str]:
    status, body = health(stack)
    return status == 200 and isinstance(body, dict) and body["database"] == "connected", f"{status} {body}"


def unreachable(stack: Stack) -> tuple[bool, str]:
    status, body = health(stack)
    return status == 0, f"{status} {body}"


def wait_until(probe: Callable[[Stack], tuple[bool, str]], stack: Stack, what: str,
               timeout: float = TIMEOUT) -> str:
    return wait_for(lambda: probe(stack), what=what, timeout=timeout, interval=POLL)


def actions(records: list[FaultRecord] | tuple[FaultRecord, ...]) -> list[str]:
    return [r.action for r in records]


def login(stack: Stack, user: str) -> str:
    response = httpx.post(f"{stack.endpoint('app', 8000)}/auth/login", json={"user_id": user}, timeout=5.0)
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def idle_in_transaction(stack: Stack) -> int:
    query = "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'"
    result = stack.host("db").exec(f'runuser -u postgres -- psql -tAc "{query}"')
    assert result.ok, result.stderr
    return int(result.stdout.strip())


def hog_dsn(stack: Stack) -> Callable[[], str]:
    def dsn() -> str:
        return (f"postgresql://chatkit:{stack.secrets['DB_PASSWORD']}@127.0.0.1:{stack.port('db', 5432)}"
                "/chatkit")
    return dsn


# -- the contract, on a stopped database -----------------------------------------------------------------


def test_service_stopped_degrades_health_and_rollback_restores_it(fresh_chatkit: Stack) -> None:
    stack = fresh_chatkit
    seen: list[FaultRecord] = []
    fault = ServiceStopped(stack, stack.host("db"), "postgresql")
    assert fault.describe() == "postgresql stopped on db"
    with listening(seen.append), fault:
        assert actions(seen) == ["injected", "verified"]
        assert "inactive" in seen[1].detail
        assert fault.is_active()
        wait_until(degraded, stack, "health degraded with the database disconnected")
    assert actions(seen) == ["injected", "verified", "rolled-back"]
    assert seen[0].at <= seen[1].at <= seen[2].at
    assert stack.host("db").exec("systemctl is-active postgresql").stdout.strip() == "active"
    wait_until(healthy, stack, "health back to ok")
    fault.rollback()  # a second rollback is a no-op
    assert actions(fault.records) == ["injected", "verified", "rolled-back"]
    assert not fault.is_active()


def test_rollback_after_the_runbook_fixed_it_records_already_restored(fresh_chatkit: Stack) -> None:
    stack = fresh_chatkit
    seen: list[FaultRecord] = []
    with listening(seen.append), ServiceStopped(stack, stack.host("db"), "postgresql") as fault:
        wait_until(degraded, stack, "health degraded")
        fixed = stack.host("db").exec("systemctl start postgresql")  # the runbook's fix
        assert fixed.ok, fixed.stderr
        wait_until(healthy, stack, "health back after the runbook's fix")
        assert not fault.is_active()
    assert actions(seen) == ["injected", "verified", "already-restored"]
    assert "already active again" in seen[-1].detail
    assert healthy(stack)[0]


def test_an_exception_inside_the_block_still_rolls_back(fresh_chatkit: Stack) -> None:
    stack = fresh_chatkit
    seen: list[FaultRecord] = []

    def drill() -> None:
        with listening(seen.append), ServiceStopped(stack, stack.host("db"), "postgresql"):
            wait_until(degraded, stack, "health degraded")
            raise RuntimeError("the drill crashed")

    with pytest.raises(RuntimeError, match="the drill crashed"):
        drill()
    assert actions(seen) == ["injected", "verified", "rolled-back"]
    wait_until(healthy, stack, "health back to ok")


# -- blast radius ----------------------------------------------------------------------------------------------


def test_blast_radius_refuses_a_container_the_stack_does_not_own(
        chatkit: Stack, chatkit_parts: Prepared, monkeypatch: pytest.MonkeyPatch) -> None:
    _definition, client, images = chatkit_parts
    name = f"not-ours-{secrets.token_hex(3)}"
    foreign = client.containers.create(images["db"], name=name, labels={}, command=["true"])
    try:
        assert STACK_ID not in (foreign.labels or {})
        real_container = chatkit.container
        monkeypatch.setattr(chatkit, "container",
                            lambda service: foreign if service == "db" else real_container(service))
        seen: list[FaultRecord] = []
        faults: list[Fault] = [ContainerStopped(chatkit, "db"), ContainerPaused(chatkit, "db"),
                               NetworkPartition(chatkit, "db"), PortRefused(chatkit, "db", 5432),
                               ServiceStopped(chatkit, chatkit.host("db"), "postgresql")]
        for fault in faults:
            with pytest.raises(BlastRadiusError, match=name), listening(seen.append), fault:
                pytest.fail(f"{fault.describe()} was injected into a container that is not the stack's")
        assert seen == []  # refused before anything happened: nothing to record, nothing to roll back
        foreign.reload()
        assert foreign.status == "created"
        with pytest.raises(BlastRadiusError, match="'local'"), \
                ServiceStopped(chatkit, LocalHost(), "postgresql"):
            pytest.fail("the operator's own machine is outside the blast radius")
    finally:
        foreign.remove(force=True)
    monkeypatch.undo()
    assert healthy(chatkit)[0]


# -- container faults ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "service"), [(ContainerStopped, "db"), (ContainerKilled, "app"),
                                               (ContainerPaused, "db")])
def test_container_faults_take_effect_and_rollback_restores_health(
        fresh_chatkit: Stack, kind: type[ContainerStopped | ContainerKilled | ContainerPaused], service: str) -> None:
    stack = fresh_chatkit
    expected = {"db": degraded, "app": unreachable}[service]
    with kind(stack, service) as fault:
        assert stack.container(service).status == ("paused" if kind is ContainerPaused else "exited")
        assert fault.is_active()
        wait_until(expected, stack, f"the effect of {fault.describe()}")
    assert stack.container(service).status == "running"
    assert actions(fault.records) == ["injected", "verified", "rolled-back"]
    # A restarted container may publish a new port: stack.endpoint() looks it up again.
    wait_until(healthy, stack, "health back to ok")
    fault.rollback()
    assert actions(fault.records)[-1] == "rolled-back"


# -- environment file faults ----------------------------------------------------------------------------------------


def test_secret_key_removed_makes_the_service_fail_and_rollback_restores_the_file(fresh_chatkit: Stack) -> None:
    stack = fresh_chatkit
    app = stack.host("app")
    original = app.exec(f"cat {ENV_FILE}").stdout
    assert "SECRET_KEY=" in original
    fault = EnvFileChange(stack, app, ENV_FILE, remove=("SECRET_KEY",), restart_command=RESTART,
                          proof=lambda: unreachable(stack))
    with fault:
        assert "SECRET_KEY=" not in app.exec(f"cat {ENV_FILE}").stdout
        assert app.exec(f"stat -c %a {ENV_FILE}").stdout.strip() == "600"
        assert "FATAL: SECRET_KEY environment variable is not set" in app.exec(f"grep FATAL {LOG}").stdout
        assert unreachable(stack)[0]
        injected = fault.records[0]
        assert injected.action == "injected"
        assert f"`{RESTART}` exit 1" in injected.detail  # the restart failed, as the fault intends
        assert stack.secrets["SECRET_KEY"] not in " ".join(r.detail for r in fault.records)
    assert actions(fault.records) == ["injected", "verified", "rolled-back"]
    assert app.exec(f"cat {ENV_FILE}").stdout == original
    assert app.exec(f"stat -c '%a %U' {ENV_FILE}").stdout.strip() == "600 root"
    wait_until(healthy, stack, "health back to ok")


def test_config_switch_turns_redaction_off_until_the_runbook_turns_it_back_on(fresh_chatkit: Stack) -> None:
    stack = fresh_chatkit
    app = stack.host("app")
    original = app.exec(f"cat {ENV_FILE}").stdout
    leaked: list[str] = []

    def token_in_log() -> tuple[bool, str]:
        token = login(stack, f"victim-{len(leaked)}")
        leaked.append(token)
        found = token in app.exec(f"cat {LOG}").stdout
        return found, "a raw token is in the log" if found else "tokens are redacted"

    with ConfigSwitch(stack, app, ENV_FILE, "INTEGRATION_TEST_MODE", "true", RESTART, proof=token_in_log) as fault:
        assert fault.describe() == f"INTEGRATION_TEST_MODE=true in {ENV_FILE} on app"
        assert fault.records[1].detail == "a raw token is in the log"
        token = login(stack, "during-the-fault")
        lines = [json.loads(line) for line in app.exec(f"cat {LOG}").stdout.splitlines() if line.strip()]
        assert any(record.get("token") == token for record in lines)
        # The runbook's fix: redaction back on, where the service reads it, and a restart.
        fixed = app.exec(f"sed -i 's/^INTEGRATION_TEST_MODE=true$/INTEGRATION_TEST_MODE=false/' {ENV_FILE} "
                         f"&& {RESTART}")
        assert fixed.ok, fixed.stderr
        assert not fault.is_active()
    assert actions(fault.records) == ["injected", "verified", "already-restored"]
    assert app.exec(f"cat {ENV_FILE}").stdout == original
    wait_until(healthy, stack, "health back to ok")
    after = login(stack, "after-the-fix")
    assert after not in app.exec(f"cat {LOG}").stdout


# -- the connection hog ---------------------------------------------------------------------------------------------


def test_connection_hog_exhausts_the_database_until_rolled_back_or_terminated(fresh_chatkit: Stack) -> None:
    stack = fresh_chatkit
    with ConnectionHog(hog_dsn(stack), count=40) as hog:
        held = hog.held()
        assert 20 <= held < 40  # max_connections is 30, 3 of them reserved for superusers
        assert "refused" in hog.records[1].detail
        wait_until(degraded, stack, "health degraded while the connections are held")
        assert idle_in_transaction(stack) >= held
    assert actions(hog.records) == ["injected", "verified", "rolled-back"]
    assert hog.held() == 0
    wait_for(lambda: (idle_in_transaction(stack) == 0, str(idle_in_transaction(stack))),
             what="the held sessions gone from pg_stat_activity", timeout=TIMEOUT, interval=POLL)
    wait_until(healthy, stack, "health back to ok")

    # The runbook's fix this time: terminate the idle-in-transaction sessions as the superuser.
    terminate = ("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                 "WHERE state = 'idle in transaction' AND pid <> pg_backend_pid()")
    with ConnectionHog(hog_dsn(stack), count=40) as hog:
        wait_until(degraded, stack, "health degraded")
        result = stack.host("db").exec(f'runuser -u postgres -- psql -tAc "{terminate}"')
        assert result.ok, result.stderr
        assert int(result.stdout.strip()) >= 20
        wait_for(lambda: (not hog.is_active(), f"{hog.held()} held"), what="the hog's sessions seen as gone",
                 timeout=TIMEOUT, interval=POLL)
        wait_until(healthy, stack, "health back after the runbook's fix")
    assert actions(hog.records)[-1] == "already-restored"

    # Nobody ends it: the watchdog releases the sessions after max_seconds, and says so.
    seen: list[FaultRecord] = []
    with listening(seen.append), ConnectionHog(hog_dsn(stack), count=40, max_seconds=3) as hog:
        wait_until(degraded, stack, "health degraded")
        wait_for(lambda: (not hog.is_active(), f"{hog.held()} held"), what="the watchdog releasing the sessions",
                 timeout=TIMEOUT, interval=POLL)
        assert actions(seen) == ["injected", "verified", "rolled-back"]  # from the watchdog's thread
        wait_until(healthy, stack, "health back after the watchdog")
    assert actions(seen) == ["injected", "verified", "rolled-back"]  # leaving the block adds nothing


def test_connection_hog_takes_the_slots_other_clients_free_until_someone_terminates_it(fresh_chatkit: Stack) -> None:
    """A leak keeps leaking: sessions the service held when the hog started are taken as soon as
    they end, so the service does not get its slots back by itself; a terminate stops it."""
    stack = fresh_chatkit
    others = [psycopg.connect(hog_dsn(stack)(), autocommit=True) for _ in range(4)]  # in-flight requests
    try:
        with ConnectionHog(hog_dsn(stack), count=40) as hog:
            before = hog.held()
            for conn in others:
                conn.close()
            wait_for(lambda: (hog.held() == before + 4, f"{hog.held()} held"), what="the freed slots taken",
                     timeout=TIMEOUT, interval=POLL)
            with pytest.raises(psycopg.OperationalError, match=r"too many clients|remaining connection slots"):
                psycopg.connect(hog_dsn(stack)(), connect_timeout=3).close()
            terminate = ("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                         "WHERE state = 'idle in transaction' AND pid <> pg_backend_pid()")
            assert stack.host("db").exec(f'runuser -u postgres -- psql -tAc "{terminate}"').ok
            wait_until(healthy, stack, "health back: the hog stopped leaking once its sessions were terminated")
            assert idle_in_transaction(stack) == 0
        assert actions(hog.records)[-1] == "already-restored"
    finally:
        for conn in others:
            conn.close()


# -- the HTTP storm ---------------------------------------------------------------------------------------------------


def test_http_storm_stays_within_its_bounds_and_gets_rate_limited(fresh_chatkit: Stack) -> None:
    stack = fresh_chatkit
    base = stack.endpoint("app", 8000)
    before = httpx.get(f"{base}/metrics", timeout=5.0).json()
    tokens: dict[str, str] = {}
    logins = [0]
    lock = asyncio.Lock()

    async def send(client: httpx.AsyncClient, number: int) -> int:
        bot = f"bot-{number % 4}"
        async with lock:
            if bot not in tokens:
                logins[0] += 1
                response = await client.post("/auth/login", json={"user_id": bot})
                if response.status_code != 200:
                    return response.status_code
                tokens[bot] = response.json()["token"]
        response = await client.post("/api/v1/chat", json={"message": f"spam {number}"},
                                     headers={"Authorization": f"Bearer {tokens[bot]}"})
        return response.status_code

    total, duration = 200, 10.0
    storm = HttpStorm(send, total=total, duration=duration, concurrency=10, base_url=lambda: base)
    with storm:
        assert storm.sent() >= 50
        wait_for(lambda: (not storm.is_active(), storm.summary()), what="the storm over",
                 timeout=duration + 5, interval=POLL)
    assert storm.sent() <= total
    assert sum(storm.statuses().values()) <= total
    assert storm.elapsed() <= duration + 1
    statuses = storm.statuses()
    assert statuses[429] > 0, statuses
    assert statuses[200] <= 4 * 10, statuses  # 10 chats a minute per bot, then 429
    assert set(statuses) <= {200, 429}, statuses
    after = httpx.get(f"{base}/metrics", timeout=5.0).json()
    assert after["total_requests"] - before["total_requests"] <= total + logins[0]  # the server agrees
    assert after["rate_limit_hits"] - before["rate_limit_hits"] == statuses[429]
    assert actions(storm.records) == ["injected", "verified", "already-restored"]
    assert healthy(stack)[0]


# -- network faults -------------------------------------------------------------------------------------------


def test_network_partition_of_the_database_degrades_health_until_reconnected(fresh_chatkit: Stack) -> None:
    stack = fresh_chatkit
    with NetworkPartition(stack, "db") as fault:
        assert stack.name in fault.records[1].detail
        assert stack.container("db").attrs["NetworkSettings"]["Networks"] == {}
        wait_until(degraded, stack, "health degraded while the database is cut off")
    assert actions(fault.records) == ["injected", "verified", "rolled-back"]
    assert set(stack.container("db").attrs["NetworkSettings"]["Networks"]) == {stack.name}
    resolved = stack.host("app").exec("getent hosts db && getent hosts postgres")
    assert resolved.ok, resolved.stderr  # reconnected with the service's aliases
    wait_until(healthy, stack, "health back to ok")
    fault.rollback()
    assert len(fault.records) == 3


def test_port_refused_on_the_database_degrades_health_until_the_rule_is_gone(fresh_chatkit: Stack) -> None:
    stack = fresh_chatkit
    with PortRefused(stack, "db", 5432) as fault:
        assert "refused by the rule" in fault.records[1].detail
        assert fault.is_active()
        wait_until(degraded, stack, "health degraded while port 5432 refuses connections")
        assert not stack.check_health("db")[0]  # pg_isready is refused too
    assert actions(fault.records) == ["injected", "verified", "rolled-back"]
    assert not fault.is_active()
    wait_until(healthy, stack, "health back to ok")
    fault.rollback()
    assert len(fault.records) == 3
    helpers = stack.client.containers.list(ignore_removed=True, all=True, filters={
        "label": [f"{STACK_ID}={stack.stack_id}", "gameday.role=fault-helper"]})
    assert helpers == []  # every helper container was removed after use
