"""Compose files as stack definitions: every supported key in each of its forms maps onto the model,
every refused key is an error at its line (exit 2), interpolation follows Compose's rules, and the
YAML reader keeps lines, merges anchors, and refuses duplicate keys, unknown tags and alias bombs."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from harness.errors import EXIT_BAD_INPUT, DefinitionError
from harness.stack.compose import load_compose
from harness.stack.compose_service import (
    DEFAULT_TMPFS_BYTES,
    MIN_READINESS_WAIT,
    parse_compose_duration,
    parse_compose_size,
)
from harness.stack.definition import (
    BindMount,
    ContainerHealthcheck,
    Dependency,
    DependencyCondition,
    ExecCheck,
    FileSpec,
    ImageRecipe,
    LocalImage,
    StackDefinition,
    TmpfsMount,
    VolumeMount,
    is_compose_file,
    load_definition,
)
from harness.stack.interpolate import InterpolationError, Interpolator, parse_dotenv
from harness.stack.yamlfile import MAX_NODES, YamlProblem, read_yaml

REPO = Path(__file__).resolve().parents[3]
CHATKIT = REPO / "stack" / "chatkit" / "compose.yaml"


def write(tmp_path: Path, text: str, name: str = "compose.yaml", **files: str) -> Path:
    """A Compose file in tmp_path, beside a tiny Dockerfile and any `files` (name -> text)."""
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    for fname, content in files.items():
        target = tmp_path / fname.replace("__", "/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    path = tmp_path / name
    path.write_text(text)
    return path


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None, **files: str) -> StackDefinition:
    return load_compose(write(tmp_path, text, **files), environ=env or {})


def error(tmp_path: Path, text: str, env: dict[str, str] | None = None, **files: str) -> DefinitionError:
    with pytest.raises(DefinitionError) as info:
        load(tmp_path, text, env, **files)
    assert info.value.exit_code == EXIT_BAD_INPUT
    return info.value


def line_of(text: str, fragment: str) -> int:
    numbers = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    assert len(numbers) == 1, f"{fragment!r} must be on exactly one line: {numbers}"
    return numbers[0]


def assert_at(exc: DefinitionError, text: str, fragment: str, *words: str) -> None:
    expected = line_of(text, fragment)
    assert exc.line == expected, f"{exc} (expected line {expected})"
    assert str(exc).startswith(f"{exc.path}:{expected}: "), exc
    for word in words:
        assert word in str(exc), exc


def one(tmp_path: Path, service: str, env: dict[str, str] | None = None, **files: str) -> StackDefinition:
    """A one-service file whose service body is `service` (indented by the caller's text)."""
    return load(tmp_path, "services:\n  app:\n" + service, env, **files)


# --- which reader ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml",
                                  "stack.yaml", "prod.YML"])
def test_compose_names_and_any_yaml_file_are_read_as_compose(name: str) -> None:
    assert is_compose_file(Path(name))


def test_other_names_are_read_as_the_toml_format() -> None:
    assert not is_compose_file(Path("stack.toml"))


def test_load_definition_reads_a_compose_file(tmp_path: Path) -> None:
    path = write(tmp_path, "services:\n  app:\n    image: gameday/x\n")
    definition = load_definition(path)
    assert [s.name for s in definition.services] == ["app"]
    assert definition.path == path


# --- the reference stack ---------------------------------------------------------------------------


def test_the_reference_chatkit_compose_file_loads() -> None:
    definition = load_compose(CHATKIT, environ={})
    assert definition.name == "chatkit"
    assert definition.default_host == "app"
    assert [s.name for s in definition.services] == ["db", "app"]
    assert definition.hosts == ("db", "app", "local")
    assert [(s.name, s.nbytes) for s in definition.secrets] == [("SECRET_KEY", 32), ("DB_PASSWORD", 24)]
    assert definition.warnings == ()
    db, app = definition.service("db"), definition.service("app")
    assert app.dependencies == (Dependency("db", DependencyCondition.HEALTHY),)
    assert (db.ports, app.ports) == ((5432,), (8000,))
    assert db.aliases == ("db", "postgres")
    assert dict(db.environment) == {"DB_PASSWORD": "${DB_PASSWORD}"}  # filled in when the stack starts
    (env_file,) = app.files
    assert (env_file.path, env_file.mode) == ("/etc/chatkit-backend.env", 0o600)
    assert "SECRET_KEY=${SECRET_KEY}\n" in env_file.content
    assert "chatkit:${DB_PASSWORD}@db" in env_file.content
    assert "'$DB_PASSWORD'" in db.command[-1]  # $$ is a literal $, for the container's shell
    assert isinstance(app.image, ImageRecipe)
    assert app.image.inputs == ("images/app/**", "images/common/**", "service/**")
    assert app.health is not None
    assert isinstance(app.health.check, ExecCheck)
    assert definition.redaction_patterns


