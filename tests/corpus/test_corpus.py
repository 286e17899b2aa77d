"""The runbook corpus (issue 16): how well the parser and linter read runbooks written by other teams.

The figures come from tests/corpus/figures.py; run `python -m tests.corpus.figures --misses` to see
what each file misses. No Docker: this is the unit tier.
"""

from __future__ import annotations

from tests.corpus.figures import Ratio, corpus_figures, validate_corpus

PHASE_ACCURACY_MIN = 0.90
DESTRUCTIVE_RECALL_MIN = 0.95
DESTRUCTIVE_PRECISION_MIN = 0.95
PLACEHOLDER_RECALL_MIN = 0.90
PLACEHOLDER_PRECISION_MIN = 0.90
EXPECTATION_RECALL_MIN: float | None = None  # printed, no threshold yet
MIN_RUNBOOKS = 25


def test_truth_files_are_valid() -> None:
    """Every fence of every runbook has a [blocks] entry, every entry is a fence, every line is in the file."""
    truths = validate_corpus()  # raises TruthError naming each file:line
    assert len(truths) >= MIN_RUNBOOKS, f"the corpus has {len(truths)} runbooks, fewer than {MIN_RUNBOOKS}"


def test_corpus_figures_meet_thresholds() -> None:
    _, total = corpus_figures()
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
