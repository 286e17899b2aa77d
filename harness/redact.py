"""Redaction: no secret or token reaches a journal or a report.

Three nets, applied to every recorded text: the stack's own secrets (exact values, known from the
stack definition), values seen during the drill (tokens issued to synthetic users, leaked tokens
found in logs), and secret-shaped strings (the built-in SHAPES plus the stack definition's own
patterns). A person at a shell (an onboarding trainee) also writes new secrets:
`secret_assignment_patterns` and `secret_values` catch the values assigned to a secret's name or set
in the stack's env files.

Values are redacted before they are encoded (JSON, XML, HTML): `redact_fields` walks a record. A
pattern from a stack definition or read back from a journal is checked by `check_pattern` first, so
that a catastrophic one (`(a+)+$`) is refused, never run.

The shapes, and what they cost (ordinary text they also mask, or secrets they miss):

- assignments to a secret-looking name, `KEY=value`, `export KEY=value`, `key: value` (YAML),
  `"key": "value"` (JSON), libpq's `password=...`: the name's last part must *be* the secret word
  (`DB_PASSWORD`, `PGPASSWORD`, `x_password`, `client_secret`, `GITHUB_TOKEN`, `API_KEY`, `DB_PASS`), so
  `password_policy=strict` and `token_count=3` stay. Only the value is masked, the name stays. An
  unquoted value ends at a blank, a quote, `,;&|<>)` or a backtick: a password holding one of those
  is masked only up to it. A value that is a variable (`$NEW_KEY`) is kept. `token: expired` in prose
  is masked too (the price of catching YAML). A URL whose password is a variable (`${DB_PASSWORD}`) is
  kept as it is.
- URLs with credentials, any scheme in any case: `scheme://user:pw@host`, `redis://:pw@host`, and
  passwords holding `@`, `/` or `:` (everything up to the last `@` of the URL is the password); a
  `host:port/path@x` (digits then `/`) is left alone.
- `Authorization:` headers (Basic, Bearer, Token, Digest or bare), `Bearer xxx` anywhere, JWTs.
- AWS access key ids (`AKIA...`, `ASIA...`), AWS secret access keys (40 characters of base64 with
  upper and lower case and digits: a 40-character mixed-case base64 word in ordinary output is masked
  too; hex digests, all lower case, are not), GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`,
  `github_pat_`), Slack tokens (`xoxb-`, `xoxa-`, `xoxp-`, `xoxr-`, `xoxs-`).
- PEM private-key blocks, `BEGIN ... PRIVATE KEY` to `END ... PRIVATE KEY`, across lines (also with
  escaped `\\n`); a block whose END was cut off is masked to the end of its base64.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from harness.errors import BadInput

log = logging.getLogger(__name__)

MASK = "[REDACTED]"
MIN_SECRET_LENGTH = 6  # shorter values would mask ordinary words
MAX_PATTERN_CHARS = 500  # a declared redaction pattern longer than this is refused

# Secret words a setting's name ends with (its last `_`/`-`/`.` part, or a camelCase tail).
_CONFIDENTIAL_WORDS = (
    r"(?:secret|password|passwd|passphrase|token|credentials?|api[_.-]?key|apikey"
    r"|(?:access|private|secret|auth|signing|encryption|master|client|session)[_.-]?key"
    r"|(?<=[_.-])pwd|(?<![A-Za-z0-9])pass)")
_AFTER_NAME = r"(?![A-Za-z0-9_.-])[\"']?[ \t]{0,8}(?::|=>?)[ \t]{0,8}"  # the name ends there; `=`, `:`, `=>`
_NOT_MASKED = r"(?!\$)(?!\[REDACTED\])"  # a variable (`$NEW_KEY`) stays, and a mask is not masked again

# Each shape masks its group `v` only (names, quotes, schemes and users stay readable).
SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("pem-private-key", re.compile(
        r"(?P<v>-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY-----(?:[A-Za-z0-9+/=\s:,.\\]|-(?!----END))*"
        r"(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY-----)?)")),
    ("authorization-header", re.compile(
        r"(?i)\b(?:proxy-)?authorization[\"']?[ \t]{0,8}[:=][ \t]{0,8}[\"']?"
        r"(?:(?:basic|bearer|token|digest|negotiate|apikey)[ \t]{1,8})?(?P<v>(?!\[REDACTED\])[^\s\"',;<>]{6,4096})")),
    ("bearer", re.compile(r"(?i)\bbearer[ \t]{1,8}(?P<v>(?!\[REDACTED\])[A-Za-z0-9._~+/=-]{8,4096})")),
    ("jwt", re.compile(r"(?P<v>\beyJ[A-Za-z0-9_-]{8,4096}\.[A-Za-z0-9_-]{8,4096}\.[A-Za-z0-9_-]{8,4096})")),
    ("aws-access-key-id", re.compile(r"(?P<v>\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b)")),
    ("github-token", re.compile(r"(?P<v>\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255}))")),
    ("slack-token", re.compile(r"(?P<v>\bxox[baprs]-[A-Za-z0-9-]{8,255})")),
    ("url-credentials", re.compile(
        rf"(?i)\b[a-z][a-z0-9+.-]{{0,30}}://[^\s:/?#@\"'<>]{{0,256}}:(?P<v>{_NOT_MASKED}[^\s\"'<>]{{1,1024}})@")),
    ("secret-assignment-double-quoted", re.compile(
        rf"(?i){_CONFIDENTIAL_WORDS}{_AFTER_NAME}\"(?P<v>{_NOT_MASKED}(?:[^\"\\\n]|\\.){{1,1024}})\"")),
    ("secret-assignment-single-quoted", re.compile(
        rf"(?i){_CONFIDENTIAL_WORDS}{_AFTER_NAME}'(?P<v>{_NOT_MASKED}[^'\n]{{1,1024}})'")),
    ("secret-assignment", re.compile(
        rf"(?i){_CONFIDENTIAL_WORDS}{_AFTER_NAME}(?P<v>{_NOT_MASKED}[^\s\"'`,;&|<>)\\]{{1,1024}})"
        r"(?=[\s\"'`,;&|<>)]|$)")),  # a value running into `\` is a regex (`^KEY=.\{16,\}`), not a secret
    ("aws-secret-access-key", re.compile(r"(?<![A-Za-z0-9/+=])(?P<v>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])")),
)
_PORT_AND_PATH = re.compile(r"\d{1,5}/")  # `host:8080/path@x` is not `user:password@`
_MIXED = (re.compile(r"[A-Z]"), re.compile(r"[a-z]"), re.compile(r"[0-9]"))

SECRETISH = re.compile(r"(?i)secret|password|passwd|token|api_?key|private")  # a setting's name that says secret
_VALUE_SHAPE = r"[A-Za-z0-9_\-+/=.~]{8,}(?=[\s\"';|&)<>`]|$)"  # not a regex, not a sed script
_NAME = re.compile(r"[A-Za-z_]\w*")
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_]\w*)\s*=(.*)$")


def _mask_shape(name: str) -> Callable[[re.Match[str]], str]:
    def mask(match: re.Match[str]) -> str:
        value = match.group("v")
        if name == "url-credentials" and _PORT_AND_PATH.match(value):
            return match.group(0)
        if name == "aws-secret-access-key" and (not all(p.search(value) for p in _MIXED)
                                                or value.startswith("/") or value.count("/") > 2):
            return match.group(0)  # a hex digest, a word, a path: not a key
        if name == "secret-assignment" and value.startswith("/"):
            return match.group(0)  # a path or a sed address (`sed -i '/^SECRET_KEY=/d'`), not a secret
        start, end = match.span("v")
        whole = match.group(0)
        offset = match.start()
        return whole[: start - offset] + MASK + whole[end - offset:]
    return mask


_SHAPE_MASKS = tuple((pattern, _mask_shape(name)) for name, pattern in SHAPES)


# -- patterns from outside: checked before they are compiled ------------------------------------


class UnsafePattern(BadInput, ValueError):
    """A redaction pattern refused: not a regular expression, or one whose matching time can explode."""


def check_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a redaction pattern a stack definition declares or a journal records; UnsafePattern
    (with what to do) for one that does not compile or could take super-linear time: nested
    quantifiers (`(a+)+`), a quantified alternation (`(a|aa)*`), two unbounded quantifiers in a row
    over the same characters (`.*.*x`, `\\w+\\w+`), back-references, or more than MAX_PATTERN_CHARS
    characters. Not caught: the quadratic cost of any pattern that starts with an unbounded repeat
    (`[a-z]+@` over one long word); recorded texts are bounded, so that cost is too."""
    if not isinstance(pattern, str) or not pattern:
        raise UnsafePattern("a redaction pattern must be a non-empty string")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise UnsafePattern(f"redaction pattern longer than {MAX_PATTERN_CHARS} characters: split it")
    try:
        compiled = re.compile(pattern)
        parsed = importlib.import_module("re._parser").parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise UnsafePattern(f"redaction pattern {pattern!r} is not a valid regular expression: {exc}") from None
    problem = _super_linear(parsed, inside_repeat=False)
    if problem:
        raise UnsafePattern(f"redaction pattern {pattern!r} can take super-linear time ({problem}): "
                            "use one quantifier per group and character classes instead of alternatives, "
                            "or bound it ({1,64})")
    return compiled