def test_the_reference_stack_is_the_same_stack_as_its_toml_form() -> None:
    from harness.stack.images import recipe_hash

    toml = REPO / "stack" / "chatkit" / "stack.toml"
    if not toml.exists():
        pytest.skip("the TOML form of the reference stack is gone")
    compose, old = load_compose(CHATKIT, environ={}), load_definition(toml)
    assert (compose.name, compose.default_host, compose.hosts) == (old.name, old.default_host, old.hosts)
    assert [s.name for s in compose.secrets] == [s.name for s in old.secrets]
    for name in ("db", "app"):
        new_spec, old_spec = compose.service(name), old.service(name)
        assert (new_spec.ports, new_spec.aliases, new_spec.logs, new_spec.depends_on) == \
            (old_spec.ports, old_spec.aliases, old_spec.logs, old_spec.depends_on)
        assert [(f.path, f.mode) for f in new_spec.files] == [(f.path, f.mode) for f in old_spec.files]
        a, b = new_spec.image, old_spec.image
        assert isinstance(a, ImageRecipe)
        assert isinstance(b, ImageRecipe)
        assert recipe_hash(a, "base") == recipe_hash(b, "base")


# --- supported keys, each form ---------------------------------------------------------------------


def test_image_alone_is_a_local_image(tmp_path: Path) -> None:
    spec = one(tmp_path, "    image: postgres:15\n").services[0]
    assert spec.image == LocalImage("postgres:15")


@pytest.mark.parametrize("build", ["build: .", "build: {context: .}",
                                   "build:\n      context: .\n      dockerfile: Dockerfile"])
def test_build_as_a_string_or_a_mapping(tmp_path: Path, build: str) -> None:
    spec = one(tmp_path, f"    image: myteam/app\n    {build}\n").services[0]
    assert spec.image == ImageRecipe("myteam/app", tmp_path / "Dockerfile", tmp_path)


def test_build_args_in_both_forms_target_and_base_argument(tmp_path: Path) -> None:
    text = """\
x-gameday: {base_arg: ROOT_IMAGE, default_host: a}
services:
  a:
    image: myteam/a
    build: {context: ., args: {VERSION: 1.10, ROOT_IMAGE: debian:bookworm-slim}, target: runtime}
  b:
    image: myteam/b
    build: {context: ., args: ["VERSION=2", "FROM_SHELL", "UNSET"]}
    x-gameday: {inputs: ["src/**"]}
"""
    definition = load(tmp_path, text, env={"FROM_SHELL": "s"})
    a, b = definition.service("a").image, definition.service("b").image
    assert isinstance(a, ImageRecipe)
    assert isinstance(b, ImageRecipe)
    # The base image argument is the harness's to set; a VERSION written 1.10 stays "1.10".
    assert (a.build_args, a.target, a.base_arg) == ((("VERSION", "1.10"),), "runtime", "ROOT_IMAGE")
    assert (b.build_args, b.inputs) == ((("VERSION", "2"), ("FROM_SHELL", "s")), ("src/**",))


def test_build_without_image_is_named_after_the_project_and_service(tmp_path: Path) -> None:
    spec = load(tmp_path, "name: shop\nservices:\n  web:\n    build: .\n").services[0]
    assert isinstance(spec.image, ImageRecipe)
    assert spec.image.repository == "gameday/shop-web"


def test_a_service_naming_an_image_another_builds_runs_that_build(tmp_path: Path) -> None:
    text = "x-gameday: {default_host: a}\nservices:\n  a:\n    image: myteam/a\n    build: .\n" \
           "  worker:\n    image: myteam/a\n    command: work\n"
    definition = load(tmp_path, text)
    assert definition.service("worker").image == definition.service("a").image


@pytest.mark.parametrize(("written", "argv"), [
    ('command: sleep infinity', ("sleep", "infinity")),
    ('command: "sh -c \'echo a b\'"', ("sh", "-c", "echo a b")),
    ('command: ["sleep", "10"]', ("sleep", "10")),
    ('command: [sleep, 10]', ("sleep", "10")),
])
def test_command_string_is_split_into_words_and_a_list_is_the_argv(tmp_path: Path, written: str,
                                                                   argv: tuple[str, ...]) -> None:
    assert one(tmp_path, f"    image: x\n    {written}\n").services[0].command == argv


