"""A gameday: several drills, each on a fresh stack, into one journal.

A composition root: it loads stack definitions and runbooks, checks every input before any
container starts, builds images once per stack definition, and for each drill brings a stack
up, runs the drill and always tears the stack down.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from harness import __version__, interrupts, timing
from harness.drill import DrillResult, run_drill
from harness.errors import gameday_exit_code
from harness.journal import (
    DrillFinished,
    DrillTimed,
    Event,
    GamedayFinished,
    GamedayStarted,
    Journal,
    PhaseStarted,
    RunbookCovered,
)
from harness.plan import DrillPlan, build_plan, shown
from harness.redact import Redactor
from harness.scenarios import Scenario
from harness.stack.definition import StackDefinition, load_definition
from harness.stack.launch import Prepared, prepare
from harness.stack.stack import Stack
from harness.vocabulary import DrillPhase

log = logging.getLogger(__name__)
T = TypeVar("T")
Progress = Callable[[str], None]
BACKGROUND_JOIN_TIMEOUT = 120.0  # a stack start or removal gives up well before (health timeouts are 60 s)


def make_plans(scenarios: Sequence[Scenario],
               definitions: dict[Path, StackDefinition] | None = None) -> list[DrillPlan]:
    """Every scenario's drill plan: stack definitions, runbooks, sections, hosts and placeholders,
    all checked before anything starts (BadInput with file and line). `definitions` caches the
    stack definitions read, by path."""
    definitions = {} if definitions is None else definitions
    plans = []
    for scenario in scenarios:
        path = scenario.stack.resolve()
        if path not in definitions:
            definitions[path] = load_definition(path)
        plans.append(build_plan(scenario, definitions[path]))
    return plans


class _Background:
    """A stack being brought up (a spare for the next drill) or taken down, in a thread of its own."""

    def __init__(self, stack: Stack, action: Callable[[], object], what: str) -> None:
        self.stack = stack
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(action,), name=f"gameday-{what}-{stack.name}",
                                       daemon=True)
        self.thread.start()

    def _run(self, action: Callable[[], object]) -> None:
        try:
            action()
        except BaseException as exc:  # handed to whoever takes the stack
            self.error = exc

    def join(self, timeout: float | None = None) -> bool:
        self.thread.join(timeout)
        return not self.thread.is_alive()


@dataclass
class StackPool:
    """Fresh stacks for drills, made cheap to wait for.

    Definitions, a client and built images are made once per stack definition. A drill takes a
    fresh stack (`take`) and gives it back (`give_back`): it is taken down in the background. When
    the caller knows which scenario comes next, a spare stack for it is brought up in the
    background while the current drill runs, so the next drill does not wait for a stack start.
    Every drill still gets a stack nobody used before. `close()` waits for the background work
    and removes spares nobody took.
    """

    progress: Progress = log.info
    _prepared: dict[Path, Prepared] = field(default_factory=dict)
    _spares: dict[Path, _Background] = field(default_factory=dict)
    _downs: list[_Background] = field(default_factory=list)

    def prepare(self, scenario: Scenario) -> Prepared:
        """The scenario's stack definition, a client and its built images (made once per definition)."""
        path = scenario.stack.resolve()
        if path not in self._prepared:
            self._prepared[path] = prepare(path, progress=self.progress)
        return self._prepared[path]

    def stack_for(self, scenario: Scenario) -> Stack:
        """A new stack (not started) for the scenario's definition."""
        definition, client, images = self.prepare(scenario)
        return Stack(definition, images, client=client)

    def take(self, scenario: Scenario, *, ahead: Callable[[], Scenario | None] | None = None) -> Stack:
        """A fresh, healthy stack for `scenario`: the spare made for it, or one started now. Then
        `ahead()` says which scenario comes next, if any: a spare for it starts in the background."""
        path = scenario.stack.resolve()
        spare = self._spares.pop(path, None)
        if spare is not None:
            with timing.waiting(timing.STACK):
                spare.join()
            if spare.error is None:
                stack = spare.stack
            else:
                log.warning("the spare stack did not start (%s); starting another", spare.error)
                spare.stack.down()
                stack = self.stack_for(scenario).up()
        else:
            stack = self.stack_for(scenario).up()
        upcoming = ahead() if ahead is not None else None
        if upcoming is not None:
            self.make_spare(upcoming)
        return stack

    def make_spare(self, scenario: Scenario) -> None:
        path = scenario.stack.resolve()
        if path not in self._spares:
            spare = self.stack_for(scenario)
            self._spares[path] = _Background(spare, spare.up, "spare")

    def give_back(self, stack: Stack) -> None:
        """Take the stack down in the background (`settle` and `close` wait for it)."""
        self._downs = [d for d in self._downs if not d.join(0)]
        self._downs.append(_Background(stack, stack.down, "down"))

    def settle(self) -> None:
        """Wait until every stack given back is removed."""
        for work in self._downs:
            work.join(BACKGROUND_JOIN_TIMEOUT)

    def close(self) -> None:
        """Remove the spares and wait for every background start and removal. Shielded from
        Ctrl-C: a spare still starting is removed at once and again once its start gave up."""
        with interrupts.shielded():
            spares, self._spares = list(self._spares.values()), {}
            for spare in spares:
                spare.stack.down()
            for work in [*spares, *self._downs]:
                if not work.join(BACKGROUND_JOIN_TIMEOUT):
                    log.warning("%s still busy after %ss", work.thread.name, BACKGROUND_JOIN_TIMEOUT)
            for spare in spares:
                spare.stack.down()
            self._downs = []

    def __enter__(self) -> StackPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Claims(Generic[T]):
    """The drills of a gameday, taken in order, each by one taker only.

    Without a folder, one process takes them all. With a folder, several lanes (processes)
    share the list: a lane claims a drill by creating its claim file exclusively, so each
    drill runs once, and a lane that is free takes the next one nobody claimed.
    """

    def __init__(self, drills: Sequence[T], folder: Path | None = None) -> None:
        self.drills = list(drills)
        self.folder = folder
        self._next = 0
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    def next(self) -> T | None:
        while self._next < len(self.drills):
            number, drill = self._next, self.drills[self._next]
            self._next += 1
            if self.folder is None:
                return drill
            try:
                fd = os.open(self.folder / f"{number:04d}.claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                continue
            os.write(fd, f"{os.getpid()}\n".encode())  # who took it
            os.close(fd)
            return drill
        return None


class Gameday:
    """What the drills of one process share: their plans (every input checked before anything
    starts or is written), the redactor, the journal and the fresh-stack pool.

    `gameday run`, each lane of `gameday run --jobs N` and the pytest plugin run their drills
    through one of these; `with Gameday(...)` closes the pool (spares removed, removals waited for).
    """

    def __init__(self, journal: Path, scenarios: Sequence[Scenario] = (), *, progress: Progress = log.info,
                 listener: Callable[[Event], None] | None = None, pool: StackPool | None = None) -> None:
        self.redactor = Redactor()
        self._definitions: dict[Path, StackDefinition] = {}
        self.plans = self.plan(scenarios)  # before the journal's folder exists: bad input writes nothing
        self.journal = Journal(journal, self.redactor, listener=listener)
        self.pool = pool if pool is not None else StackPool(progress)
        self.progress = progress

    def plan(self, scenarios: Sequence[Scenario]) -> list[DrillPlan]:
        """The scenarios' drill plans (BadInput before anything starts); their stacks' token shapes
        join the redactor."""
        plans = make_plans(scenarios, self._definitions)
        for plan in plans:
            for pattern in plan.definition.redaction_patterns:
                self.redactor.add_pattern(pattern)
        return plans

    def write_coverage(self, plans: Sequence[DrillPlan] | None = None) -> None:
        """Journal which sections of each runbook the plans (by default the gameday's) reach (the
        reports show it)."""
        from harness.coverage import coverage_of

        for covered in coverage_of(self.plans if plans is None else plans):
            self.journal.write(RunbookCovered(shown(covered.runbook), covered.with_commands, covered.drilled))

    def drill(self, plan: DrillPlan, *, drill_id: str | None = None,
              ahead: Callable[[], Scenario | None] | None = None) -> DrillResult:
        """Take a fresh stack for one drill (then start a spare for what `ahead()` says comes next),
        run the drill, give the stack back (taken down in the background), and journal where the
        time went."""
        drill_id = drill_id or plan.scenario.key
        journal = self.journal
        with timing.ledger() as book:
            journal.write(PhaseStarted(drill_id, DrillPhase.STACK_UP, 0.0))
            stack = self.pool.take(plan.scenario, ahead=ahead)
            try:
                self.redactor.add(*stack.secrets.values())
                return run_drill(plan, stack, journal, self.redactor, drill_id=drill_id)
            finally:
                self.pool.give_back(stack)
                split = book.split()
                journal.write(DrillTimed(drill_id, split.wall, split.stack, split.runbook, split.overhead))

    def run(self, claims: Claims[DrillPlan]) -> list[DrillResult]:
        """Run the drills this process claims, one after the other, each on a fresh stack; the stack
        of the next one starts while the current one runs."""
        results = []
        upcoming: list[DrillPlan | None] = []

        def claim_next() -> Scenario | None:
            # Claimed once this drill has its stack, not before: a lane that starts a moment later
            # still finds work, and the spare has the whole drill to start.
            upcoming.append(claims.next())
            return upcoming[-1].scenario if upcoming[-1] is not None else None

        current = claims.next()
        while current is not None:
            self.progress(f"drill {current.scenario.key}: {current.scenario.title}")
            upcoming.clear()
            results.append(self.drill(current, ahead=claim_next))
            current = upcoming[-1] if upcoming else claims.next()
        return results

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> Gameday:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class GamedayResult:
    run_id: str
    journals: list[Path]  # the gameday's own journal first, then one per lane when drills ran in parallel
    scenarios: tuple[str, ...]
    finished: list[DrillFinished]  # one per drill that came to an end, in the order they ended
    seconds: float

    @property
    def journal(self) -> Path:
        return self.journals[0]

    @property
    def missing(self) -> list[str]:
        """Scenarios that never came to an end (a lane that failed before running them)."""
        done = {f.scenario for f in self.finished}
        return [s for s in self.scenarios if s not in done]

    @property
    def passed(self) -> bool:
        return not self.missing and all(f.verdict == "passed" for f in self.finished)

    @property
    def exit_code(self) -> int:
        return gameday_exit_code((f.verdict for f in self.finished), complete=not self.missing)


def run_gameday(scenarios: Sequence[Scenario], report_dir: Path, *, progress: Progress = log.info,
                on_event: Callable[[Event], None] | None = None) -> GamedayResult:
    """Run the scenarios one after the other, each on its own fresh stack (`harness.parallel`
    runs them on several stacks at once)."""
    run_id = secrets.token_hex(6)
    started = time.monotonic()
    with Gameday(report_dir / "journal.jsonl", scenarios, progress=progress, listener=on_event) as gameday:
        journal = gameday.journal
        journal.write(GamedayStarted(run_id, tuple(s.key for s in scenarios), __version__))
        gameday.write_coverage()
        try:
            gameday.run(Claims(gameday.plans))
        finally:
            finished = [e for e in journal.events if isinstance(e, DrillFinished)]
            journal.write(GamedayFinished(run_id, tuple((f.scenario, f.verdict) for f in finished),
                                          round(time.monotonic() - started, 3)))
    return GamedayResult(run_id, [journal.path], tuple(s.key for s in scenarios), finished,
                         time.monotonic() - started)
