"""Public fakes: test drill logic and your own scenarios without Docker, in milliseconds.

For users' own unit tests (of their runbooks' and scenarios' verdicts) and for ours. Each fake
implements the real protocol it stands in for; none patches anything:

- `FakeClock`: a `harness.stack.waits.Clock` whose time moves only when something sleeps or
  waits on it (or `advance`), firing the timers of the fakes below at their exact times on the way.
- `FlagFault`: a real `harness.faults.base.Fault` that only sets a flag (`broken`); the harness
  clears it on rollback, and a fix on a fake host can clear it first (`repair()`), so a report
  tells "the runbook restored it" (`already-restored`) from "the harness undid it" (`rolled-back`).
- `FakeHost`: a `harness.stack.host.Host` whose commands answer by rules (a substring or a regex
  of the command -> `(exit code, stdout, stderr)`, or a callable that reads the fake's state when
  the command runs); it records what ran, can take time on the clock, time out, or raise.
- `FakeStack`: what a drill, a scenario and a fault use of a `harness.stack.stack.Stack`: a real
  `StackDefinition` (`fake_definition` builds one in memory, `write_fake_stack` a tiny TOML),
  `host(name)`, `secrets`, `stack_id`, `name`, `endpoint`/`port`, and the fake system's flag faults.
- `FakeStackPool`: fresh fake stacks for the pytest plugin (override its `gameday_stacks` fixture).
- `ScriptedProbe` / `ScriptedTraffic` and `scripted_observers`: observers that see given samples,
  or that sample a function of the fake's state (e.g. the flag) on every tick of the clock.
- `run_fake_drill`: a whole drill of a scenario on a fake stack, on the fake clock.

A sketch (the runbook is a file in tmp_path whose diagnosis runs `check-db`):

    clock = FakeClock()
    fault = FlagFault("db-down", clock=clock)
    app = FakeHost("app", clock=clock).on("check-db", lambda cmd: (0, "down" if fault.broken else "up", ""))
    db = FakeHost("db", clock=clock).on("start-db", lambda cmd: fault.repair(), takes=2.0)
    stack = FakeStack(fake_definition("shop", ["app", "db"]), [app, db], faults=[fault])
    result = run_fake_drill(my_scenario, stack, clock, Journal(tmp_path / "journal.jsonl"))
    assert result.passed and result.fault_outcomes == {"db-down": FaultAction.ALREADY_RESTORED}
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from secrets import token_urlsafe
from typing import TYPE_CHECKING, cast

from harness.clock import SYSTEM_CLOCK, Clock
from harness.errors import DefinitionError
from harness.faults.base import Fault, FaultNotEffective
from harness.observe.observers import Observers
from harness.observe.samples import ProbeSample, RequestSample
from harness.scenarios import HealthCheck
from harness.stack.definition import ImageRecipe, SecretSpec, ServiceSpec, StackDefinition, load_definition
from harness.stack.host import DEFAULT_EXEC_TIMEOUT, TIMEOUT_EXIT_CODE, ExecResult

if TYPE_CHECKING:
    from harness.drill import DrillResult
    from harness.journal import Journal
    from harness.redact import Redactor
    from harness.scenarios import Scenario
    from harness.stack.stack import Stack

LOOPBACK = "127.0.0.1"
NOT_FOUND_EXIT_CODE = 127
DEFAULT_PROBE_INTERVAL = 0.2
DEFAULT_PACE = 1.0
SCRIPT_HORIZON = 3600.0  # how far ahead a probe defined by a function of time is sampled


# -- time ------------------------------------------------------------------------------------------


@dataclass
class Timer:
    """A callback the fake clock fires every `interval` seconds of fake time, from `next_at`."""

    next_at: float
    interval: float
    call: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class _ClockState:
    reading: float
    timers: list[Timer] = field(default_factory=list)
    advancing: bool = False


class FakeClock(Clock):
    """A monotonic clock that moves only when told (`advance`) or when code sleeps on it.

    Timers (`every`) fire at their exact times while the clock moves past them, with the clock
    reading their time, so a probe sampling a fake system sees each state for as long as it lasted.
    """

    _state: _ClockState

    def __init__(self, start: float = 0.0) -> None:
        state = _ClockState(start)  # Clock is frozen: the reading lives in an object it closes over
        object.__setattr__(self, "_state", state)
        super().__init__(now=lambda: state.reading, sleep=self.advance)

    @property
    def t(self) -> float:
        return self._state.reading

    def every(self, interval: float, call: Callable[[], None], *, first: float | None = None) -> Timer:
        """Call `call` every `interval` seconds of fake time, first at `first` (default: one interval
        from now); `cancel()` the returned timer to stop it. Callbacks must not move the clock."""
        if not interval > 0:
            raise ValueError(f"a timer needs a positive interval, got {interval!r}")
        start = self.t + interval if first is None else first
        if start <= self.t:
            raise ValueError(f"a timer's first time must be in the future (now {self.t}, first {start})")
        timer = Timer(start, interval, call)
        self._state.timers.append(timer)
        return timer

    def next_timer(self) -> float | None:
        """When the next timer fires, if any."""
        due = [t.next_at for t in self._state.timers if not t.cancelled]
        return min(due) if due else None

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass (what sleeping on this clock does), firing the timers due on the way."""
        state = self._state
        if state.advancing:
            raise RuntimeError("a FakeClock timer callback tried to move the clock")
        if not seconds > 0:
            return
        target = state.reading + seconds
        state.advancing = True
        try:
            while True:
                state.timers = [t for t in state.timers if not t.cancelled]
                due = [t for t in state.timers if t.next_at <= target]
                if not due:
                    break
                timer = min(due, key=lambda t: t.next_at)  # ties: the first registered (min is stable)
                state.reading = max(state.reading, timer.next_at)
                timer.next_at += timer.interval
                timer.call()
            state.reading = target
        finally:
            state.advancing = False