@pytest.mark.parametrize(("written", "argv"), [
    ("entrypoint: /docker-entrypoint.sh", ("/docker-entrypoint.sh",)),
    ("entrypoint: [tini, --]", ("tini", "--")),
])
def test_entrypoint_in_both_forms(tmp_path: Path, written: str, argv: tuple[str, ...]) -> None:
    assert one(tmp_path, f"    image: x\n    {written}\n").services[0].entrypoint == argv


@pytest.mark.parametrize("environment", [
    "environment:\n      A: '1'\n      B: two\n      C: 0123\n      D: true\n      E:",
    "environment:\n      - A=1\n      - B=two\n      - C=0123\n      - D=true\n      - E",
])
def test_environment_as_a_mapping_or_a_list(tmp_path: Path, environment: str) -> None:
    spec = one(tmp_path, f"    image: x\n    {environment}\n", env={"E": "from-shell"}).services[0]
    # Values keep their spelling; a name without a value comes from the environment.
    assert spec.environment == (("A", "1"), ("B", "two"), ("C", "0123"), ("D", "true"), ("E", "from-shell"))


def test_a_name_without_value_is_left_out_when_the_environment_lacks_it(tmp_path: Path) -> None:
    assert one(tmp_path, "    image: x\n    environment: [ONLY]\n").services[0].environment == ()


@pytest.mark.parametrize("env_file", [
    "env_file: app.env", "env_file: [app.env]", "env_file:\n      - path: app.env\n      - path: none.env\n"
                                                "        required: false"])
def test_env_file_in_each_form_and_environment_wins(tmp_path: Path, env_file: str) -> None:
    spec = one(tmp_path, f"    image: x\n    {env_file}\n    environment: {{B: over}}\n",
               **{"app.env": "# settings\nA=1\nexport B=2\nC='lit $eral'\nD=\"q\\\"uote\"  \nE=x # comment\n"}
               ).services[0]
    assert spec.environment == (("A", "1"), ("B", "over"), ("C", "lit $eral"), ("D", 'q"uote'), ("E", "x"))


@pytest.mark.parametrize(("ports", "published", "warned"), [
    ('["8000"]', (8000,), 0),
    ("[8000]", (8000,), 0),
    ('["8080:8000"]', (8000,), 1),
    ('["127.0.0.1:8080:8000/tcp"]', (8000,), 1),
    ('["0.0.0.0::8000"]', (8000,), 1),
    ('["[::1]:8080:8000"]', (8000,), 1),
    ("[{target: 8000}]", (8000,), 0),
    ("[{target: 8000, published: 80, host_ip: 0.0.0.0, protocol: tcp, mode: host}]", (8000,), 1),
    ('["8000", "8000"]', (8000,), 0),
])
def test_ports_are_container_ports_and_a_host_port_or_address_is_a_warning(
        tmp_path: Path, ports: str, published: tuple[int, ...], warned: int) -> None:
    definition = one(tmp_path, f"    image: x\n    ports: {ports}\n")
    assert definition.services[0].ports == published
    assert len(definition.warnings) == warned
    for warning in definition.warnings:
        assert warning.startswith(f"{definition.path}:4: services.app.ports: ")
        assert "127.0.0.1 on a free port" in warning


def test_expose(tmp_path: Path) -> None:
    spec = one(tmp_path, '    image: x\n    expose: ["9000", 9001, "9002/tcp"]\n').services[0]
    assert spec.expose == (9000, 9001, 9002)


@pytest.mark.parametrize(("depends", "expected"), [
    ("[db]", DependencyCondition.STARTED),
    ("{db: {condition: service_started}}", DependencyCondition.STARTED),
    ("{db: {condition: service_healthy}}", DependencyCondition.HEALTHY),
    ("{db: {condition: service_completed_successfully, required: true}}", DependencyCondition.COMPLETED),
])
def test_depends_on_as_a_list_or_with_conditions(tmp_path: Path, depends: str, expected: DependencyCondition) -> None:
    text = f"x-gameday: {{default_host: app}}\nservices:\n  db:\n    image: x\n  app:\n    image: x\n" \
           f"    depends_on: {depends}\n"
    definition = load(tmp_path, text)
    assert [s.name for s in definition.services] == ["db", "app"]
    assert definition.service("app").dependencies == (Dependency("db", expected),)
    assert definition.service("app").depends_on == ("db",)


