"""Text helpers of every report: characters a report can hold, Markdown that holds together, seconds.

Markdown: text from a journal is written as prose with its HTML escaped (`prose`); code goes
into fences (longer than any backtick run inside it), inline code gets a long enough backtick
run, and table cells lose their line breaks and pipes. Seconds: one function per way a report
shows a time, each written once.
"""

from __future__ import annotations

import math
import re

MISSING = "—"  # a time that was never measured

# -- characters ---------------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def printable(text: str) -> str:
    """Text any report can hold (XML 1.0's characters): ANSI escape sequences removed, other control
    characters, lone surrogates and U+FFFE/U+FFFF shown as `\\xNN` / `\\uNNNN`."""
    text = _ANSI.sub("", text)
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", text)


# -- Markdown -----------------------------------------------------------------------------------

_BACKTICKS = re.compile(r"`+")


def _longest_backticks(text: str) -> int:
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0)


def one_line(text: str) -> str:
    return " ".join(text.splitlines()).strip()


def escape_html(text: str) -> str:
    """Markdown prose that a CommonMark renderer shows as text: raw HTML (`<script>`, `<img onerror>`)
    in a journal's text is escaped, never passed through."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def prose(text: str) -> str:
    """Text from a journal as one line of Markdown prose: HTML escaped."""
    return escape_html(one_line(text))


def code(text: str) -> str:
    """Inline code that survives backticks inside it ("(none)" for nothing)."""
    text = one_line(text)
    if not text:
        return "(none)"
    ticks = "`" * (_longest_backticks(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def cell(text: str) -> str:
    """Text for a Markdown table cell: one line, pipes escaped."""
    return one_line(text).replace("|", "\\|")


def fence(text: str, info: str = "") -> str:
    """A fenced code block that nothing inside `text` can close."""
    ticks = "`" * max(3, _longest_backticks(text) + 1)
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{ticks}{info}\n{body}{ticks}\n"


# -- seconds ------------------------------------------------------------------------------------


def seconds(value: float | None, missing: str = MISSING) -> str:
    """A measured time for a table: two decimals under 10 s, one under 100 s, then whole seconds and
    from 10 minutes on minutes and seconds."""
    if value is None:
        return missing
    if value < 10:
        return f"{value:.2f} s"
    if value < 100:
        return f"{value:.1f} s"
    if value < 600:
        return f"{value:.0f} s"
    minutes, rest = divmod(round(value), 60)
    return f"{minutes} min {rest:02d} s"


def tenths(value: float) -> str:
    """Seconds to the tenth, in a sentence: `12.3 s`."""
    return f"{value:.1f} s"


def terse(value: float | None) -> str:
    """Seconds to the tenth without a space, for one-line progress: `12.3s` (`-` when missing)."""
    return "-" if value is None else f"{value:.1f}s"


def budget(value: float) -> str:
    """A time budget as configured: `10 s`, `2.5 s`."""
    return f"{value:g} s"


def offset(t: float) -> str:
    """A moment as seconds since the start, signed and to the tenth: `+12.3 s`."""
    return f"{round(t, 1) + 0.0:+.1f} s"


def length(value: float) -> str:
    """A drill's length: seconds below a minute, then minutes (and hours) and seconds."""
    count = round(value * 10)
    if count < 600:
        return f"{count / 10:.1f} s"
    total_minutes, rest = divmod(count, 600)
    hours, mins = divmod(total_minutes, 60)
    text = f"{mins} min {rest / 10:.1f} s"
    return f"{hours} h {text}" if hours else text


def minutes(value: float | None, missing: str = MISSING) -> str:
    """A time against a person's: signed tenths below two minutes, then `3 min 05 s`."""
    if value is None:
        return missing
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value < 120:
        return f"{sign}{value:.1f} s"
    whole_minutes, rest = divmod(round(value), 60)
    return f"{sign}{whole_minutes} min {rest:02d} s"


def whole(value: float | None) -> str:
    """A typed command's time: bash stamps whole seconds, so no decimals are shown that do not exist."""
    return MISSING if value is None else minutes(float(round(value))).replace(".0 s", " s")


def junit(value: float) -> str:
    """Seconds as JUnit XML's `time` attribute wants them: `12.345`, never NaN."""
    return f"{value:.3f}" if math.isfinite(value) else "0.000"