# -- faults ----------------------------------------------------------------------------------------


class FlagFault(Fault):
    """A fault that only sets a flag: inject sets `broken`, restore (the harness) and `repair()`
    (a runbook's fix on a fake host) clear it. `takes_effect=False` makes an injection that does
    not take (the flag stays clear), so its proof fails with FaultNotEffective."""

    def __init__(self, name: str = "flag", *, clock: Clock = SYSTEM_CLOCK, takes_effect: bool = True) -> None:
        super().__init__(clock=clock)
        self.name = name
        self.takes_effect = takes_effect
        self.broken = False
        self.repairs = 0  # how many times a fix cleared it

    def describe(self) -> str:
        return f"fake fault {self.name}"

    def inject(self) -> None:
        if self.takes_effect:
            self.broken = True

    def verify(self) -> str:
        if not self.broken:
            raise FaultNotEffective(f"{self.describe()}: injected, but the flag is still clear")
        return f"{self.name} is broken"

    def is_active(self) -> bool:
        return self.broken

    def restore(self) -> None:
        self.broken = False

    def repair(self) -> tuple[int, str, str]:
        """What a runbook's fix does to the fake system: clear the flag. Returns a successful
        command's reply, so a fake host's rule can be `lambda cmd: fault.repair()`."""
        self.broken = False
        self.repairs += 1
        return 0, "", ""


# -- hosts -----------------------------------------------------------------------------------------

Reply = tuple[int, str, str]
"""What a command answers: (exit code, stdout, stderr)."""

Answer = Reply | Callable[[str], Reply] | BaseException
"""A rule's answer: a fixed reply, a callable given the command (called when it runs, so it reads
the fake's state then, and may change it, or raise), or an exception to raise (e.g. ExecError)."""