@pytest.mark.parametrize(("test", "container", "readiness"), [
    ('["CMD", "pg_isready", "-q"]', ("CMD", "pg_isready", "-q"), "pg_isready -q"),
    ('["CMD-SHELL", "curl -f localhost || exit 1"]', ("CMD-SHELL", "curl -f localhost || exit 1"),
     "sh -c 'curl -f localhost || exit 1'"),
    ("curl -f localhost", ("CMD-SHELL", "curl -f localhost"), "sh -c 'curl -f localhost'"),
])
def test_healthcheck_test_in_each_form(tmp_path: Path, test: str, container: tuple[str, ...], readiness: str) -> None:
    spec = one(tmp_path, f"    image: x\n    healthcheck:\n      test: {test}\n").services[0]
    assert spec.container_healthcheck == ContainerHealthcheck(container)  # Docker's default timings
    assert spec.health is not None
    assert spec.health.check == ExecCheck(readiness)


def test_healthcheck_timings_bound_the_readiness_wait(tmp_path: Path) -> None:
    spec = one(tmp_path, "    image: x\n    healthcheck:\n      test: [CMD, 'true']\n      interval: 1m30s\n"
                         "      timeout: 500ms\n      retries: 2\n      start_period: 10s\n").services[0]
    assert spec.container_healthcheck == ContainerHealthcheck(("CMD", "true"), 90.0, 0.5, 2, 10.0)
    assert spec.health is not None
    assert spec.health.timeout == 10 + 2 * (90 + 0.5)
    fast = one(tmp_path, "    image: x\n    healthcheck: {test: 'true', interval: 1s, timeout: 1s, retries: 1}\n")
    assert fast.services[0].health is not None
    assert fast.services[0].health.timeout == MIN_READINESS_WAIT


@pytest.mark.parametrize("disabled", ["{disable: true}", "{test: [NONE]}"])
def test_healthcheck_disabled_switches_the_images_check_off(tmp_path: Path, disabled: str) -> None:
    spec = one(tmp_path, f"    image: x\n    healthcheck: {disabled}\n").services[0]
    assert spec.container_healthcheck == ContainerHealthcheck(("NONE",))
    assert spec.health is None


def test_networks_with_aliases_in_both_forms_and_several_networks_warn(tmp_path: Path) -> None:
    text = """\
x-gameday: {default_host: a}
services:
  a:
    image: x
    networks: [front]
  b:
    image: x
    networks:
      back:
        aliases: [database, pg]
      default:
networks:
  front:
  back: {driver: bridge}
"""
    definition = load(tmp_path, text)
    assert definition.service("a").aliases == ("a",)
    assert definition.service("b").aliases == ("b", "database", "pg")
    (warning,) = definition.warnings
    assert "one network of its own" in warning


def test_named_volumes_binds_and_tmpfs_in_each_form(tmp_path: Path) -> None:
    text = """\
services:
  app:
    image: x
    volumes:
      - data:/var/lib/data
      - cache:/cache:ro
      - ./conf:/etc/app:ro
      - type: volume
        source: data
        target: /srv/data
      - type: bind
        source: conf
        target: /etc/app2
      - type: tmpfs
        target: /scratch
        tmpfs: {size: 1048576}
    tmpfs:
      - /run
      - /var/spool:size=16m
volumes:
  data:
  cache: {driver: local}
"""
    spec = load(tmp_path, text, **{"conf__app.ini": "x=1\n"}).services[0]
    assert spec.volumes == (VolumeMount("data", "/var/lib/data"), VolumeMount("cache", "/cache", True),
                            VolumeMount("data", "/srv/data"))
    assert spec.binds == (BindMount(tmp_path / "conf", "/etc/app", True), BindMount(tmp_path / "conf", "/etc/app2"))
    assert spec.tmpfs == (TmpfsMount("/scratch", 1024 * 1024), TmpfsMount("/run", DEFAULT_TMPFS_BYTES),
                          TmpfsMount("/var/spool", 16 * 1024**2))


def test_tmpfs_as_one_string(tmp_path: Path) -> None:
    assert one(tmp_path, "    image: x\n    tmpfs: /run:size=64k\n").services[0].tmpfs == (TmpfsMount("/run", 65536),)


@pytest.mark.parametrize(("memory", "size"), [
    ("mem_limit: 256m", 256 * 1024**2), ("mem_limit: 1g", 1024**3), ("mem_limit: 67108864", 64 * 1024**2),
    ("mem_limit: 128mb", 128 * 1024**2),
    ("deploy: {resources: {limits: {memory: 512M}}}", 512 * 1024**2),
    ("mem_limit: 512m\n    deploy: {resources: {limits: {memory: 512m}}}", 512 * 1024**2),
])
def test_memory_from_mem_limit_or_deploy(tmp_path: Path, memory: str, size: int) -> None:
    assert one(tmp_path, f"    image: x\n    {memory}\n").services[0].memory == size


