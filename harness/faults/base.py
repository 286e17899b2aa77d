"""The fault contract: a context manager that proves it took effect and always rolls back.

    with ServiceStopped(stack, stack.host("db"), "postgresql") as fault:
        ...                       # the fault is in effect, and verified
                                  # on leaving, by any path: rolled back

`__enter__` injects, then verifies (evidence, or FaultNotEffective); if either fails, it rolls
back before re-raising. `rollback()` is idempotent and tells apart "the harness undid it"
(`rolled-back`) from "it was no longer in effect" (`already-restored`, e.g. the runbook fixed
it). Each of these moments is a FaultRecord, given to the listener of the current context
(`listening(listener)`), so a drill can journal faults without faults knowing the journal.

Blast radius: a fault only ever touches containers that carry the harness label
`gameday.stack-id` of the stack it was given (`owned_container`); anything else is refused
with BlastRadiusError, before acting.
"""

from __future__ import annotations

import abc
import contextlib
import contextvars
import enum
import ipaddress
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from harness import interrupts, timing
from harness.clock import SYSTEM_CLOCK, Clock
from harness.errors import BadInput, GamedayError, InfrastructureError
from harness.stack.definition import LOCAL_HOST
from harness.stack.host import ExecResult, Host
from harness.stack.labels import STACK_ID
from harness.stack.stack import Stack
from harness.stack.waits import WaitTimeout, wait_for
from harness.vocabulary import FaultAction

log = logging.getLogger(__name__)

OUTPUT_TAIL_CHARS = 600



class FaultError(InfrastructureError):
    """A fault could not be injected or rolled back."""


class FaultNotEffective(FaultError):
    """The fault was injected, but the proof that it took effect failed."""


class BlastRadiusError(BadInput):
    """Refused: the target is not a container of the harness's own stack."""


@dataclass(frozen=True)
class FaultRecord:
    """One moment of a fault's life, for the journal. `at` is the fault clock's monotonic time."""

    fault: str
    action: FaultAction
    detail: str
    at: float


FaultListener = Callable[[FaultRecord], None]

fault_listener: contextvars.ContextVar[FaultListener | None] = contextvars.ContextVar(
    "gameday_fault_listener", default=None)


@contextlib.contextmanager
def listening(listener: FaultListener) -> Iterator[FaultListener]:
    """Send the records of faults used inside this block to `listener`.

    A fault keeps the listener that was current when it was injected, so records it makes later
    from another thread (a watchdog ending it) reach the same listener: listeners must be
    thread-safe.
    """
    token = fault_listener.set(listener)
    try:
        yield listener
    finally:
        fault_listener.reset(token)


class _State(enum.Enum):
    IDLE = "idle"
    INJECTING = "injecting"  # inject() started: a partial injection is possible
    INJECTED = "injected"
    ROLLING_BACK = "rolling-back"
    RESTORED = "restored"


PROOF_INTERVAL = 0.25  # seconds between looks for a fault's effect