# The line harness.runbook.execute.build_script puts after each segment of a block: it prints the
# segment's marker and exit status. A fake host answers it as bash would.
_SEGMENT_END = re.compile(r"^__gd_rc=\$\?; printf '\\n(?P<marker>\S+) (?P<number>\d+) %d\\n'")


@dataclass(frozen=True)
class Rule:
    """Commands containing `pattern` (a string) or matching it (a compiled regex) get `answer`,
    after `takes` seconds on the host's clock."""

    pattern: str | re.Pattern[str]
    answer: Answer
    takes: float = 0.0

    def matches(self, command: str) -> bool:
        if isinstance(self.pattern, str):
            return self.pattern in command
        return self.pattern.search(command) is not None


class FakeHost:
    """A host whose commands answer by rules; `ran` lists every command it ran, in order, and
    `envs` the environment each exec was given (the runbook's bound placeholders).

    A block arrives as one script (harness.runbook.execute); the host runs it line by line, like
    bash: each non-blank, non-comment line (lines ending in `\\` continue) is one command, answered
    by the first rule that matches it, or `unknown` (exit 127, "command not found"). A command
    that `takes` longer than what is left of the exec's timeout times out, as `timeout` would.
    """

    def __init__(self, name: str, rules: Iterable[Rule] = (), *, clock: Clock = SYSTEM_CLOCK,
                 unknown: Reply | None = None) -> None:
        self._name = name
        self.rules = list(rules)
        self.clock = clock
        self.unknown = unknown
        self.ran: list[str] = []
        self.envs: list[dict[str, str]] = []
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    def on(self, pattern: str | re.Pattern[str], answer: Answer, *, takes: float = 0.0) -> FakeHost:
        """Add a rule (after the existing ones: the first match wins); returns the host, to chain."""
        self.rules.append(Rule(pattern, answer, takes))
        return self

    def exec(self, command: str, *, timeout: float = DEFAULT_EXEC_TIMEOUT,
             env: Mapping[str, str] | None = None) -> ExecResult:
        started = self.clock.now()
        with self._lock:
            self.envs.append(dict(env or {}))
        stdout: list[str] = []
        stderr: list[str] = []
        code = 0
        for line in _commands(command):
            end = _SEGMENT_END.match(line)
            if end is not None:
                stdout.append(f"\n{end['marker']} {end['number']} {code}\n")
                stderr.append(f"\n{end['marker']} {end['number']}\n")
                continue
            rule = next((r for r in self.rules if r.matches(line)), None)
            left = timeout - (self.clock.now() - started)
            if rule is not None and rule.takes > left:
                self.clock.sleep(max(0.0, left))
                with self._lock:
                    self.ran.append(line)
                return ExecResult(self.name, command, TIMEOUT_EXIT_CODE, "".join(stdout), "".join(stderr),
                                  self.clock.now() - started, timed_out=True)
            if rule is not None and rule.takes > 0:
                self.clock.sleep(rule.takes)
            with self._lock:
                self.ran.append(line)
            code, out, err = self._answer(rule, line)
            stdout.append(out)
            stderr.append(err)
        return ExecResult(self.name, command, code, "".join(stdout), "".join(stderr), self.clock.now() - started)

    def _answer(self, rule: Rule | None, line: str) -> Reply:
        if rule is None:
            if self.unknown is not None:
                return self.unknown
            return NOT_FOUND_EXIT_CODE, "", f"bash: {line.split()[0]}: command not found\n"
        answer = rule.answer
        if isinstance(answer, BaseException):
            raise answer
        return answer(line) if callable(answer) else answer

    def __repr__(self) -> str:
        return f"<FakeHost {self.name} {len(self.rules)} rules, {len(self.ran)} ran>"


def _commands(script: str) -> list[str]:
    commands, pending = [], ""
    for raw in script.splitlines():
        line = pending + raw.strip()
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        if line and not line.startswith("#"):
            commands.append(line)
    if pending.strip():
        commands.append(pending.strip())
    return commands