def test_working_dir_user_labels_cap_add_and_profiles(tmp_path: Path) -> None:
    text = """\
services:
  app:
    image: x
    working_dir: /srv
    user: "1000:1000"
    labels: {team: shop, "com.example.tier": web}
    cap_add: [NET_ADMIN, CAP_NET_RAW]
  debug:
    image: x
    profiles: [debug]
"""
    definition = load(tmp_path, text)
    spec = definition.service("app")
    assert (spec.working_dir, spec.user) == ("/srv", "1000:1000")
    assert spec.labels == (("team", "shop"), ("com.example.tier", "web"))
    assert spec.cap_add == ("NET_ADMIN", "NET_RAW")
    assert [s.name for s in definition.services] == ["app"]  # the debug profile is not enabled
    both = load(tmp_path, "x-gameday: {default_host: app}\n" + text, env={"COMPOSE_PROFILES": "debug"})
    assert [s.name for s in both.services] == ["app", "debug"]


def test_labels_as_a_list(tmp_path: Path) -> None:
    spec = one(tmp_path, "    image: x\n    labels: [a=1, b=two, flag]\n").services[0]
    assert spec.labels == (("a", "1"), ("b", "two"), ("flag", ""))


def test_an_optional_dependency_the_file_lacks_is_skipped(tmp_path: Path) -> None:
    spec = one(tmp_path, "    image: x\n    depends_on: {cache: {condition: service_started, required: false}}\n")
    assert spec.services[0].dependencies == ()


def test_a_dangerous_capability_is_allowed_when_the_extension_says_so(tmp_path: Path) -> None:
    spec = one(tmp_path, "    image: x\n    cap_add: [SYS_PTRACE]\n    x-gameday: {allow_cap_add: [SYS_PTRACE]}\n")
    assert spec.services[0].cap_add == ("SYS_PTRACE",)


def test_configs_and_secrets_backed_by_files_content_or_environment(tmp_path: Path) -> None:
    text = """\
x-gameday:
  secrets: {API_KEY: 16}
services:
  app:
    image: x
    configs:
      - app-conf
      - source: inline
        target: /etc/inline.conf
        mode: 0440
    secrets:
      - db-pass
      - source: from-env
        target: token
configs:
  app-conf: {file: ./conf/app.conf}
  inline:
    content: |
      key=${API_KEY}
      plain=${PLAIN:-p}
secrets:
  db-pass: {file: db.txt}
  from-env: {environment: TOKEN}
"""
    spec = load(tmp_path, text, env={"TOKEN": "t0k"}, **{"conf__app.conf": "a=1\n", "db.txt": "s3cret"}).services[0]
    assert spec.files == (
        FileSpec("/app-conf", "a=1\n", 0o444),
        FileSpec("/etc/inline.conf", "key=${API_KEY}\nplain=p\n", 0o440),
        FileSpec("/run/secrets/db-pass", "s3cret", 0o444),
        FileSpec("/run/secrets/token", "t0k", 0o444),
    )


def test_x_gameday_per_service_files_setup_logs(tmp_path: Path) -> None:
    text = """\
x-gameday:
  secrets: {KEY: 32}
  redaction: ['tok_[a-z0-9]{8,}']
  hosts: [app]
services:
  app:
    image: x
    x-gameday:
      files:
        /etc/app.env: {content: "KEY=${KEY}\\n", mode: "0600"}
        /etc/motd: welcome
      setup: ["echo ${KEY} > /dev/null"]
      logs: [/var/log/app.log]
"""
    definition = load(tmp_path, text)
    spec = definition.services[0]
    assert spec.files == (FileSpec("/etc/app.env", "KEY=${KEY}\n", 0o600), FileSpec("/etc/motd", "welcome", 0o644))
    assert spec.setup == ("echo ${KEY} > /dev/null",)
    assert spec.logs == ("/var/log/app.log",)
    assert definition.redaction_patterns == ("tok_[a-z0-9]{8,}",)
    assert definition.hosts == ("app", "local")


def test_x_gameday_hosts_limit_what_a_runbook_may_name(tmp_path: Path) -> None:
    text = "x-gameday: {default_host: app, hosts: [app]}\nservices:\n  app:\n    image: x\n  db:\n    image: x\n"
    assert load(tmp_path, text).hosts == ("app", "local")


