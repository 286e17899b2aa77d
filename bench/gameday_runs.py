"""One full gameday as the user runs it (`gameday run`, a subprocess under `/usr/bin/time`), with
the memory of its stacks sampled meanwhile, and each drill's time split read from its journal.

The split comes from the `DrillTimed` journal event (seconds of the drill's wall time spent waiting
on the stack, in the runbook's own commands, and the rest: the harness's overhead). A harness that
does not write it yet gives the drill's wall time from the journal's timestamps and no split.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import docker
from container_memory import MemorySampler, StackPeaks, children
from soak import GAMEDAY_TIMEOUT, STOP_TIMEOUT

import harness.journal as journal_module
from harness.journal import DrillFinished, GamedayStarted, PhaseStarted, read_journal

ROOT = Path(__file__).resolve().parents[1]
GAMEDAY = Path(sys.executable).with_name("gameday")
TIME = "/usr/bin/time"
TIME_FORMAT = "%e %M"  # wall seconds, peak resident set of the process in KiB
LOG_TAIL_LINES = 60


@dataclass(frozen=True)
class DrillSplit:
    """A drill's wall time; stack, runbook and overhead are None when the journal has no DrillTimed."""

    drill: str
    wall: float
    stack: float | None = None
    runbook: float | None = None
    overhead: float | None = None


@dataclass
class GamedayRun:
    argv: list[str]
    exit_code: int | None = None
    wall: float | None = None  # from /usr/bin/time
    harness_peak_mb: float | None = None  # the largest harness process's peak RSS, from /usr/bin/time
    stacks: StackPeaks = field(default_factory=StackPeaks)
    scenarios: set[str] = field(default_factory=set)  # what the gameday set out to drill
    verdicts: dict[str, str] = field(default_factory=dict)
    drills: list[DrillSplit] = field(default_factory=list)
    log_tail: str = ""

    @property
    def completed(self) -> bool:
        """The gameday ran to its end: exit 0 (or 1 for findings) and a verdict for every scenario
        (a crash exits 1 too)."""
        return self.exit_code in (0, 1) and bool(self.scenarios) and self.scenarios <= set(self.verdicts)

    def outcome(self) -> str:
        """"5/5 passed", or what went wrong (with the last line of its output)."""
        passed = sum(v == "passed" for v in self.verdicts.values())
        failed = [f"{d}={v}" for d, v in sorted(self.verdicts.items()) if v != "passed"]
        text = f"{passed}/{len(self.verdicts)} passed"
        if failed:
            text += f" ({', '.join(failed)})"
        if self.completed:
            return text
        last = self.log_tail.strip().splitlines()[-1:] or ["no output"]
        return f"exit {self.exit_code}, {text}, not counted; last output: {last[0][:160]}"


def gameday_has_option(option: str) -> bool:
    """Whether this harness's `gameday run` takes `option` (e.g. --jobs, being added)."""
    result = subprocess.run([str(GAMEDAY), "run", "--help"], capture_output=True, text=True, check=False, cwd=ROOT)
    return option in result.stdout


def _stop(process: subprocess.Popen[bytes]) -> None:
    """After a timeout: SIGTERM the gameday (below /usr/bin/time: it rolls back and removes its
    stack), SIGKILL if it does not end."""
    for pid in children(process.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_gameday(extra: list[str], folder: Path, client: docker.DockerClient) -> GamedayRun:
    """`gameday run EXTRA --report FOLDER` under /usr/bin/time, its stacks' memory sampled meanwhile."""
    folder.mkdir(parents=True, exist_ok=True)
    earlier = set(folder.glob("gameday-*"))  # history seeded by the caller: not this run's
    timing = folder / "time.txt"
    argv = [str(GAMEDAY), "run", *extra, "--report", str(folder)]
    run = GamedayRun(argv)
    with (folder / "gameday.log").open("wb") as log:
        process = subprocess.Popen([TIME, "-o", str(timing), "-f", TIME_FORMAT, *argv], cwd=ROOT,
                                   stdout=log, stderr=subprocess.STDOUT)
        with MemorySampler(client, process.pid) as sampler:
            try:
                process.wait(timeout=GAMEDAY_TIMEOUT)
            except subprocess.TimeoutExpired:
                _stop(process)
            except KeyboardInterrupt:  # the gameday got the Ctrl-C too: let it roll back
                try:
                    process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                raise
    run.exit_code = process.returncode
    run.stacks = sampler.peaks
    lines = [line for line in timing.read_text().splitlines() if line.strip()] if timing.exists() else []
    if lines:  # "Command exited with non-zero status 1" may come first
        wall, peak_kib = lines[-1].split()
        run.wall, run.harness_peak_mb = float(wall), int(peak_kib) / 1024
    for journal in sorted(j for j in folder.glob("gameday-*/journal*.jsonl") if j.parent not in earlier):
        facts = read_facts(journal)
        run.scenarios.update(facts.scenarios)
        run.verdicts.update(facts.verdicts)
        run.drills.extend(facts.drills())
    run.log_tail = "\n".join((folder / "gameday.log").read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:])
    return run


@dataclass
class JournalFacts:
    """What one journal says about each drill: its DrillTimed split, when its stack-up began, its
    verdict and when it was given."""

    timed: dict[str, DrillSplit] = field(default_factory=dict)
    stack_up: dict[str, str] = field(default_factory=dict)
    finished: dict[str, str] = field(default_factory=dict)
    verdicts: dict[str, str] = field(default_factory=dict)  # scenario -> verdict
    scenarios: set[str] = field(default_factory=set)  # from GamedayStarted

    def drills(self) -> list[DrillSplit]:
        """Each finished drill's DrillTimed split; without one, its wall time from the stack-up
        mark to the verdict (the journal's timestamps) and no split."""
        splits = []
        for drill, at in self.finished.items():
            if drill in self.timed:
                splits.append(self.timed[drill])
            elif drill in self.stack_up:
                seconds = (datetime.fromisoformat(at) - datetime.fromisoformat(self.stack_up[drill])).total_seconds()
                splits.append(DrillSplit(drill, seconds))
        return splits


def read_facts(journal: Path) -> JournalFacts:
    """Typed events when this harness knows DrillTimed; else the raw JSON lines."""
    facts = JournalFacts()
    timed_class: Any = getattr(journal_module, "DrillTimed", None)
    if timed_class is not None:
        for event in read_journal(journal):
            if isinstance(event, timed_class):
                facts.timed[event.drill] = DrillSplit(event.drill, event.wall, event.stack, event.runbook,
                                                      event.overhead)
            elif isinstance(event, PhaseStarted) and event.phase == "stack-up":
                facts.stack_up[event.drill] = event.at
            elif isinstance(event, DrillFinished):
                facts.finished[event.drill] = event.at
                facts.verdicts[event.scenario] = event.verdict
            elif isinstance(event, GamedayStarted):
                facts.scenarios.update(event.scenarios)
        return facts
    for line in journal.read_text().splitlines():
        body = json.loads(line)
        kind = body.get("type")
        if kind == "DrillTimed":
            facts.timed[body["drill"]] = DrillSplit(body["drill"], float(body["wall"]), float(body["stack"]),
                                                    float(body["runbook"]), float(body["overhead"]))
        elif kind == "PhaseStarted" and body.get("phase") == "stack-up":
            facts.stack_up[body["drill"]] = body["at"]
        elif kind == "DrillFinished":
            facts.finished[body["drill"]] = body["at"]
            facts.verdicts[body["scenario"]] = body["verdict"]
        elif kind == "GamedayStarted":
            facts.scenarios.update(body["scenarios"])
    return facts
