"""A gameday on several stacks at once: `gameday run --jobs N`.

Each lane is a `gameday run` process of its own (hidden `--lane` mode) that claims the next
scenario nobody took (`harness.gameday.Claims`), runs its drill on a fresh stack exactly as a
sequential gameday does, and writes its own journal beside the gameday's. Processes, not
threads: every lane keeps the tested Ctrl-C behaviour of a single run (roll back first, then
remove the stack), and nothing is shared but the claim folder.

The parent checks every input and builds the images before any lane starts, writes the
gameday's own journal (started, finished, verdicts), relays the lanes' events for live
progress, and forwards each SIGINT/SIGTERM it receives to the lanes one for one (the lanes run
in sessions of their own, so a terminal's Ctrl-C reaches them through the parent exactly once).
A lane whose parent dies is sent SIGTERM by the kernel.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType

from harness import __version__, interrupts
from harness.errors import (
    EXIT_FINDINGS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    GamedayError,
    InfrastructureError,
    gameday_exit_code,
)
from harness.gameday import Claims, Gameday, GamedayResult, Progress
from harness.journal import (
    DrillFinished,
    Event,
    GamedayFinished,
    GamedayStarted,
    decode,
    read_journal,
)
from harness.scenarios import Scenario

log = logging.getLogger(__name__)

WATCH_INTERVAL = 0.2  # how often the parent relays the lanes' new journal lines
LOG_TAIL_CHARS = 2_000
MAX_JOBS = 8
HISTORY_GAMEDAYS = 5  # the newest gamedays whose drill times order the lanes' work


def lane_journal(folder: Path, number: int) -> Path:
    return folder / f"journal-lane-{number}.jsonl"


def lane_command(number: int, scenarios: Sequence[Scenario], modules: str, folder: Path) -> list[str]:
    """A lane's `gameday run`: the same modules (`discover`: under $GAMEDAY_ROOT or the same
    current folder), the gameday's scenarios by key (`--only`)."""
    return [sys.executable, "-m", "harness.cli", "run", "--scenarios", modules,
            "--only", ",".join(s.key for s in scenarios), "--lane", str(number), "--report", str(folder)]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Lane:
    """One lane process and the unread part of its journal."""

    def __init__(self, number: int, command: list[str], folder: Path) -> None:
        self.number = number
        self.journal = lane_journal(folder, number)
        self.log_path = folder / f"lane-{number}.log"
        self._offset = 0
        with self.log_path.open("wb") as log_file:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file,
                                            start_new_session=True, preexec_fn=_die_with_parent)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def signal(self, signum: int) -> None:
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signum)

    def new_events(self) -> Iterator[Event]:
        """Events appended since the last call (whole lines only: a lane may be writing one)."""
        if not self.journal.exists():
            return
        with self.journal.open("rb") as handle:
            handle.seek(self._offset)
            data = handle.read()
        end = data.rfind(b"\n") + 1
        self._offset += end
        for line in data[:end].splitlines():
            if line.strip():
                yield decode(json.loads(line))

    def log_tail(self) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
        return text[-LOG_TAIL_CHARS:].strip()


def longest_first(scenarios: Sequence[Scenario], history: Path) -> list[Scenario]:
    """The order lanes claim drills in: longest first, by how long each last took in the newest
    gamedays under `history`, so that the lanes finish at about the same time. Scenarios with no
    record go first, in their given order (they may be the long ones). Drills are known by key;
    a journal from before systems (a bare name, `db-down`) still counts for that name."""
    took: dict[str, float] = {}
    folders = sorted((p for p in history.glob("gameday-*") if p.is_dir()), key=lambda p: p.name, reverse=True)
    for folder in folders[:HISTORY_GAMEDAYS]:
        for journal in sorted(folder.glob("journal*.jsonl")):
            try:
                events = read_journal(journal)
            except GamedayError:
                continue  # a broken old journal only costs the ordering
            for event in events:
                if isinstance(event, DrillFinished) and event.verdict == "passed":
                    took.setdefault(event.scenario, event.t)
    return sorted(scenarios, key=lambda s: -took.get(s.key, took.get(s.name, float("inf"))))


