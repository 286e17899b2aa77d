"""How well the runbook parser and linter read runbooks written by other teams (issue 16).

The corpus is `tests/corpus/runbooks/NAME.md`, each with a ground truth `NAME.truth.toml` written by
reading the runbook as an on-call engineer would (see tests/corpus/README.md). This module scores
the project's public runbook API against it and knows nothing of how the parser works:

- phase accuracy: for every block the truth calls runnable (diagnose/fix/verify/manual/none), the
  parsed step whose opening fence is on that line is executable and has that phase (none: no phase);
- destructive recall and precision: lines of GD010 findings (every line a collapsed finding stands
  for) against the truth's `destructive` lines;
- placeholder recall and precision: lines of PLACEHOLDER_CODES findings against `placeholders`;
- expectation recall and precision: lines of every step's expectations against `expectations`.

`python -m tests.corpus.figures` prints a table (per file and totals); `--misses` lists, per file,
what was missed or found wrongly.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.runbook.lint import lint
from harness.runbook.parse import parse_runbook

CORPUS = Path(__file__).resolve().parent / "runbooks"
PLACEHOLDER_CODES = frozenset({"GD001", "GD002"})
DESTRUCTIVE_CODE = "GD010"
RUNNABLE_KINDS = frozenset({"diagnose", "fix", "verify", "manual", "none"})
BLOCK_KINDS = RUNNABLE_KINDS | {"shown"}
LINE_KEYS = ("destructive", "placeholders", "expectations")

# An opening fence, after optional indentation, blockquote markers and list markers (`- `, `1. `).
_OPEN = re.compile(r"^(?:[ \t]*(?:>|[-*+](?=[ \t])|\d{1,9}[.)](?=[ \t])))*[ \t]*(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_CONTAINER = re.compile(r"^(?:[ \t]*>)*[ \t]*")


class TruthError(Exception):
    """The corpus or a truth file is wrong; the message names every problem as file:line."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid corpus truth:\n  " + "\n  ".join(self.problems))


def fence_lines(text: str) -> tuple[list[int], list[int]]:
    """1-based lines of every opening fence, and of fences never closed (an independent scan)."""
    opened: list[int] = []
    unclosed: list[int] = []
    inside: tuple[str, int, int] | None = None  # fence char, length, opening line
    for number, line in enumerate(text.split("\n"), 1):
        if inside is not None:
            char, length, _ = inside
            rest = _CONTAINER.sub("", line, count=1).rstrip()
            if len(rest) >= length and rest == char * len(rest):
                inside = None
            continue
        match = _OPEN.match(line)
        if match is None:
            continue
        fence = match["fence"]
        if fence[0] == "`" and "`" in match["info"]:
            continue  # an inline code span such as ```x```, not a fence
        opened.append(number)
        inside = (fence[0], len(fence), number)
    if inside is not None:
        unclosed.append(inside[2])
    return opened, unclosed


@dataclass(frozen=True)
class Truth:
    path: Path  # the runbook
    blocks: dict[int, str]
    destructive: frozenset[int]
    placeholders: frozenset[int]
    expectations: frozenset[int]


