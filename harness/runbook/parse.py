"""Parse a markdown runbook into sections, steps and manual actions (markdown-it-py, CommonMark).

Phases come from the document's own words: headings and bold labels such as `**Diagnosis**:`,
`**Check**:`, `**Fix**:`, `**Resolution**:`, `**Verification**:`; a label holds until the next
label or heading. Code blocks may carry attributes after the language
(```` ```bash {host=db phase=fix timeout=30s name=start-db} ````). Expectations are the comments
teams already write after a command (`# Expected: ...`, `# Expected if DB down:`). Anything the
parser cannot use is recorded as a Problem with its line; parsing itself never fails on content.
"""

from __future__ import annotations

import gc
import re
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from harness.durations import parse_duration
from harness.errors import BadInput
from harness.inputfile import NotARegularFile, read_regular
from harness.runbook.model import (
    Expectation,
    ExpectationKind,
    FrontMatter,
    LintLevel,
    Location,
    ManualStep,
    Phase,
    Problem,
    Runbook,
    Section,
    Segment,
    Step,
)
from harness.runbook.phases import NEUTRAL, NO_PHASE, Meaning, describes, is_phase_name, meaning, refine
from harness.runbook.shell import BlockKind, BlockReading, read_block

KNOWN_ATTRIBUTES = frozenset({"host", "phase", "timeout", "name", "skip", "within", "retry", "destructive"})
MAX_RUNBOOK_BYTES = 5_000_000
MAX_NESTING = 100  # markdown-it stops reading a document nested deeper than this (lists, quotes)
# Inline markup (links, emphasis, code spans) is parsed only where its text is used (headings, list
# items) and only up to this length: markdown-it's link and image rules are quadratic in a line of
# unclosed `[` or `![`, so a longer text is read with its markup characters stripped instead.
MAX_INLINE_CHARS = 2_000

# `**Fix**:`, `**Fix:**`, `**Check** (on the db server):`; group 4 is any text after the colon.
_LABEL = re.compile(r"^\*\*([^*\n]{1,60}?)(:?)\*\*(?:\s*\([^)\n]{0,80}\))?(:?)\s*(.*)$", re.DOTALL)
# `# Expected: ...` and `# Expected after the fix: ...` are healthy; `# Expected if|when|during ...:` fault time.
_EXPECTED = re.compile(r"^#\s*(?P<word>Expected(?:\s+(?:output|result|response|value)s?)?|"
                       r"Should\s+(?:see|show|return|print|output|contain|say|be)|Output|Returns?)\b\s*"
                       r"(?:(?P<cond>(?:if|when|during|on|with)\b[^:]*)|after\b[^:]*)?:\s?(?P<text>.*)$", re.IGNORECASE)
# Prose that states a command's output: `**Expected output:**` (its fence, or code spans after it),
# "You should see `PONG`." Only what is quoted as code counts: "you should see the pods come back" cannot be compared.
_PROSE_EXPECTATION = re.compile(r"\b(?:expected(?:\s+(?:output|result|response))?\s*:|"
                                r"(?:you\s+)?should\s+(?:see|get|return|print|show|output)\b|"
                                r"expect\s+to\s+see\b|(?:the\s+)?output\s+should\s+(?:be|contain|look\s+like)\b)",
                                re.IGNORECASE)
_LEAD_IN = re.compile(r"\*\*([^*\n]{1,80}?)\*\*")  # a bold phrase opening a paragraph or list item
_CODE_SPAN = re.compile(r"(`+)(?P<code>[^`\n]+?)\1")
_HEADING_NUMBER = re.compile(r"^\s*(?:\d+[a-z]?[.)]|[a-z][.)])\s+", re.IGNORECASE)
_FENCE_CLOSE = re.compile(r"^\s*(`{3,}|~{3,})\s*$")
_QUOTE_PREFIX = re.compile(r"^(?:\s*>)+")  # blockquote markers before a fence line
_MARKUP = re.compile(r"[*_`\[\]<>!&\\\n~]")  # characters inline markup (or an entity, a break) starts with
_RICH_MARKUP = re.compile(r"[_\[\]<>!&\\\n~]")  # all of them but `**bold**` and `code`

