"""Stack definitions: loading, validation and `file:line` error reporting, `substitute`, and the images a
definition asks for (each recipe built once, local images used as they are, never pulled)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from harness.errors import EXIT_BAD_INPUT, BadInput, DefinitionError, GamedayError, ImageBuildError
from harness.stack.definition import (
    DEFAULT_HEALTH_INTERVAL,
    DEFAULT_HEALTH_TIMEOUT,
    MIN_MEMORY_BYTES,
    ExecCheck,
    HealthCheck,
    HttpCheck,
    ImageRecipe,
    LocalImage,
    StackDefinition,
    TcpCheck,
    TmpfsMount,
    VolumeMount,
    load_definition,
    parse_size,
    substitute,
)
from harness.stack.images import BASE_ENV, BuiltImage, ensure_stack_images

REPO = Path(__file__).resolve().parents[3]
CHATKIT = REPO / "stack" / "chatkit" / "stack.toml"

MINIMAL = """\
name = "tiny"

[services.app]
image = "gameday/tiny"
dockerfile = "Dockerfile"
"""


def write_stack(tmp_path: Path, text: str) -> Path:
    """A definition next to a tiny Dockerfile, so that the dockerfile checks pass."""
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    path = tmp_path / "stack.toml"
    path.write_text(text)
    return path


def load_error(tmp_path: Path, text: str) -> DefinitionError:
    path = write_stack(tmp_path, text)
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    assert info.value.path == path.resolve()
    return info.value


def line_of(text: str, fragment: str) -> int:
    """The number of the one line of `text` that holds `fragment` (the test's own expectation)."""
    numbers = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    assert len(numbers) == 1, f"{fragment!r} must be on exactly one line of the test definition: {numbers}"
    return numbers[0]


def assert_at(error: DefinitionError, text: str, fragment: str) -> None:
    expected = line_of(text, fragment)
    assert error.line == expected, f"{error} (expected line {expected}: {text.splitlines()[expected - 1]!r})"
    assert str(error).startswith(f"{error.path}:{expected}: ")


# --- what loads ---------------------------------------------------------------------------------


def test_a_minimal_stack_loads_with_defaults(tmp_path: Path) -> None:
    path = write_stack(tmp_path, MINIMAL)

    definition = load_definition(path)

    assert isinstance(definition, StackDefinition)
    assert definition.name == "tiny"
    assert definition.path == path.resolve()
    assert definition.hosts == ("app", "local")
    assert definition.secrets == ()
    assert definition.variables == ()
    (app,) = definition.services
    assert app.name == "app"
    assert app.line == 3
    assert app.aliases == ("app",)
    assert app.ports == ()
    assert app.health is None
    assert app.image.repository == "gameday/tiny"
    assert app.image.dockerfile == (tmp_path / "Dockerfile").resolve()
    assert app.image.context == tmp_path.resolve()
    assert app.image.inputs == ("**/*",)
    assert definition.service("app") is app
    # One service: it is the default host without saying so.
    assert definition.default_host == "app"
    assert (app.command, app.volumes, app.tmpfs, app.memory) == ((), (), (), None)
    assert definition.volumes == ()


def test_a_definition_path_may_be_given_as_a_string(tmp_path: Path) -> None:
    path = write_stack(tmp_path, MINIMAL)
    assert load_definition(str(path)).path == path.resolve()


def test_the_reference_chatkit_stack_loads(tmp_path: Path) -> None:
    definition = load_definition(CHATKIT)

    assert definition.name == "chatkit"
    assert definition.default_host == "app"
    assert [s.name for s in definition.services] == ["db", "app"]
    assert definition.hosts == ("db", "app", "local")
    assert [s.name for s in definition.secrets] == ["SECRET_KEY", "DB_PASSWORD"]
    assert dict(definition.variables) == {"DB_USER": "chatkit", "DB_NAME": "chatkit"}
    db, app = definition.service("db"), definition.service("app")
    assert app.depends_on == ("db",)
    assert app.ports == (8000,)
    assert app.health is not None
    assert app.health.check == HttpCheck(path="/health", port=8000, status=200)
    assert app.health.timeout == 60.0
    assert db.health is not None
    assert isinstance(db.health.check, ExecCheck)
    assert db.aliases == ("db", "postgres")
    (env_file,) = app.files
    assert env_file.path == "/etc/chatkit-backend.env"
    assert env_file.mode == 0o600
    # Placeholders are checked at load time but only filled in when a stack starts.
    assert "SECRET_KEY=${SECRET_KEY}" in env_file.content
    assert "${DB_PASSWORD}" in db.setup[0]


def test_services_are_ordered_so_that_dependencies_start_first(tmp_path: Path) -> None:
    text = """\
name = "ordered"
default_host = "web"

[services.web]
image = "gameday/web"
dockerfile = "Dockerfile"
depends_on = ["app"]

[services.app]
image = "gameday/app"
dockerfile = "Dockerfile"
depends_on = ["db", "cache"]

[services.cache]
image = "gameday/cache"
dockerfile = "Dockerfile"

[services.db]
image = "gameday/db"
dockerfile = "Dockerfile"
"""
    definition = load_definition(write_stack(tmp_path, text))

    names = [s.name for s in definition.services]
    assert sorted(names) == ["app", "cache", "db", "web"]
    assert names.index("db") < names.index("app")
    assert names.index("cache") < names.index("app")
    assert names.index("app") < names.index("web")
    assert definition.hosts == (*names, "local")


def test_health_durations_and_defaults_are_read(tmp_path: Path) -> None:
    text = MINIMAL + """\
ports = [8080, 9090]

[services.app.health]
http = "/ready"
timeout = "2m"
interval = "500ms"
"""
    (app,) = load_definition(write_stack(tmp_path, text)).services
    assert app.health is not None
    assert app.health.check == HttpCheck(path="/ready", port=8080, status=200)
    assert app.health.timeout == 120.0
    assert app.health.interval == 0.5


def test_an_exec_health_check_gets_the_default_timing(tmp_path: Path) -> None:
    text = MINIMAL + '\n[services.app.health]\nexec = "true"\n'
    (app,) = load_definition(write_stack(tmp_path, text)).services
    assert app.health is not None
    assert app.health.check == ExecCheck("true")
    assert (app.health.timeout, app.health.interval) == (DEFAULT_HEALTH_TIMEOUT, DEFAULT_HEALTH_INTERVAL)


def test_known_placeholders_are_accepted_everywhere(tmp_path: Path) -> None:
    text = """\
name = "tiny"

[variables]
USER = "chat"

[secrets.TOKEN]
bytes = 16

[services.app]
image = "gameday/tiny"
dockerfile = "Dockerfile"
setup = ["echo ${USER}"]
environment = { AUTH = "Bearer ${TOKEN}" }

[services.app.files."/etc/app.conf"]
content = "user=${USER}\\n"
mode = "0640"
"""
    definition = load_definition(write_stack(tmp_path, text))
    (app,) = definition.services
    assert definition.secrets[0].nbytes == 16
    assert app.setup == ("echo ${USER}",)
    assert app.environment == (("AUTH", "Bearer ${TOKEN}"),)
    assert app.files[0].content == "user=${USER}\n"
    assert app.files[0].mode == 0o640


# --- the error type -----------------------------------------------------------------------------


def test_a_definition_error_is_bad_input_with_exit_code_2() -> None:
    error = DefinitionError("boom", path="/x/stack.toml", line=7)
    assert isinstance(error, BadInput)
    assert isinstance(error, GamedayError)
    assert error.exit_code == EXIT_BAD_INPUT == 2
    assert error.path == Path("/x/stack.toml")
    assert error.line == 7
    assert str(error) == "/x/stack.toml:7: boom"


def test_a_definition_error_without_a_line_names_the_file_only() -> None:
    assert str(DefinitionError("boom", path="/x/stack.toml")) == "/x/stack.toml: boom"


# --- files that cannot be read ------------------------------------------------------------------


def test_a_missing_definition_file_is_a_definition_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(DefinitionError, match="cannot read") as info:
        load_definition(path)
    assert info.value.path == path.resolve()
    assert info.value.line is None
    assert str(info.value).startswith(f"{path.resolve()}: ")


def test_a_folder_instead_of_a_file_is_a_definition_error(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="cannot read"):
        load_definition(tmp_path)


def test_a_definition_that_is_not_utf8_is_a_definition_error(tmp_path: Path) -> None:
    path = tmp_path / "stack.toml"
    path.write_bytes(b'name = "caf\xe9"\n')
    with pytest.raises(DefinitionError, match="UTF-8") as info:
        load_definition(path)
    assert info.value.path == path.resolve()


def test_invalid_toml_is_an_error_with_its_line(tmp_path: Path) -> None:
    text = MINIMAL + 'ports = [8080,,]\n'
    error = load_error(tmp_path, text)
    assert "not valid TOML" in str(error)
    assert_at(error, text, "ports = [8080,,]")


# --- errors with their line ---------------------------------------------------------------------


def test_an_unknown_top_level_key_is_an_error_with_its_line(tmp_path: Path) -> None:
    text = 'name = "tiny"\nmaintainer = "sre"\n\n' + MINIMAL.split("\n", 1)[1]
    error = load_error(tmp_path, text)
    assert "unknown key 'maintainer'" in str(error)
    assert_at(error, text, "maintainer =")


def test_an_unknown_service_key_is_an_error_with_its_line(tmp_path: Path) -> None:
    text = MINIMAL + 'ports = [80]\nhelth = { http = "/" }\n'
    error = load_error(tmp_path, text)
    assert "unknown key 'helth' in services.app" in str(error)
    assert "health" in str(error)  # the hint lists the known keys
    assert_at(error, text, "helth =")


def test_an_unknown_health_key_is_an_error_with_its_line(tmp_path: Path) -> None:
    text = MINIMAL + '\n[services.app.health]\nexec = "true"\ntimout = "5s"\n'
    error = load_error(tmp_path, text)
    assert "unknown key 'timout'" in str(error)
    assert_at(error, text, "timout =")


def test_an_unknown_file_key_is_an_error_with_its_line(tmp_path: Path) -> None:
    text = MINIMAL + '\n[services.app.files."/etc/a.conf"]\ncontent = "x"\nowner = "root"\n'
    error = load_error(tmp_path, text)
    assert "unknown key 'owner'" in str(error)
    assert_at(error, text, "owner =")


def test_an_unknown_placeholder_in_a_file_is_an_error_with_its_line(tmp_path: Path) -> None:
    text = MINIMAL + '''
[services.app.files."/etc/app.conf"]
content = """
first=1
second=${NOPE}
third=3
"""
'''
    error = load_error(tmp_path, text)
    assert "${NOPE}" in str(error)
    assert "file /etc/app.conf" in str(error)
    assert_at(error, text, "second=${NOPE}")


def test_an_unknown_placeholder_in_the_environment_is_an_error_with_its_line(tmp_path: Path) -> None:
    text = """\
name = "tiny"

[variables]
REGION = "eu"

[services.app]
image = "gameday/tiny"
dockerfile = "Dockerfile"

[services.app.environment]
ZONE = "${REGION}-1"
GREETING = "hello ${NOPE}"
"""
    error = load_error(tmp_path, text)
    assert "services.app.environment.GREETING uses ${NOPE}" in str(error)
    assert "known: REGION" in str(error)
    assert_at(error, text, 'GREETING = "hello ${NOPE}"')


def test_an_unknown_placeholder_in_a_setup_command_is_an_error_with_its_line(tmp_path: Path) -> None:
    text = MINIMAL + 'setup = [\n  "echo one",\n  "echo ${NOPE}",\n]\n'
    error = load_error(tmp_path, text)
    assert "services.app.setup uses ${NOPE}" in str(error)
    assert "known: none" in str(error)
    assert_at(error, text, '"echo ${NOPE}"')


@pytest.mark.parametrize("ports", ["[0]", "[70000]", "[-1]", '["80"]', "[true]", "8080", "[80, 1.5]"])
def test_a_bad_port_is_an_error_with_its_line(tmp_path: Path, ports: str) -> None:
    text = MINIMAL + f'aliases = ["web"]\nports = {ports}\n'
    error = load_error(tmp_path, text)
    assert "services.app.ports must be a list of port numbers" in str(error)
    assert_at(error, text, f"ports = {ports}")


def test_a_missing_dockerfile_is_an_error_with_its_line(tmp_path: Path) -> None:
    text = 'name = "tiny"\n\n[services.app]\nimage = "gameday/tiny"\ndockerfile = "images/app/Dockerfile"\n'
    error = load_error(tmp_path, text)
    assert "does not exist" in str(error)
    assert_at(error, text, "dockerfile =")


def test_a_service_with_build_keys_but_no_dockerfile_is_an_error_at_its_table(tmp_path: Path) -> None:
    text = 'name = "tiny"\n\n[services.app]\nimage = "gameday/tiny"\ncontext = "."\ninputs = ["**"]\n'
    error = load_error(tmp_path, text)
    assert "services.app.dockerfile is required: context, inputs describe a build" in str(error)
    assert_at(error, text, "[services.app]")


def test_a_dependency_on_an_unknown_service_is_an_error_with_its_line(tmp_path: Path) -> None:
    text = MINIMAL + 'ports = [80]\ndepends_on = ["cache"]\n'
    error = load_error(tmp_path, text)
    assert "depends on unknown service 'cache'" in str(error)
    assert_at(error, text, "depends_on =")


def test_a_service_depending_on_itself_is_a_cycle_at_its_table(tmp_path: Path) -> None:
    text = MINIMAL + 'depends_on = ["app"]\n'
    error = load_error(tmp_path, text)
    assert "cycle" in str(error)
    assert_at(error, text, "[services.app]")


def test_a_dependency_cycle_is_an_error_at_the_first_service_of_the_cycle(tmp_path: Path) -> None:
    text = """\
name = "loop"

[services.db]
image = "gameday/db"
dockerfile = "Dockerfile"

[services.api]
image = "gameday/api"
dockerfile = "Dockerfile"
depends_on = ["db", "worker"]

[services.worker]
image = "gameday/worker"
dockerfile = "Dockerfile"
depends_on = ["api"]
"""
    error = load_error(tmp_path, text)
    assert "services.api: depends_on forms a cycle" in str(error)
    assert_at(error, text, "[services.api]")


def test_a_health_check_with_both_http_and_exec_is_an_error_with_its_line(tmp_path: Path) -> None:
    text = MINIMAL + 'ports = [80]\n\n[services.app.health]\nhttp = "/"\nexec = "true"\n'
    error = load_error(tmp_path, text)
    assert "exactly one of http" in str(error)
    assert_at(error, text, "[services.app.health]")


def test_a_health_check_with_neither_http_nor_exec_is_an_error(tmp_path: Path) -> None:
    text = MINIMAL + 'ports = [80]\n\n[services.app.health]\ntimeout = "5s"\n'
    error = load_error(tmp_path, text)
    assert "exactly one of http" in str(error)
    assert_at(error, text, "[services.app.health]")


def test_an_http_health_check_on_an_unpublished_port_is_an_error(tmp_path: Path) -> None:
    text = MINIMAL + 'ports = [80]\n\n[services.app.health]\nhttp = "/"\nport = 81\n'
    error = load_error(tmp_path, text)
    assert "published ports [80]" in str(error)
    assert_at(error, text, "[services.app.health]")


@pytest.mark.parametrize("timeout", ['"soon"', '"0s"', '"-5s"', "0", "true", '"10 parsecs"'])
def test_a_bad_health_timeout_is_an_error_with_its_line(tmp_path: Path, timeout: str) -> None:
    text = MINIMAL + f'\n[services.app.health]\nexec = "true"\ntimeout = {timeout}\n'
    error = load_error(tmp_path, text)
    assert "services.app.health" in str(error)
    assert_at(error, text, "timeout =")


def test_a_bad_health_interval_is_an_error_with_its_line(tmp_path: Path) -> None:
    text = MINIMAL + '\n[services.app.health]\nexec = "true"\ninterval = "fast"\n'
    error = load_error(tmp_path, text)
    assert "not a duration: 'fast'" in str(error)
    assert_at(error, text, "interval =")


@pytest.mark.parametrize("name", ["local", "App", "1app", "my_app"])
def test_a_service_named_local_or_not_lowercase_is_an_error_at_its_table(tmp_path: Path, name: str) -> None:
    text = f'name = "tiny"\n\n[services.{name}]\nimage = "gameday/tiny"\ndockerfile = "Dockerfile"\n'
    error = load_error(tmp_path, text)
    assert f"service name {name!r} is not allowed" in str(error)
    assert_at(error, text, f"[services.{name}]")


@pytest.mark.parametrize("mode", ['"rw-r--r--"', '"0899"', '""', "true"])
def test_a_bad_file_mode_is_an_error_at_its_mode_line(tmp_path: Path, mode: str) -> None:
    text = MINIMAL + f'\n[services.app.files."/etc/app.conf"]\ncontent = "x"\nmode = {mode}\n'
    error = load_error(tmp_path, text)
    assert "is not octal" in str(error)
    assert_at(error, text, "mode =")


def test_a_file_with_a_relative_path_is_an_error(tmp_path: Path) -> None:
    text = MINIMAL + '\n[services.app.files."etc/app.conf"]\ncontent = "x"\n'
    error = load_error(tmp_path, text)
    assert "must be an absolute path" in str(error)
    assert_at(error, text, '[services.app.files."etc/app.conf"]')


def test_a_file_without_content_is_an_error(tmp_path: Path) -> None:
    text = MINIMAL + '\n[services.app.files."/etc/app.conf"]\nmode = "0600"\n'
    error = load_error(tmp_path, text)
    assert "needs `content`" in str(error)
    assert_at(error, text, '[services.app.files."/etc/app.conf"]')


@pytest.mark.parametrize("nbytes", ["8", "15", "257", "1024", '"32"', "true", "32.0"])
def test_secret_bytes_out_of_range_is_an_error_at_the_secret(tmp_path: Path, nbytes: str) -> None:
    text = f'name = "tiny"\n\n[secrets.TOKEN]\nbytes = {nbytes}\n\n' + MINIMAL.split("\n", 2)[2]
    error = load_error(tmp_path, text)
    assert "secrets.TOKEN.bytes must be an integer from 16 to 256" in str(error)
    assert_at(error, text, "[secrets.TOKEN]")


@pytest.mark.parametrize("nbytes", [16, 256])
def test_secret_bytes_at_the_limits_are_accepted(tmp_path: Path, nbytes: int) -> None:
    text = f'name = "tiny"\n\n[secrets.TOKEN]\nbytes = {nbytes}\n\n' + MINIMAL.split("\n", 2)[2]
    assert load_definition(write_stack(tmp_path, text)).secrets[0].nbytes == nbytes


@pytest.mark.parametrize("name", ['"Tiny"', '""', "42", '"has space"'])
def test_a_bad_stack_name_is_an_error_with_its_line(tmp_path: Path, name: str) -> None:
    text = f"name = {name}\n" + MINIMAL.split("\n", 1)[1]
    error = load_error(tmp_path, text)
    assert "`name` must be" in str(error)
    assert_at(error, text, f"name = {name}")


def test_a_stack_without_services_is_an_error(tmp_path: Path) -> None:
    error = load_error(tmp_path, 'name = "tiny"\n')
    assert "at least one [services.NAME]" in str(error)


def test_asking_for_an_unknown_service_names_the_known_ones(tmp_path: Path) -> None:
    definition = load_definition(write_stack(tmp_path, MINIMAL))
    with pytest.raises(DefinitionError, match="unknown service 'db'; this stack has: app"):
        definition.service("db")


# --- bugs found by these tests and fixed: each pins its fix -----------------------------------


def test_an_unknown_top_level_table_is_an_error_at_its_header(tmp_path: Path) -> None:
    text = 'name = "tiny"\n\n[variable]\nREGION = "eu"\n\n' + MINIMAL.split("\n", 1)[1]
    error = load_error(tmp_path, text)
    assert "unknown key 'variable'" in str(error)
    assert_at(error, text, "[variable]")


def test_a_mistyped_health_table_is_an_error_at_its_header(tmp_path: Path) -> None:
    text = MINIMAL + 'ports = [80]\n\n[services.app.helth]\nhttp = "/"\n'
    error = load_error(tmp_path, text)
    assert "unknown key 'helth'" in str(error)
    assert_at(error, text, "[services.app.helth]")


TWO_SERVICES = """\
name = "pair"

[services.db]
image = "gameday/db"
dockerfile = "Dockerfile"
ports = [5432]
depends_on = []

[services.db.health]
exec = "true"
timeout = "30s"

[services.app]
image = "gameday/app"
"""


@pytest.mark.parametrize(
    ("app_lines", "culprit"),
    [
        ('dockerfile = "Dockerfile"\nports = [0]\n', "ports = [0]"),
        ('dockerfile = "missing/Dockerfile"\n', 'dockerfile = "missing/Dockerfile"'),
        ('dockerfile = "Dockerfile"\ndepends_on = ["cache"]\n', 'depends_on = ["cache"]'),
        ('dockerfile = "Dockerfile"\nports = [80]\n\n[services.app.health]\nhttp = "/"\nexec = "true"\n',
         "[services.app.health]"),
        ('dockerfile = "Dockerfile"\n\n[services.app.health]\nexec = "true"\ntimeout = "soon"\n',
         'timeout = "soon"'),
    ],
    ids=["ports", "dockerfile", "depends_on", "health", "timeout"],
)
def test_an_error_in_a_later_service_is_reported_at_that_services_line(
    tmp_path: Path, app_lines: str, culprit: str
) -> None:
    text = TWO_SERVICES + app_lines
    error = load_error(tmp_path, text)
    assert "services.app" in str(error)
    assert_at(error, text, culprit)


def test_a_bad_interval_after_a_good_timeout_is_reported_at_the_interval(tmp_path: Path) -> None:
    text = MINIMAL + '\n[services.app.health]\nexec = "true"\ntimeout = "5s"\ninterval = "fast"\n'
    error = load_error(tmp_path, text)
    assert_at(error, text, "interval =")


def test_a_toml_octal_integer_mode_is_that_mode_or_an_error(tmp_path: Path) -> None:
    text = MINIMAL + '\n[services.app.files."/etc/app.conf"]\ncontent = "x"\nmode = 0o644\n'
    path = write_stack(tmp_path, text)
    try:
        (app,) = load_definition(path).services
    except DefinitionError:
        return
    assert app.files[0].mode == 0o644


@pytest.mark.parametrize("mode", ['"-644"', '"7777777"'])
def test_a_file_mode_out_of_range_is_an_error(tmp_path: Path, mode: str) -> None:
    text = MINIMAL + f'\n[services.app.files."/etc/app.conf"]\ncontent = "x"\nmode = {mode}\n'
    load_error(tmp_path, text)


def test_an_unknown_key_in_a_secret_is_an_error(tmp_path: Path) -> None:
    text = 'name = "tiny"\n\n[secrets.TOKEN]\nbyts = 16\n\n' + MINIMAL.split("\n", 2)[2]
    error = load_error(tmp_path, text)
    assert_at(error, text, "byts =")


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_a_non_finite_health_timeout_is_an_error(tmp_path: Path, value: str) -> None:
    text = MINIMAL + f'\n[services.app.health]\nexec = "true"\ntimeout = {value}\n'
    load_error(tmp_path, text)


# --- default_host: declared, never inferred ------------------------------------------------------

PAIR = """\
name = "pair"
{top}
[services.db]
image = "gameday/db"
dockerfile = "Dockerfile"

[services.app]
image = "gameday/app"
dockerfile = "Dockerfile"
"""


@pytest.mark.parametrize("host", ["db", "app", "local"])
def test_default_host_names_a_service_or_local(tmp_path: Path, host: str) -> None:
    definition = load_definition(write_stack(tmp_path, PAIR.format(top=f'default_host = "{host}"\n')))
    assert definition.default_host == host


def test_default_host_is_not_the_last_service_unless_said(tmp_path: Path) -> None:
    definition = load_definition(write_stack(tmp_path, PAIR.format(top='default_host = "db"\n')))
    assert definition.services[-1].name == "app"
    assert definition.default_host == "db"


def test_several_services_without_default_host_is_an_error_at_the_name_line(tmp_path: Path) -> None:
    text = PAIR.format(top="")
    error = load_error(tmp_path, text)
    assert "this stack has 2 services" in str(error)
    assert 'add default_host = "SERVICE"' in str(error)
    assert '"db", "app", "local"' in str(error)
    assert_at(error, text, 'name = "pair"')


@pytest.mark.parametrize("value", ['"web"', '"App"', '""', "3", '["app"]'])
def test_default_host_naming_no_service_is_an_error_at_its_line(tmp_path: Path, value: str) -> None:
    text = PAIR.format(top=f"default_host = {value}\n")
    error = load_error(tmp_path, text)
    assert "default_host" in str(error)
    assert "names no service of this stack" in str(error)
    assert_at(error, text, "default_host =")


def test_a_definition_built_in_code_with_several_services_must_name_its_default_host(tmp_path: Path) -> None:
    definition = load_definition(write_stack(tmp_path, PAIR.format(top='default_host = "app"\n')))
    with pytest.raises(ValueError, match="default_host"):
        dataclasses.replace(definition, default_host="")
    with pytest.raises(ValueError, match="default_host 'web'"):
        dataclasses.replace(definition, default_host="web")
    (app,) = [s for s in definition.services if s.name == "app"]
    assert dataclasses.replace(definition, services=(app,), default_host="").default_host == "app"


# --- images: built, shared or local -------------------------------------------------------------

SHARED = """\
name = "shared"
default_host = "web"

[services.worker]
image = "gameday/web"
command = ["sleep", "infinity"]

[services.web]
image = "gameday/web"
dockerfile = "Dockerfile"
inputs = ["Dockerfile"]

[services.cache]
image = "redis:7"
"""


def test_a_service_without_a_dockerfile_runs_the_image_another_service_builds(tmp_path: Path) -> None:
    definition = load_definition(write_stack(tmp_path, SHARED))
    worker, web, cache = (definition.service(n) for n in ("worker", "web", "cache"))
    assert isinstance(web.image, ImageRecipe)
    assert worker.image == web.image  # declared before its builder: resolved all the same
    assert cache.image == LocalImage("redis:7")


def test_an_image_without_a_dockerfile_nobody_builds_is_a_local_image(tmp_path: Path) -> None:
    text = 'name = "tiny"\n\n[services.app]\nimage = "gameday/tiny"\n'
    (app,) = load_definition(write_stack(tmp_path, text)).services
    assert app.image == LocalImage("gameday/tiny")


def test_the_same_recipe_named_twice_is_one_recipe(tmp_path: Path) -> None:
    text = PAIR.format(top='default_host = "app"\n').replace('"gameday/app"', '"gameday/db"')
    db, app = load_definition(write_stack(tmp_path, text)).services
    assert db.image == app.image


@pytest.mark.parametrize("recipe", ['dockerfile = "Dockerfile"\ninputs = ["Dockerfile"]',
                                    'dockerfile = "Dockerfile"\nbuild_args = { V = "2" }',
                                    'dockerfile = "other/Dockerfile"'],
                         ids=["inputs", "build_args", "dockerfile"])
def test_an_image_built_from_a_different_recipe_is_an_error_at_its_image_line(tmp_path: Path, recipe: str) -> None:
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "Dockerfile").write_text("FROM scratch\n")
    text = ('name = "pair"\ndefault_host = "app"\n\n[services.db]\nimage = "gameday/db"\ndockerfile = "Dockerfile"\n'
            f'\n[services.app]\nimage = "gameday/db" # again\n{recipe}\n')
    error = load_error(tmp_path, text)
    assert "services.app.image 'gameday/db' is already built by services.db from a different recipe" in str(error)
    assert "drop this service's dockerfile" in str(error)
    assert_at(error, text, "# again")


