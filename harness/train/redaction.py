"""What the trainee may spell out that must never reach a debrief.

The stack's own secrets are masked by value (harness.redact). A trainee also writes new ones:
`echo "SECRET_KEY=..." >> /etc/app.env`, or a value read back from a file. Two nets catch those:
patterns for token-like values assigned to a secret's name, and the secret-looking settings of
the stack's files, read again (`secret_values`) before any command that may spell them out is
journaled.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

SECRETISH = re.compile(r"(?i)secret|password|passwd|token|api_?key|private")
_VALUE_SHAPE = r"[A-Za-z0-9_\-+/=.~]{8,}(?=[\s\"';|&)<>`]|$)"  # not a regex, not a sed script
_NAME = re.compile(r"[A-Za-z_]\w*")
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_]\w*)\s*=(.*)$")


def secret_assignment_patterns(names: Iterable[str]) -> list[str]:
    """Redaction patterns for token-like values assigned to a secret's name (`SECRET_KEY=...`), leaving
    variable references (`SECRET_KEY=$NEW_KEY`), regexes and sed scripts as they are."""
    return [rf"(?<=\b{name}=){_VALUE_SHAPE}|(?<=\b{name}=[\"']){_VALUE_SHAPE}" for name in sorted(set(names))
            if _NAME.fullmatch(name)]


def secret_values(env_text: str, names: Iterable[str]) -> list[str]:
    """The values of an environment file's settings (`KEY=value`, `export` and one pair of quotes
    allowed, as harness.faults.envfile reads them) that are secrets: named as one, or looking like one."""
    wanted, out = set(names), []
    for line in env_text.splitlines():
        match = _ASSIGNMENT.match(line)
        if not match or line.lstrip().startswith("#"):
            continue
        key, value = match.group(1), match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if value and (key in wanted or SECRETISH.search(key)):
            out.append(value)
    return out