def run_parallel(scenarios: Sequence[Scenario], report_dir: Path, jobs: int, *, modules: str,
                 progress: Progress = log.info, on_event: Callable[[Event], None] | None = None) -> GamedayResult:
    """Run the scenarios on `jobs` stacks at once, each drill on a fresh stack, in lane processes."""
    scenarios = longest_first(scenarios, report_dir.parent)
    gameday = Gameday(report_dir / "journal.jsonl", scenarios, progress=progress, listener=on_event)
    for plan in gameday.plans:
        gameday.pool.prepare(plan.scenario)  # images once, before the lanes look for them
    journal = gameday.journal
    run_id = secrets.token_hex(6)
    started = time.monotonic()
    journal.write(GamedayStarted(run_id, tuple(s.key for s in scenarios), __version__))
    gameday.write_coverage()
    lanes: list[Lane] = []
    finished: list[DrillFinished] = []

    def relay() -> None:
        for lane in lanes:
            for event in lane.new_events():
                if isinstance(event, DrillFinished):
                    finished.append(event)
                if on_event is not None:
                    on_event(event)

    def forward(signum: int, frame: FrameType | None) -> None:
        for lane in lanes:
            lane.signal(signum)
        interrupts.on_signal(signum, frame)

    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for signum in previous:
        signal.signal(signum, forward)
    interrupted = False
    try:
        for number in range(1, min(jobs, len(scenarios)) + 1):
            lanes.append(Lane(number, lane_command(number, scenarios, modules, report_dir), report_dir))
        progress(f"{len(lanes)} lanes, each drill on a fresh stack (lane logs: {report_dir}/lane-N.log)")
        while any(lane.running for lane in lanes):
            try:
                relay()
                next(lane for lane in lanes if lane.running).process.wait(WATCH_INTERVAL)
            except subprocess.TimeoutExpired:
                continue
            except KeyboardInterrupt:
                interrupted = True  # forwarded already: the lanes roll back, remove their stacks and exit
        relay()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        with interrupts.shielded():
            for lane in lanes:  # only if the parent itself failed: never leave a lane behind
                if lane.running:
                    lane.signal(signal.SIGTERM)
                    lane.process.wait()
            journal.write(GamedayFinished(run_id, tuple((f.scenario, f.verdict) for f in finished),
                                          round(time.monotonic() - started, 3)))
    for lane in lanes:
        if lane.process.returncode not in (EXIT_OK, EXIT_FINDINGS, EXIT_INTERRUPTED, -signal.SIGINT, -signal.SIGTERM):
            progress(f"lane {lane.number} exited {lane.process.returncode}:\n{lane.log_tail()}")
    gameday.close()
    if interrupted:
        raise KeyboardInterrupt("interrupted; the lanes rolled back and removed their stacks")
    result = GamedayResult(run_id, [journal.path, *(lane.journal for lane in lanes if lane.journal.exists())],
                           tuple(s.key for s in scenarios), finished, time.monotonic() - started)
    if not finished and result.missing:
        raise InfrastructureError(f"no lane ran a drill; see {report_dir}/lane-1.log:\n{lanes[0].log_tail()}")
    return result


def run_lane(scenarios: Sequence[Scenario], report_dir: Path, number: int) -> int:
    """The body of one lane process: claim and run drills until none is left; the exit code says
    whether they all passed, some did not, or the harness failed (harness.errors.gameday_exit_code)."""
    with Gameday(lane_journal(report_dir, number), scenarios,
                 progress=lambda message: print(message, file=sys.stderr, flush=True)) as gameday:
        results = gameday.run(Claims(gameday.plans, report_dir / "claims"))
    return gameday_exit_code(r.verdict for r in results)