def test_name_defaults_to_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "My_Shop"
    folder.mkdir()
    assert load(folder, "services:\n  app:\n    image: x\n").name == "my-shop"


def test_version_is_obsolete_and_warned(tmp_path: Path) -> None:
    definition = load(tmp_path, "version: '3.8'\nservices:\n  app:\n    image: x\n")
    assert definition.warnings == (f"{definition.path}:1: `version` is obsolete in Compose files and ignored "
                                   "(as Compose does)",)


# --- refused keys: exit 2 at their line --------------------------------------------------------------

REFUSED = [
    ("privileged", "    privileged: true\n", "privileged: true", "can take over the machine"),
    ("network-mode-host", "    network_mode: host\n", "network_mode", "own network"),
    ("pid-host", "    pid: host\n", "pid: host", "processes"),
    ("container-name", "    container_name: web\n", "container_name", "side by side"),
    ("restart", "    restart: always\n", "restart:", "hide a fault"),
    ("unknown-key", "    imagee: y\n", "imagee", "is not supported by the harness"),
    ("not-implemented", "    ulimits: {nofile: 1024}\n", "ulimits", "is not supported by the harness"),
    ("bind-outside", "    volumes: [/etc:/host-etc]\n", "/etc:/host-etc", "outside the project folder"),
    ("bind-upward", "    volumes: ['../..:/up']\n", "../..:/up", "outside the project folder"),
    ("bind-home", "    volumes: ['~/.ssh:/root/.ssh']\n", "~/.ssh", "outside the project folder"),
    ("dangerous-cap", "    cap_add:\n      - NET_ADMIN\n      - SYS_ADMIN\n", "SYS_ADMIN", "allow_cap_add"),
    ("udp-port", "    ports: ['53/udp']\n", "53/udp", "TCP ports only"),
    ("port-range", "    ports: ['8000-8001']\n", "8000-8001", "ranges"),
    ("own-label", "    labels: {gameday.run: x}\n", "gameday.run", "harness's own labels"),
    ("anonymous-volume", "    volumes: [/data]\n", "[/data]", "anonymous volume"),
    ("undeclared-volume", "    volumes: ['data:/data']\n", "data:/data", "not declared"),
    ("deploy-replicas", "    deploy: {replicas: 2}\n", "replicas", "deploy.replicas is not supported"),
]


@pytest.mark.parametrize(("body", "fragment", "words"), [pytest.param(b, f, w, id=i) for i, b, f, w in REFUSED])
def test_a_refused_or_unsupported_key_is_an_error_at_its_line(tmp_path: Path, body: str, fragment: str,
                                                              words: str) -> None:
    text = "services:\n  app:\n    image: x\n" + body
    assert_at(error(tmp_path, text), text, fragment, words)


def test_an_unknown_dependency_is_an_error_at_its_item(tmp_path: Path) -> None:
    text = "x-gameday: {default_host: a}\nservices:\n  a:\n    image: x\n    depends_on:\n      - b\n" \
           "      - nothing\n  b:\n    image: x\n"
    assert_at(error(tmp_path, text), text, "- nothing", "'nothing', which is not a service")


def test_an_unknown_top_level_key_is_refused(tmp_path: Path) -> None:
    text = "services:\n  app:\n    image: x\ninclude: [other.yaml]\n"
    assert_at(error(tmp_path, text), text, "include", "one file")


def test_an_external_volume_is_refused(tmp_path: Path) -> None:
    text = "services:\n  app:\n    image: x\nvolumes:\n  data:\n    external: true\n"
    assert_at(error(tmp_path, text), text, "external", "outlive the drill")


# --- interpolation -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "values", "expected"), [
    ("${A}", {"A": "a"}, "a"),
    ("$A/x", {"A": "a"}, "a/x"),
    ("${A:-d}", {}, "d"),
    ("${A:-d}", {"A": ""}, "d"),
    ("${A:-d}", {"A": "a"}, "a"),
    ("${A-d}", {}, "d"),
    ("${A-d}", {"A": ""}, ""),
    ("${A:+r}", {"A": "a"}, "r"),
    ("${A:+r}", {"A": ""}, ""),
    ("${A+r}", {"A": ""}, "r"),
    ("$$", {}, "$"),
    ("$${A}", {"A": "a"}, "${A}"),
    ("cost: $$5", {}, "cost: $5"),
    ("${A:-${B:-deep}}", {}, "deep"),
    ("${A:?}", {"A": "a"}, "a"),
    ("no dollars", {}, "no dollars"),
])
def test_interpolation_rules(text: str, values: dict[str, str], expected: str) -> None:
    assert Interpolator(values)(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("${A:?must be set}", "required variable A is missing: must be set"),
    ("${A?}", "required variable A is missing"),
    ("${A", "not closed"),
    ("${1A}", "must be followed by a variable name"),
    ("${A!}", "must be followed by"),
    ("price $5", "lone `$`"),
])
def test_interpolation_errors(text: str, message: str) -> None:
    with pytest.raises(InterpolationError, match=re.escape(message)):
        Interpolator({})(text)


