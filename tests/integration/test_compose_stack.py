"""A Compose file written the way teams write them, on real Docker: a web service built from a small
recipe with a healthcheck, a database, a one-shot migration, `depends_on` with conditions, an env
file, a named volume, a config file; it comes up healthy, every key shows on the containers, two
stacks of the one file run side by side, and teardown leaves nothing. The images come from the
reference stack's (no registry: nothing is pulled), so only a two-line recipe is built.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import docker
import httpx
import pytest

from harness.errors import StackStartError
from harness.stack import labels as L
from harness.stack.launch import Prepared, prepare
from harness.stack.stack import Stack

TEAM_COMPOSE = """\
name: shop
x-gameday:
  default_host: web
  secrets: {DB_PASSWORD: 24}

x-logging: &common-labels
  labels:
    team: shop

services:
  db:
    image: gameday/chatkit-db:latest
    <<: *common-labels
    environment:
      POSTGRES_PASSWORD: ${DB_PASSWORD}
    healthcheck:
      test: ["CMD", "pg_isready", "-q", "-h", "127.0.0.1"]
      interval: 2s
      timeout: 3s
      retries: 20
      start_period: 1s
    volumes:
      - shared:/srv/shared

  migrate:
    image: gameday/chatkit-db:latest
    command: ["bash", "-c", "echo migrated > /srv/shared/migrated"]
    environment:
      - MIGRATION=0042
    depends_on:
      db:
        condition: service_healthy
    volumes:
      - type: volume
        source: shared
        target: /srv/shared
    healthcheck:
      disable: true
    deploy:
      resources:
        limits:
          memory: 64m

  debug:
    image: gameday/chatkit-db:latest
    profiles: [debug]

  web:
    build:
      context: .
      dockerfile: web.Dockerfile
      target: final
      args:
        GREETING: hello
    image: myteam/web
    <<: *common-labels
    entrypoint: ["/usr/bin/env"]
    command: python3 -m http.server 8080 --directory /srv/www
    working_dir: /srv/www
    user: nobody
    env_file: web.env
    environment:
      MODE: production
      DATABASE_URL: postgresql://app:${DB_PASSWORD}@database:5432/app
    ports:
      - "127.0.0.1:8080:8080"
    expose: ["8080"]
    cap_add: [NET_ADMIN]
    mem_limit: 256m
    tmpfs: /tmp:size=8m
    depends_on:
      db:
        condition: service_healthy
      migrate:
        condition: service_completed_successfully
    healthcheck:
      test: ["CMD-SHELL", "curl -fsS http://127.0.0.1:8080/ >/dev/null"]
      interval: 1s
      timeout: 2s
      retries: 10
    configs:
      - source: motd
        target: /etc/motd
    secrets:
      - api-token
    volumes:
      - shared:/srv/shared:ro
      - ./static:/srv/static:ro
    networks:
      default:
        aliases: [www]

configs:
  motd:
    content: "welcome to ${SHOP_NAME:-the shop}\\n"

secrets:
  api-token:
    file: ./api-token.txt

volumes:
  shared:
