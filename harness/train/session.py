"""The exercise controller behind `gameday train`: break a fresh stack, page, watch, always roll back.

The same lifecycle as a drill (harness.drill), over the same drill plan and observers, with a
person doing the diagnosis and the fix:

1. a fresh stack comes up; every host gets the trainee shell's rc file;
2. the observers start and must see a healthy stack; the fault goes in (the scenario's fixture);
3. once the symptom shows, the page goes out (symptoms only) and the exercise is announced
   (`active.json`) so that `gameday shell|hint|giveup` in other terminals find it;
4. the controller polls the hosts' shell histories, hints taken, a give-up, steady state and the
   time limit (counted from the page);
5. on recovery, give-up, time limit, Ctrl-C/SIGTERM or an error it ALWAYS rolls the fault back,
   takes the stack down and writes the debrief.

Each phase returns a small frozen record the next one takes; what the trainee does is collected
by `Terminals`, and everything goes to the exercise log, the debrief's only input.
"""

from __future__ import annotations

import contextlib
import logging
import shlex
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from harness import interrupts
from harness.clock import SYSTEM_CLOCK, Clock
from harness.errors import ExecError, GamedayError
from harness.exercise_log import (
    ExerciseFinished,
    ExerciseLog,
    ExerciseStarted,
    HintTaken,
    PageSent,
    TraineeCommand,
)
from harness.faults.base import FaultRecord, listening
from harness.gameday import StackPool
from harness.journal import FaultRecorded, Series
from harness.observe.observers import Observers
from harness.observe.samples import ProbeSample
from harness.plan import DrillPlan, shown
from harness.redact import Redactor, secret_assignment_patterns, secret_values
from harness.report.debrief import write_debrief
from harness.runbook.commands import PlanStep, Typed, match_plan
from harness.runbook.model import Phase
from harness.scenarios import DrillContext, fault_in, fault_out
from harness.stack.stack import Stack
from harness.train import state
from harness.train.exercise import Exercise
from harness.train.hints import Hint, build_hints
from harness.train.page import forbidden_words, observe, page_text
from harness.train.reference import reference_times
from harness.train.shell_history import HistoryTracker, install_script, read_script
from harness.vocabulary import Mark, Outcome, Priority

log = logging.getLogger(__name__)

POLL = 0.25  # how often the controller looks at hints, give-up and steady state
HISTORY_POLL = 1.0  # how often it reads the hosts' shell histories
DETECT_AT_LEAST = 10.0  # the symptom gets at least this long to show before the page goes out anyway
PAGE_EVIDENCE_FAILURES = 3  # failed probes (and a synthetic request) before paging, so the page has something ...
PAGE_EVIDENCE_WAIT = 3.0  # ... to say; waiting at most this long for them after the first failure
CHECKS_INTERVAL = 5.0  # the scenario's own conditions run at most this often (they may be costly)
EXEC_TIMEOUT = 10.0
OBSERVE_MARGIN = 300.0  # the observers outlive the time limit by this much (detection, rollback)
SERIES_BUCKET = 1.0


@dataclass(frozen=True)
class TrainResult:
    outcome: Outcome
    session: Path
    debrief_html: Path | None = None
    debrief_md: Path | None = None

    @property
    def recovered(self) -> bool:
        return self.outcome is Outcome.RECOVERED


def plan_steps(plan: DrillPlan) -> tuple[PlanStep, ...]:
    """The plan's steps as the exercise log records them (paths as the trainee would type them)."""
    return tuple(PlanStep(p.phase, p.ref, p.host, p.step.section,
                          f"{shown(p.step.location.path)}:{p.step.location.line}", p.step.code) for p in plan.steps)


@dataclass(frozen=True)
class Desk:
    """What the exercise runs on, once it is set up: the stack, its session folder and log."""

    stack: Stack
    session: Path
    log: ExerciseLog
    redactor: Redactor
    observers: Observers
    ctx: DrillContext


@dataclass(frozen=True)
class Paged:
    t0: float  # the inject (clock reading)
    t0_wall: float  # ... and the same moment in epoch seconds (bash's history stamps)
    symptom: float | None  # when the observers first saw the fault
    at: float  # when the page went out
    text: str