@pytest.mark.parametrize("image", ['"gameday/app:v1"', '"Gameday/App"', '""', "7"])
def test_a_built_image_must_be_a_repository_without_a_tag(tmp_path: Path, image: str) -> None:
    text = f'name = "tiny"\n\n[services.app]\nimage = {image}\ndockerfile = "Dockerfile"\n'
    error = load_error(tmp_path, text)
    assert "services.app.image must name the image repository to build" in str(error)
    assert_at(error, text, f"image = {image}")


@pytest.mark.parametrize("image", ['"redis:"', '"redis:7 "', '"Redis"', '"redis@sha256:abc"', "[]"])
def test_a_bad_local_image_reference_is_an_error_at_its_line(tmp_path: Path, image: str) -> None:
    text = f'name = "tiny"\n\n[services.app]\nimage = {image}\n'
    error = load_error(tmp_path, text)
    assert "services.app.image must name an image" in str(error)
    assert_at(error, text, f"image = {image}")


# --- command ------------------------------------------------------------------------------------


def test_a_command_string_runs_under_sh_and_a_list_is_the_argv(tmp_path: Path) -> None:
    text = """\
name = "cmds"
default_host = "loop"

[variables]
NAME = "worker"

[services.loop]
image = "gameday/tiny"
command = "while true; do echo ${NAME}; sleep 1; done"

[services.argv]
image = "gameday/tiny"
command = ["sleep", "infinity"]
"""
    definition = load_definition(write_stack(tmp_path, text))
    assert definition.service("loop").command == ("/bin/sh", "-c", "while true; do echo ${NAME}; sleep 1; done")
    assert definition.service("argv").command == ("sleep", "infinity")


