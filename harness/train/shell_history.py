"""The trainee's shell history, as bash writes it with timestamps, and the rc file that makes it so.

`gameday shell HOST` starts `bash --rcfile RCFILE -i` on the host. The rc file points HISTFILE at
HISTORY_FILE, sets HISTTIMEFORMAT (so bash writes a `#<epoch seconds>` line before every entry)
and appends each command to the file as soon as it is entered (`history -a` in a DEBUG trap,
and again at each prompt), so the controller sees it live. An entry may span lines (a here-doc,
a quoted newline): everything up to the next timestamp line belongs to it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

HISTORY_FILE = "/var/log/gameday-trainee.history"
RC_FILE = "/etc/gameday/trainee.bashrc"
MAX_COMMAND_CHARS = 2_000
MAX_ENTRIES = 5_000  # per host: a trainee types far fewer; a runaway loop must not fill the log

RC_TEXT = f"""\
# gameday onboarding exercise: this shell records your commands (with the time) for the debrief.
[ -f /etc/profile ] && . /etc/profile
[ -f ~/.bashrc ] && . ~/.bashrc
export HISTFILE={HISTORY_FILE}
export HISTTIMEFORMAT='%F %T '
export HISTSIZE=10000 HISTFILESIZE=100000
HISTCONTROL=
shopt -s histappend cmdhist
trap 'history -a' DEBUG
export PROMPT_COMMAND='history -a'
"""

_STAMP = re.compile(r"^#(\d{9,11})$")


@dataclass(frozen=True)
class HistoryEntry:
    at: float | None  # epoch seconds as bash recorded them (whole seconds); None without a timestamp line
    command: str


def parse_history(text: str) -> list[HistoryEntry]:
    """Entries of a bash history file written with HISTTIMEFORMAT set; blank entries dropped."""
    entries: list[HistoryEntry] = []
    at: float | None = None
    lines: list[str] = []

    def flush() -> None:
        command = "\n".join(lines).strip()
        if command and len(entries) < MAX_ENTRIES:
            entries.append(HistoryEntry(at, command[:MAX_COMMAND_CHARS]))

    for line in text.splitlines():
        stamp = _STAMP.match(line.strip())
        if stamp:
            flush()
            at, lines = float(stamp.group(1)), []
        else:
            lines.append(line)
    flush()
    return entries


def install_script() -> str:
    """A shell command that writes the rc file and creates an empty, private history file."""
    return (f"mkdir -p {RC_FILE.rsplit('/', 1)[0]} && cat > {RC_FILE} <<'GAMEDAY_RC'\n{RC_TEXT}GAMEDAY_RC\n"
            f"umask 077 && : > {HISTORY_FILE}")


def read_script() -> str:
    """A shell command that prints the history file (nothing when it does not exist yet)."""
    return f"cat {HISTORY_FILE} 2>/dev/null || true"


class HistoryTracker:
    """The entries seen so far on each host; `update` returns only the new ones.

    A file that was rewritten (the trainee cleared it) is compared as a whole: an entry counts as
    new only when it is there more often than it was before.
    """

    def __init__(self) -> None:
        self._seen: dict[str, list[HistoryEntry]] = {}

    def update(self, host: str, text: str) -> list[HistoryEntry]:
        entries = parse_history(text)
        seen = self._seen.get(host, [])
        if entries[:len(seen)] == seen:
            new = entries[len(seen):]
        else:  # rewritten or truncated: whatever is not already known is new
            remaining = Counter(seen)
            new = []
            for entry in entries:
                if remaining[entry]:
                    remaining[entry] -= 1
                else:
                    new.append(entry)
        self._seen[host] = entries
        return new

    def seen(self, host: str) -> Sequence[HistoryEntry]:
        return tuple(self._seen.get(host, ()))
