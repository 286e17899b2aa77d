"""The runbook corpus (issue 16): how well the parser and linter read runbooks written by other teams.

The figures come from tests/corpus/figures.py; run `python -m tests.corpus.figures --misses` to see
what each file misses. No Docker: this is the unit tier.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus.figures import CORPUS, REPOSITORY, Ratio, TruthError, corpus_figures, fence_lines, validate_corpus

PHASE_ACCURACY_MIN = 0.90
DESTRUCTIVE_RECALL_MIN = 0.95
DESTRUCTIVE_PRECISION_MIN = 0.95
PLACEHOLDER_RECALL_MIN = 0.90
PLACEHOLDER_PRECISION_MIN = 0.90
EXPECTATION_RECALL_MIN: float | None = None  # printed, no threshold yet
MIN_RUNBOOKS = 25


HOLDOUT = CORPUS.parent / "holdout"  # written later, blind to the reader, by someone who never saw its code
SEEDS = CORPUS.parent / "seeds"  # truths for the seed runbooks in ../shared (not in this repository)
SHARED_SEEDS = REPOSITORY.parent / "shared" / "seeds"
CORPORA = [
    pytest.param(CORPUS, id="corpus"),
    pytest.param(HOLDOUT, id="holdout"),
    pytest.param(SEEDS, id="seeds", marks=pytest.mark.skipif(
        not SHARED_SEEDS.is_dir(), reason=f"the seed runbooks are not beside this clone ({SHARED_SEEDS})")),
]


def test_truth_files_are_valid() -> None:
    """Every fence of every runbook has a [blocks] entry, every entry is a fence, every line is in the file."""
    truths = validate_corpus()  # raises TruthError naming each file:line
    assert len(truths) >= MIN_RUNBOOKS, f"the corpus has {len(truths)} runbooks, fewer than {MIN_RUNBOOKS}"
    assert len(validate_corpus(HOLDOUT)) >= 10


@pytest.mark.parametrize("corpus", CORPORA)
def test_corpus_figures_meet_thresholds(corpus: Path) -> None:
    _, total = corpus_figures(corpus)
    report = str(total)
    print("\n" + report)

    def below(name: str, ratio: Ratio, minimum: float | None) -> list[str]:
        value = ratio.value
        if minimum is None or value is None or value >= minimum:
            return []
        return [f"{name} {100 * value:.1f} % < {100 * minimum:.0f} %"]

    failures = [
        *below("phase accuracy", total.phase, PHASE_ACCURACY_MIN),
        *below("destructive recall", total.destructive_recall, DESTRUCTIVE_RECALL_MIN),
        *below("destructive precision", total.destructive_precision, DESTRUCTIVE_PRECISION_MIN),
        *below("placeholder recall", total.placeholder_recall, PLACEHOLDER_RECALL_MIN),
        *below("placeholder precision", total.placeholder_precision, PLACEHOLDER_PRECISION_MIN),
        *below("expectation recall", total.expectation_recall, EXPECTATION_RECALL_MIN),
        *(f"crashed on {error}" for error in total.errors),
    ]
    # A figure with nothing to measure (no truth line, or nothing found) is not a pass by default.
    for name, ratio in (("phase accuracy", total.phase), ("destructive recall", total.destructive_recall),
                        ("destructive precision", total.destructive_precision),
                        ("placeholder recall", total.placeholder_recall),
                        ("placeholder precision", total.placeholder_precision)):
        if ratio.value is None:
            failures.append(f"{name}: nothing to measure ({ratio})")
    assert not failures, "corpus figures below thresholds: " + "; ".join(failures) + "\n" + report


# The validator itself, on small corpora written here.

_RUNBOOK = """\
# Title

## Diagnosis

1. **Check it:**

   ```bash
   uptime
   ```

````markdown
```bash
not a fence of this file
```
````

~~~sh
df -h
~~~
"""


def _corpus(tmp_path: Path, truth: str, text: str = _RUNBOOK) -> Path:
    (tmp_path / "one.md").write_text(text)
    (tmp_path / "one.truth.toml").write_text(truth)
    return tmp_path


def test_validator_accepts_indented_nested_and_tilde_fences(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path, '[blocks]\n7 = "diagnose"\n11 = "shown"\n17 = "diagnose"\n'
                               "[lines]\nexpectations = [18]\n")
    (truth,) = validate_corpus(corpus)
    assert truth.blocks == {7: "diagnose", 11: "shown", 17: "diagnose"}
    assert truth.expectations == {18}


@pytest.mark.parametrize(("truth", "message"), [
    ('[blocks]\n7 = "diagnose"\n11 = "shown"\n', "one.md:17: fence has no [blocks] entry"),
    ('[blocks]\n7 = "diagnose"\n11 = "shown"\n12 = "shown"\n17 = "fix"\n', "one.md:12: [blocks] names a line"),
    ('[blocks]\n7 = "diagnose"\n11 = "shown"\n17 = "fix"\n99 = "fix"\n', "one.md:99: [blocks] names line 99, beyond"),
    ('[blocks]\n7 = "diagnose"\n11 = "shown"\n17 = "runnable"\n', "[blocks] 17 = 'runnable': not one of"),
    ('[blocks]\n7 = "diagnose"\n11 = "shown"\n17 = "fix"\n[lines]\ndestructive = [40]\n',
     "one.md:40: lines.destructive names line 40, beyond"),
    ('[blocks]\n7 = "diagnose"\n11 = "shown"\n17 = "fix"\n[lines]\nplaceholder = [3]\n',
     "unknown key lines.placeholder"),
])
def test_validator_names_file_and_line(tmp_path: Path, truth: str, message: str) -> None:
    corpus = _corpus(tmp_path, truth)
    with pytest.raises(TruthError) as caught:
        validate_corpus(corpus)
    assert any(message in problem for problem in caught.value.problems), caught.value.problems


def test_validator_reports_unclosed_fence_and_missing_truth(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path, '[blocks]\n3 = "fix"\n', text="# T\n\n```bash\nls\n")
    (tmp_path / "two.md").write_text("# Two\n")
    with pytest.raises(TruthError) as caught:
        validate_corpus(corpus)
    problems = "\n".join(caught.value.problems)
    assert "one.md:3: fence never closed" in problems
    assert "two.md:1: no truth file two.truth.toml" in problems


def test_fence_scan_ignores_inline_triple_backticks() -> None:
    assert fence_lines("text\n```x``` inline\n```\ncode\n```\n") == ([3], [])