@pytest.mark.parametrize("command", ['""', '"   "', "[]", '[""]', "5", "true", '["sleep", 5]', '{ run = "x" }'])
def test_a_command_of_the_wrong_type_is_an_error_at_its_line(tmp_path: Path, command: str) -> None:
    text = MINIMAL + f"command = {command}\n"
    error = load_error(tmp_path, text)
    assert "services.app.command must be a shell command" in str(error)
    assert_at(error, text, f"command = {command}")


def test_an_unknown_placeholder_in_a_command_is_an_error_at_its_line(tmp_path: Path) -> None:
    text = MINIMAL + 'command = [\n  "redis-server",\n  "--requirepass",\n  "${NOPE}",\n]\n'
    error = load_error(tmp_path, text)
    assert "services.app.command uses ${NOPE}" in str(error)
    assert_at(error, text, '"${NOPE}"')


# --- volumes, tmpfs, memory ---------------------------------------------------------------------

MOUNTS = """\
name = "mounts"
default_host = "app"

[services.db]
image = "gameday/tiny"
volumes = { data = "/var/lib/redis", logs = "/var/log/redis" }
tmpfs = { "/var/lib/app/spool" = "16m", "/run/app" = "64k" }
memory = "256m"

[services.app]
image = "gameday/tiny"
memory = "1g"

[services.app.volumes]
data = "/srv/data"
"""