class Fault(abc.ABC):
    """A fault: inject, verify, is_active, restore; `rollback` and the context manager are given."""

    name: str = "fault"

    # Whether restore() still runs when the fault already ended (the runbook fixed it): it
    # tidies what the runbook may have left (e.g. puts the original file back). A fault whose
    # end leaves nothing to tidy sets this False and its rollback is just the check.
    restore_when_ended = True

    def __init__(self, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.clock = clock
        self._state = _State.IDLE
        self._lock = threading.RLock()
        self._listener: FaultListener | None = None
        self._records: list[FaultRecord] = []

    # -- what each fault provides ------------------------------------------------------------

    def describe(self) -> str:
        """One line for reports, e.g. "postgresql stopped on db"."""
        return self.name

    def await_proof(self, proof: Callable[[], tuple[bool, str]], timeout: float, *, also: str = "") -> str:
        """What `proof` saw once it showed the fault's effect; FaultNotEffective (with `also`) when it
        did not within `timeout` seconds."""
        try:
            return wait_for(proof, what=f"the effect of {self.describe()}", timeout=timeout,
                            interval=PROOF_INTERVAL, clock=self.clock)
        except WaitTimeout as exc:
            raise FaultNotEffective(f"{self.describe()}: no effect within {exc.timeout:g}s (last seen: "
                                    f"{exc.last}){also}") from None

    def prepare(self) -> None:
        """Everything before touching anything, called by `start()` (or earlier by a caller that
        wants it out of the timed part of a drill): refuse a target outside the blast radius
        (BlastRadiusError), build helper images. Faults that touch containers check ownership
        here, and again whenever they act."""
        return None  # touches no container (a load or a client-side fault)

    @abc.abstractmethod
    def inject(self) -> None:
        """Cause the fault."""

    @abc.abstractmethod
    def verify(self) -> str:
        """Evidence that the fault took effect; FaultNotEffective otherwise (bounded wait allowed)."""

    @abc.abstractmethod
    def is_active(self) -> bool:
        """Whether the fault is still in effect right now."""

    @abc.abstractmethod
    def restore(self) -> None:
        """Undo the fault. Idempotent, and safe after a partial inject."""

    def injected_detail(self) -> str:
        """The detail of the "injected" record (override to add what inject observed)."""
        return self.describe()

    def rolled_back_detail(self) -> str:
        """The detail of a "rolled-back" record (override to add what the fault did)."""
        return f"{self.describe()}: undone by the harness"

    def ended_detail(self) -> str:
        """The detail of an "already-restored" record (override to say how it ended)."""
        return f"{self.describe()}: no longer in effect when the harness came to roll it back"

    # -- the contract --------------------------------------------------------------------------

    @property
    def records(self) -> tuple[FaultRecord, ...]:
        """Every record this fault made, in order."""
        return tuple(self._records)

    @property
    def injected(self) -> bool:
        """True from the start of inject until a successful rollback."""
        return self._state in (_State.INJECTING, _State.INJECTED, _State.ROLLING_BACK)

    def start(self) -> str:
        """Inject and verify (what `with` does); returns the evidence. Rolls back on failure."""
        with timing.waiting(timing.STACK):
            return self._start()

    def _start(self) -> str:
        with self._lock:
            if self._state not in (_State.IDLE, _State.RESTORED):
                raise RuntimeError(f"{self.describe()}: already injected; roll it back before injecting again")
            self.prepare()  # refused or not ready: nothing was done, nothing to roll back
            self._listener = fault_listener.get()
            self._state = _State.INJECTING
        try:
            try:
                self.inject()
            except GamedayError:
                raise
            except Exception as exc:
                raise FaultError(f"could not inject {self.describe()}: {_explain(exc)}") from exc
            with self._lock:
                if self._state is _State.INJECTING:
                    self._state = _State.INJECTED
            self._record(FaultAction.INJECTED, self.injected_detail())
            try:
                evidence = self.verify()
            except GamedayError:
                raise
            except Exception as exc:
                raise FaultError(f"could not verify {self.describe()}: {_explain(exc)}") from exc
            self._record(FaultAction.VERIFIED, evidence)
            return evidence
        except BaseException as exc:
            try:
                self.rollback()
            except FaultError as failure:
                exc.add_note(f"and rolling it back failed too: {failure}")
            raise

    def rollback(self) -> None:
        """Undo the fault if it is still in effect, and record which of the two it was.

        A no-op if never injected or already rolled back. Never raises because the fault was
        already gone (the runbook fixed it); raises FaultError, after a "rollback-failed"
        record, when it was in effect and could not be undone (a later call tries again).
        A first Ctrl-C or SIGTERM waits until the rollback is done; a second cuts it short.
        """
        with interrupts.polite(), self._lock, timing.waiting(timing.STACK):
            if self._state in (_State.IDLE, _State.RESTORED, _State.ROLLING_BACK):
                return  # ROLLING_BACK: re-entered (a signal handler during a rollback)
            before = self._state
            self._state = _State.ROLLING_BACK
            try:
                self._rollback(partial=before is _State.INJECTING)
            except BaseException:
                if self._state is _State.ROLLING_BACK:
                    self._state = before
                raise

    def _rollback(self, *, partial: bool) -> None:
        probe_error = ""
        if partial:
            active = True  # inject did not finish: whatever it did, undo it
        else:
            try:
                active = self.is_active()
            except Exception as exc:  # cannot tell: undo to be safe
                active, probe_error = True, f" (could not tell whether still in effect: {_explain(exc)})"
        try:
            if active or self.restore_when_ended:
                self.restore()
        except Exception as exc:
            if not active:
                self._state = _State.RESTORED
                log.warning("%s: already restored, but cleaning up leftovers failed: %s", self.describe(), exc)
                self._record(FaultAction.ALREADY_RESTORED, f"{self.ended_detail()}; cleaning up leftovers failed: "
                                                 f"{_explain(exc)}")
                return
            self._record(FaultAction.ROLLBACK_FAILED, f"{self.describe()}: {_explain(exc)}{probe_error}")
            raise FaultError(f"could not roll back {self.describe()}: {_explain(exc)}") from exc
        except BaseException as exc:  # interrupted while restoring: say so, then let it through
            self._record(FaultAction.ROLLBACK_FAILED, f"{self.describe()}: interrupted ({type(exc).__name__})")
            raise
        self._state = _State.RESTORED
        if active:
            how = " after a partial inject" if partial else ""
            self._record(FaultAction.ROLLED_BACK, f"{self.rolled_back_detail()}{how}{probe_error}")
        else:
            self._record(FaultAction.ALREADY_RESTORED, self.ended_detail())

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self.rollback()
        except FaultError as failure:
            if exc is not None and not isinstance(exc, Exception):  # keep Ctrl-C / SystemExit as they are
                exc.add_note(f"rolling back {self.describe()} failed: {failure}")
                return
            raise

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()!r} {self._state.value}>"

    def _record(self, action: FaultAction, detail: str) -> None:
        record = FaultRecord(fault=self.name, action=action, detail=detail, at=self.clock.now())
        self._records.append(record)
        log.info("fault %s %s: %s", self.name, action, detail)
        listener = fault_listener.get() or self._listener
        if listener is None:
            return
        try:
            listener(record)
        except Exception:  # a broken journal must not stop a rollback
            log.exception("the fault listener failed on %s", record)


