"""The runbook's own times for a scenario: its newest drill in the gameday summaries on record.

Reads `REPORTS/*/summary.json` (harness.report.summary, schema_version 1) and takes the newest
drill of the scenario that recovered (else the newest with metrics at all). A summary that cannot
be read is skipped: a broken file must not spoil a debrief.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from harness.exercise_log import ReferenceTimes

log = logging.getLogger(__name__)

SUMMARY_GLOB = "*/summary.json"
MAX_SUMMARY_BYTES = 20_000_000


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _drills(path: Path) -> list[dict[str, Any]]:
    try:
        if path.stat().st_size > MAX_SUMMARY_BYTES:
            return []
        body = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("skipping %s: %s", path, exc)
        return []
    if not isinstance(body, dict) or body.get("schema_version") != 1 or not isinstance(body.get("drills"), list):
        return []
    return [d for d in body["drills"] if isinstance(d, dict)]


def reference_times(reports: Path, scenario: str) -> ReferenceTimes:
    """The newest recovered drill of `scenario` under `reports` (ReferenceTimes(found=False) when none)."""
    candidates: list[tuple[bool, str, Path, dict[str, Any]]] = []
    for summary in sorted(reports.glob(SUMMARY_GLOB)):
        for drill in _drills(summary):
            metrics = drill.get("metrics")
            if drill.get("scenario") != scenario or not isinstance(metrics, dict):
                continue
            recovered = metrics.get("recovered") is True and _number(metrics.get("time_to_recover")) is not None
            candidates.append((recovered, str(drill.get("started_at", "")), summary, drill))
    if not candidates:
        return ReferenceTimes(found=False)
    _, started, summary, drill = max(candidates, key=lambda c: (c[0], c[1]))
    metrics = drill["metrics"]
    return ReferenceTimes(
        found=True, source=str(summary), drill_started_at=started, verdict=str(drill.get("verdict", "")),
        time_to_detect=_number(metrics.get("time_to_detect")),
        time_to_diagnose=_number(metrics.get("time_to_diagnose")),
        time_to_recover=_number(metrics.get("time_to_recover")),
        time_to_recover_after_fix=_number(metrics.get("time_to_recover_after_fix")))
