"""The HTML report in a real browser: Debian's headless Chromium draws it (not blank) and finds the summary.

Needs no Docker, but it needs Chromium: a missing browser is a failure that says how to get one.
"""

from __future__ import annotations

import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest

from harness.journal import (
    CheckRecord,
    DrillFinished,
    DrillStarted,
    Event,
    FaultRecorded,
    FindingRecorded,
    GamedayFinished,
    GamedayStarted,
    Journal,
    Metrics,
    PhaseStarted,
    Series,
    StepRecorded,
    read_journal,
)
from harness.report.html import render_html
from harness.report.model import build_view

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_TIMEOUT = 90.0  # seconds for one headless run; it takes about one
WINDOW = (1280, 2000)
MIN_PNG_BYTES = 8_000
ROWS_SAMPLED = 1_200  # rows decoded from the top: header, summary and the first timeline
PIXEL_STRIDE = 7
MIN_COLOURS = 12
SCENARIOS = ("db-down", "pool-exhausted")
AT = "2026-11-22T06:00:00.000+00:00"
HOSTILE = "<script>alert(1)</script>"


def chromium() -> Path:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium) to check the HTML report "
                    "in a real browser", pytrace=False)
    return CHROMIUM


def run_chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(chromium()), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", "--hide-scrollbars", f"--window-size={WINDOW[0]},{WINDOW[1]}", *args]
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"chromium did not finish within {BROWSER_TIMEOUT:.0f}s: {' '.join(command)}\n"
                    f"stderr: {(exc.stderr or b'')[-2000:]!r}", pytrace=False)


def journal_events() -> list[Event]:
    check = CheckRecord("healthy", None, '"ok"', 12, True, 'expected text "ok"', "")
    bad = CheckRecord("healthy", None, '"ok"', 12, False, 'expected text "ok"', '- "ok"\n+ "degraded"')
    events: list[Event] = [GamedayStarted("browser-run", SCENARIOS, "0.1.0", at=AT)]
    for n, scenario in enumerate(SCENARIOS):
        passed = n == 0
        events += [
            DrillStarted(scenario, scenario, f"{scenario} drill", "RUNBOOK.md", f"6-{scenario}", "P0", 10.0, 60.0, 5,
                         "chatkit", at=AT),
            PhaseStarted(scenario, "baseline", 0.1, at=AT),
            StepRecorded(scenario, "baseline", f"{scenario}[1]", "app", "RUNBOOK.md:10", "curl -s localhost/health",
                         0, f"ok\n{HOSTILE}\n", "", 0.2, False, 1, "healthy", True, (check,), 0.3, at=AT),
            FaultRecorded(scenario, "service-stopped", "injected", "postgresql stopped", 1.0, at=AT),
            StepRecorded(scenario, "verify", f"{scenario}[2]", "app", "RUNBOOK.md:20", "curl -s localhost/health",
                         0 if passed else 1, "ok\n" if passed else "degraded\n", "", 0.2, False, 1, "healthy",
                         passed, (check if passed else bad,), 5.0, at=AT),
            FaultRecorded(scenario, "service-stopped", "already-restored" if passed else "rolled-back", "done", 6.0,
                          at=AT),
            Series(scenario, ((0.2, True), (1.4, False), (4.1, True)),
                   tuple((float(t), 3 if t in (0, 4, 5) else 0, 0 if t in (0, 4, 5) else 3) for t in range(6)), 1.0,
                   (("inject", 1.0), ("diagnosed", 2.0), ("fix", 2.5), ("recovered", 4.1))),
        ]
        if not passed:
            events.append(FindingRecorded(scenario, "verify-failed", f"{scenario}[2]", "the check does not hold",
                                          "RUNBOOK.md:21", 'text "ok"', "degraded", 5.0))
        events.append(DrillFinished(scenario, scenario, "passed" if passed else "failed",
                                    () if passed else ("verify-failed",),
                                    Metrics(True, True, 0.4, 1.0, 3.1, 1.6 if passed else 70.0, 2.7, 10.0, 60.0, 18, 9,
                                            ("synthetic-1",), 1.0, ()), 6.2, at=AT))
    events.append(GamedayFinished("browser-run", tuple((s, "passed") for s in SCENARIOS), 13.0, at=AT))
    return events


def png_pixels(data: bytes, rows: int) -> tuple[int, int, list[bytes]]:
    """Width, height and the first `rows` unfiltered scanlines of an 8-bit RGB or RGBA PNG (stdlib only)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, idat, header = 8, bytearray(), b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind, body = data[offset + 4:offset + 8], data[offset + 8:offset + 8 + length]
        offset += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, colour in (2, 6), interlace) == (8, True, 0), f"unexpected PNG format {depth=} {colour=}"
    bpp = 3 if colour == 2 else 4
    stride = width * bpp
    raw = zlib.decompressobj().decompress(bytes(idat), (stride + 1) * min(rows, height))
    prior = bytearray(stride)
    lines = []
    for y in range(min(rows, height)):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prior, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prior[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prior[i], prior[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        lines.append(bytes(line))
        prior = line
    return width, height, lines


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser-report")
    journal = Journal(folder / "journal.jsonl")
    for event in journal_events():
        journal.write(event)
    path = folder / "report.html"
    path.write_text(render_html(build_view(read_journal(journal.path))), encoding="utf-8")
    return path


def test_chromium_draws_the_report_and_it_is_not_blank(report: Path, tmp_path: Path) -> None:
    png = tmp_path / "report.png"
    done = run_chromium(tmp_path / "profile", f"--screenshot={png}", report.as_uri())
    assert png.is_file(), f"no screenshot (exit {done.returncode}): {done.stderr[-2000:]}"
    data = png.read_bytes()
    assert len(data) > MIN_PNG_BYTES, f"screenshot of {len(data)} bytes is too small to be a drawn page"
    width, height, lines = png_pixels(data, ROWS_SAMPLED)
    assert (width, height) == WINDOW
    bpp = len(lines[0]) // width
    colours = Counter(line[x * bpp:x * bpp + 3] for line in lines[::PIXEL_STRIDE]
                      for x in range(0, width, PIXEL_STRIDE))
    (_, commonest), = colours.most_common(1)
    assert len(colours) >= MIN_COLOURS, f"only {len(colours)} colours: the page looks blank"
    assert commonest < 0.98 * sum(colours.values()), "one colour covers nearly everything: the page looks blank"


def test_chromium_finds_the_summary_table_and_every_scenario(report: Path, tmp_path: Path) -> None:
    done = run_chromium(tmp_path / "profile", "--dump-dom", report.as_uri())
    dom = done.stdout
    assert "<table class=\"summary\">" in dom, f"no summary table in the DOM (exit {done.returncode})"
    assert "Drills of this gameday" in dom
    for header in ("Scenario", "Verdict", "Time to detect", "Time to recover", "Findings"):
        assert f">{header}" in dom, header
    for scenario in SCENARIOS:
        assert f">{scenario}</a>" in dom, scenario
    assert "<script" not in dom.lower(), "the hostile output became an element"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom, "the hostile output is shown as text"