def _explain(exc: BaseException) -> str:
    explanation = getattr(exc, "explanation", None)  # docker.errors.APIError
    text = str(explanation or exc) or type(exc).__name__
    return text if isinstance(exc, GamedayError) else f"{type(exc).__name__}: {text}"


# -- blast radius ------------------------------------------------------------------------------


def check_owned(stack: Stack, container: Any) -> Any:
    """`container` if it carries this stack's id label; BlastRadiusError naming it otherwise."""
    labels = container.labels if hasattr(container, "labels") else {}
    labels = labels or (container.attrs.get("Config") or {}).get("Labels") or {}
    found = labels.get(STACK_ID)
    if found != stack.stack_id:
        name = getattr(container, "name", None) or getattr(container, "id", "?")
        has = f"{STACK_ID}={found}" if found else f"no {STACK_ID} label"
        raise BlastRadiusError(
            f"refusing to touch container {name}: it is not part of the harness's stack {stack.name} "
            f"(expected {STACK_ID}={stack.stack_id}, found {has})")
    return container


def owned_container(stack: Stack, service: str) -> Any:
    """The service's container, freshly inspected, after checking that it is the stack's own."""
    return check_owned(stack, stack.container(service))


def owned_host(stack: Stack, host: Host) -> Host:
    """`host` if it is one of the stack's containers (checked as owned_container); never `local`."""
    services = {spec.name for spec in stack.definition.services}
    if host.name == LOCAL_HOST or host.name not in services:
        raise BlastRadiusError(f"refusing to inject a fault on host {host.name!r}: only the containers of "
                               f"stack {stack.name} ({', '.join(sorted(services))}) may be touched")
    owned_container(stack, host.name)
    return host


# -- small shared helpers --------------------------------------------------------------------


def tail(text: str, limit: int = OUTPUT_TAIL_CHARS) -> str:
    """The end of a command's output, on one line, for a record's detail."""
    flat = " | ".join(line for line in text.strip().splitlines() if line.strip())
    return flat if len(flat) <= limit else "..." + flat[-limit:]


def outcome(result: ExecResult) -> str:
    """`exit N: output`, or `timed out`, for details and messages."""
    status = "timed out" if result.timed_out else f"exit {result.exit_code}"
    output = tail(result.stdout + result.stderr)
    return f"{status}: {output}" if output else status


def require_loopback(url: str, what: str) -> str:
    """`url` (or a bare host) if its host is a loopback address; BadInput otherwise."""
    host = urlsplit(url).hostname if "//" in url else url.strip("[]")
    if not host or not is_loopback(host):
        raise BadInput(f"{what} must target 127.0.0.1, localhost or ::1 (the harness only reaches services "
                       f"published on loopback), got {url!r}")
    return url


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def wait_healthy_again(stack: Stack, service: str, timeout: float | None, undone: str) -> None:
    """After a restore: the service must pass its health check again (FaultError otherwise)."""
    try:
        stack.wait_healthy(service, timeout=timeout)
    except Exception as exc:
        raise FaultError(f"{service} was {undone} but did not become healthy: {exc}") from exc
