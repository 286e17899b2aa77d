"""Stack definitions: loading, validation and `file:line` error reporting, and `substitute`."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import EXIT_BAD_INPUT, BadInput, DefinitionError, GamedayError
from harness.stack.definition import (
    DEFAULT_HEALTH_INTERVAL,
    DEFAULT_HEALTH_TIMEOUT,
    ExecCheck,
    HttpCheck,
    StackDefinition,
    load_definition,
    substitute,
)

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


def test_a_definition_path_may_be_given_as_a_string(tmp_path: Path) -> None:
    path = write_stack(tmp_path, MINIMAL)
    assert load_definition(str(path)).path == path.resolve()


def test_the_reference_chatkit_stack_loads(tmp_path: Path) -> None:
    definition = load_definition(CHATKIT)

    assert definition.name == "chatkit"
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


def test_a_service_without_a_dockerfile_is_an_error_at_its_table(tmp_path: Path) -> None:
    text = 'name = "tiny"\n\n[services.app]\nimage = "gameday/tiny"\n'
    error = load_error(tmp_path, text)
    assert "dockerfile is required" in str(error)
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