_UNBOUNDED = 64  # a repeat allowing more than this counts as unbounded


_SAMPLE = [chr(c) for c in range(256)] + ["\u00e9", "\u4e2d", "\u0660", "\u2003"]  # to compare classes


def _single_chars(item: Any, state: Any) -> frozenset[str] | None:
    """The sample characters a one-character item (literal, class, `.`) matches; None for other items."""
    constants = importlib.import_module("re._constants")
    op, _ = item
    if op not in (constants.LITERAL, constants.NOT_LITERAL, constants.IN, constants.ANY):
        return None
    parser, compiler = importlib.import_module("re._parser"), importlib.import_module("re._compiler")
    matcher = compiler.compile(parser.SubPattern(state, [item]), 0)
    return frozenset(c for c in _SAMPLE if matcher.fullmatch(c))


def _overlapping_runs(items: Any, state: Any) -> str:
    """Two unbounded repeats in a row (only optional items, or characters both take, between them)
    that can take the same characters (`\\w+\\w+`, `.*.*x`, `\\d+\\s*\\d+`): polynomial backtracking."""
    constants = importlib.import_module("re._constants")
    repeats = {constants.MAX_REPEAT, constants.MIN_REPEAT, constants.POSSESSIVE_REPEAT}
    reachable: frozenset[str] | None = None  # what the unbounded repeats still in play can take
    for item in items:
        op, value = item
        while op is constants.SUBPATTERN and len(value[-1]) == 1:  # `(\\w+)` is `\\w+` here
            op, value = value[-1][0]
        if op in repeats and len(value[2]) == 1:
            low, high, body = value
            chars = _single_chars(body[0], state)
            many = high is constants.MAXREPEAT or high > _UNBOUNDED
            if chars is not None and many and op is not constants.POSSESSIVE_REPEAT:
                if reachable is not None and reachable & chars:
                    return "two quantifiers in a row that take the same characters"
                reachable = chars if low > 0 or reachable is None else reachable | chars
                continue
            if low == 0:
                continue  # optional: what came before is still in play
        chars = _single_chars((op, value), state)
        if reachable is not None and chars is not None and chars <= reachable:
            continue  # a character both sides take: `\\d+1\\d+`
        reachable = None
    return ""


