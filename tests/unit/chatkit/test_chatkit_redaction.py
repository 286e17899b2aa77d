"""Log redaction of credentials, by key name and inside string values."""

from chatkit_backend.redaction import REDACTED, redact, redact_text

TOKEN = "ck_eyJzaWQiOiJzLTEiLCJ1aWQiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz"


def test_sensitive_key_names_are_redacted_case_insensitively() -> None:
    record = {
        "token": "abc",
        "Authorization": "xyz",
        "db_password": "p",
        "SECRET_KEY": "s",
        "api_key": "k",
        "Set-Cookie": "c",
        "session_token": None,
        "user_id": "alice",
    }
    out = redact(record, enabled=True)
    assert out["user_id"] == "alice"
    for key in record.keys() - {"user_id"}:
        assert out[key] == REDACTED, key


def test_event_key_is_never_redacted() -> None:
    out = redact({"event": "token_expired", "token": TOKEN}, enabled=True)
    assert out == {"event": "token_expired", "token": REDACTED}


def test_token_shaped_strings_inside_messages_are_redacted() -> None:
    out = redact({"message": f"user sent {TOKEN} twice: {TOKEN}!"}, enabled=True)
    assert out["message"] == f"user sent {REDACTED} twice: {REDACTED}!"


def test_nested_dicts_and_lists_are_redacted() -> None:
    record = {
        "headers": {"Authorization": f"Bearer {TOKEN}", "accept": "json"},
        "items": [TOKEN, {"note": f"x {TOKEN}", "password": "hunter2"}, 3],
    }
    out = redact(record, enabled=True)
    assert out["headers"] == {"Authorization": REDACTED, "accept": "json"}
    assert out["items"] == [REDACTED, {"note": f"x {REDACTED}", "password": REDACTED}, 3]
    assert TOKEN not in str(out)


def test_bearer_credentials_are_redacted_whatever_their_shape() -> None:
    assert redact_text("header was Bearer abc.DEF-123 ok") == f"header was Bearer {REDACTED} ok"
    assert redact_text("bearer opaque-value") == f"bearer {REDACTED}"


def test_database_url_password_is_redacted_but_the_rest_is_kept() -> None:
    text = "cannot reach postgresql://chatkit:s3cr3t!pw@db:5432/chatkit now"
    assert redact_text(text) == f"cannot reach postgresql://chatkit:{REDACTED}@db:5432/chatkit now"
    assert "s3cr3t" not in redact_text("postgres://u:s3cr3t@h/d")


def test_non_string_values_pass_through() -> None:
    record = {"status": 401, "duration_ms": 1.5, "ok": False, "user_id": None}
    assert redact(record, enabled=True) == record


def test_disabled_mode_leaves_the_raw_token_in_a_copy() -> None:
    record: dict[str, object] = {"event": "login_success", "token": TOKEN, "message": f"Bearer {TOKEN}"}
    out = redact(record, enabled=False)
    assert out == record
    assert out is not record


def test_enabled_mode_does_not_mutate_the_input() -> None:
    record: dict[str, object] = {"token": TOKEN, "nested": {"password": "p"}}
    redact(record, enabled=True)
    assert record == {"token": TOKEN, "nested": {"password": "p"}}