@dataclass(frozen=True)
class Ended:
    outcome: Outcome
    at: float
    recovered: float | None = None


@dataclass
class Terminals:
    """What the trainee did, collected while the exercise runs: commands typed on each host (from
    the shell histories) and hints taken."""

    desk: Desk
    paged: Paged
    hints: list[Hint]
    say: Callable[[str], None]
    history: HistoryTracker = field(default_factory=HistoryTracker)
    typed: list[Typed] = field(default_factory=list)
    hints_taken: int = 0

    def poll_history(self) -> None:
        """Journal the commands typed since the last poll, on every host."""
        stack, fresh = self.desk.stack, []
        for spec in stack.definition.services:
            try:
                result = stack.host(spec.name).exec(read_script(), timeout=EXEC_TIMEOUT)
            except (ExecError, GamedayError) as exc:  # the container is restarting: next time
                log.debug("history of %s: %s", spec.name, exc)
                continue
            fresh += [(spec.name, entry) for entry in self.history.update(spec.name, result.stdout)]
        if not fresh:
            return
        self.harvest_secrets()
        for host, entry in sorted(fresh, key=lambda he: he[1].at or 0.0):
            epoch = entry.at if entry.at is not None else time.time()
            written = self.desk.log.write(TraineeCommand(
                host, entry.command, round(epoch - self.paged.t0_wall, 3),
                datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")))
            assert isinstance(written, TraineeCommand)
            self.typed.append(Typed(written.host, written.command, written.t))
            self.say(f"  [{written.t:+6.0f} s] {host}$ {' '.join(written.command.splitlines())[:200]}")

    def harvest_secrets(self) -> None:
        """Values of secret-looking settings in the stack's files (a trainee may have written a new
        key there) join the redactor before any command that may spell them out is journaled."""
        stack = self.desk.stack
        names = [s.name for s in stack.definition.secrets]
        for spec in stack.definition.services:
            for file in spec.files:
                try:
                    result = stack.host(spec.name).exec(f"cat {shlex.quote(file.path)} 2>/dev/null",
                                                        timeout=EXEC_TIMEOUT)
                except (ExecError, GamedayError):
                    continue
                self.desk.redactor.add(*secret_values(result.stdout, names))

    def poll_hints(self) -> None:
        taken = state.taken(self.desk.session)
        for entry in taken[self.hints_taken:]:
            number = int(entry["number"])
            if not 1 <= number <= len(self.hints):
                continue
            hint = self.hints[number - 1]
            t = float(entry.get("epoch", time.time())) - self.paged.t0_wall
            self.desk.log.write(HintTaken(number, len(self.hints), hint.phase, hint.step, hint.text, round(t, 3)))
            self.say(f"  [{t:+6.0f} s] hint {number} of {len(self.hints)} taken")
        self.hints_taken = len(taken)

    def collect(self) -> None:
        """The last commands and hints before the rollback changes anything."""
        try:
            self.poll_history()
            self.poll_hints()
        except Exception as exc:  # the debrief goes out with what was collected
            log.warning("could not collect the last commands: %s", exc)


class Trainer:
    """Runs one onboarding exercise; `run()` returns when it is over (or re-raises what ended it)."""

    def __init__(self, exercise: Exercise, plan: DrillPlan, reports: Path, *,
                 say: Callable[[str], None] = print, progress: Callable[[str], None] = log.info,
                 command_suffix: str = "", clock: Clock = SYSTEM_CLOCK) -> None:
        self.exercise, self.plan, self.scenario, self.reports = exercise, plan, plan.scenario, reports
        self.say, self.progress, self.suffix, self.clock = say, progress, command_suffix, clock
        self.steps = plan_steps(plan)
        self.hints = build_hints(exercise, self.steps)
        self.forbidden = forbidden_words(self.scenario.name, self.scenario.title, self.scenario.section,
                                         plan.section_titles, [p.step.code for p in plan.fixes])

    # -- the exercise --------------------------------------------------------------------------

    def run(self) -> TrainResult:
        stack = StackPool(self.progress).stack_for(self.scenario)
        secret_names = sorted({s.name for s in stack.definition.secrets})
        redactor = Redactor(secrets=stack.secrets.values(),
                            patterns=[*stack.definition.redaction_patterns, *secret_assignment_patterns(secret_names)])
        outcome, message, desk, paged, ended = Outcome.HARNESS_ERROR, "", None, None, None
        try:
            self.progress("bringing a fresh stack up")
            stack.up()
            desk = self.set_up(stack, redactor)
            with listening(self.fault_recorder(desk)), desk.observers:
                desk.observers.wait_until_warm()
                t0, t0_wall, fixture = self.inject(desk, secret_names)
                terminals = None
                try:
                    paged = self.page(desk, t0, t0_wall, self.detect(desk, t0))
                    terminals = Terminals(desk, paged, self.hints, self.say)
                    self.announce(desk, paged)
                    ended = self.watch(desk, paged, terminals)
                    outcome = ended.outcome
                finally:
                    ended = ended or Ended(outcome, self.clock.now())
                    try:
                        with interrupts.shielded():  # an interrupt meanwhile is raised after it ...
                            if terminals is not None:
                                terminals.collect()
                    finally:  # ... and never skips the rollback
                        self.progress("rolling the fault back")
                        fault_out(fixture)
        except GamedayError as exc:
            outcome, message = Outcome.HARNESS_ERROR, str(exc)
            raise
        except BaseException:  # Ctrl-C, SIGTERM: roll back (done above), record, then go
            outcome = Outcome.INTERRUPTED
            raise
        finally:
            with interrupts.shielded():
                result = self.finish(stack, desk, paged, ended, outcome, message)
        return result

    def set_up(self, stack: Stack, redactor: Redactor) -> Desk:
        """The session folder and log, the trainee shell on every host, the observers (bounded)."""
        session = state.new_session(self.reports)
        exercise_log = ExerciseLog(session / state.LOG_NAME, redactor)
        for spec in stack.definition.services:
            result = stack.host(spec.name).exec(install_script(), timeout=EXEC_TIMEOUT)
            if not result.ok:
                raise GamedayError(f"{spec.name}: cannot prepare the trainee shell (exit {result.exit_code}: "
                                   f"{(result.stdout + result.stderr).strip()[:200]})")
        span = self.exercise.time_limit + self.scenario.detect_within + OBSERVE_MARGIN
        observers = Observers.watching(self.scenario.observation, stack, self.clock, span=span)
        return Desk(stack, session, exercise_log, redactor, observers,
                    DrillContext(self.scenario, stack, redactor, self.clock))

    def fault_recorder(self, desk: Desk) -> Callable[[FaultRecord], None]:
        def record(fault: FaultRecord) -> None:
            desk.log.write(FaultRecorded(self.exercise.name, fault.fault, fault.action, fault.detail,
                                         round(fault.at - desk.observers.started, 3)))
        return record

    def inject(self, desk: Desk, secret_names: list[str]) -> tuple[float, float, Iterator[None]]:
        """Log the exercise's start and put the fault in (proven): (t0, t0 in epoch seconds, fixture)."""
        self.progress("the exercise starts")
        t0, t0_wall, s, stack = self.clock.now(), time.time(), self.scenario, desk.stack
        desk.log.write(ExerciseStarted(
            exercise=self.exercise.name, scenario=s.key, title=s.title, runbook=shown(s.runbook), section=s.section,
            section_title=self.plan.section.title, severity=Priority(s.severity), stack=stack.definition.name,
            stack_name=stack.name, hosts=tuple(spec.name for spec in stack.definition.services),
            fix_hosts=self.plan.fix_hosts, time_limit=self.exercise.time_limit, hints_total=len(self.hints),
            plan=self.steps, manual=tuple((m.section, m.text, m.location.line) for m in self.plan.manual),
            inject_offset=round(t0 - desk.observers.started, 3),
            redaction_patterns=(*stack.definition.redaction_patterns, *secret_assignment_patterns(secret_names))))
        return t0, t0_wall, fault_in(self.scenario, desk.ctx)

    def detect(self, desk: Desk, t0: float) -> float | None:
        """Wait for the symptom (bounded), then a little longer for evidence the page can cite."""
        observers = desk.observers
        symptom = observers.wait_for_symptom(t0, t0 + max(self.scenario.detect_within, DETECT_AT_LEAST))
        if symptom is not None:
            def evidence(samples: list[ProbeSample]) -> bool:
                failed = sum(1 for s in samples if s.t >= t0 and not s.ok)
                return failed >= PAGE_EVIDENCE_FAILURES and (
                    not observers.users or any(r.t >= t0 for r in observers.requests()))

            observers.probe.wait_until(evidence, timeout=max(0.0, symptom + PAGE_EVIDENCE_WAIT - self.clock.now()))
        return symptom

    def page(self, desk: Desk, t0: float, t0_wall: float, symptom: float | None) -> Paged:
        """Write the page to the session and the log (it is shown once the exercise is announced)."""
        stack, now, observers = desk.stack, self.clock.now(), desk.observers
        endpoints = {}
        for spec in stack.definition.services:
            for port in spec.ports:
                with contextlib.suppress(GamedayError):
                    endpoints[stack.endpoint(spec.name, port)] = f"{spec.name}:{port}"
        wall = datetime.now(UTC)
        since = None if symptom is None else datetime.fromtimestamp(wall.timestamp() - (now - symptom), UTC)
        text = desk.redactor(page_text(
            stack=stack.definition.name, stack_name=stack.name, hosts=[s.name for s in stack.definition.services],
            severity=self.scenario.severity, symptoms=observe(observers.probes(), observers.requests(), t0, endpoints),
            since=since, now=wall, probe_interval=self.scenario.observation.probe_interval,
            users=len(observers.users), note=self.exercise.page, time_limit=self.exercise.time_limit,
            forbidden=self.forbidden, command_suffix=self.suffix))
        (desk.session / state.PAGE_NAME).write_text(text, encoding="utf-8")
        desk.log.write(PageSent(text, round(now - t0, 3), None if symptom is None else round(symptom - t0, 3)))
        return Paged(t0, t0_wall, symptom, now, text)

    def announce(self, desk: Desk, paged: Paged) -> None:
        """Tell the other terminals where the exercise is, then show the page (only now: `gameday
        shell` finds the exercise as soon as the page is read)."""
        stack = desk.stack
        state.save_hints(desk.session, self.hints)
        state.announce(self.reports, desk.session, stack.name,
                       {s.name: str(stack.container(s.name).id) for s in stack.definition.services},
                       self.exercise.time_limit)
        self.say(paged.text)
        self.say(f"(watching: the exercise ends when steady state is back, on `gameday giveup{self.suffix}`, on "
                 f"Ctrl-C, or after {self.exercise.time_limit:g} s)")

    def watch(self, desk: Desk, paged: Paged, terminals: Terminals) -> Ended:
        """Poll until recovery, give-up or the time limit."""
        deadline, last_history, steady = paged.at + self.exercise.time_limit, -HISTORY_POLL, Steadiness(self, desk)
        while True:
            now = self.clock.now()
            if now - last_history >= HISTORY_POLL:
                terminals.poll_history()
                last_history = now
            terminals.poll_hints()
            if state.gave_up(desk.session):
                self.say("the trainee gave up: ending the exercise")
                return Ended(Outcome.GAVE_UP, now)
            since = steady.since(paged)
            if since is not None:
                self.say(f"steady state is back, {since - paged.t0:.1f} s after the fault: ending the exercise")
                return Ended(Outcome.RECOVERED, now, since)
            if now >= deadline:
                self.say(f"the time limit ({self.exercise.time_limit:g} s) is up: ending the exercise")
                return Ended(Outcome.TIME_LIMIT, now)
            self.clock.sleep(POLL)

    # -- the end -------------------------------------------------------------------------------

    def finish(self, stack: Stack, desk: Desk | None, paged: Paged | None, ended: Ended | None,
               outcome: Outcome, message: str) -> TrainResult:
        """Stop observing, write the exercise's end and its debrief, take the stack down."""
        result = TrainResult(outcome, desk.session if desk else self.reports)
        try:
            if desk is not None:
                self.write_end(desk, paged, ended, outcome, message)
        finally:
            self.progress("removing the stack")
            stack.down()
            if desk is not None:
                if paged is not None:
                    state.withdraw(self.reports, desk.session)
                html = md = None
                try:
                    html, md = write_debrief(desk.log.path, desk.session)
                    self.say(f"debrief: {html}  (Markdown: {md})")
                except GamedayError as exc:
                    log.warning("could not write the debrief: %s", exc)
                result = TrainResult(outcome, desk.session, html, md)
                state.finish(desk.session, {
                    "outcome": str(outcome), "recovered": result.recovered, "message": message,
                    "debrief_html": str(html or ""), "debrief_md": str(md or "")})
        return result

    def write_end(self, desk: Desk, paged: Paged | None, ended: Ended | None, outcome: Outcome,
                  message: str) -> None:
        observers = desk.observers
        observers.stop()
        end = ended.at if ended else self.clock.now()
        events = desk.log.events
        typed = [Typed(e.host, e.command, e.t) for e in events if isinstance(e, TraineeCommand)]
        recovered = ended.recovered if ended else None

        def since_t0(moment: float | None) -> float | None:
            return None if moment is None or paged is None else round(moment - paged.t0, 3)

        if paged is not None:
            origin = observers.started
            marks = [(str(Mark.INJECT), paged.t0 - origin), (str(Mark.PAGE), paged.at - origin),
                     *((f"hint {e.number}", paged.t0 + e.t - origin) for e in events if isinstance(e, HintTaken)),
                     (str(Mark.RECOVERED) if recovered is not None else str(outcome), (recovered or end) - origin)]
            probe, traffic = observers.series(end, SERIES_BUCKET)
            desk.log.write(Series(self.exercise.name, probe, traffic, SERIES_BUCKET,
                                  tuple(sorted(((name, round(at, 3)) for name, at in marks), key=lambda m: m[1]))))
        matches = match_plan(self.steps, typed)
        diagnosed = [m.t for m in matches if m.matched and m.step.phase is Phase.DIAGNOSE and m.t is not None]
        fix_hosts = set(self.plan.fix_hosts)
        touched = [t.t for t in typed if t.host in fix_hosts]
        desk.log.write(reference_times(self.reports, self.scenario.key))
        desk.log.write(ExerciseFinished(
            outcome=outcome, recovered=outcome is Outcome.RECOVERED,
            time_to_detect=since_t0(paged.symptom if paged else None),
            time_to_page=since_t0(paged.at if paged else None),
            time_to_first_touch=min(touched) if touched else None,
            time_to_diagnose=min(diagnosed) if diagnosed else None, time_to_recover=since_t0(recovered),
            duration=since_t0(end) or 0.0, hints=sum(isinstance(e, HintTaken) for e in events), message=message))


class Steadiness:
    """Steady state after the page: the observers' verdict, and the scenario's own conditions (which
    may be costly, so they run at most every CHECKS_INTERVAL seconds)."""

    def __init__(self, trainer: Trainer, desk: Desk) -> None:
        scenario = trainer.scenario
        self.observers, self.ctx, self.clock = desk.observers, desk.ctx, trainer.clock
        self.consecutive = scenario.steady_consecutive
        self.conditions = [c for c in (scenario.steady, *scenario.checks) if c is not None]
        self.checked_at, self.held = -CHECKS_INTERVAL, False

    def since(self, paged: Paged) -> float | None:
        if paged.symptom is None and not self.conditions:
            return None  # the observers never saw this fault: only the trainee's give-up or the time limit end it
        since = self.observers.steady(paged.symptom or paged.t0, self.consecutive).since
        if since is None or not self.conditions:
            self.held = False
            return since
        now = self.clock.now()
        if now - self.checked_at >= CHECKS_INTERVAL:
            self.checked_at, self.held = now, all(self.holds(c) for c in self.conditions)
        return max(since, now) if self.held else None

    def holds(self, condition: Callable[[DrillContext], tuple[bool, str]]) -> bool:
        try:
            return condition(self.ctx)[0]
        except Exception as exc:  # a condition that cannot tell (the service restarting) does not hold yet
            log.debug("condition %s: %s", getattr(condition, "__name__", "?"), exc)
            return False
