"""The runbook's own times for a scenario: its newest drill in the gameday journals on record.

Reads `REPORTS/*/journal*.jsonl` (harness.journal), newest first, and takes the newest drill of the
scenario that recovered (else the newest that measured anything at all). A journal that cannot be
read is skipped: a broken file must not spoil a debrief.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from harness.exercise_log import ReferenceTimes
from harness.journal import DrillFinished, DrillStarted, JournalError, Metrics, read_journal

log = logging.getLogger(__name__)

JOURNAL_GLOB = "*/journal*.jsonl"  # every gameday folder's journal(s), lanes and pytest workers included


@dataclass(frozen=True)
class _Drill:
    source: Path
    started: DrillStarted
    finished: DrillFinished
    metrics: Metrics

    @property
    def recovered(self) -> bool:
        return self.metrics.recovered and self.metrics.time_to_recover is not None


def _journals(reports: Path) -> list[Path]:
    """The journals under `reports`, newest first."""
    found = []
    for path in reports.glob(JOURNAL_GLOB):
        try:
            found.append((path.stat().st_mtime, path))
        except OSError:
            continue
    return [path for _, path in sorted(found, key=lambda mp: (mp[0], str(mp[1])), reverse=True)]


def _drills(journal: Path, scenario_id: str) -> list[_Drill]:
    try:
        events = read_journal(journal)
    except JournalError as exc:
        log.warning("skipping %s", exc)
        return []
    starts = {e.drill: e for e in events if isinstance(e, DrillStarted)
              and e.scenario in (scenario_id, scenario_id.rsplit("/", 1)[-1])}  # older journals: bare names
    return [_Drill(journal, starts[e.drill], e, e.metrics) for e in events
            if isinstance(e, DrillFinished) and e.drill in starts and e.metrics is not None]


def reference_times(reports: Path, scenario_id: str) -> ReferenceTimes:
    """The newest recovered drill of the scenario under `reports` (ReferenceTimes(found=False) when none)."""
    drills = [d for journal in _journals(reports) for d in _drills(journal, scenario_id)]
    if not drills:
        return ReferenceTimes(found=False)
    best = max(drills, key=lambda d: (d.recovered, d.started.at))  # the first of equals: the newest journal
    m = best.metrics
    return ReferenceTimes(
        found=True, source=str(best.source), drill_started_at=best.started.at, verdict=best.finished.verdict,
        time_to_detect=m.time_to_detect, time_to_diagnose=m.time_to_diagnose, time_to_recover=m.time_to_recover,
        time_to_recover_after_fix=m.time_to_recover_after_fix)