class RunbookReadError(BadInput):
    """The runbook cannot be read as text at all."""

    def __init__(self, path: Path | str, reason: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        super().__init__(f"{path}:{line}: {reason}" if line else f"{path}: {reason}")


def slugify(title: str) -> str:
    """GitHub's heading anchor: lowercase, punctuation and emoji dropped, spaces to hyphens."""
    text = title.strip().lower()
    kept = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")


def read_runbook(path: Path | str) -> str:
    path = Path(path)
    try:  # bounded, and only a regular file: /dev/zero must not eat the memory, nor a FIFO block forever
        data = read_regular(path, MAX_RUNBOOK_BYTES)
    except IsADirectoryError:
        raise RunbookReadError(path, "is a folder, not a markdown file") from None
    except NotARegularFile as exc:
        raise RunbookReadError(path, f"{exc.strerror}: give the path of a markdown file") from None
    except OSError as exc:
        raise RunbookReadError(path, f"cannot be read: {exc.strerror}") from None
    if len(data) > MAX_RUNBOOK_BYTES:
        raise RunbookReadError(path, f"is larger than {MAX_RUNBOOK_BYTES // 1_000_000} MB; not a runbook")
    if b"\x00" in data:
        raise RunbookReadError(path, "is binary (it holds NUL bytes), not markdown text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RunbookReadError(path, f"not UTF-8 text (byte {exc.start}); save it as UTF-8", line) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_runbook(path: Path | str, text: str | None = None) -> Runbook:
    """Parse a runbook file (or `text` standing for it). Raises only RunbookReadError."""
    source = read_runbook(path) if text is None else text.replace("\r\n", "\n").replace("\r", "\n")
    with collector_paused():
        return _Parser(str(path), source).run()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while a runbook is read: parsing allocates a token per line
    and nothing it makes is a cycle, yet each full collection walks every live object again (on a
    20,000-section runbook a third of the time went there). Restored on every exit."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class _SectionDraft:
    anchor: str
    title: str
    level: int
    line: int
    parent: str | None
    steps: list[Step] = field(default_factory=list)
    manual: list[ManualStep] = field(default_factory=list)


_FRONT_MATTER_USED = frozenset({"default_host", "default_timeout", "hosts", "variables"})
# What teams put in front matter for people and other tools: known, kept, not reported.
_FRONT_MATTER_METADATA = frozenset({
    "title", "owner", "owners", "service", "services", "tags", "description", "author", "authors", "version",
    "updated", "last_updated", "last-updated", "last_reviewed", "reviewed", "date", "team", "severity",
    "category", "categories", "status", "summary", "alert", "alerts", "labels", "links", "id", "name",
})


def _scalar(text: str) -> str:
    """A front-matter value as text: a trailing ` # comment` and surrounding quotes dropped."""
    text = text.strip()
    if text[:1] not in "\"'":
        text = re.sub(r"\s+#.*$", "", text)
    return text.strip().strip("\"'").strip()


@dataclass(frozen=True)
class _Scope:
    """What a heading or a label opened: it holds until a heading of `level` or higher (a label sits
    half a level below the heading it follows), with the phase under it. `topic`: under a heading
    that names no phase (Maintenance, Background), where an action's name starts no fix."""

    level: float
    phase: Phase | None
    label: bool = False
    topic: bool = False
    from_label: bool = False  # its phase is a label's, carried into this heading

@dataclass
class _Item:
    """An open list item: where it starts, the phase inside it, its first paragraph, whether it holds
    runnable code (then its text introduced the code and is not a manual step)."""

    line: int
    phase: Phase | None
    text: Token | None = None
    code: bool = False
    describing: bool = False


class _Parser:
    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.lines = text.split("\n")
        self.problems: list[Problem] = []
        self.front_matter, body = self._front_matter(text)
        self.body = body
        self.sections: list[_SectionDraft] = [_SectionDraft("", "(preamble)", 0, 1, None)]
        self.cursor = self.sections[0]
        self.open_sections: list[_SectionDraft] = []  # the current heading's ancestors, levels increasing
        self.anchor_counts: dict[str, int] = {}
        self.used_anchors: set[str] = set()
        self.scopes: list[_Scope] = []  # open headings and labels, outermost first
        self.headings_seen = 0
        self.describing = False  # under **Symptoms**: list items describe the fault; they are no checklist
        self.items: list[_Item] = []  # open list items, outermost first
        self.last_step: Step | None = None  # the section's latest runnable block (prose expectations attach to it)
        self.last_fence: Step | None = None  # the section's latest block of any kind
        self.pending_prose: list[Expectation] = []  # stated before any block of the section: for the next one
        self.pending_output: tuple[int, str] | None = None  # `**Expected output:**`: line, form; the next fence
        # Text after a label (`**Fix**: users must log in again.`) is a manual step, unless the
        # label's own code block follows: then it was the block's introduction.
        self.pending_manual: ManualStep | None = None

    def at(self, line: int) -> Location:
        return Location(self.path, line)

    def problem(self, code: str, message: str, line: int, severity: LintLevel = LintLevel.WARNING) -> None:
        self.problems.append(Problem(code, message, self.at(line), severity))

    # -- front matter -------------------------------------------------------------------------

    def _front_matter(self, text: str) -> tuple[FrontMatter, str]:
        """A leading `---` block of YAML (the subset front matter uses: `key: value`, `key: [a, b]`,
        block lists and maps under a key); blanked out (not removed) to keep lines. One pass."""
        if not text.startswith("---\n"):
            return FrontMatter(), text
        end = next((n for n in range(1, len(self.lines)) if self.lines[n].rstrip() in ("---", "...")), None)
        if end is None:
            self.problem("GD042", "front matter opened with --- is never closed; it is read as markdown", 1)
            return FrontMatter(), text
        keys: dict[str, tuple[int, str, list[str]]] = {}  # key -> line, inline value, block items
        under: str | None = None  # the top-level key whose block the indented lines belong to
        for number in range(1, end):
            raw = self.lines[number]
            stripped = raw.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if (raw[0] not in " \t" or under is None) and not stripped.startswith("-"):
                key, sep, value = stripped.partition(":")
                key = key.strip().strip("\"'")
                if not sep or not key:
                    self.problem("GD042", f"front matter line is not `key: value`: {stripped[:80]!r}", number + 1)
                    under = None
                    continue
                keys[key] = (number + 1, _scalar(value), [])
                under = key
            elif under is not None:  # `- item` of a block list, or `name: ...` of a block map: its name
                item = stripped[1:] if stripped.startswith("-") else stripped.partition(":")[0]
                if _scalar(item):
                    keys[under][2].append(_scalar(item))
            else:
                self.problem("GD042", f"front matter line belongs to no key: {stripped[:80]!r}", number + 1)
        unknown = [f"{key} (line {line})" for key, (line, _, _) in keys.items()
                   if key not in _FRONT_MATTER_USED and key not in _FRONT_MATTER_METADATA]
        if unknown:
            self.problem("GD030", f"front matter keys the harness does not use: {', '.join(unknown[:10])}"
                         + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
                         + f" (it reads {', '.join(sorted(_FRONT_MATTER_USED))})",
                         keys[next(iter(k for k in keys if k not in _FRONT_MATTER_USED
                                        and k not in _FRONT_MATTER_METADATA))][0], LintLevel.INFO)
        timeout = None
        if "default_timeout" in keys:
            line, value, _ = keys["default_timeout"]
            try:
                timeout = parse_duration(value)
            except ValueError as exc:
                self.problem("GD031", f"default_timeout: {exc}", line)

        def listing(key: str) -> tuple[str, ...]:
            _, value, items = keys.get(key, (0, "", []))
            inline = value.strip("[]")
            return (*(_scalar(i) for i in inline.split(",") if _scalar(i)), *items)

        matter = FrontMatter(
            default_host=keys["default_host"][1] or None if "default_host" in keys else None,
            default_timeout=timeout,
            hosts=listing("hosts"),
            variables=listing("variables"),
        )
        body = "\n" * (end + 1) + "\n".join(self.lines[end + 1:])
        return matter, body

    # -- walking the markdown -----------------------------------------------------------------

    def run(self) -> Runbook:
        tokens = _BLOCKS.parse(self.body)
        self._check_read_to_the_end(tokens)
        index = 0
        while index < len(tokens):
            token = tokens[index]
            if token.type == "heading_open":
                inline = tokens[index + 1]
                self._heading(token, inline)
                index += 3
                continue
            if token.type == "list_item_open":
                self._flush_pending()
                self.items.append(_Item(_line(token), self.phase, describing=self.describing))
            elif token.type == "list_item_close":
                self._close_item(self.items.pop())
            elif token.type == "inline" and tokens[index - 1].type == "paragraph_open":
                self._paragraph(token)
            elif token.type == "fence":
                step = self._fence(token)
                if step is not None and step.executable and step.phase is not None:
                    self.pending_manual = None
                    for item in self.items:
                        item.code = True
            elif token.type == "code_block":
                self.problem("GD060", "indented code block: not executed (use a ``` fence with a language)",
                             _line(token), LintLevel.INFO)
            index += 1
        self._flush_pending()
        return Runbook(
            path=self.path,
            sections=tuple(self._freeze(d) for d in self.sections if d.anchor or d.steps or d.manual),
            front_matter=self.front_matter,
            problems=tuple(sorted(self.problems, key=lambda p: p.location.line)),
            line_count=len(self.lines),
        )

    @property
    def phase(self) -> Phase | None:
        """The phase here: the innermost list item's, else the innermost label's or heading's."""
        if self.items:
            return self.items[-1].phase
        return self.scopes[-1].phase if self.scopes else None

    @property
    def scope_phase(self) -> Phase | None:
        """The phase a label refines: the headings' around it, under any label. A phase a heading only
        carries from a label above it (`**Diagnosis:**` then `### 1a.`) is not one: the next label
        replaces it, as labels replace each other."""
        scopes = [scope for scope in self.scopes if not scope.label]
        return scopes[-1].phase if scopes and not scopes[-1].from_label else None

    def _close_item(self, item: _Item) -> None:
        """A list item with text, no runnable code and a phase is a manual step of that phase."""
        if item.text is None or item.code or item.phase is None or item.describing:
            return
        text = _plain(item.text)
        if text:
            self.current.manual.append(ManualStep(self.current.anchor, text, self.at(item.line), item.phase))

    def _check_read_to_the_end(self, tokens: list[Token]) -> None:
        """markdown-it silently drops the rest of a document nested too deeply: say so."""
        deepest = max(tokens, key=lambda t: t.level, default=None)
        if deepest is not None and deepest.level >= MAX_NESTING - 2 and deepest.map:
            # markdown-it gave up there: what follows was not parsed. (Lines it read but made no
            # token of, such as link reference definitions, are not a sign of that.)
            self.problem("GD044", f"nesting deeper than {MAX_NESTING} levels: nothing from this line on was read "
                         "(flatten the lists or quotes above)", deepest.map[0] + 1, LintLevel.ERROR)

    @property
    def current(self) -> _SectionDraft:
        """The section that what is read now belongs to."""
        return self.cursor

    def _freeze(self, draft: _SectionDraft) -> Section:
        return Section(draft.anchor, draft.title, draft.level, self.at(draft.line), draft.parent,
                       tuple(draft.steps), tuple(draft.manual))

    def _flush_pending(self) -> None:
        if self.pending_manual is not None:
            self.current.manual.append(self.pending_manual)
            self.pending_manual = None

    def _heading(self, token: Token, inline: Token) -> None:
        """A heading scopes what follows until a heading of its level or higher; within that, its
        phase (if it names one) refines the phase around it. A label's phase ends here."""
        self._flush_pending()
        level = int(token.tag[1:])
        title = _plain(inline)
        # Close what this heading ends: deeper headings, and labels at its level or deeper. A label
        # above it (`**Solutions:**` before `### Too many connections`) holds in it.
        while self.scopes and self.scopes[-1].level >= level:
            self.scopes.pop()
        title_of_document = level == 1 and not self.headings_seen
        self.headings_seen += 1
        meant: Meaning = NEUTRAL if title_of_document else meaning(title)
        around = self.scopes[-1] if self.scopes else _Scope(0, None)
        if around.topic and isinstance(meant, Phase) and not is_phase_name(title):
            meant = NEUTRAL  # "Rotate admin tokens" under Maintenance is a procedure, not an incident's fix
        self.scopes.append(_Scope(level, refine(around.phase, meant), topic=meant is NO_PHASE or (
            meant is NEUTRAL and around.topic), from_label=meant is NEUTRAL and (around.label or around.from_label)))
        self.describing = describes(title)
        self.last_step, self.last_fence, self.pending_prose, self.pending_output = None, None, [], None
        base = slugify(title)
        anchor, count = base, self.anchor_counts.get(base, 0)
        while anchor in self.used_anchors:  # GitHub: -1, -2 ... never colliding with a real heading
            count += 1
            anchor = f"{base}-{count}"
        self.anchor_counts[base] = count
        self.used_anchors.add(anchor)
        # `### Diagnosis` under a section is a label, not a new section; `### 2a. Check lag` is a section.
        is_label = not _HEADING_NUMBER.match(title) and len(title.split()) <= 3
        # The nearest earlier heading of a lower level: a stack, not a scan back (linear in headings).
        while self.open_sections and self.open_sections[-1].level >= level:
            self.open_sections.pop()
        if is_phase_name(title) and is_label and level > 1 and self.open_sections:
            # `## Verification` after `### 3. Rebuild the replica`: a part of the section that holds
            # them both (the document's), not of the last subsection.
            self.cursor = self.open_sections[-1]
            return
        parent = self.open_sections[-1].anchor if self.open_sections else None
        draft = _SectionDraft(anchor, title, level, _line(token), parent)
        self.sections.append(draft)
        self.open_sections.append(draft)
        self.cursor = draft

    def _paragraph(self, inline: Token) -> None:
        """A label (`**Fix:**`, `**🚀 Quick Fix:**`, a short line ending in a colon) sets the phase of
        what follows: outside lists until the next label or heading, in a list item for that item."""
        item = self.items[-1] if self.items else None
        if item is not None and item.text is None:
            item.text = inline
        content = inline.content.strip()
        if self._prose_expectation(content, _line(inline)):
            if item is not None:
                item.code = True  # its text stated an output: not a checklist item
            return
        match = _LABEL.match(content)
        if match and (match.group(2) or match.group(3)):
            label, rest = match.group(1), match.group(4).strip()
        elif content.endswith(":") and "\n" not in content and len(content.split()) <= 8:
            label, rest = content[:-1], ""
        elif (lead := _LEAD_IN.match(content)) and (item is not None or lead.group(1).endswith((".", "?", "!"))):
            # `1. **Identify the hung mount** — run df with a timeout`, `**b) Trim old blocks.** Blocks ...`
            label, rest = lead.group(1).rstrip(".?! "), ""
        else:
            return
        meant = meaning(_strip_markup(label))
        if item is not None:
            item.phase = refine(item.phase, meant)
            return
        self._flush_pending()
        if meant is not NEUTRAL:
            self.describing = describes(label)
        phase = self.phase if meant is NEUTRAL else refine(self.scope_phase, meant)
        if self.scopes and self.scopes[-1].label:
            self.scopes.pop()  # the next label replaces the last one
        heading = self.scopes[-1].level if self.scopes else 0
        self.scopes.append(_Scope(heading + 0.5, phase, label=True))  # until a heading of its level or higher
        if (match and rest and phase is not None and not rest.endswith(":") and meant is not NEUTRAL
                and not self.describing):
            self.pending_manual = ManualStep(self.current.anchor, _strip_markup(rest), self.at(_line(inline)),
                                             phase)

    def _fence(self, token: Token) -> Step | None:
        line = _line(token)
        self._check_closed(token, line)
        if self.pending_output is not None:  # the output an `**Expected output:**` label announced
            at, form = self.pending_output
            self.pending_output = None
            text = token.content.strip()
            if text and not self._attach(Expectation(ExpectationKind.HEALTHY, text, self.at(at), None,
                                                     f"{form} and the block after it")):
                self.problem("GD041", "expected output before any command in this section: nothing to compare it "
                             "with", at, LintLevel.INFO)
            return None
        language, attributes = self._info(token.info, line)
        section = self.current
        reading = read_block(language, token.content)
        executable = reading.executable  # shell commands, or a pasted session's prompt lines
        attrs = dict(attributes)
        phase = self.phase
        if "phase" in attrs:
            try:
                phase = Phase(attrs["phase"].lower())
            except ValueError:
                self.problem("GD031", f"phase={attrs['phase']!r} is not one of diagnose, fix, verify, manual", line)
        timeout = self._duration(attrs, "timeout", line)
        within = self._duration(attrs, "within", line)
        retry = self._duration(attrs, "retry", line)
        if not executable and attributes:
            self.problem("GD031", f"attributes on a {language or 'plain'} block, which is never executed", line)
        code = token.content if reading.kind is not BlockKind.SESSION else _session_code(reading, token.content)
        segments = self._segments(code, line + 1) if executable else ()
        step = Step(
            section=section.anchor,
            index=len(section.steps) + 1,
            language=language,
            code=code,
            segments=segments,
            location=self.at(line),
            phase=phase,
            host=attrs.get("host") or self.front_matter.default_host,
            name=attrs.get("name"),
            timeout=timeout or self.front_matter.default_timeout,
            within=within,
            retry_interval=retry,
            skip=attrs.get("skip"),
            destructive_ok=attrs.get("destructive"),
            executable=executable,
            attributes=attributes,
            text=token.content,
            reading=reading,
        )
        section.steps.append(step)
        self.last_fence = step
        if step.segments:
            self.last_step = step
            for expectation in self.pending_prose:
                self._attach(expectation)
            self.pending_prose = []
        return step

    def _attach(self, expectation: Expectation) -> bool:
        """Add a prose expectation to the last commands of the section's latest runnable block."""
        step = self.last_step
        if step is None or not step.segments:
            return False
        *before, last = step.segments
        segments = (*before, replace(last, expectations=(*last.expectations, expectation)))
        updated = replace(step, segments=segments)
        self.current.steps[step.index - 1] = updated
        if self.last_fence is step:
            self.last_fence = updated
        self.last_step = updated
        return True

    def _prose_expectation(self, content: str, line: int) -> bool:
        """`**Expected output:**` (then a fence), "You should see `PONG`.": an expectation of the block
        before (or, when nothing ran yet in this section, of the next one). True when `content` was one."""
        found = _PROSE_EXPECTATION.search(content)
        if found is None or found.start() > 200:
            return False
        at = line + content.count("\n", 0, found.start())
        words = _strip_markup(content[found.start():found.end()]).strip().rstrip(":")
        form = f"the label {words!r}" if content.startswith(("**", "__")) else f"the sentence {words!r}"
        spans = [m.group("code").strip() for m in _CODE_SPAN.finditer(content, found.end())]
        spans = [span for span in spans if span]
        if not spans:
            if _strip_markup(content).endswith(":"):
                self.pending_output = (at, form)  # the next fence is the output it shows
                return True
            return False
        for span in spans:
            expectation = Expectation(ExpectationKind.HEALTHY, span, self.at(at), None, form)
            if self.last_fence is None:  # stated before any block of the section: for the next one
                self.pending_prose.append(expectation)
            elif self.last_fence is self.last_step:  # after a runnable block: its expected output
                self._attach(expectation)
        return True

    def _check_closed(self, token: Token, line: int) -> None:
        if token.map is None:
            return
        last = token.map[1] - 1
        closing = _QUOTE_PREFIX.sub("", self.lines[last]) if last < len(self.lines) else ""
        match = _FENCE_CLOSE.match(closing)
        fence = match.group(1) if match else ""
        if last == token.map[0] or not fence or fence[0] != token.markup[0] or len(fence) < len(token.markup):
            body_end = len(self.lines) - (1 if self.lines and self.lines[-1] == "" else 0)
            if token.map[1] >= body_end:
                what = "everything to the end of the file is read as code"
            else:  # markdown-it ends it with the list item or quote it sits in
                what = (f"it ends where its list item or quote ends, so lines {line + 1}-{token.map[1]} are read "
                        "as code and the text that follows leaves the list")
            self.problem("GD040", f"code fence is never closed: {what}; close it with {token.markup}", line,
                         LintLevel.ERROR)

    def _info(self, info: str, line: int) -> tuple[str, tuple[tuple[str, str], ...]]:
        info = info.strip()
        language, _, rest = info.partition(" ")
        if language.startswith("{"):
            language, rest = "", info
        language = language.lower()
        rest = rest.strip()
        if not rest:
            return language, ()
        if not (rest.startswith("{") and rest.endswith("}")):
            self.problem("GD031", f"text after the language is not an attribute list {{key=value ...}}: {rest!r}",
                         line, LintLevel.INFO)
            return language, ()
        try:
            words = shlex.split(rest[1:-1])
        except ValueError as exc:
            self.problem("GD031", f"attribute list cannot be read ({exc}): {rest}", line)
            return language, ()
        attributes: list[tuple[str, str]] = []
        for word in words:
            key, sep, value = word.partition("=")
            key = key.strip().lower()
            if key not in KNOWN_ATTRIBUTES:
                self.problem("GD030", f"unknown attribute {key!r} (known: {', '.join(sorted(KNOWN_ATTRIBUTES))})",
                             line)
                continue
            if not sep and key != "skip":
                self.problem("GD031", f"attribute {key!r} needs a value ({key}=...)", line)
                continue
            attributes.append((key, value if sep else "skipped"))
        return language, tuple(attributes)

    def _duration(self, attrs: dict[str, str], key: str, line: int) -> float | None:
        if key not in attrs:
            return None
        try:
            return parse_duration(attrs[key])
        except ValueError as exc:
            self.problem("GD031", f"{key}: {exc}", line)
            return None

    def _segments(self, code: str, first_line: int) -> tuple[Segment, ...]:
        """Split a block into commands and the expectation comments that follow them.

        An expectation belongs to the commands above it. Several expectations in a row (even with
        blank or comment lines between them) belong to the same commands; the next command line
        starts a new segment.
        """
        lines = code.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        segments: list[Segment] = []
        current: list[str] = []  # code of the open segment
        start = first_line
        expectations: list[Expectation] = []
        trailing: list[str] = []  # blank/comment lines after the open segment's expectations
        i = 0
        while i < len(lines):
            match = _EXPECTED.match(lines[i].strip())
            if not match:
                if expectations and _has_command(lines[i]):
                    segments.append(Segment("\n".join(current), start, tuple(expectations)))
                    current, expectations, start = [*trailing], [], first_line + i - len(trailing)
                    trailing = []
                (trailing if expectations else current).append(lines[i])
                i += 1
                continue
            number = first_line + i
            word = match.group("word")
            inferred = "" if word.lower().startswith("expected") else f"a `# {word}:` comment"
            condition = (match.group("cond") or "").strip() or None
            text_lines = [match.group("text").strip()] if match.group("text").strip() else []
            j = i + 1
            # Continuation: `# ` lines, when the expectation text is empty or is JSON left open.
            depth = _JsonDepth()
            if not text_lines or depth.feed(text_lines[0]):
                json_open = bool(text_lines)
                while j < len(lines):
                    nxt = lines[j].strip()
                    if not nxt.startswith("#") or nxt == "#" or _EXPECTED.match(nxt):
                        break
                    text_lines.append(nxt[1:].strip())
                    j += 1
                    if json_open and not depth.feed(" " + text_lines[-1]):
                        break
            i = j
            kind = ExpectationKind.FAULT if condition else ExpectationKind.HEALTHY
            if not text_lines:
                self.problem("GD041", "`# Expected` with no text after it or on the next `# ` lines", number)
                continue
            expectation = Expectation(kind, "\n".join(text_lines), self.at(number), condition, inferred)
            if expectations:
                current.extend(trailing)
                trailing = []
                expectations.append(expectation)
            elif _has_command("\n".join(current)):
                expectations.append(expectation)
            elif segments:  # only blank or comment lines since the last segment: same commands
                last = segments.pop()
                segments.append(Segment(last.code, last.line, (*last.expectations, expectation)))
            else:
                self.problem("GD041", "expectation before any command: nothing to compare it with", number)
        if current or expectations:
            segments.append(Segment("\n".join(current), start, tuple(expectations)))
        return tuple(s for s in segments if _has_command(s.code) or s.expectations)


def _session_code(reading: BlockReading, text: str) -> str:
    """A pasted terminal session as the script it stands for, line for line: each prompt line's
    command (prompt removed), its `# Expected` comments, and blank lines where output was."""
    lines = text.split("\n")
    out = ["" for _ in lines]
    for command in reading.commands:
        for offset, source in enumerate(command.source or (command.text,)):
            if command.line + offset < len(out):
                out[command.line + offset] = source
    for number, line in enumerate(lines):
        if _EXPECTED.match(line.strip()):
            out[number] = line.strip()
    return "\n".join(out)


class _JsonDepth:
    """How deep into JSON brackets the text fed so far is, fed a line at a time (linear in the text:
    an open expectation continued over thousands of `# ` lines is read once, not once per line)."""

    def __init__(self) -> None:
        self.depth, self.in_string, self.escaped, self.started = 0, False, False, False

    def feed(self, text: str) -> bool:
        """Whether, after `text`, a JSON object or list is open (never true unless the first text
        fed starts with `[` or `{`)."""
        if not self.started:
            text = text.strip()
            if not text or text[0] not in "[{":
                return False
            self.started = True
        for ch in text:
            if self.in_string:
                if self.escaped:
                    self.escaped = False
                elif ch == "\\":
                    self.escaped = True
                elif ch == '"':
                    self.in_string = False
                continue
            if ch == '"':
                self.in_string = True
            elif ch in "[{":
                self.depth += 1
            elif ch in "]}":
                self.depth -= 1
        return self.depth > 0


def _has_command(code: str) -> bool:
    return any(line.strip() and not line.strip().startswith("#") for line in code.split("\n"))


def _line(token: Token) -> int:
    return token.map[0] + 1 if token.map else 0


def _strip_markup(text: str) -> str:
    return re.sub(r"[*_`]", "", text).strip()


def _plain(inline: Token) -> str:
    """The text of an inline token without markup (code spans keep their text)."""
    content = inline.content
    if not _MARKUP.search(content):
        return content.strip()  # plain words: nothing to parse
    if not _RICH_MARKUP.search(content) and "``" not in content and "*" not in content.replace("**", ""):
        # Only `**bold**` and `code`, as in most labels and list items: their text without the marks
        # (parsing inline markup costs a hundred times more, once per list item of a long list).
        return content.replace("**", "").replace("`", "").strip()
    if len(content) > MAX_INLINE_CHARS:
        return _strip_markup(content)
    parsed = _INLINE.parseInline(content)
    children = parsed[0].children if parsed and parsed[0].children else []
    text = "".join(
        child.content if child.type in ("text", "code_inline") else " " if child.type.endswith("break") else ""
        for child in children
    )
    return text.strip() or _strip_markup(content)


# Block structure only (headings, paragraphs, lists, fences): inline text is parsed on demand by _plain.
_BLOCKS = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING}).disable("inline")
_INLINE = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING})
