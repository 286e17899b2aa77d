"""Environment validation: FATAL messages, defaults and parsing."""

import ipaddress

import pytest
from chatkit_backend.config import DEFAULT_LOG_FILE, ConfigError, Settings, load_settings

GOOD = {"SECRET_KEY": "a-perfectly-long-secret-key", "DATABASE_URL": "postgresql://ck:pw@db:5432/chatkit"}
MISSING_SECRET = "FATAL: SECRET_KEY environment variable is not set"
WEAK_SECRET = "FATAL: SECRET_KEY is too weak (need at least 16 characters, not a default value)"
MISSING_DB = "FATAL: DATABASE_URL environment variable is not set"
INVALID_DB = "FATAL: DATABASE_URL is invalid (expected postgresql://user:password@host:port/database)"


def errors_for(env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    return caught.value.messages


def test_defaults_apply_when_only_required_variables_are_set() -> None:
    settings = load_settings(GOOD)
    assert settings == Settings(secret_key=GOOD["SECRET_KEY"], database_url=GOOD["DATABASE_URL"])
    assert settings.log_file == DEFAULT_LOG_FILE == "/var/log/chatkit-backend.log"
    assert ipaddress.ip_address(settings.host).is_unspecified  # listens on every interface
    assert settings.port == 8000
    assert settings.session_expiry_hours == 24
    assert settings.session_ttl_seconds == 86400
    assert (settings.rate_limit_window_seconds, settings.rate_limit_max_requests) == (60, 10)
    assert (settings.rate_limit_save_chat, settings.rate_limit_global_max_requests) == (5, 600)
    assert settings.integration_test_mode is False
    assert settings.redaction_enabled is True
    assert (settings.db_pool_max, settings.db_pool_timeout_seconds, settings.db_connect_timeout_seconds) == (
        5,
        2.0,
        2,
    )
    assert settings.db_conn_max_age_seconds == 0  # a fresh connection for every use unless asked


def test_overrides_are_parsed() -> None:
    settings = load_settings(
        {
            **GOOD,
            "PORT": "9000",
            "RATE_LIMIT_MAX_REQUESTS": "20",
            "DB_POOL_TIMEOUT_SECONDS": "0.5",
            "LOG_FILE": "/tmp/x.log",
            "HOST": "127.0.0.1",
        }
    )
    assert (settings.port, settings.rate_limit_max_requests) == (9000, 20)
    assert settings.db_pool_timeout_seconds == 0.5
    assert (settings.log_file, settings.host) == ("/tmp/x.log", "127.0.0.1")


@pytest.mark.parametrize("value", [None, ""])
def test_missing_secret_key_is_fatal(value: str | None) -> None:
    env = {k: v for k, v in GOOD.items() if k != "SECRET_KEY"}
    if value is not None:
        env["SECRET_KEY"] = value
    assert errors_for(env) == [MISSING_SECRET]


@pytest.mark.parametrize("value", ["short", "change-me", "changeme", "secret", "dev-secret", "x" * 15])
def test_weak_secret_key_is_fatal(value: str) -> None:
    assert errors_for({**GOOD, "SECRET_KEY": value}) == [WEAK_SECRET]


def test_sixteen_character_secret_is_accepted() -> None:
    assert load_settings({**GOOD, "SECRET_KEY": "x" * 16}).secret_key == "x" * 16


@pytest.mark.parametrize("value", [None, ""])
def test_missing_database_url_is_fatal(value: str | None) -> None:
    env = {k: v for k, v in GOOD.items() if k != "DATABASE_URL"}
    if value is not None:
        env["DATABASE_URL"] = value
    assert errors_for(env) == [MISSING_DB]


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///./chatkit.db",
        "mysql://u:p@h/d",
        "postgresql://u:p@h:5432/",
        "postgresql:///chatkit",
        "postgresql://u:p@h:notaport/d",
        "not a url",
    ],
)
def test_invalid_database_url_is_fatal_and_not_echoed(url: str) -> None:
    messages = errors_for({**GOOD, "DATABASE_URL": url})
    assert messages == [INVALID_DB]
    assert url not in messages[0]


@pytest.mark.parametrize(
    "url", ["postgres://u:p@h/d", "postgresql://h/d", "postgresql://u:p@10.0.0.1:6543/chat"]
)
def test_valid_database_url_forms(url: str) -> None:
    assert load_settings({**GOOD, "DATABASE_URL": url}).database_url == url


def test_all_errors_are_collected() -> None:
    messages = errors_for({"SECRET_KEY": "secret", "PORT": "http", "INTEGRATION_TEST_MODE": "maybe"})
    assert WEAK_SECRET in messages
    assert MISSING_DB in messages
    assert any(m.startswith("FATAL: PORT ") for m in messages)
    assert any(m.startswith("FATAL: INTEGRATION_TEST_MODE ") for m in messages)
    assert len(messages) == 4
    assert all(m.startswith("FATAL: ") for m in messages)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("yes", True),
        ("Yes", True),
        ("false", False),
        ("False", False),
        ("0", False),
        ("no", False),
        ("NO", False),
    ],
)
def test_integration_test_mode_booleans(value: str, expected: bool) -> None:
    settings = load_settings({**GOOD, "INTEGRATION_TEST_MODE": value})
    assert settings.integration_test_mode is expected
    assert settings.redaction_enabled is not expected


@pytest.mark.parametrize("value", ["on", "2", "enabled", "tru"])
def test_unknown_boolean_is_fatal_and_names_the_variable(value: str) -> None:
    [message] = errors_for({**GOOD, "INTEGRATION_TEST_MODE": value})
    assert message.startswith("FATAL: INTEGRATION_TEST_MODE")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "eighty"),
        ("PORT", "0"),
        ("PORT", "70000"),
        ("RATE_LIMIT_MAX_REQUESTS", "1.5"),
        ("RATE_LIMIT_SAVE_CHAT", "-1"),
        ("RATE_LIMIT_GLOBAL_MAX_REQUESTS", "0"),
        ("DB_POOL_MAX", "x"),
        ("SESSION_EXPIRY_HOURS", "0"),
        ("RATE_LIMIT_WINDOW_SECONDS", "ten"),
        ("DB_POOL_TIMEOUT_SECONDS", "soon"),
        ("DB_POOL_TIMEOUT_SECONDS", "nan"),
        ("DB_POOL_TIMEOUT_SECONDS", "inf"),
        ("DB_CONNECT_TIMEOUT_SECONDS", "2.5"),
        ("DB_CONN_MAX_AGE_SECONDS", "-1"),
        ("DB_CONN_MAX_AGE_SECONDS", "7200"),
        ("DB_CONN_MAX_AGE_SECONDS", "forever"),
    ],
)
def test_bad_numbers_are_fatal_and_name_the_variable(name: str, value: str) -> None:
    [message] = errors_for({**GOOD, name: value})
    assert message.startswith(f"FATAL: {name} ")


def test_secrets_never_appear_in_settings_repr() -> None:
    text = repr(load_settings(GOOD))
    assert GOOD["SECRET_KEY"] not in text
    assert "pw@" not in text


def test_settings_are_frozen() -> None:
    settings = load_settings(GOOD)
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]


def test_connections_may_be_kept_for_a_while() -> None:
    assert load_settings({**GOOD, "DB_CONN_MAX_AGE_SECONDS": "300"}).db_conn_max_age_seconds == 300.0
