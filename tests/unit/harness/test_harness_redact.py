"""The redactor's built-in shapes (each masked, and the ordinary text around it kept), the check of
patterns from outside, and redaction of whole records before they are encoded."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import pytest

from harness.errors import BadInput
from harness.journal import DrillStarted
from harness.redact import MASK, Redactor, UnsafePattern, check_pattern, redact_fields, safe_patterns
from harness.report import render_redactor
from harness.vocabulary import Priority, Verdict

M = MASK


@pytest.mark.parametrize(("text", "expected"), [
    # assignments to secret-looking names: the value goes, the name stays
    ("DB_PASSWORD=hunter2xyz next", f"DB_PASSWORD={M} next"),
    ("export SECRET_KEY=abc123def456", f"export SECRET_KEY={M}"),
    ('export SECRET_KEY="two words"', f'export SECRET_KEY="{M}"'),
    ("API_KEY='k-123'", f"API_KEY='{M}'"),
    ("GITHUB_TOKEN=tok123", f"GITHUB_TOKEN={M}"),
    ("PGPASSWORD=pw1 psql", f"PGPASSWORD={M} psql"),
    ("DB_PASS=abc", f"DB_PASS={M}"),
    ("client_secret: s3cr3t!", f"client_secret: {M}"),
    ("  password: hunter2", f"  password: {M}"),
    ('{"x_password": "p@ss word"}', f'{{"x_password": "{M}"}}'),
    ('{"accessToken":"abc.def"}', f'{{"accessToken":"{M}"}}'),
    ("spring.datasource.password=pw9", f"spring.datasource.password={M}"),
    ("--password=pw9 --user x", f"--password={M} --user x"),
    # libpq
    ("host=db password=pw123 user=app", f"host=db password={M} user=app"),
    # URLs: no user, special characters in the password, upper-case schemes
    ("postgresql://chatkit:pw12345@db:5432/chatkit", f"postgresql://chatkit:{M}@db:5432/chatkit"),
    ("redis://:pw123@cache:6379", f"redis://:{M}@cache:6379"),
    ("postgres://u:p@ss/w:rd@db:5432/x", f"postgres://u:{M}@db:5432/x"),
    ("HTTPS://U:PW12@example.com", f"HTTPS://U:{M}@example.com"),
    ("AMQP://guest:gu%40est@mq/", f"AMQP://guest:{M}@mq/"),
    # headers and tokens
    ("Authorization: Basic dXNlcjpwYXNzd29yZA==", f"Authorization: Basic {M}"),
    ("authorization: token abcdef123456", f"authorization: token {M}"),
    ("Authorization: Bearer abcdef0123456789", f"Authorization: Bearer {M}"),
    ("curl -H 'Bearer abcdef0123456789'", f"curl -H 'Bearer {M}'"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl", f"jwt {M}"),
    ("id AKIAIOSFODNN7EXAMPLE ok", f"id {M} ok"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", f"aws_secret_access_key = {M}"),
    ("key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end", f"key {M} end"),
    ("gh ghp_" + "a1" * 18, f"gh {M}"),
    ("github_pat_" + "A1b2" * 10, M),
    ("xoxb-1234-5678-abcdefgh", M),
    ("xoxp-1234-5678-abcdefgh.", f"{M}."),
    # PEM private keys, across lines, also escaped
    ("before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEabc+/=\nQUJD\n-----END RSA PRIVATE KEY-----\nafter",
     f"before\n{M}\nafter"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaA==\\n-----END OPENSSH PRIVATE KEY-----", M),
    ("-----BEGIN PRIVATE KEY-----\nMIIEcut", M),  # its END was cut off (a truncated output)
])
def test_each_shape_is_masked(text: str, expected: str) -> None:
    assert Redactor()(text) == expected


@pytest.mark.parametrize("text", [
    "password_policy=strict docs",
    "token_count=3",
    "max_tokens=100",
    "passwordless=true",
    "bypass=1",
    "PWD=/root",
    "SECRET_KEY=$NEW_KEY",  # a variable, not a value
    "grep -c '^SECRET_KEY=.\\{16,\\}' /etc/app.env",  # a regex, not a secret
    "https://host:8080/a@b",  # a port and a path, not user:password
    "sha 0123456789abcdef0123456789abcdef01234567",  # a hex digest (40 lower-case characters)
    "/home/User1/projects/MyApp2/src/main/java",  # a path
    "-----BEGIN PUBLIC KEY-----\nMIIBIjAN\n-----END PUBLIC KEY-----",
    "basic usage: run the tool",
    "Bearer short",
    "the token was rotated",
    f"DB_PASSWORD={M}",  # masking twice changes nothing
])
def test_ordinary_text_is_kept(text: str) -> None:
    assert Redactor()(text) == text


def test_trade_off_a_prose_colon_after_a_secret_word_masks_the_next_word() -> None:
    """The price of catching `key: value` (YAML): prose shaped the same way loses a word."""
    assert Redactor()("token: expired") == f"token: {M}"


def test_masking_is_idempotent_on_every_shape() -> None:
    redactor = Redactor()
    text = "DB_PASSWORD=abc redis://:pw@h Authorization: Basic dXNlcjpw xoxb-1234-5678-abcdefgh"
    once = redactor(text)
    assert redactor(once) == once


def test_shapes_take_linear_time_on_hostile_text() -> None:
    redactor = Redactor()
    for text in ["a.b" * 100_000, "x://" * 50_000, "password=" * 30_000, "-----BEGIN PRIVATE KEY-----" * 5_000,
                 "A" * 300_000, "a:" * 100_000 + "@", "Authorization: " * 20_000]:
        started = time.process_time()
        redactor(text)
        assert time.process_time() - started < 2.0, text[:30]


# -- patterns from outside ------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", [
    r"(a+)+$", r"(a*)*b", r"(?:x+y?)+z", r"(a|aa)+$", r"(\w+\s?)*$", r"(a{1,100})+", r"(a)\1+", r"((ab)*)+",
    r"\w+\w+$", r".*.*x", r"\d+\s*\d+x", r"\d+1\d+x", r"(\w+)(\w+)x", "x" * 600,
])
def test_catastrophic_patterns_are_refused_with_a_reason(pattern: str) -> None:
    with pytest.raises(UnsafePattern) as raised:
        check_pattern(pattern)
    assert "redaction pattern" in str(raised.value)
    assert isinstance(raised.value, BadInput)  # exit 2 wherever it is raised


@pytest.mark.parametrize("pattern", [
    r"ck_[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", r"\bsk-[a-z0-9]{20,}", r"(?:tok|key)_[0-9a-f]{32}",
    r"(?<=\bSECRET_KEY=)[A-Za-z0-9_\-+/=.~]{8,}(?=[\s\"';|&)<>`]|$)", r"(ab){2,3}", r"[a-z]+@[a-z]+", r"a+b+",
])
def test_ordinary_patterns_pass(pattern: str) -> None:
    assert check_pattern(pattern).pattern == pattern


def test_an_invalid_regex_is_refused() -> None:
    with pytest.raises(UnsafePattern, match="not a valid regular expression"):
        check_pattern("([a-z")


def test_the_redactor_refuses_a_bad_declared_pattern() -> None:
    with pytest.raises(UnsafePattern):
        Redactor(patterns=[r"(a+)+$"])
    with pytest.raises(UnsafePattern):
        Redactor().add_pattern(r"(a+)+$")


def test_a_bad_pattern_from_a_journal_is_dropped_with_a_note_and_the_shapes_still_apply(
        caplog: pytest.LogCaptureFixture) -> None:
    started = DrillStarted("d", "s", "t", "r.md", "sec", Priority.P0, 10.0, 60.0, 5, "stack",
                           redaction_patterns=(r"(a+)+$", r"ck_[a-z0-9]{8,}"))
    with caplog.at_level(logging.WARNING):
        redactor = render_redactor([started], "j.jsonl")
    assert any("j.jsonl: dropped a redaction pattern" in r.getMessage() for r in caplog.records)
    started_at = time.process_time()
    assert redactor("a" * 50_000 + "!") == "a" * 50_000 + "!"
    assert time.process_time() - started_at < 1.0
    assert redactor("ck_abcdef123 DB_PASSWORD=x1") == f"{M} DB_PASSWORD={M}"


def test_safe_patterns_keeps_the_good_ones(caplog: pytest.LogCaptureFixture) -> None:
    assert [p.pattern for p in safe_patterns([r"(a+)+", r"ok_[0-9]{4}"], "here")] == [r"ok_[0-9]{4}"]


# -- whole records, before encoding ---------------------------------------------------------------


@dataclass(frozen=True)
class _Inner:
    text: str
    verdict: Verdict


@dataclass(frozen=True)
class _Record:
    name: str
    inner: _Inner
    items: tuple[str, ...]
    table: dict[str, str]
    count: int


def test_redact_fields_reaches_every_string_and_keeps_enums() -> None:
    record = _Record("DB_PASSWORD=a1", _Inner("token=b2", Verdict.PASSED), ("redis://:c3@h",),
                     {"password=d4": "secret: e5"}, 3)
    out = redact_fields(record, Redactor())
    assert out == _Record(f"DB_PASSWORD={M}", _Inner(f"token={M}", Verdict.PASSED), (f"redis://:{M}@h",),
                          {f"password={M}": f"secret: {M}"}, 3)
    assert out.inner.verdict is Verdict.PASSED


@pytest.mark.regression
def test_a_pattern_masked_when_its_record_was_written_is_dropped_not_used_as_a_character_class(
        caplog: pytest.LogCaptureFixture) -> None:
    written = Redactor(patterns=[r"ADMIN_TOKEN=\S+"])(r"ADMIN_TOKEN=\S+")  # the pattern matches its own text
    assert written == MASK
    kept = safe_patterns([written, r"ok_[0-9]{4}"], "exercise.jsonl")
    assert [p.pattern for p in kept] == [r"ok_[0-9]{4}"]
    assert Redactor(patterns=kept)("The Outcome: RECOVERED") == "The Outcome: RECOVERED"
    assert "masked when written" in caplog.text
