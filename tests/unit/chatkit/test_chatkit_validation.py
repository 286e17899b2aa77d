"""Request-body and header validation used by the API."""

import pytest
from chatkit_backend.validation import (
    ValidationError,
    is_valid_request_id,
    is_valid_user_id,
    parse_bearer,
    parse_chat,
    parse_login,
    parse_save,
)


@pytest.mark.parametrize("user_id", ["alice", "user_789", "a.b-c", "x" * 64])
def test_acceptable_user_ids(user_id: str) -> None:
    assert parse_login({"user_id": user_id}) == user_id


@pytest.mark.parametrize(
    "body",
    [
        {"user_id": ""},
        {"user_id": "x" * 65},
        {"user_id": "al ice"},
        {"user_id": "bob/../x"},
        {"user_id": 7},
        {},
        ["alice"],
        "alice",
        None,
    ],
)
def test_unacceptable_login_bodies(body: object) -> None:
    with pytest.raises(ValidationError):
        parse_login(body)


def test_user_id_pattern_is_anchored() -> None:
    assert not is_valid_user_id("alice\n")
    assert not is_valid_user_id("alice;drop")


def test_chat_message_length_bounds() -> None:
    assert parse_chat({"message": "x"}) == "x"
    assert parse_chat({"message": "x" * 4000}) == "x" * 4000
    for bad in ({"message": ""}, {"message": "x" * 4001}, {"message": 5}, {}):
        with pytest.raises(ValidationError, match="message"):
            parse_chat(bad)


def test_save_requires_title_and_message_list() -> None:
    assert parse_save({"title": "t", "messages": [{"role": "user"}]}) == ("t", [{"role": "user"}])
    for bad in (
        {"title": "", "messages": []},
        {"title": "t" * 201, "messages": []},
        {"title": "t", "messages": "hi"},
        {"title": "t"},
    ):
        with pytest.raises(ValidationError):
            parse_save(bad)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("", None),
        (None, None),
        ("abc", None),
    ],
)
def test_bearer_header_parsing(header: str | None, expected: str | None) -> None:
    assert parse_bearer(header) == expected


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("abc-123_x.y", True),
        ("x" * 128, True),
        ("x" * 129, False),
        ("", False),
        ("has space", False),
        ("a\nb", False),
        (None, False),
    ],
)
def test_request_id_acceptance(value: str | None, ok: bool) -> None:
    assert is_valid_request_id(value) is ok
