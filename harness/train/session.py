"""The exercise controller behind `gameday train`: break a fresh stack, page, watch, always roll back.

A composition root, like a drill (harness.drill) but with a person doing the diagnosis and fix:

1. a fresh stack comes up; every host gets the trainee shell's rc file (harness.train.history);
2. probes and synthetic users start (the scenario's observation) and must see a healthy stack;
3. the fault is injected by advancing the scenario's fixture generator to its `yield`;
4. once the symptom shows, the page goes out (symptoms only) and the exercise is announced
   (`active.json`) so that `gameday shell|hint|giveup` in other terminals find it;
5. the controller polls: each host's shell history (commands, as the trainee types them), hints
   taken, a give-up request, steady state, the time limit (counted from the page);
6. on recovery, give-up, time limit, Ctrl-C/SIGTERM or an error it ALWAYS resumes the fixture
   (rolling the fault back), takes the stack down and writes the debrief.
"""

from __future__ import annotations

import contextlib
import logging
import shlex
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from harness import interrupts
from harness.clock import SYSTEM_CLOCK, Clock
from harness.drill import wait_until_warm
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
from harness.observe.probe import HealthProbe
from harness.observe.samples import ProbeSample, RequestSample
from harness.observe.traffic import SyntheticTraffic
from harness.observe.verdict import probe_series, success_ratio_series
from harness.redact import Redactor, secret_assignment_patterns, secret_values
from harness.report.debrief import write_debrief
from harness.runbook.commands import Typed, match_plan
from harness.scenario import DrillContext, Scenario, fault_in, fault_out
from harness.stack.stack import Stack
from harness.train import state
from harness.train.exercise import Exercise
from harness.train.hints import build_hints
from harness.train.page import forbidden_words, observe, page_text
from harness.train.plan import RunbookPath, shown
from harness.train.reference import reference_times
from harness.train.shell_history import HistoryTracker, install_script, read_script
from harness.train.steady import recovered_since, symptom_at

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


@dataclass
class TrainResult:
    outcome: str
    session: Path
    debrief_html: Path | None = None
    debrief_md: Path | None = None

    @property
    def recovered(self) -> bool:
        return self.outcome == "recovered"