def _super_linear(items: Any, *, inside_repeat: bool) -> str:
    constants = importlib.import_module("re._constants")
    repeats = {constants.MAX_REPEAT, constants.MIN_REPEAT, constants.POSSESSIVE_REPEAT}
    refs = {constants.GROUPREF, constants.GROUPREF_EXISTS}
    overlapping = _overlapping_runs(items, items.state) if hasattr(items, "state") else ""
    if overlapping:
        return overlapping
    for op, value in items:
        if op in refs:
            return "a back-reference"
        if op in repeats:
            low, high, body = value
            many = high is constants.MAXREPEAT or high > _UNBOUNDED
            if many and inside_repeat:
                return "a quantifier inside a quantified group"
            found = _super_linear(body, inside_repeat=inside_repeat or (many and high != low))
            if found:
                return found
        elif op is constants.BRANCH:
            if inside_repeat:
                return "alternatives inside a quantified group"
            for branch in value[1]:
                found = _super_linear(branch, inside_repeat=inside_repeat)
                if found:
                    return found
        elif op in (constants.SUBPATTERN, constants.ASSERT, constants.ASSERT_NOT, constants.ATOMIC_GROUP):
            found = _super_linear(value[-1], inside_repeat=inside_repeat)
            if found:
                return found
    return ""