def test_volumes_tmpfs_and_memory_are_read(tmp_path: Path) -> None:
    definition = load_definition(write_stack(tmp_path, MOUNTS))
    db, app = definition.service("db"), definition.service("app")
    assert db.volumes == (VolumeMount("data", "/var/lib/redis"), VolumeMount("logs", "/var/log/redis"))
    assert app.volumes == (VolumeMount("data", "/srv/data"),)
    assert db.tmpfs == (TmpfsMount("/var/lib/app/spool", 16 * 1024**2), TmpfsMount("/run/app", 64 * 1024))
    assert (db.memory, app.memory) == (256 * 1024**2, 1024**3)
    assert definition.volumes == ("data", "logs")  # `data` is one volume, shared by both services


@pytest.mark.parametrize(("text", "size"), [("16m", 16 << 20), ("16M", 16 << 20), ("64k", 64 << 10),
                                            ("2g", 2 << 30), (" 1 g ", 1 << 30)])
def test_parse_size_reads_docker_units(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("value", ["16x", "16", "m", "1.5g", "-1m", "16 mb", "", 16, True, None])
def test_parse_size_refuses_anything_else(value: object) -> None:
    with pytest.raises(ValueError, match="not a size"):
        parse_size(value)


@pytest.mark.parametrize("memory", ['"16x"', "268435456", '"256"', "true", '"0.5g"'])
def test_a_bad_memory_size_is_an_error_at_its_line(tmp_path: Path, memory: str) -> None:
    text = MINIMAL + f"memory = {memory}\n"
    error = load_error(tmp_path, text)
    assert "services.app.memory: not a size" in str(error)
    assert_at(error, text, f"memory = {memory}")


@pytest.mark.parametrize("memory", ['"8m"', '"15m"', '"1024k"'])
def test_memory_under_the_minimum_is_an_error_at_its_line(tmp_path: Path, memory: str) -> None:
    text = MINIMAL + f"memory = {memory}\n"
    error = load_error(tmp_path, text)
    assert "below the minimum of 16m" in str(error)
    assert_at(error, text, f"memory = {memory}")


def test_memory_at_the_minimum_is_accepted(tmp_path: Path) -> None:
    (app,) = load_definition(write_stack(tmp_path, MINIMAL + 'memory = "16m"\n')).services
    assert app.memory == MIN_MEMORY_BYTES


@pytest.mark.parametrize("size", ['"16x"', '"16"', "16", '"0k"', '"1k"'])
def test_a_bad_tmpfs_size_is_an_error_at_its_line(tmp_path: Path, size: str) -> None:
    text = MINIMAL + f'ports = [80]\ntmpfs = {{ "/var/spool/app" = {size} }}\n'
    error = load_error(tmp_path, text)
    assert "services.app.tmpfs.'/var/spool/app'" in str(error)
    assert_at(error, text, "tmpfs =")


def test_a_bad_tmpfs_size_in_a_tmpfs_table_is_an_error_at_its_entry(tmp_path: Path) -> None:
    text = MINIMAL + '\n[services.app.tmpfs]\n"/run/app" = "1m"\n"/var/spool/app" = "16x"\n"/tmp" = "1m"\n'
    error = load_error(tmp_path, text)
    assert "not a size: '16x'" in str(error)
    assert_at(error, text, '"/var/spool/app" = "16x"')


@pytest.mark.parametrize("path", ["var/spool", "/", "/var/../etc", "/var//spool", "/var/./x", "/a:b", "/a,b"])
def test_a_tmpfs_path_that_is_not_a_plain_absolute_path_is_an_error_at_its_line(tmp_path: Path, path: str) -> None:
    text = MINIMAL + f'\n[services.app.tmpfs]\n"/run/ok" = "1m"\n"{path}" = "16m"\n'
    error = load_error(tmp_path, text)
    assert "services.app.tmpfs" in str(error)
    assert "absolute path" in str(error) or "must not hold" in str(error)
    assert_at(error, text, f'"{path}" = "16m"')


@pytest.mark.parametrize("name", ["Data", "1data", "my data", "data.db", "x" * 33, "_data"])
def test_a_volume_name_that_is_not_simple_is_an_error_at_its_line(tmp_path: Path, name: str) -> None:
    text = MINIMAL + f'\n[services.app.volumes]\nok = "/srv/ok"\n"{name}" = "/srv/data"\n'
    error = load_error(tmp_path, text)
    assert f"volume name {name!r} is not a simple name" in str(error)
    assert_at(error, text, f'"{name}" = "/srv/data"')


def test_a_bad_inline_volume_is_an_error_at_the_volumes_line(tmp_path: Path) -> None:
    text = MINIMAL + 'ports = [80]\nvolumes = { data = "srv/data" }\n'
    error = load_error(tmp_path, text)
    assert "services.app.volumes.data: 'srv/data' must be an absolute path" in str(error)
    assert_at(error, text, "volumes =")


@pytest.mark.parametrize("value", ['"/srv/a"', "[1]"])
def test_volumes_and_tmpfs_must_be_tables(tmp_path: Path, value: str) -> None:
    for key in ("volumes", "tmpfs"):
        text = MINIMAL + f"{key} = {value}\n"
        error = load_error(tmp_path, text)
        assert f"services.app.{key} must be a table" in str(error)
        assert_at(error, text, f"{key} =")


def test_a_path_mounted_twice_is_an_error_at_the_second_mount(tmp_path: Path) -> None:
    text = MINIMAL + 'volumes = { data = "/srv/data" }\n\n[services.app.tmpfs]\n"/srv/data" = "1m"\n'
    error = load_error(tmp_path, text)
    assert "/srv/data is mounted twice (volumes and tmpfs)" in str(error)
    assert_at(error, text, '"/srv/data" = "1m"')


def test_a_file_under_a_tmpfs_mount_is_an_error_at_the_file(tmp_path: Path) -> None:
    text = MINIMAL + 'tmpfs = { "/etc/app" = "1m" }\n\n[services.app.files."/etc/app/app.conf"]\ncontent = "x"\n'
    error = load_error(tmp_path, text)
    assert "file /etc/app/app.conf would be hidden by the tmpfs mounted at /etc/app" in str(error)
    assert_at(error, text, '[services.app.files."/etc/app/app.conf"]')


# --- readiness checks ---------------------------------------------------------------------------


def test_a_tcp_check_needs_no_published_port(tmp_path: Path) -> None:
    text = MINIMAL + '\n[services.app.health]\ntcp = 6379\ntimeout = "20s"\n'
    (app,) = load_definition(write_stack(tmp_path, text)).services
    assert app.ports == ()
    assert app.health == HealthCheck(TcpCheck(6379), timeout=20.0)


def test_an_exec_check_on_a_service_without_ports_loads(tmp_path: Path) -> None:
    text = PAIR.format(top='default_host = "app"\n') + '\n[services.app.health]\nexec = "test -f /tmp/ready"\n'
    app = load_definition(write_stack(tmp_path, text)).service("app")
    assert app.ports == ()
    assert app.health is not None
    assert app.health.check == ExecCheck("test -f /tmp/ready")


@pytest.mark.parametrize("port", ["0", "70000", '"6379"', "true", "6379.0"])
def test_a_bad_tcp_port_is_an_error_at_its_line(tmp_path: Path, port: str) -> None:
    text = MINIMAL + f'\n[services.app.health]\ntcp = {port}\n'
    error = load_error(tmp_path, text)
    assert "services.app.health.tcp must be a port number" in str(error)
    assert_at(error, text, f"tcp = {port}")


@pytest.mark.parametrize("kinds", ['tcp = 80\nexec = "true"', 'tcp = 80\nhttp = "/"', 'http = "/"\nexec = "x"'])
def test_a_health_check_of_two_kinds_is_an_error_at_its_table(tmp_path: Path, kinds: str) -> None:
    text = MINIMAL + f"ports = [80]\n\n[services.app.health]\n{kinds}\n"
    error = load_error(tmp_path, text)
    assert "exactly one of http" in str(error)
    assert "tcp = PORT" in str(error)
    assert_at(error, text, "[services.app.health]")


@pytest.mark.parametrize(("kind", "extra"), [("tcp = 80", "port = 80"), ("exec = \"true\"", "status = 200"),
                                             ("tcp = 80", "status = 200")])
def test_http_only_keys_on_another_check_are_an_error_at_their_line(tmp_path: Path, kind: str, extra: str) -> None:
    text = MINIMAL + f"ports = [80]\n\n[services.app.health]\n{kind}\n{extra}\n"
    error = load_error(tmp_path, text)
    assert "belongs to an http check only" in str(error)
    assert_at(error, text, extra)


def test_an_exec_check_must_be_a_command(tmp_path: Path) -> None:
    text = MINIMAL + '\n[services.app.health]\nexec = ""\n'
    error = load_error(tmp_path, text)
    assert "health.exec must be a shell command" in str(error)
    assert_at(error, text, 'exec = ""')


# --- new keys: unknown ones are still refused, errors in later services land there ----------------


@pytest.mark.parametrize("key", ["memroy", "volume", "tmpfs_size", "cmd", "entrypoint"])
def test_a_mistyped_new_key_is_an_error_that_lists_the_known_ones(tmp_path: Path, key: str) -> None:
    text = MINIMAL + f'{key} = "x"\n'
    error = load_error(tmp_path, text)
    assert f"unknown key {key!r} in services.app" in str(error)
    for known in ("command", "memory", "tmpfs", "volumes"):
        assert known in str(error)
    assert_at(error, text, f"{key} =")


@pytest.mark.parametrize(
    ("app_lines", "culprit"),
    [
        ('memory = "8m"\n', 'memory = "8m"'),
        ('command = 5\n', "command = 5"),
        ('volumes = { "Data" = "/srv" }\n', 'volumes = { "Data"'),
        ('\n[services.app.tmpfs]\n"/var/spool" = "16x"\n', '"/var/spool" = "16x"'),
        ('\n[services.app.health]\ntcp = 0\n', "tcp = 0"),
    ],
    ids=["memory", "command", "volumes", "tmpfs", "tcp"],
)
def test_an_error_in_a_new_key_of_a_later_service_is_reported_at_that_services_line(
    tmp_path: Path, app_lines: str, culprit: str
) -> None:
    text = """\
name = "pair"
default_host = "app"

[services.db]
image = "gameday/db"
memory = "64m"
command = ["sleep", "infinity"]
volumes = { data = "/srv" }
tmpfs = { "/var/spool" = "1m" }

[services.db.health]
tcp = 5432

[services.app]
image = "gameday/app"
""" + app_lines
    error = load_error(tmp_path, text)
    assert "services.app" in str(error)
    assert_at(error, text, culprit)


# --- images for a definition: each recipe built once, local images never pulled --------------


class FakeImages:
    def __init__(self, present: set[str]) -> None:
        self.present = present

    def get(self, name: str) -> FakeImage:
        if name not in self.present:
            raise docker.errors.ImageNotFound(name)
        return FakeImage(self, name)

    def pull(self, *args: object, **kwargs: object) -> None:
        raise AssertionError(f"the harness must never pull: {args}")


@dataclasses.dataclass
class FakeImage:
    images: FakeImages
    name: str

    @property
    def id(self) -> str:
        return f"sha256:{self.name}"

    def tag(self, repository: str, tag: str) -> None:
        self.images.present.add(f"{repository}:{tag}")


class FakeApi:
    def __init__(self, images: FakeImages) -> None:
        self.images = images
        self.builds: list[str] = []

    def build(self, **kwargs: Any) -> Iterator[dict[str, str]]:
        self.builds.append(kwargs["tag"])
        self.images.present.add(kwargs["tag"])
        return iter([{"stream": "Successfully built\n"}])

    def pull(self, *args: object, **kwargs: object) -> None:
        raise AssertionError(f"the harness must never pull: {args}")


class FakeClient:
    def __init__(self, *present: str) -> None:
        self.images = FakeImages({"debian:bookworm-slim", *present})
        self.api = FakeApi(self.images)


@pytest.fixture
def no_forced_base(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BASE_ENV, raising=False)


@pytest.mark.usefixtures("no_forced_base")
def test_services_sharing_a_recipe_get_one_build_and_local_images_are_used_as_they_are(tmp_path: Path) -> None:
    client = FakeClient("redis:7")
    definition = load_definition(write_stack(tmp_path, SHARED))

    images = ensure_stack_images(client, definition)  # type: ignore[arg-type]

    assert len(client.api.builds) == 1
    assert client.api.builds[0].startswith("gameday/web:")
    assert images["worker"].tag == images["web"].tag == client.api.builds[0]
    assert images["cache"] == BuiltImage("redis:7", rebuilt=False, seconds=images["cache"].seconds)
    assert ensure_stack_images(client, definition)["web"].rebuilt is False  # type: ignore[arg-type]
    assert len(client.api.builds) == 1


@pytest.mark.usefixtures("no_forced_base")
def test_a_missing_local_image_is_a_clear_error_before_any_build_and_never_pulled(tmp_path: Path) -> None:
    client = FakeClient()
    path = write_stack(tmp_path, SHARED)
    definition = load_definition(path)

    with pytest.raises(ImageBuildError) as info:
        ensure_stack_images(client, definition)  # type: ignore[arg-type]

    message = str(info.value)
    assert message.startswith(f"{path.resolve()}:{line_of(SHARED, '[services.cache]')}: services.cache ")
    assert "'redis:7', which is not on this Docker engine" in message
    assert "never pulls" in message
    assert "docker build -t redis:7" in message
    assert "docker load" in message
    assert info.value.exit_code == 3
    assert client.api.builds == []  # failed before building anything


# --- substitute ---------------------------------------------------------------------------------


def test_substitute_replaces_known_names() -> None:
    values = {"USER": "chat", "PASSWORD": "s3cret"}
    assert substitute("${USER}:${PASSWORD}@db/${USER}", values) == "chat:s3cret@db/chat"


def test_substitute_leaves_unknown_placeholders_alone() -> None:
    assert substitute("a=${A} x=${X}", {"A": "1"}) == "a=1 x=${X}"


def test_substitute_does_not_touch_dollar_names_without_braces() -> None:
    assert substitute("$A and ${A} and $$A", {"A": "1"}) == "$A and 1 and $$A"


def test_substitute_does_not_re_expand_substituted_values() -> None:
    assert substitute("${A}", {"A": "${B}", "B": "2"}) == "${B}"


def test_substitute_inserts_values_literally() -> None:
    assert substitute("p=${P}", {"P": r"a\1b\g<0>"}) == r"p=a\1b\g<0>"


# --- inputs that cannot be right: refused before anything starts, at their line -------------------


@pytest.mark.parametrize(("entry", "fragment"), [
    ('"A=B" = "x"', '"A=B"'),
    ('"" = "x"', '"" ='),
    ('"1ST" = "x"', '"1ST"'),
    ('"HAS SPACE" = "x"', '"HAS SPACE"'),
    ('"A\\nB" = "x"', '"A\\nB"'),
    ('GOOD = "one\\nLD_PRELOAD=/tmp/x.so"', "GOOD ="),
    ('CR = "one\\rtwo"', "CR ="),
])
def test_an_environment_entry_that_is_not_one_name_one_line_is_an_error_at_its_line(
        tmp_path: Path, entry: str, fragment: str) -> None:
    text = MINIMAL + f'\n[services.app.environment]\nOK = "fine"\n{entry}\n'
    error = load_error(tmp_path, text)
    assert "services.app.environment" in str(error)
    assert_at(error, text, fragment)


def test_an_environment_value_with_a_multi_line_variable_is_an_error(tmp_path: Path) -> None:
    text = MINIMAL.replace('[services.app]', '[variables]\nMANY = """one\ntwo"""\n\n[services.app]') \
        + '\n[services.app.environment]\nUSES = "${MANY}"\n'
    error = load_error(tmp_path, text)
    assert "through variable MANY" in str(error)
    assert_at(error, text, "USES =")


@pytest.mark.parametrize("context", ['"/"', '".."', '"../.."', '"/etc"', '"sub/../.."'])
def test_a_build_context_outside_the_definitions_folder_is_an_error_at_its_line(
        tmp_path: Path, context: str) -> None:
    (tmp_path / "sub").mkdir()
    text = MINIMAL + f"context = {context}\n"
    error = load_error(tmp_path, text)
    assert "outside the folder of this definition" in str(error)
    assert_at(error, text, "context =")


def test_a_build_context_reached_through_a_link_is_judged_where_it_leads(tmp_path: Path) -> None:
    (tmp_path / "escape").symlink_to("/")
    text = MINIMAL + 'context = "escape"\n'
    assert_at(load_error(tmp_path, text), text, "context =")


def test_a_build_context_below_the_definitions_folder_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "Dockerfile").write_text("FROM scratch\n")
    path = write_stack(tmp_path, MINIMAL.replace('"Dockerfile"', '"images/Dockerfile"') + 'context = "images"\n')
    recipe = load_definition(path).services[0].image
    assert isinstance(recipe, ImageRecipe)
    assert recipe.context == (tmp_path / "images").resolve()