"""

WEB_DOCKERFILE = """\
ARG BASE=debian:bookworm-slim
FROM gameday/chatkit-app:latest AS final
ARG GREETING=none
RUN mkdir -p /srv/www && echo "$GREETING" > /srv/www/index.html
"""


def write_project(folder: Path, compose: str = TEAM_COMPOSE) -> Path:
    (folder / "web.Dockerfile").write_text(WEB_DOCKERFILE)
    (folder / "web.env").write_text("# web settings\nMODE=development\nLOG_LEVEL=info\n")
    (folder / ".env").write_text("SHOP_NAME=Corner Shop\n")
    (folder / "api-token.txt").write_text("tok-from-a-file\n")
    (folder / "static").mkdir(exist_ok=True)
    (folder / "static" / "logo.txt").write_text("logo\n")
    path = folder / "compose.yaml"
    path.write_text(compose)
    return path


def stack_objects(client: docker.DockerClient, stack: Stack) -> list[str]:
    wanted = {"label": f"{L.STACK_ID}={stack.stack_id}"}
    return ([f"container {c.name}" for c in client.containers.list(ignore_removed=True, all=True, filters=wanted)]
            + [f"network {n.name}" for n in client.networks.list(filters=wanted)]
            + [f"volume {v.name}" for v in client.volumes.list(filters=wanted)])


@pytest.fixture(scope="module")
def team_parts(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    return prepare(write_project(tmp_path_factory.mktemp("team")))


@pytest.fixture(scope="module")
def team(team_parts: Prepared) -> Iterator[Stack]:
    definition, client, images = team_parts
    with Stack(definition, images, client=client) as stack:
        yield stack


def test_the_host_port_in_the_file_is_a_warning(team_parts: Prepared) -> None:
    definition, _, _ = team_parts
    (warning,) = definition.warnings
    assert "services.web.ports: 127.0.0.1:8080 is ignored" in warning


def test_a_team_compose_file_comes_up_healthy_and_serves_on_loopback(team: Stack) -> None:
    for service in ("db", "web"):
        assert team.check_health(service)[0], service
    assert team.check_health("migrate") == (True, "completed (a one-shot service)")
    response = httpx.get(f"{team.endpoint('web', 8080)}/", timeout=5)
    assert response.status_code == 200
    assert response.text.strip() == "hello"  # the build argument, in the target stage


def test_every_key_shows_on_the_web_container(team: Stack) -> None:
    web = team.container("web")
    config, host = web.attrs["Config"], web.attrs["HostConfig"]
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["MODE"] == "production"  # environment over env_file
    assert env["LOG_LEVEL"] == "info"  # from env_file
    assert env["DATABASE_URL"] == f"postgresql://app:{team.secrets['DB_PASSWORD']}@database:5432/app"
    assert config["Entrypoint"] == ["/usr/bin/env"]
    assert config["Cmd"] == ["python3", "-m", "http.server", "8080", "--directory", "/srv/www"]
    assert (config["WorkingDir"], config["User"]) == ("/srv/www", "nobody")
    assert config["Healthcheck"]["Test"] == ["CMD-SHELL", "curl -fsS http://127.0.0.1:8080/ >/dev/null"]
    assert config["Healthcheck"]["Retries"] == 10
    assert config["Labels"]["team"] == "shop"
    assert config["Labels"][L.RUN] == team.run.run_id
    assert host["CapAdd"] == ["NET_ADMIN"]
    assert host["Memory"] == 256 * 1024**2
    assert host["Tmpfs"] == {"/tmp": "size=8388608"}
    assert [b["HostIp"] for b in web.attrs["NetworkSettings"]["Ports"]["8080/tcp"]] == ["127.0.0.1"]
    aliases = web.attrs["NetworkSettings"]["Networks"][team.name]["Aliases"]
    assert "www" in aliases


def test_the_one_shot_and_the_profile(team: Stack) -> None:
    migrate = team.container("migrate")
    assert "MIGRATION=0042" in migrate.attrs["Config"]["Env"]
    assert migrate.attrs["Config"]["Healthcheck"]["Test"] == ["NONE"]
    assert migrate.attrs["HostConfig"]["Memory"] == 64 * 1024**2
    assert [s.name for s in team.definition.services] == ["db", "migrate", "web"]  # debug: profile not enabled


def test_the_engine_runs_the_healthcheck_too(team: Stack) -> None:
    from harness.stack.waits import wait_for

    wait_for(lambda: (team.container("db").attrs["State"].get("Health", {}).get("Status") == "healthy", "db"),
             what="docker reports db healthy", timeout=30, interval=0.5)


def test_the_one_shot_ran_before_web_and_its_volume_is_shared(team: Stack) -> None:
    migrate = team.container("migrate")
    assert (migrate.status, migrate.attrs["State"]["ExitCode"]) == ("exited", 0)
    result = team.host("web").exec("cat /srv/shared/migrated /etc/motd /run/secrets/api-token /srv/static/logo.txt"
                                   " && touch /srv/shared/x")
    # .env beside the file gave SHOP_NAME; the secret file and the bind mount are the project's files.
    assert result.stdout.splitlines() == ["migrated", "welcome to Corner Shop", "tok-from-a-file", "logo"]
    assert not result.ok  # mounted read-only in web
    assert team.host("web").exec("touch /srv/static/x").exit_code != 0  # a read-only bind
    volume = team.volume_name("shared")
    assert volume.startswith(team.name)
    assert team.client.volumes.get(volume).attrs["Labels"][L.STACK_ID] == team.stack_id


def test_two_stacks_of_one_file_run_side_by_side_and_leave_nothing(team_parts: Prepared) -> None:
    definition, client, images = team_parts
    first, second = Stack(definition, images, client=client), Stack(definition, images, client=client)
    try:
        first.up()
        second.up()
        assert first.name != second.name
        assert first.port("web", 8080) != second.port("web", 8080)
        for stack in (first, second):
            assert httpx.get(f"{stack.endpoint('web', 8080)}/", timeout=5).status_code == 200
        assert first.secrets["DB_PASSWORD"] != second.secrets["DB_PASSWORD"]
    finally:
        first.down()
        second.down()
    assert stack_objects(client, first) == []
    assert stack_objects(client, second) == []


def test_a_failed_one_shot_stops_the_start_and_leaves_nothing(tmp_path: Path) -> None:
    failing = TEAM_COMPOSE.replace("echo migrated > /srv/shared/migrated", "echo no database; exit 3")
    definition, client, images = prepare(write_project(tmp_path, failing))
    stack = Stack(definition, images, client=client)
    with pytest.raises(StackStartError, match="migrate exited with code 3") as info:
        stack.up()
    assert "no database" in info.value.evidence
    assert stack_objects(client, stack) == []