def safe_patterns(patterns: Iterable[str], where: str) -> list[re.Pattern[str]]:
    """The patterns that pass `check_pattern`; each refused one is dropped with a warning naming `where`
    (a journal, a stack): the built-in shapes still apply. A pattern holding the mask was itself masked
    when its record was written (a pattern that matches its own text, such as `TOKEN=\\S+`); read as a
    regex, `[REDACTED]` would mask every R, E, D, A, C and T of a report, so it is dropped too."""
    out = []
    for pattern in patterns:
        if MASK in pattern:
            log.warning("%s: dropped a redaction pattern that was masked when written: %s", where, pattern)
            continue
        try:
            out.append(check_pattern(pattern))
        except UnsafePattern as exc:
            log.warning("%s: dropped a redaction pattern: %s", where, exc)
    return out


# -- the redactor -------------------------------------------------------------------------------


class Redactor:
    """Masks secrets in text. Thread-safe; values can be added while a drill runs.

    `patterns` (and `add_pattern`) are checked by `check_pattern`: UnsafePattern for a bad one."""

    def __init__(self, secrets: Iterable[str] = (), patterns: Iterable[str | re.Pattern[str]] = ()) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._patterns = [p if isinstance(p, re.Pattern) else check_pattern(p) for p in patterns]
        self._compiled: re.Pattern[str] | None = None
        self.add(*secrets)

    def add(self, *values: str) -> None:
        """Mask these exact values from now on (ignores values too short to be secrets)."""
        with self._lock:
            before = len(self._values)
            self._values.update(v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH)
            if len(self._values) != before:
                self._compiled = None

    def add_pattern(self, pattern: str) -> None:
        compiled = check_pattern(pattern)
        with self._lock:
            self._patterns.append(compiled)

    def _values_pattern(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._compiled is None and self._values:
                # Longest first, so a secret that contains another is masked whole.
                alternatives = sorted(self._values, key=len, reverse=True)
                self._compiled = re.compile("|".join(re.escape(v) for v in alternatives))
            return self._compiled

    def __call__(self, text: str) -> str:
        if not text:
            return text
        values = self._values_pattern()
        if values is not None:
            text = values.sub(MASK, text)
        for shape, mask in _SHAPE_MASKS:
            text = shape.sub(mask, text)
        for pattern in list(self._patterns):
            text = pattern.sub(MASK, text)
        return text

    def known_values(self) -> tuple[str, ...]:
        """The exact values being masked (for canary checks in tests; never print them)."""
        with self._lock:
            return tuple(sorted(self._values))

    def finds_secret(self, text: str) -> bool:
        """Whether `text` still holds anything this redactor would mask (for report checks)."""
        return self(text) != text


T = TypeVar("T")


def redact_fields(value: T, redact: Callable[[str], str]) -> T:
    """`value` with every string in it redacted: frozen dataclasses (rebuilt), tuples, lists, dict keys
    and values. Enum members (a verdict is a `str`) are kept as they are. What a writer calls before
    it encodes anything, so that no escaping (`\\n` in JSON, `&quot;` in HTML) hides a secret's shape."""
    result: Any
    if isinstance(value, enum.Enum):
        result = value
    elif isinstance(value, str):
        result = redact(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: redact_fields(getattr(value, f.name), redact)
                   for f in dataclasses.fields(value) if f.init}
        result = dataclasses.replace(value, **changes)
    elif isinstance(value, tuple):
        result = tuple(redact_fields(v, redact) for v in value)
    elif isinstance(value, list):
        result = [redact_fields(v, redact) for v in value]
    elif isinstance(value, dict):
        result = {redact_fields(k, redact): redact_fields(v, redact) for k, v in value.items()}
    else:
        result = value
    return result  # type: ignore[no-any-return]


# -- secrets a person spells out ----------------------------------------------------------------


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