def test_an_unset_variable_is_empty_with_a_warning(tmp_path: Path) -> None:
    definition = one(tmp_path, "    image: x\n    environment:\n      A: ${UNSET}\n")
    assert definition.services[0].environment == (("A", ""),)
    (warning,) = definition.warnings
    assert warning.startswith(f"{definition.path}:5: the variable UNSET is not set")


def test_a_generated_secret_is_kept_for_the_stack_to_fill_in_whatever_the_form(tmp_path: Path) -> None:
    text = "x-gameday: {secrets: {S: 16}}\nservices:\n  app:\n    image: x\n    environment:\n" \
           "      A: ${S}\n      B: ${S:-default}\n      C: $S\n"
    assert load(tmp_path, text, env={"S": "shell"}).services[0].environment == \
        (("A", "${S}"), ("B", "${S}"), ("C", "${S}"))


def test_a_literal_placeholder_of_a_generated_secret_is_refused_as_ambiguous() -> None:
    with pytest.raises(InterpolationError, match=re.escape("write $$S (no braces)")):
        Interpolator({}, deferred={"S"})("echo $${S}")
    assert Interpolator({}, deferred={"S"})("echo $$S $${OTHER}") == "echo $S ${OTHER}"


def test_a_generated_secret_where_it_cannot_be_filled_in_is_an_error(tmp_path: Path) -> None:
    text = "x-gameday: {secrets: {S: 16}}\nservices:\n  app:\n    image: gameday/${S}\n"
    assert_at(error(tmp_path, text), text, "image:", "generated secret S")


def test_dotenv_beside_the_file_and_the_environment_wins(tmp_path: Path) -> None:
    text = "services:\n  app:\n    image: ${IMAGE}\n    environment: {A: '${A}', B: '${B}'}\n"
    dotenv = "IMAGE=gameday/app\nA=from-dotenv\nB=${A}-too\n"
    spec = load(tmp_path, text, env={"A": "from-shell"}, **{".env": dotenv}).services[0]
    assert spec.image == LocalImage("gameday/app")
    assert spec.environment == (("A", "from-shell"), ("B", "from-shell-too"))


def test_no_dotenv_is_fine(tmp_path: Path) -> None:
    assert one(tmp_path, "    image: ${IMAGE:-gameday/x}\n").services[0].image == LocalImage("gameday/x")


def test_a_bad_dotenv_line_is_an_error_at_its_line_in_that_file(tmp_path: Path) -> None:
    exc = error(tmp_path, "services:\n  app:\n    image: x\n", **{".env": "A=1\nnot a line\n"})
    assert (exc.path, exc.line) == (tmp_path / ".env", 2)


def test_parse_dotenv_quotes_comments_and_export() -> None:
    values, problems = parse_dotenv("# c\n\nexport A=1\nB='x # y'\nC=\"a\\nb\"\nD=v # note\nE=\n")
    assert problems == []
    assert values == {"A": "1", "B": "x # y", "C": "a\nb", "D": "v", "E": ""}


def test_redaction_patterns_are_not_interpolated(tmp_path: Path) -> None:
    text = "x-gameday: {redaction: ['^tok_[a-z]+$']}\nservices:\n  app:\n    image: x\n"
    assert load(tmp_path, text).redaction_patterns == ("^tok_[a-z]+$",)


def test_keys_are_not_interpolated(tmp_path: Path) -> None:
    definition = one(tmp_path, "    image: x\n    labels: {'$${A}': v}\n")
    assert definition.services[0].labels == (("$${A}", "v"),)


# --- YAML ------------------------------------------------------------------------------------------------


def test_anchors_aliases_and_merge_keys_used_legitimately(tmp_path: Path) -> None:
    text = """\
x-common: &common
  image: gameday/base
  environment: &env
    LOG: info
    MODE: base
  labels: {team: shop}
x-more: &more
  mem_limit: 64m
  labels: {tier: back}
x-gameday: {default_host: a}
services:
  a:
    <<: *common
  b:
    <<: [*common, *more]
    environment:
      <<: *env
      MODE: b
"""
    definition = load(tmp_path, text)
    a, b = definition.service("a"), definition.service("b")
    assert a.image == b.image == LocalImage("gameday/base")
    assert dict(a.environment) == {"LOG": "info", "MODE": "base"}
    assert dict(b.environment) == {"LOG": "info", "MODE": "b"}
    assert b.labels == (("team", "shop"),)  # the first merged mapping wins
    assert b.memory == 64 * 1024**2