def test_a_dockerfile_outside_its_context_is_an_error_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    text = MINIMAL + 'context = "images"\n'
    error = load_error(tmp_path, text)
    assert "outside the build context" in str(error)
    assert_at(error, text, "dockerfile =")


@pytest.mark.parametrize("fpath", ["/", "//etc/x", "/etc/../x", "/etc/./x", "/etc/x/", "/a/.."])
def test_a_file_path_that_is_root_or_not_plain_is_an_error_at_its_line(tmp_path: Path, fpath: str) -> None:
    text = MINIMAL + f'\n[services.app.files."{fpath}"]\ncontent = "x"\n'
    error = load_error(tmp_path, text)
    assert "plain absolute path" in str(error)
    assert_at(error, text, f'"{fpath}"')


@pytest.mark.parametrize("mode", ['"4755"', '"2755"', '"1777"', '"06755"', "0o4755", "0o1000"])
def test_a_file_mode_with_setuid_setgid_or_sticky_bits_is_an_error(tmp_path: Path, mode: str) -> None:
    text = MINIMAL + f'\n[services.app.files."/etc/app.conf"]\ncontent = "x"\nmode = {mode}\n'
    error = load_error(tmp_path, text)
    assert "setuid" in str(error)
    assert_at(error, text, "mode =")