# -- stacks ----------------------------------------------------------------------------------------


def fake_definition(name: str = "fake", hosts: Sequence[str] = ("app",), *,
                    path: Path | str = "fake-stack.toml", secrets: Sequence[str] = (),
                    variables: Mapping[str, str] | None = None, default_host: str = "") -> StackDefinition:
    """A real StackDefinition built in memory: one service per host, nothing to build; with several
    hosts, `default_host` names where a step without a host runs (as a stack file must)."""
    base = Path(path).resolve().parent
    services = tuple(ServiceSpec(host, ImageRecipe(f"fake/{host}", base / "Dockerfile", base), aliases=(host,))
                     for host in hosts)
    return StackDefinition(name, Path(path).resolve(), services, tuple(SecretSpec(s) for s in secrets),
                           tuple((variables or {}).items()), default_host=default_host)


def write_fake_stack(folder: Path | str, name: str = "fake", hosts: Sequence[str] = ("app",),
                     default_host: str = "") -> Path:
    """A tiny stack TOML (and the empty Dockerfile it names) in `folder`, for code that loads
    definitions from a file (the pytest plugin, `gameday list`); returns its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Dockerfile").write_text("# a fake stack: never built\n", encoding="utf-8")
    lines = [f'name = "{name}"', *([f'default_host = "{default_host}"'] if default_host else []), ""]
    for host in hosts:
        lines += [f"[services.{host}]", f'image = "fake/{host}"', 'dockerfile = "Dockerfile"', ""]
    path = folder / "stack.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


_stack_numbers = itertools.count(1)


class FakeStack:
    """What a drill, a scenario and a fault use of a running `Stack`, without containers.

    Hosts not given are fake hosts with no rules (every command there is "not found"); `local`
    included. `faults` are the fake system's flag faults, for its scenario fixtures and health
    checks to reach through `drill.stack.fault(name)`.
    """

    def __init__(self, definition: StackDefinition, hosts: Iterable[FakeHost] = (), *,
                 faults: Iterable[FlagFault] = (), secrets: Mapping[str, str] | None = None,
                 stack_id: str | None = None, clock: Clock = SYSTEM_CLOCK) -> None:
        self.definition = definition
        self.stack_id = stack_id or f"fake{next(_stack_numbers):04d}"
        self.name = f"gameday-{definition.name}-{self.stack_id}"
        self.secrets = dict(secrets) if secrets is not None else _fresh_secrets(definition)
        self.values = {**dict(definition.variables), **self.secrets}
        self.hosts = {h.name: h for h in hosts}
        for host in self.hosts:
            if host not in definition.hosts:
                raise DefinitionError(f"fake host {host!r} is not a service of stack {definition.name} "
                                      f"(hosts: {', '.join(definition.hosts)})", path=definition.path)
        for host in definition.hosts:
            self.hosts.setdefault(host, FakeHost(host, clock=clock))
        self.faults = {f.name: f for f in faults}
        self.running = False
        self.removed = False

    def up(self) -> FakeStack:
        self.running = True
        return self

    def down(self) -> None:
        self.running, self.removed = False, True

    def __enter__(self) -> FakeStack:
        return self.up()

    def __exit__(self, *exc: object) -> None:
        self.down()

    def host(self, name: str) -> FakeHost:
        """The fake host `name`; DefinitionError (as a real stack) for a name the stack lacks."""
        if name not in self.hosts:
            self.definition.service(name)  # raises the real stack's error
        return self.hosts[name]

    def fault(self, name: str) -> FlagFault:
        try:
            return self.faults[name]
        except KeyError:
            raise KeyError(f"fake stack {self.name} has no fault {name!r} (has: {', '.join(self.faults)})") from None

    def port(self, service: str, port: int) -> int:
        """The port as given: nothing listens on it unless the test serves it."""
        self.definition.service(service)
        return port

    def endpoint(self, service: str, port: int, scheme: str = "http") -> str:
        return f"{scheme}://{LOOPBACK}:{self.port(service, port)}"

    def __repr__(self) -> str:
        return f"<FakeStack {self.name}>"


def _fresh_secrets(definition: StackDefinition) -> dict[str, str]:
    return {s.name: token_urlsafe(s.nbytes) for s in definition.secrets}


class FakeStackPool:
    """Fresh fake stacks for drills, in the shape of harness.gameday.StackPool (`take`,
    `give_back`, `close`): what a conftest's `gameday_stacks` fixture returns to run the pytest
    plugin's drills without Docker. `make(definition)` builds a fake stack for the definition
    the scenario names (loaded from its file, as the real pool does); every drill gets a new one.
    """

    def __init__(self, make: Callable[[StackDefinition], FakeStack]) -> None:
        self.make = make
        self.taken: list[FakeStack] = []
        self.given_back: list[FakeStack] = []
        self.closed = False
        self._definitions: dict[Path, StackDefinition] = {}

    def take(self, scenario: Scenario, *, ahead: Callable[[], Scenario | None] | None = None) -> FakeStack:
        path = scenario.stack.resolve()
        if path not in self._definitions:
            self._definitions[path] = load_definition(path)
        stack = self.make(self._definitions[path]).up()
        self.taken.append(stack)
        if ahead is not None:
            ahead()  # the real pool starts a spare for it; a fake stack costs nothing to make later
        return stack

    def give_back(self, stack: FakeStack) -> None:
        stack.down()
        self.given_back.append(stack)

    def close(self) -> None:
        self.closed = True


# -- observers -------------------------------------------------------------------------------------


class _Scripted:
    """Samples that become visible as the fake clock reaches their time."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.started = self.stopped = False
        self._timer: Timer | None = None

    def start(self) -> None:
        self.started = True

    def stop(self) -> bool:
        self.stopped = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        return True

    def _tick_every(self, interval: float, tick: Callable[[], None]) -> None:
        """Tick now (a real probe or user starts at once), then every `interval` until stopped."""
        tick()
        self._timer = self.clock.every(interval, tick)