class Trainer:
    """Runs one onboarding exercise; `run()` returns when it is over (or re-raises what ended it)."""

    def __init__(self, exercise: Exercise, scenario: Scenario, path: RunbookPath, reports: Path, *,
                 say: Callable[[str], None] = print, progress: Callable[[str], None] = log.info,
                 command_suffix: str = "", clock: Clock = SYSTEM_CLOCK) -> None:
        self.exercise, self.scenario, self.path, self.reports = exercise, scenario, path, reports
        self.say, self.progress, self.suffix, self.clock = say, progress, command_suffix, clock
        self.hints = build_hints(exercise, path.steps)
        self.forbidden = forbidden_words(scenario.id, scenario.title, scenario.section, path.section_titles,
                                         [s.code for s in path.steps if s.phase == "fix"])
        self.redactor = Redactor()
        self.stack: Stack | None = None
        self.ctx: DrillContext | None = None
        self.log: ExerciseLog | None = None
        self.session: Path | None = None
        self.probe: HealthProbe | None = None
        self.traffic: SyntheticTraffic | None = None
        self.users: list[str] = []
        self.history = HistoryTracker()
        self.typed: list[Typed] = []
        self.hints_logged = 0
        self.started = 0.0  # clock reading when observation started: the timeline's origin
        self.t0: float | None = None  # the inject
        self.t0_wall = 0.0
        self.symptom: float | None = None
        self.paged: float | None = None
        self.recovered_at: float | None = None
        self.ended: float | None = None
        self.marks: list[tuple[str, float]] = []
        self._checks_at = -CHECKS_INTERVAL
        self._checks_ok = False
        self._announced = False

    # -- the exercise --------------------------------------------------------------------------

    def run(self) -> TrainResult:
        pool = StackPool(self.progress)
        stack = self.stack = pool.stack_for(self.scenario)
        definition = stack.definition
        secret_names = sorted({s.name for s in definition.secrets})
        self.redactor = Redactor(secrets=stack.secrets.values(),
                                 patterns=[*definition.redaction_patterns, *secret_assignment_patterns(secret_names)])
        outcome, message = "harness-error", ""
        try:
            self.progress("bringing a fresh stack up")
            stack.up()
            self.session = session = state.new_session(self.reports)
            self.log = ExerciseLog(session / state.LOG_NAME, self.redactor)
            self.install_shells()
            self.ctx = DrillContext(self.scenario, stack, self.redactor, self.clock)
            with listening(self.record_fault), self.observing():
                fixture = self.inject(secret_names)
                try:
                    self.detect()
                    page = self.page()
                    state.save_hints(session, self.hints)
                    state.announce(self.reports, session, stack.name,
                                   {s.name: str(stack.container(s.name).id) for s in definition.services},
                                   self.exercise.time_limit)
                    self._announced = True
                    self.say(page)  # only now: `gameday shell` finds the exercise as soon as the page is read
                    self.say(f"(watching: the exercise ends when steady state is back, on "
                             f"`gameday giveup{self.suffix}`, on Ctrl-C, or after {self.exercise.time_limit:g} s)")
                    outcome = self.watch()
                finally:
                    self.ended = self.clock.now()
                    try:
                        with interrupts.shielded():  # an interrupt meanwhile is raised after it ...
                            self.collect()
                    finally:  # ... and never skips the rollback
                        self.progress("rolling the fault back")
                        self.roll_back(fixture)
        except GamedayError as exc:
            outcome, message = "harness-error", str(exc)
            raise
        except BaseException:  # Ctrl-C, SIGTERM: roll back (done above), record, then go
            outcome = "interrupted"
            raise
        finally:
            with interrupts.shielded():
                result = self.finish(outcome, message)
        return result

    @contextlib.contextmanager
    def observing(self) -> Iterator[None]:
        assert self.stack is not None
        observation = self.scenario.observation
        span = self.exercise.time_limit + self.scenario.detect_within + OBSERVE_MARGIN
        check = observation.health(self.stack)
        self.probe = HealthProbe(check, interval=observation.probe_interval, clock=self.clock, max_seconds=span,
                                 max_samples=int(span / observation.probe_interval) + 100)
        if observation.journey is not None:
            self.users = [f"synthetic-{n}" for n in range(1, observation.users + 1)]
            self.traffic = SyntheticTraffic(observation.journey(self.stack), self.users, pace=observation.pace,
                                            clock=self.clock, max_seconds=span,
                                            max_requests=int(span / observation.pace + 1) * len(self.users) + 100)
        with contextlib.ExitStack() as stack:
            close = getattr(check, "close", None)
            if callable(close):
                stack.callback(close)
            self.started = self.clock.now()
            stack.enter_context(self.probe)
            if self.traffic is not None:
                stack.enter_context(self.traffic)
            wait_until_warm(self.probe)
            yield

    def install_shells(self) -> None:
        """The trainee shell's rc file and an empty history file on every host."""
        assert self.stack is not None
        for spec in self.stack.definition.services:
            result = self.stack.host(spec.name).exec(install_script(), timeout=EXEC_TIMEOUT)
            if not result.ok:
                raise GamedayError(f"{spec.name}: cannot prepare the trainee shell (exit {result.exit_code}: "
                                   f"{(result.stdout + result.stderr).strip()[:200]})")

    def start_log(self, secret_names: list[str]) -> None:
        assert self.log is not None
        assert self.stack is not None
        assert self.t0 is not None
        s, path = self.scenario, self.path
        self.log.write(ExerciseStarted(
            exercise=self.exercise.name, scenario=s.id, title=s.title, runbook=shown(s.runbook), section=s.section,
            section_title=path.section.title, severity=s.severity, stack=self.stack.definition.name,
            stack_name=self.stack.name, hosts=tuple(spec.name for spec in self.stack.definition.services),
            fix_hosts=path.fix_hosts, time_limit=self.exercise.time_limit, hints_total=len(self.hints),
            plan=path.steps, manual=path.manual, inject_offset=round(self.t0 - self.started, 3),
            redaction_patterns=(*self.stack.definition.redaction_patterns,
                                *secret_assignment_patterns(secret_names))))

    def inject(self, secret_names: list[str]) -> Iterator[None]:
        """Advance the scenario's fixture to its `yield`: the fault is in effect (and proven)."""
        assert self.ctx is not None
        self.progress("the exercise starts")
        self.t0 = self.clock.now()
        self.t0_wall = time.time()
        self.mark("inject", self.t0)
        self.start_log(secret_names)
        return fault_in(self.scenario, self.ctx)

    def roll_back(self, fixture: Iterator[None]) -> None:
        fault_out(fixture)

    def detect(self) -> None:
        """Wait for the symptom (bounded), then a little longer for evidence the page can cite."""
        assert self.probe is not None
        assert self.t0 is not None
        t0 = self.t0
        deadline = t0 + max(self.scenario.detect_within, DETECT_AT_LEAST)
        while self.symptom is None and self.clock.now() < deadline:
            self.probe.wait_until(lambda samples: bool(samples) and samples[-1].t >= t0 and not samples[-1].ok,
                                  timeout=POLL)
            self.symptom = symptom_at(self.probes(), self.requests(), t0)
        if self.symptom is None:
            return

        def evidence(samples: list[ProbeSample]) -> bool:
            failed = sum(1 for s in samples if s.t >= t0 and not s.ok)
            return failed >= PAGE_EVIDENCE_FAILURES and (not self.users or any(r.t >= t0 for r in self.requests()))

        self.probe.wait_until(evidence, timeout=max(0.0, self.symptom + PAGE_EVIDENCE_WAIT - self.clock.now()))

    def page(self) -> str:
        """The page's text, written to the session and the log (the caller shows it)."""
        assert self.stack is not None
        assert self.log is not None
        assert self.t0 is not None
        stack, now = self.stack, self.clock.now()
        endpoints = {}
        for spec in stack.definition.services:
            for port in spec.ports:
                with contextlib.suppress(GamedayError):
                    endpoints[stack.endpoint(spec.name, port)] = f"{spec.name}:{port}"
        symptoms = observe(self.probes(), self.requests(), self.t0, endpoints)
        wall = datetime.now(UTC)
        since = None if self.symptom is None else datetime.fromtimestamp(wall.timestamp() - (now - self.symptom), UTC)
        text = self.redactor(page_text(
            stack=stack.definition.name, stack_name=stack.name, hosts=[s.name for s in stack.definition.services],
            severity=self.scenario.severity, symptoms=symptoms, since=since, now=wall,
            probe_interval=self.scenario.observation.probe_interval, users=len(self.users), note=self.exercise.page,
            time_limit=self.exercise.time_limit, forbidden=self.forbidden, command_suffix=self.suffix))
        self.paged = now
        self.mark("page", now)
        assert self.session is not None
        (self.session / state.PAGE_NAME).write_text(text, encoding="utf-8")
        self.log.write(PageSent(text, round(now - self.t0, 3),
                                None if self.symptom is None else round(self.symptom - self.t0, 3)))
        return text

    def watch(self) -> str:
        """Poll until recovery, give-up or the time limit; the outcome."""
        assert self.paged is not None
        assert self.session is not None
        deadline = self.paged + self.exercise.time_limit
        last_history = -HISTORY_POLL
        while True:
            now = self.clock.now()
            if now - last_history >= HISTORY_POLL:
                self.poll_history()
                last_history = now
            self.poll_hints()
            if state.gave_up(self.session):
                self.say("the trainee gave up: ending the exercise")
                return "gave-up"
            since = self.steady_since()
            if since is not None:
                self.recovered_at = since
                self.mark("recovered", since)
                self.say(f"steady state is back, {since - (self.t0 or since):.1f} s after the fault: "
                         "ending the exercise")
                return "recovered"
            if now >= deadline:
                self.say(f"the time limit ({self.exercise.time_limit:g} s) is up: ending the exercise")
                return "time-limit"
            self.clock.sleep(POLL)

    # -- observations --------------------------------------------------------------------------

    def probes(self) -> list[ProbeSample]:
        return self.probe.samples() if self.probe else []

    def requests(self) -> list[RequestSample]:
        return self.traffic.samples() if self.traffic else []

    def steady_since(self) -> float | None:
        """When steady state came back after the fault, or None (not yet, or nothing to tell it by)."""
        assert self.t0 is not None
        assert self.ctx is not None
        conditions = [c for c in (self.scenario.steady, *self.scenario.checks) if c is not None]
        if self.symptom is None and not conditions:
            return None  # the observers never saw this fault: only the trainee's give-up or the time limit end it
        since, _ = recovered_since(self.probes(), self.requests(), self.users, after=self.symptom or self.t0,
                                   consecutive=self.scenario.steady_consecutive)
        if since is None or not conditions:
            self._checks_ok = False
            return since
        now = self.clock.now()
        if now - self._checks_at >= CHECKS_INTERVAL:
            self._checks_at = now
            self._checks_ok = all(self._holds(c) for c in conditions)
        return max(since, now) if self._checks_ok else None

    def _holds(self, condition: Callable[[DrillContext], tuple[bool, str]]) -> bool:
        assert self.ctx is not None
        try:
            return condition(self.ctx)[0]
        except Exception as exc:  # a condition that cannot tell (the service restarting) does not hold yet
            log.debug("condition %s: %s", getattr(condition, "__name__", "?"), exc)
            return False

    # -- the trainee's terminals ---------------------------------------------------------------

    def poll_history(self) -> None:
        """Journal the commands typed since the last poll, on every host."""
        assert self.stack is not None
        assert self.log is not None
        assert self.t0 is not None
        fresh = []
        for spec in self.stack.definition.services:
            try:
                result = self.stack.host(spec.name).exec(read_script(), timeout=EXEC_TIMEOUT)
            except (ExecError, GamedayError) as exc:  # the container is restarting: next time
                log.debug("history of %s: %s", spec.name, exc)
                continue
            fresh += [(spec.name, entry) for entry in self.history.update(spec.name, result.stdout)]
        if not fresh:
            return
        self.harvest_secrets()
        for host, entry in sorted(fresh, key=lambda he: he[1].at or 0.0):
            epoch = entry.at if entry.at is not None else time.time()
            written = self.log.write(TraineeCommand(
                host, entry.command, round(epoch - self.t0_wall, 3),
                datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")))
            assert isinstance(written, TraineeCommand)
            self.typed.append(Typed(written.host, written.command, written.t))
            self.say(f"  [{written.t:+6.0f} s] {host}$ {' '.join(written.command.splitlines())[:200]}")

    def harvest_secrets(self) -> None:
        """Values of secret-looking settings in the stack's files (a trainee may have written a new
        key there) join the redactor before any command that may spell them out is journaled."""
        assert self.stack is not None
        names = [s.name for s in self.stack.definition.secrets]
        for spec in self.stack.definition.services:
            for file in spec.files:
                try:
                    result = self.stack.host(spec.name).exec(f"cat {shlex.quote(file.path)} 2>/dev/null",
                                                             timeout=EXEC_TIMEOUT)
                except (ExecError, GamedayError):
                    continue
                self.redactor.add(*secret_values(result.stdout, names))

    def poll_hints(self) -> None:
        assert self.session is not None
        assert self.log is not None
        assert self.t0 is not None
        taken = state.taken(self.session)
        for entry in taken[self.hints_logged:]:
            number = int(entry["number"])
            if not 1 <= number <= len(self.hints):
                continue
            hint = self.hints[number - 1]
            t = float(entry.get("epoch", time.time())) - self.t0_wall
            self.log.write(HintTaken(number, len(self.hints), hint.phase, hint.step, hint.text, round(t, 3)))
            self.mark(f"hint {number}", self.t0 + t)
            self.say(f"  [{t:+6.0f} s] hint {number} of {len(self.hints)} taken")
        self.hints_logged = len(taken)

    def collect(self) -> None:
        """The last commands and hints before the rollback changes anything."""
        if self.log is None or self.t0 is None or self.session is None:
            return
        try:
            self.poll_history()
            self.poll_hints()
        except Exception as exc:  # the debrief goes out with what was collected
            log.warning("could not collect the last commands: %s", exc)

    # -- records -------------------------------------------------------------------------------

    def mark(self, name: str, at: float) -> None:
        self.marks.append((name, round(at - self.started, 3)))

    def record_fault(self, record: FaultRecord) -> None:
        if self.log is not None:
            self.log.write(FaultRecorded(self.exercise.name, record.fault, record.action, record.detail,
                                         round(record.at - self.started, 3)))

    def since_t0(self, moment: float | None) -> float | None:
        return None if moment is None or self.t0 is None else round(moment - self.t0, 3)

    def finish(self, outcome: str, message: str) -> TrainResult:
        """Stop observing, write the exercise's end and its debrief, take the stack down."""
        session = self.session
        result = TrainResult(outcome, session or self.reports)
        try:
            if self.log is not None and session is not None:
                self.write_end(outcome, message)
        finally:
            if self.stack is not None:
                self.progress("removing the stack")
                self.stack.down()
            if session is not None:
                if self._announced:
                    state.withdraw(self.reports, session)
                if self.log is not None:
                    try:
                        result.debrief_html, result.debrief_md = write_debrief(self.log.path, session)
                        self.say(f"debrief: {result.debrief_html}  (Markdown: {result.debrief_md})")
                    except GamedayError as exc:
                        log.warning("could not write the debrief: %s", exc)
                state.finish(session, {
                    "outcome": outcome, "recovered": outcome == "recovered", "message": message,
                    "debrief_html": str(result.debrief_html or ""), "debrief_md": str(result.debrief_md or "")})
        return result

    def write_end(self, outcome: str, message: str) -> None:
        assert self.log is not None
        for observer in (self.probe, self.traffic):
            if observer is not None:
                observer.stop()
        end = self.ended or self.clock.now()
        if self.t0 is not None:
            if outcome != "recovered":  # recovered is marked when steady state was found
                self.mark(outcome, end)
            probes = [p for p in self.probes() if p.t <= end]  # the exercise, not the rollback after it
            self.log.write(Series(self.exercise.name, tuple(probe_series(probes, self.started)),
                                  tuple(success_ratio_series(self.requests(), self.started, max(end, self.started),
                                                             SERIES_BUCKET)),
                                  SERIES_BUCKET, tuple(sorted(self.marks, key=lambda m: m[1]))))
        matches = match_plan(self.path.steps, self.typed)
        diagnosed = [m.t for m in matches if m.matched and m.step.phase == "diagnose" and m.t is not None]
        fix_hosts = set(self.path.fix_hosts)
        touched = [t.t for t in self.typed if t.host in fix_hosts]
        self.log.write(reference_times(self.reports, self.scenario.id))
        self.log.write(ExerciseFinished(
            outcome=outcome, recovered=outcome == "recovered", time_to_detect=self.since_t0(self.symptom),
            time_to_page=self.since_t0(self.paged), time_to_first_touch=min(touched) if touched else None,
            time_to_diagnose=min(diagnosed) if diagnosed else None, time_to_recover=self.since_t0(self.recovered_at),
            duration=self.since_t0(end) or 0.0, hints=self.hints_logged, message=message))