@pytest.mark.parametrize("pattern", ["/etc/**", "../secrets/**", "src/../../x", "..", "\\\\etc", ""])
def test_an_input_glob_reaching_outside_the_project_is_an_error_at_its_line(tmp_path: Path, pattern: str) -> None:
    text = MINIMAL + f'inputs = ["Dockerfile", "{pattern}"]\n'
    error = load_error(tmp_path, text)
    assert "reaches outside the build context" in str(error)
    assert_at(error, text, "inputs =")


@pytest.mark.parametrize("image", ["debian", "postgres", "library/redis", "docker.io/nginx",
                                   "docker.io/library/python", "docker.io/gameday/app", "ghcr.io/acme/app",
                                   "localhost/app", "library/acme/app", "tiny"])
def test_a_built_image_that_is_not_namespaced_or_names_a_registry_is_an_error(tmp_path: Path, image: str) -> None:
    text = MINIMAL.replace('"gameday/tiny"', f'"{image}"')
    error = load_error(tmp_path, text)
    assert "would re-tag a public image" in str(error)
    assert_at(error, text, "image =")


def test_a_bare_public_name_is_said_to_be_one(tmp_path: Path) -> None:
    text = MINIMAL.replace('"gameday/tiny"', '"library/postgres"')
    assert "'postgres' is a public image" in str(load_error(tmp_path, text))