class ScriptedProbe(_Scripted):
    """A health probe whose samples are given up front, or made by a function of the time
    (`healthy(t)`), or taken live (`check()`, a scenario's health check: it runs on every tick
    of the clock while the probe runs, so it sees the fake system's state at that moment)."""

    def __init__(self, clock: FakeClock, samples: Iterable[ProbeSample] = (), *,
                 healthy: Callable[[float], bool] | None = None, check: HealthCheck | None = None,
                 interval: float = DEFAULT_PROBE_INTERVAL, until: float = SCRIPT_HORIZON) -> None:
        super().__init__(clock)
        if healthy is not None:
            count = int((until - clock.now()) / interval)
            samples = [ProbeSample(round(clock.now() + n * interval, 6), healthy(clock.now() + n * interval),
                                   200, 0.001, "") for n in range(count)]
        self.script = sorted(samples, key=lambda s: s.t)
        self.check = check
        self.interval = interval
        self._live: list[ProbeSample] = []

    def start(self) -> None:
        super().start()
        if self.check is not None:
            self._tick_every(self.interval, self._sample)

    def _sample(self) -> None:
        try:
            ok, status, detail = self.check() if self.check is not None else (True, None, "")
        except Exception as exc:  # as HealthProbe: a check that raises is a failed sample
            ok, status, detail = False, None, type(exc).__name__
        self._live.append(ProbeSample(self.clock.now(), ok, status, 0.0, detail))

    def samples(self) -> list[ProbeSample]:
        now = self.clock.now()
        return sorted([s for s in self.script if s.t <= now] + self._live, key=lambda s: s.t)

    def _next_sample(self) -> float | None:
        times = [s.t for s in self.script if s.t > self.clock.now()]
        if self._timer is not None:
            times.append(self._timer.next_at)
        return min(times) if times else None

    def wait_until(self, predicate: Callable[[list[ProbeSample]], bool], timeout: float) -> bool:
        """Move the clock sample by sample until `predicate(samples)` holds (True) or the timeout
        passed (False, the clock then reads the deadline)."""
        deadline = self.clock.now() + timeout
        while not predicate(self.samples()):
            upcoming = self._next_sample()
            if upcoming is None or upcoming > deadline:
                self.clock.advance(deadline - self.clock.now())
                return predicate(self.samples())
            self.clock.advance(upcoming - self.clock.now())
        return True


