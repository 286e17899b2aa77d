"""Redaction canary, in-process: a journal written WITHOUT a redactor holds every secret shape in every
text field; no report made from it (HTML, Markdown post-mortems, summary.json, junit.xml, the history
page) may hold any of them, in clear or escaped, and the machine formats stay well-formed."""

from __future__ import annotations

import dataclasses
import enum
import html
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harness.journal import DrillStarted, Journal, read_journal
from harness.report import write_reports
from harness.report.history import INDEX_NAME

FIXTURE = Path(__file__).parent / "report_fixtures" / "journal.jsonl"

# Each shape, with the secret part it must hide (the name, scheme or user around it may stay).
SHAPES: tuple[tuple[str, str], ...] = (
    ("DB_PASSWORD=Hunter2Canary01 ok", "Hunter2Canary01"),
    ("export SECRET_KEY=SkCanary0202xyz", "SkCanary0202xyz"),
    ("api_key: ApiCanary0303xyz", "ApiCanary0303xyz"),
    ('{"x_password": "JsonCanary0404"}', "JsonCanary0404"),
    ("host=db password=PgCanary0505 user=app", "PgCanary0505"),
    ("redis://:RedisCanary0606@cache:6379/0", "RedisCanary0606"),
    ("postgres://app:p@ss/w:rdCanary07@db:5432/app", "rdCanary07"),
    ("HTTPS://User:UpperCanary08@example.com/x", "UpperCanary08"),
    ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYCANARY09", "bPxRfiCYCANARY09"),
    ("key Zm9vYmFyQ2FuYXJ5MTAxK1qR7sT0uV2wX3yZ4aB5 left", "Zm9vYmFyQ2FuYXJ5MTAxK1qR7sT0uV2wX3yZ4aB5"),
    ("AKIAIOSFODNN7CANARYX", "AKIAIOSFODNN7CANARYX"),
    ("gh ghp_GhCanary11aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "GhCanary11"),
    ("pat github_pat_PatCanary12_bbbbbbbbbbbbbbbbbbbbbbbbbb", "PatCanary12"),
    ("slack xoxb-1111-2222-SlackCanary13", "SlackCanary13"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEpemCanary14body\nQUJDRA==\n-----END RSA PRIVATE KEY-----", "pemCanary14"),
    ("Authorization: Basic QmFzaWNDYW5hcnkxNQ==", "QmFzaWNDYW5hcnkxNQ"),
    ("Authorization: Bearer BearerCanary16xyz", "BearerCanary16xyz"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJjYW5hcnkiOjE3fQ.SigCanary17abc", "SigCanary17abc"),
)
CANARIES = tuple(secret for _, secret in SHAPES)
BLOB = "\n".join(text for text, _ in SHAPES)
KEEP_AS_THEY_ARE = {"at", "drill"}  # timestamps (sorted, subtracted); drill ids (file names, bounded elsewhere)


def seeded(value: Any, name: str = "") -> Any:
    """`value` with every text field holding every shape (the same text gets the same seed: ids still match)."""
    if isinstance(value, enum.Enum) or name in KEEP_AS_THEY_ARE:
        return value
    if isinstance(value, str):
        return f"{value} {BLOB}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{f.name: seeded(getattr(value, f.name), f.name)
                                             for f in dataclasses.fields(value)})
    if isinstance(value, tuple):
        return tuple(seeded(v) for v in value)
    return value


def leaks(text: str) -> list[str]:
    forms = {c: (c, html.escape(c), json.dumps(c)[1:-1]) for c in CANARIES}
    return [c for c, shown in forms.items() if any(s in text for s in shown)]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    root = tmp_path_factory.mktemp("reports")
    folder = root / "gameday-canary"
    journal = Journal(folder / "journal.jsonl")  # no redactor: the secrets really are in the journal
    for event in read_journal(FIXTURE):
        if isinstance(event, DrillStarted):  # a pattern recorded by a stack: must not hide the canaries' absence
            event = dataclasses.replace(event, redaction_patterns=(r"ck_[A-Za-z0-9]{8,}",))
        journal.write(seeded(event))
    written = write_reports([journal.path], folder)
    return journal.path, written


def test_the_journal_really_holds_every_secret(rendered: tuple[Path, list[Path]]) -> None:
    journal, _ = rendered
    text = journal.read_text()
    assert sorted(leaks(text)) == sorted(CANARIES)


def test_every_output_is_written(rendered: tuple[Path, list[Path]]) -> None:
    _, written = rendered
    names = {p.name for p in written}
    assert {"report.html", "summary.json", "junit.xml", INDEX_NAME} <= names
    assert any(n.startswith("postmortem-") and n.endswith(".md") for n in names)


def test_no_secret_shape_reaches_any_report(rendered: tuple[Path, list[Path]]) -> None:
    _, written = rendered
    found = {p.name: leaks(p.read_text()) for p in written}
    assert not {name: secrets for name, secrets in found.items() if secrets}


def test_the_reports_say_what_was_masked_and_keep_names(rendered: tuple[Path, list[Path]]) -> None:
    _, written = rendered
    summary = next(p for p in written if p.name == "summary.json").read_text()
    assert "[REDACTED]" in summary
    assert "DB_PASSWORD=[REDACTED]" in summary  # the setting's name stays readable
    assert "redis://:[REDACTED]@cache" in summary


def test_machine_formats_stay_well_formed(rendered: tuple[Path, list[Path]]) -> None:
    _, written = rendered
    by_name = {p.name: p for p in written}
    assert json.loads(by_name["summary.json"].read_text())["schema_version"] == 1
    assert ET.parse(by_name["junit.xml"]).getroot().tag == "testsuite"  # noqa: S314 (our own output)


def test_a_secret_across_an_escaped_newline_in_json_is_still_masked(tmp_path: Path) -> None:
    """Before: summary.json was redacted after encoding, where a PEM block's newlines are `\\n`."""
    journal = Journal(tmp_path / "g" / "journal.jsonl")
    for event in read_journal(FIXTURE):
        if type(event).__name__ == "FindingRecorded":
            event = dataclasses.replace(event, seen="-----BEGIN PRIVATE KEY-----\nMIIEonlyInJson99\n"  # type: ignore[type-var]
                                                     "-----END PRIVATE KEY-----\npassword:\nnext-line")
        journal.write(event)
    written = write_reports([journal.path], tmp_path / "g", index=False)
    for path in written:
        assert "MIIEonlyInJson99" not in path.read_text(), path.name
    summary = json.loads((tmp_path / "g" / "summary.json").read_text())
    seen = [f["seen"] for d in summary["drills"] for f in d["findings"]]
    assert any("next-line" in s for s in seen)  # `password:` then a newline: the next line is not a value