def test_a_local_image_may_have_a_public_name(tmp_path: Path) -> None:
    path = write_stack(tmp_path, 'name = "tiny"\n\n[services.cache]\nimage = "redis:7"\n')
    assert load_definition(path).services[0].image == LocalImage("redis:7")


@pytest.mark.parametrize(("health", "fragment"), [
    ('timeout = "16m"', "timeout ="),
    ('timeout = "10ms"', "timeout ="),
    ('timeout = "1h"', "timeout ="),
    ("timeout = 1e9", "timeout ="),
    ('timeout = "10s"\ninterval = "10ms"', "interval ="),
    ('timeout = "10s"\ninterval = "11s"', "interval ="),
])
def test_an_absurd_health_timeout_or_interval_is_an_error_at_its_line(
        tmp_path: Path, health: str, fragment: str) -> None:
    text = MINIMAL + f'\n[services.app.health]\nexec = "true"\n{health}\n'
    assert_at(load_error(tmp_path, text), text, fragment)


def test_health_bounds_themselves_are_accepted(tmp_path: Path) -> None:
    health_table = '\n[services.app.health]\nexec = "true"\ntimeout = "15m"\ninterval = "50ms"\n'
    path = write_stack(tmp_path, MINIMAL + health_table)
    health = load_definition(path).services[0].health
    assert health is not None
    assert (health.timeout, health.interval) == (900.0, 0.05)