class ScriptedTraffic(_Scripted):
    """Synthetic users' requests given up front, or made live: with `users` and `ok(user)`, every
    user makes one request each `pace` seconds while the traffic runs, ok or not as `ok` says then."""

    def __init__(self, clock: FakeClock, requests: Iterable[RequestSample] = (), *, users: Sequence[str] = (),
                 ok: Callable[[str], bool] | None = None, pace: float = DEFAULT_PACE, action: str = "request") -> None:
        super().__init__(clock)
        if ok is not None and not users:
            raise ValueError("live ScriptedTraffic needs users")
        self.script = sorted(requests, key=lambda r: r.t)
        self.users = tuple(users)
        self.ok = ok
        self.pace = pace
        self.action = action
        self._live: list[RequestSample] = []

    def start(self) -> None:
        super().start()
        if self.ok is not None:
            self._tick_every(self.pace, self._requests)

    def _requests(self) -> None:
        assert self.ok is not None
        for user in self.users:
            ok = self.ok(user)
            self._live.append(RequestSample(self.clock.now(), user, self.action, ok, 200 if ok else 503, 0.0))

    def samples(self) -> list[RequestSample]:
        now = self.clock.now()
        return sorted([r for r in self.script if r.t <= now] + self._live, key=lambda r: r.t)


def scripted_observers(clock: FakeClock, probes: Iterable[ProbeSample] | ScriptedProbe,
                       requests: Iterable[RequestSample] | ScriptedTraffic = (),
                       users: Sequence[str] = ()) -> Observers:
    """Observers that see exactly the given samples, each once the clock reaches it (a live
    ScriptedTraffic brings its own users)."""
    probe = probes if isinstance(probes, ScriptedProbe) else ScriptedProbe(clock, probes)
    if isinstance(requests, ScriptedTraffic):
        users = users or requests.users
        traffic: ScriptedTraffic | None = requests if users else None
    else:
        traffic = ScriptedTraffic(clock, requests) if users else None
    return Observers(probe, traffic, users, clock=clock)


# -- a whole drill -------------------------------------------------------------------------------


def run_fake_drill(scenario: Scenario, stack: FakeStack, clock: FakeClock, journal: Journal, *,
                   traffic: ScriptedTraffic | None = None, redactor: Redactor | None = None,
                   drill_id: str | None = None) -> DrillResult:
    """Run `scenario`'s drill on a fake stack, on the fake clock: its plan from its runbook and the
    stack's definition, its own health check probed on every tick of the scenario's probe interval,
    and `traffic` as its synthetic users (none by default). Writes to `journal`; returns the result."""
    from harness.drill import Drill
    from harness.plan import build_plan
    from harness.redact import Redactor

    probe = ScriptedProbe(clock, check=scenario.observation.health(cast("Stack", stack)),
                          interval=scenario.observation.probe_interval)
    observers = scripted_observers(clock, probe, traffic if traffic is not None else ())
    plan = build_plan(scenario, stack.definition)
    # FakeStack provides what a drill uses of a Stack (see its docstring); the cast says so to mypy.
    drill = Drill(plan, cast("Stack", stack), journal, redactor or Redactor(), drill_id=drill_id, clock=clock,
                  observers=observers)
    return drill.execute()