def test_an_error_in_a_merged_value_names_the_line_where_it_is_written(tmp_path: Path) -> None:
    text = "x-common: &common\n  image: x\n  mem_limit: lots\nservices:\n  a:\n    <<: *common\n"
    assert_at(error(tmp_path, text), text, "mem_limit: lots", "not a size")


def test_yaml_12_scalars_as_compose_reads_them() -> None:
    doc = read_yaml("a: yes\nb: on\nc: 22:22\nd: 0440\ne: 0o17\nf: 1.10\ng: ~\nh: true\n")
    assert doc.value == {"a": "yes", "b": "on", "c": "22:22", "d": 0o440, "e": 0o17, "f": 1.1, "g": None, "h": True}
    assert str(doc.value["f"].text) == "1.10"


def test_an_alias_bomb_is_refused_fast() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)]
    started = time.monotonic()
    with pytest.raises(YamlProblem, match=f"more than {MAX_NODES:,} values"):
        read_yaml("\n".join(lines))
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize(("text", "line", "message"), [
    ("a: 1\nb: 2\na: 3\n", 3, "appears twice"),
    ("a: !reset []\n", 1, "not supported"),
    ("a: !!python/object:os.system x\n", 1, "not supported"),
    ("a: [1, 2\n", 2, "not valid YAML"),
    ("a:\n\tb: 1\n", 2, "not valid YAML"),
    ("a: *nowhere\n", 1, "not valid YAML"),
    ("--- 1\n--- 2\n", 2, "not valid YAML"),
    ("? [a]\n: 1\n", 1, "a key must be a plain value"),
])
def test_malformed_yaml_is_a_problem_at_its_line(text: str, line: int, message: str) -> None:
    with pytest.raises(YamlProblem, match=message) as info:
        read_yaml(text)
    assert info.value.line == line


def test_nesting_too_deep_is_refused_without_a_crash() -> None:
    with pytest.raises(YamlProblem, match="nested"):
        read_yaml("a: " + "[" * 5000)


# --- small parsers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "seconds"), [("1m30s", 90.0), ("10s", 10.0), ("500ms", 0.5), ("1h", 3600.0),
                                                  ("2m", 120.0), ("1.5s", 1.5)])
def test_compose_durations(written: str, seconds: float) -> None:
    assert parse_compose_duration(written) == seconds


@pytest.mark.parametrize(("written", "size"), [(1024, 1024), ("64k", 65536), ("1g", 1024**3), ("100mb", 100 * 1024**2),
                                               ("512B", 512), ("2 M", 2 * 1024**2)])
def test_compose_sizes(written: object, size: int) -> None:
    assert parse_compose_size(written) == size


# --- x-gameday.prepare: a host step before the build ----------------------------------------------


def test_prepare_names_an_executable_program_inside_the_context(tmp_path: Path) -> None:
    text = "services:\n  app:\n    image: t/app\n    build: .\n    x-gameday: {prepare: [tools/make.sh, --quick]}\n"
    write(tmp_path, text, **{"tools__make.sh": "#!/bin/sh\n"})
    (tmp_path / "tools" / "make.sh").chmod(0o755)
    image = load_compose(tmp_path / "compose.yaml", environ={}).service("app").image
    assert isinstance(image, ImageRecipe)
    assert image.prepare == ("tools/make.sh", "--quick")


@pytest.mark.parametrize(("program", "words"), [
    ("missing.sh", ("inside the build context", "missing.sh")),
    ("../outside.sh", ("inside the build context",)),
    ("/bin/sh", ("inside the build context",)),
    ("plain.sh", ("not executable", "chmod +x")),
])
def test_a_prepare_program_that_cannot_run_is_refused_at_its_line(tmp_path: Path, program: str,
                                                                   words: tuple[str, ...]) -> None:
    text = f"services:\n  app:\n    image: t/app\n    build: .\n    x-gameday:\n      prepare: [{program}]\n"
    (tmp_path.parent / "outside.sh").write_text("#!/bin/sh\n")
    exc = error(tmp_path, text, **{"plain.sh": "#!/bin/sh\n"})
    assert_at(exc, text, "prepare:", *words)