def test_a_short_timeout_without_an_interval_polls_within_it(tmp_path: Path) -> None:
    path = write_stack(tmp_path, MINIMAL + '\n[services.app.health]\nexec = "true"\ntimeout = "100ms"\n')
    health = load_definition(path).services[0].health
    assert health is not None
    assert health.interval == 0.1


def chain(count: int) -> str:
    """`count` services, each depending on the next, the last on none."""
    parts = ['name = "chain"\ndefault_host = "s0"\n']
    for i in range(count):
        parts.append(f'\n[services.s{i}]\nimage = "gameday/chain"\n')
        if i + 1 < count:
            parts.append(f'depends_on = ["s{i + 1}"]\n')
    return "".join(parts)


def test_five_thousand_services_in_a_chain_are_refused_cleanly_and_fast(tmp_path: Path) -> None:
    import time

    text = chain(5000)
    started = time.monotonic()
    error = load_error(tmp_path, text)
    assert time.monotonic() - started < 2.0
    assert "too many services (5000; at most 200)" in str(error)
    assert_at(error, text, "[services.s200]")


def test_the_longest_allowed_chain_is_ordered_without_recursion(tmp_path: Path) -> None:
    import sys
    import traceback

    path = write_stack(tmp_path, chain(200))
    limit = sys.getrecursionlimit()
    depth = len(traceback.extract_stack())
    sys.setrecursionlimit(depth + 100)  # far below 200 levels: the order must not recurse per dependency
    try:
        names = [s.name for s in load_definition(path).services]
    finally:
        sys.setrecursionlimit(limit)
    assert names == [f"s{i}" for i in reversed(range(200))]
