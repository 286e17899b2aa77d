"""Session tokens: signing, verification, expiry and fingerprints."""

import base64
import hashlib
import hmac
import json

import pytest
from chatkit_backend.tokens import (
    TOKEN_PATTERN,
    InvalidToken,
    TokenError,
    TokenExpired,
    issue_token,
    token_fingerprint,
    verify_token,
)

SECRET = "unit-test-secret-0123456789"
NOW = 1_700_000_000.0


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def payload_of(token: str) -> dict[str, object]:
    part = token[3:].split(".")[0]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def test_issued_token_verifies_and_round_trips_claims() -> None:
    issued = issue_token(SECRET, "alice", NOW, 3600, session_id="s-1")
    claims = verify_token(SECRET, issued.token, NOW + 10)
    assert (claims.user_id, claims.session_id) == ("alice", "s-1")
    assert (claims.issued_at, claims.expires_at) == (int(NOW), int(NOW) + 3600)
    assert issued.session_id == "s-1"
    assert issued.expires_at == int(NOW) + 3600


def test_token_has_ck_prefix_and_compact_json_payload() -> None:
    issued = issue_token(SECRET, "alice", NOW, 60, session_id="s-1")
    assert TOKEN_PATTERN.fullmatch(issued.token)
    assert "=" not in issued.token
    assert payload_of(issued.token) == {"sid": "s-1", "uid": "alice", "iat": int(NOW), "exp": int(NOW) + 60}
    part = issued.token[3:].split(".")[0]
    raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    assert b" " not in raw


def test_signature_is_hmac_sha256_of_the_payload_part() -> None:
    issued = issue_token(SECRET, "alice", NOW, 60)
    part, signature = issued.token[3:].split(".")
    expected = hmac.new(SECRET.encode(), part.encode(), hashlib.sha256).digest()
    assert signature == b64(expected)


def test_generated_session_ids_are_unique() -> None:
    first = issue_token(SECRET, "alice", NOW, 60)
    second = issue_token(SECRET, "alice", NOW, 60)
    assert first.session_id != second.session_id
    assert first.token != second.token


def test_tampered_payload_is_rejected() -> None:
    issued = issue_token(SECRET, "alice", NOW, 3600)
    _, signature = issued.token[3:].split(".")
    forged_payload = b64(
        json.dumps(
            {"sid": issued.session_id, "uid": "admin", "iat": int(NOW), "exp": int(NOW) + 3600},
            separators=(",", ":"),
        ).encode()
    )
    with pytest.raises(InvalidToken):
        verify_token(SECRET, f"ck_{forged_payload}.{signature}", NOW)


def test_tampered_signature_is_rejected() -> None:
    token = issue_token(SECRET, "alice", NOW, 3600).token
    last = token[-1]
    tampered = token[:-1] + ("A" if last != "A" else "B")
    with pytest.raises(InvalidToken):
        verify_token(SECRET, tampered, NOW)


def test_token_signed_with_another_key_is_rejected() -> None:
    token = issue_token("an-old-rotated-secret-key", "alice", NOW, 3600).token
    with pytest.raises(InvalidToken):
        verify_token(SECRET, token, NOW)


def test_token_is_valid_until_just_before_expiry() -> None:
    token = issue_token(SECRET, "alice", NOW, 100).token
    assert verify_token(SECRET, token, NOW + 99.999).user_id == "alice"


def test_token_expires_exactly_at_the_boundary() -> None:
    token = issue_token(SECRET, "alice", NOW, 100).token
    with pytest.raises(TokenExpired):
        verify_token(SECRET, token, NOW + 100)


def test_expired_token_with_bad_signature_is_invalid_not_expired() -> None:
    token = issue_token("an-old-rotated-secret-key", "alice", NOW, 100).token
    with pytest.raises(InvalidToken):
        verify_token(SECRET, token, NOW + 1000)


@pytest.mark.parametrize(
    "token",
    ["", "ck_", "ck_.", "abc.def", "ck_abc", "ck_a.b.c", "Bearer ck_a.b", "ck_a b.c", "xx_abc.def"],
)
def test_malformed_tokens_are_rejected(token: str) -> None:
    with pytest.raises(InvalidToken):
        verify_token(SECRET, token, NOW)


def test_correctly_signed_garbage_payload_is_rejected() -> None:
    part = b64(b"[1, 2, 3]")
    signature = b64(hmac.new(SECRET.encode(), part.encode(), hashlib.sha256).digest())
    with pytest.raises(InvalidToken):
        verify_token(SECRET, f"ck_{part}.{signature}", NOW)


def test_token_errors_share_a_base_class() -> None:
    assert issubclass(InvalidToken, TokenError)
    assert issubclass(TokenExpired, TokenError)
    assert not issubclass(TokenExpired, InvalidToken)


def test_fingerprint_is_sha256_hex_and_never_the_token() -> None:
    token = issue_token(SECRET, "alice", NOW, 60).token
    fingerprint = token_fingerprint(token)
    assert fingerprint == hashlib.sha256(token.encode()).hexdigest()
    assert len(fingerprint) == 64
    assert fingerprint != token
    assert token not in fingerprint
    assert TOKEN_PATTERN.search(fingerprint) is None
    assert token_fingerprint(token) == fingerprint