def load_truth(runbook: Path, truth_path: Path | None = None) -> Truth:
    """The runbook's truth file, checked against the runbook; raises TruthError naming file:line."""
    truth_path = truth_path or runbook.with_suffix(".truth.toml")
    where = _display(truth_path)
    if not truth_path.is_file():
        raise TruthError([f"{_display(runbook)}:1: no truth file {truth_path.name}"])
    text = runbook.read_text(encoding="utf-8")
    line_count = len(text.splitlines())
    problems: list[str] = []
    try:
        data = tomllib.loads(truth_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TruthError([f"{where}: not TOML: {exc}"]) from None
    for key in sorted(set(data) - {"blocks", "lines"}):
        problems.append(f"{where}: unknown table [{key}]")
    raw_blocks = data.get("blocks", {})
    raw_lines = data.get("lines", {})
    if not isinstance(raw_blocks, dict) or not isinstance(raw_lines, dict):
        raise TruthError([f"{where}: [blocks] and [lines] must be tables"])

    blocks: dict[int, str] = {}
    for key, kind in raw_blocks.items():
        if not key.isdigit() or int(key) < 1:
            problems.append(f"{where}: [blocks] key {key!r} is not a line number")
            continue
        line = int(key)
        if kind not in BLOCK_KINDS:
            problems.append(f"{where}: [blocks] {line} = {kind!r}: not one of {', '.join(sorted(BLOCK_KINDS))}")
        if line > line_count:
            problems.append(f"{_display(runbook)}:{line}: [blocks] names line {line}, beyond the file "
                            f"({line_count} lines)")
        blocks[line] = kind

    fences, unclosed = fence_lines(text)
    for line in unclosed:
        problems.append(f"{_display(runbook)}:{line}: fence never closed")
    for line in fences:
        if line not in blocks:
            problems.append(f"{_display(runbook)}:{line}: fence has no [blocks] entry in {truth_path.name}")
    for line in sorted(set(blocks) - set(fences)):
        if line <= line_count:
            problems.append(f"{_display(runbook)}:{line}: [blocks] names a line that opens no fence")

    sets: dict[str, frozenset[int]] = {}
    for key in sorted(set(raw_lines) - set(LINE_KEYS)):
        problems.append(f"{where}: unknown key lines.{key}")
    for key in LINE_KEYS:
        values = raw_lines.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            problems.append(f"{where}: lines.{key} must be a list of line numbers")
            values = []
        for value in values:
            if not 1 <= value <= line_count:
                problems.append(f"{_display(runbook)}:{value}: lines.{key} names line {value}, beyond the file "
                                f"({line_count} lines)")
        if len(set(values)) != len(values):
            problems.append(f"{where}: lines.{key} lists a line twice")
        sets[key] = frozenset(values)
    if problems:
        raise TruthError(problems)
    return Truth(runbook, blocks, sets["destructive"], sets["placeholders"], sets["expectations"])


def runbooks(corpus: Path = CORPUS) -> list[Path]:
    return sorted(corpus.glob("*.md"))


REPOSITORY = Path(__file__).resolve().parents[2]
_SEED = re.compile(r"#\s*Seed:\s*(\S+)")


def seeded(corpus: Path) -> list[tuple[Path, Path]]:
    """Truth files of runbooks kept outside the repository (`# Seed: ../shared/seeds/X.md` on their
    first line, relative to the repository), with the runbook each describes."""
    pairs = []
    for truth in sorted(corpus.glob("*.truth.toml")):
        first = truth.read_text(encoding="utf-8").split("\n", 1)[0]
        if found := _SEED.match(first):
            pairs.append(((REPOSITORY / found.group(1)).resolve(), truth))
    return pairs


def validate_corpus(corpus: Path = CORPUS) -> list[Truth]:
    """Every runbook's truth; raises TruthError listing every problem of every file."""
    problems: list[str] = []
    truths: list[Truth] = []
    books = runbooks(corpus)
    elsewhere = seeded(corpus)
    if not books and not elsewhere:
        problems.append(f"{_display(corpus)}: no runbooks")
    for book, truth in [(b, None) for b in books] + [(b, t) for b, t in elsewhere if b.is_file()]:
        try:
            truths.append(load_truth(book, truth))
        except TruthError as exc:
            problems.extend(exc.problems)
    stems = {b.name.removesuffix(".md") for b in books} | {t.name.removesuffix(".truth.toml") for _, t in elsewhere}
    for orphan in sorted(corpus.glob("*.truth.toml")):
        if orphan.name.removesuffix(".truth.toml") not in stems:
            problems.append(f"{_display(orphan)}: truth file without a runbook")
    if problems:
        raise TruthError(problems)
    return truths


@dataclass(frozen=True)
class LineScore:
    """Truth lines against found lines, for one check."""

    truth: frozenset[int]
    found: frozenset[int]

    @property
    def hits(self) -> int:
        return len(self.truth & self.found)

    @property
    def missed(self) -> list[int]:
        return sorted(self.truth - self.found)

    @property
    def extra(self) -> list[int]:
        return sorted(self.found - self.truth)


@dataclass(frozen=True)
class BlockResult:
    line: int
    truth: str
    got: str  # "diagnose"/"fix"/"verify"/"manual"/"none" for an executable step, "not runnable", "no step"

    @property
    def right(self) -> bool:
        return self.truth == self.got


@dataclass(frozen=True)
class FileFigures:
    name: str
    blocks: tuple[BlockResult, ...]
    destructive: LineScore
    placeholders: LineScore
    expectations: LineScore
    error: str | None = None  # the parser or linter failed on this file

    @property
    def runnable(self) -> tuple[BlockResult, ...]:
        return tuple(b for b in self.blocks if b.truth in RUNNABLE_KINDS)

    @property
    def phase_right(self) -> int:
        return sum(b.right for b in self.runnable)

    @property
    def shown_made_runnable(self) -> tuple[BlockResult, ...]:
        return tuple(b for b in self.blocks if b.truth == "shown" and b.got in RUNNABLE_KINDS - {"none"})


def score_file(truth: Truth) -> FileFigures:
    """Parse and lint one runbook through the public API and compare with its truth."""
    name = truth.path.name
    try:
        runbook = parse_runbook(truth.path)
        findings = lint(runbook)
    except Exception as exc:  # the measure must report a crash as a result, not stop at it
        empty = frozenset[int]()
        blocks = tuple(BlockResult(line, kind, "no step") for line, kind in sorted(truth.blocks.items()))
        return FileFigures(name, blocks, LineScore(truth.destructive, empty), LineScore(truth.placeholders, empty),
                           LineScore(truth.expectations, empty), error=f"{type(exc).__name__}: {exc}")
    by_line = {}
    for step in reversed(runbook.steps()):  # the first step of a line wins
        by_line[step.location.line] = step
    results = []
    for line, kind in sorted(truth.blocks.items()):
        step = by_line.get(line)
        if step is None:
            got = "no step"
        elif not step.executable:
            got = "not runnable"
        else:
            got = "none" if step.phase is None else step.phase.value
        results.append(BlockResult(line, kind, got))
    # A finding that collapsed repeats of one cause in a section stands for all their lines.
    destructive = frozenset(line for f in findings if f.code == DESTRUCTIVE_CODE for line in f.lines)
    placeholders = frozenset(line for f in findings if f.code in PLACEHOLDER_CODES for line in f.lines)
    expectations = frozenset(e.location.line for step in runbook.steps() for e in step.expectations)
    return FileFigures(name, tuple(results), LineScore(truth.destructive, destructive),
                       LineScore(truth.placeholders, placeholders), LineScore(truth.expectations, expectations))


@dataclass(frozen=True)
class Ratio:
    part: int
    whole: int

    @property
    def value(self) -> float | None:
        return self.part / self.whole if self.whole else None

    def __str__(self) -> str:
        value = self.value
        return f"{'-' if value is None else f'{100 * value:.1f} %'} ({self.part}/{self.whole})"


@dataclass(frozen=True)
class Totals:
    files: int
    blocks: int
    runnable: int
    phase: Ratio
    shown_made_runnable: int
    shown: int
    destructive_recall: Ratio
    destructive_precision: Ratio
    placeholder_recall: Ratio
    placeholder_precision: Ratio
    expectation_recall: Ratio
    expectation_precision: Ratio
    destructive_lines: int
    placeholder_lines: int
    expectation_lines: int
    errors: tuple[str, ...] = field(default=())

    def lines(self) -> list[str]:
        return [
            f"corpus: {self.files} runbooks, {self.blocks} blocks ({self.runnable} runnable, {self.shown} shown), "
            f"{self.destructive_lines} destructive lines, {self.placeholder_lines} placeholder lines, "
            f"{self.expectation_lines} expectation lines",
            f"phase accuracy (runnable blocks):  {self.phase}",
            f"shown blocks made runnable:        {self.shown_made_runnable} of {self.shown}",
            f"destructive recall / precision:    {self.destructive_recall} / {self.destructive_precision}",
            f"placeholder recall / precision:    {self.placeholder_recall} / {self.placeholder_precision}",
            f"expectation recall / precision:    {self.expectation_recall} / {self.expectation_precision}",
            *(f"error: {e}" for e in self.errors),
        ]

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _recall(scores: Iterable[LineScore]) -> Ratio:
    scores = list(scores)
    return Ratio(sum(s.hits for s in scores), sum(len(s.truth) for s in scores))


def _precision(scores: Iterable[LineScore]) -> Ratio:
    scores = list(scores)
    return Ratio(sum(s.hits for s in scores), sum(len(s.found) for s in scores))


def totals(files: Sequence[FileFigures]) -> Totals:
    runnable = [b for f in files for b in f.runnable]
    shown = [b for f in files for b in f.blocks if b.truth == "shown"]
    return Totals(
        files=len(files),
        blocks=sum(len(f.blocks) for f in files),
        runnable=len(runnable),
        phase=Ratio(sum(b.right for b in runnable), len(runnable)),
        shown_made_runnable=sum(len(f.shown_made_runnable) for f in files),
        shown=len(shown),
        destructive_recall=_recall(f.destructive for f in files),
        destructive_precision=_precision(f.destructive for f in files),
        placeholder_recall=_recall(f.placeholders for f in files),
        placeholder_precision=_precision(f.placeholders for f in files),
        expectation_recall=_recall(f.expectations for f in files),
        expectation_precision=_precision(f.expectations for f in files),
        destructive_lines=sum(len(f.destructive.truth) for f in files),
        placeholder_lines=sum(len(f.placeholders.truth) for f in files),
        expectation_lines=sum(len(f.expectations.truth) for f in files),
        errors=tuple(f"{f.name}: {f.error}" for f in files if f.error),
    )


def corpus_figures(corpus: Path = CORPUS) -> tuple[list[FileFigures], Totals]:
    """Per-file figures and corpus totals; raises TruthError when the truth files are invalid."""
    files = [score_file(truth) for truth in validate_corpus(corpus)]
    return files, totals(files)


def table(files: Sequence[FileFigures], total: Totals) -> str:
    header = ("runbook", "phase", "shown>run", "destr hit/truth/found", "placeh hit/truth/found",
              "expect hit/truth/found")
    rows = [header]
    for f in files:
        rows.append((
            f.name.removesuffix(".md") + (" (ERROR)" if f.error else ""),
            f"{f.phase_right}/{len(f.runnable)}",
            str(len(f.shown_made_runnable)),
            *(f"{s.hits}/{len(s.truth)}/{len(s.found)}" for s in (f.destructive, f.placeholders, f.expectations)),
        ))
    rows.append((
        "TOTAL",
        f"{total.phase.part}/{total.phase.whole}",
        str(total.shown_made_runnable),
        *(f"{r.part}/{r.whole}/{p.whole}" for r, p in (
            (total.destructive_recall, total.destructive_precision),
            (total.placeholder_recall, total.placeholder_precision),
            (total.expectation_recall, total.expectation_precision))),
    ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    out = []
    for index, row in enumerate(rows):
        if index in (1, len(rows) - 1):
            out.append("  ".join("-" * w for w in widths))
        out.append("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths,
                                                                                                           strict=True))))
    return "\n".join(out)


def misses(files: Sequence[FileFigures]) -> str:
    out = []
    for f in files:
        lines = []
        if f.error:
            lines.append(f"  error: {f.error}")
        lines.extend(f"  block {b.line}: expected {b.truth}, got {b.got}" for b in f.blocks
                     if (b.truth in RUNNABLE_KINDS and not b.right) or b in f.shown_made_runnable)
        for label, score in (("destructive", f.destructive), ("placeholder", f.placeholders),
                             ("expectation", f.expectations)):
            if score.missed:
                lines.append(f"  {label} missed: {', '.join(map(str, score.missed))}")
            if score.extra:
                lines.append(f"  {label} extra:  {', '.join(map(str, score.extra))}")
        if lines:
            out.append(f"{f.name}:")
            out.extend(lines)
    return "\n".join(out) if out else "no misses"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.corpus.figures", description=__doc__.split("\n")[0])
    parser.add_argument("--misses", action="store_true", help="list, per file, the blocks and lines missed")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="the directory of runbooks and truth files")
    args = parser.parse_args(argv)
    try:
        files, total = corpus_figures(args.corpus)
    except TruthError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(table(files, total))
    print()
    print(total)
    if args.misses:
        print()
        print(misses(files))
    return 0


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
