"""Resource faults: a leaking client that holds a PostgreSQL server's connection slots.

Real sessions, opened from the harness machine to the database's port published on loopback,
each left idle in transaction (`BEGIN; SELECT 1;` and nothing more), as a client that leaks
transactions would. It opens sessions until it holds `count` or the server refuses ("too many
clients" / "remaining connection slots are reserved"), and proves the exhaustion by being
refused one more. Like a real leak it keeps taking slots that other clients free (the service's
own sessions end a moment later: without this the service would get its slots back and the
fault would fade by itself), every TOP_UP_INTERVAL, up to `count`, until one of its sessions is
terminated: someone is fixing it. A runbook that terminates the sessions (`pg_terminate_backend`)
ends the fault; otherwise rollback closes them, and a watchdog closes them after `max_seconds`.
With `in_transaction=False` the sessions sit plain `idle` instead (a client that keeps
connections open and unused, such as a pool that never closes them).
"""

from __future__ import annotations

import contextlib
import logging
import math
import select
import threading
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict

from harness.clock import SYSTEM_CLOCK, Clock
from harness.errors import BadInput
from harness.faults.base import Fault, FaultError, FaultNotEffective, is_loopback

log = logging.getLogger(__name__)

APPLICATION_NAME = "gameday-connection-hog"
# Sessions freed by other clients between the fill and the proof are taken too, this many times.
TOP_UP_ATTEMPTS = 5
TOP_UP_INTERVAL = 0.1  # how often, once proven, the leak takes slots other clients freed
_REFUSALS = ("too many clients", "remaining connection slots", "too_many_connections")
_TOO_MANY_CONNECTIONS = "53300"

Conn = psycopg.Connection[Any]


def is_refusal(exc: BaseException) -> bool:
    """Whether a connection error is the server refusing for want of free connection slots."""
    if getattr(exc, "sqlstate", None) == _TOO_MANY_CONNECTIONS:
        return True
    text = str(exc).lower()
    return any(marker in text for marker in _REFUSALS)


def dsn_target(dsn: str) -> str:
    """`host:port/dbname` of a DSN, never its password; BadInput unless every host is loopback."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise BadInput(f"the connection hog's DSN is not valid: {exc}") from None
    hosts = [h for h in str(params.get("host") or "").split(",") if h]
    hosts += [h for h in str(params.get("hostaddr") or "").split(",") if h]
    if not hosts or not all(is_loopback(h) for h in hosts):
        raise BadInput(f"the connection hog connects to loopback only (a port the stack publishes on 127.0.0.1), "
                       f"got host {params.get('host') or params.get('hostaddr') or '(none: a local socket)'!r}")
    return f"{params.get('host') or params.get('hostaddr')}:{params.get('port') or 5432}/{params.get('dbname', '')}"


class ConnectionHog(Fault):
    """Up to `count` PostgreSQL sessions held idle in transaction, until rolled back.

    `dsn` is called at inject time (ports change when containers restart); it must name a
    loopback host and a role without superuser rights (a superuser could take the slots
    reserved for the operators who must fix this, so it is refused).
    """

    name = "connection-hog"

    def __init__(self, dsn: Callable[[], str], *, count: int, hold_query: str = "SELECT 1",
                 connect_timeout: float = 3.0, max_seconds: float = 600.0,
                 application_name: str = APPLICATION_NAME, in_transaction: bool = True,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(clock=clock)
        self.in_transaction = in_transaction
        if count < 1:
            raise BadInput(f"a connection hog needs a positive count, got {count}")
        if not (0 < max_seconds < math.inf and 0 < connect_timeout < math.inf):
            raise BadInput("a connection hog needs a finite, positive max_seconds and connect_timeout")
        self.dsn, self.count, self.hold_query = dsn, count, hold_query
        # libpq takes whole seconds, and treats anything under 2 as 2.
        self.connect_timeout = max(2, math.ceil(connect_timeout))
        self.max_seconds, self.application_name = max_seconds, application_name
        self._conns: list[Conn] = []
        self._conns_lock = threading.RLock()
        self._watchdog: threading.Timer | None = None
        self._target = "the database"
        self._stopped_by = ""
        self._topping = threading.Event()  # set: stop taking freed slots
        self._topper: threading.Thread | None = None

    @property
    def _state_words(self) -> str:
        return "idle in transaction" if self.in_transaction else "idle"

    def describe(self) -> str:
        return f"up to {self.count} sessions held {self._state_words} on {self._target}"

    def held(self) -> int:
        """How many of its sessions are open and alive now."""
        with self._conns_lock:
            return sum(1 for conn in self._conns if _alive(conn))

    # -- sessions --------------------------------------------------------------------------------

    def _connect(self, dsn: str) -> Conn:
        return psycopg.connect(dsn, connect_timeout=self.connect_timeout, autocommit=not self.in_transaction,
                               application_name=self.application_name)

    def _hold(self, conn: Conn) -> None:
        """Start the transaction that the session then sits in, idle."""
        if conn.info.parameter_status("is_superuser") == "on":
            conn.close()
            raise BadInput("the connection hog must not connect as a superuser: it would take the slots "
                           "PostgreSQL reserves for the operators who must end it; use the application's role")
        conn.execute(self.hold_query)
        self._conns.append(conn)

    def inject(self) -> None:
        dsn = self.dsn()
        self._target = dsn_target(dsn)
        self._watchdog = threading.Timer(self.max_seconds, self._expire)
        self._watchdog.daemon = True
        self._watchdog.start()
        with self._conns_lock:
            while len(self._conns) < self.count:
                try:
                    conn = self._connect(dsn)
                except psycopg.OperationalError as exc:
                    if is_refusal(exc) and self._conns:
                        self._stopped_by = _first_line(exc)
                        return
                    raise FaultError(f"the connection hog could not open session {len(self._conns) + 1} "
                                     f"on {self._target}: {_first_line(exc)}") from exc
                self._hold(conn)
            self._stopped_by = f"reached its count of {self.count}"

    def injected_detail(self) -> str:
        return f"holding {len(self._conns)} sessions {self._state_words} on {self._target} " \
               f"(stopped opening: {self._stopped_by})"

    def verify(self) -> str:
        dsn = self.dsn()
        with self._conns_lock:
            for _attempt in range(TOP_UP_ATTEMPTS):
                held = sum(1 for conn in self._conns if _alive(conn))
                if held == 0:
                    raise FaultNotEffective(f"{self.describe()}: it holds no session")
                try:
                    extra = self._connect(dsn)
                except psycopg.OperationalError as exc:
                    if is_refusal(exc):
                        self._start_topping(dsn)
                        return f"holding {held} sessions {self._state_words} on {self._target}; " \
                               f"one more connection was refused: {_first_line(exc)}"
                    raise FaultNotEffective(f"{self.describe()}: the proof connection failed, but not for want "
                                            f"of slots: {_first_line(exc)}") from exc
                if len(self._conns) >= self.count:  # the server still has room: count is too small
                    extra.close()
                    raise FaultNotEffective(f"{self.describe()}: with {held} sessions held the server still "
                                            "accepts connections; raise the count above its free slots")
                self._hold(extra)  # a slot another client had just freed: take it too, then prove again
        raise FaultNotEffective(f"{self.describe()}: the server kept freeing slots; "
                                f"{TOP_UP_ATTEMPTS} more sessions taken and it still accepts connections")

    def _start_topping(self, dsn: str) -> None:
        self._topping.clear()
        self._topper = threading.Thread(target=self._top_up, args=(dsn,), name="gameday-connection-hog", daemon=True)
        self._topper.start()

    def _top_up(self, dsn: str) -> None:
        """Take slots other clients free, until stopped or one of the held sessions is gone."""
        while not self._topping.wait(TOP_UP_INTERVAL):
            with self._conns_lock:
                if self._topping.is_set() or not self._conns or not all(_alive(c) for c in self._conns):
                    return  # rolled back, or a session was terminated: the fix has begun, stop leaking
                if len(self._conns) >= self.count:
                    continue
                try:
                    conn = self._connect(dsn)
                    if not all(_alive(c) for c in self._conns):  # terminated while we connected
                        _close(conn)
                        return
                    self._hold(conn)
                except psycopg.Error as exc:
                    if not is_refusal(exc):
                        log.info("the connection hog could not take a freed slot: %s", _first_line(exc))
                except BadInput:
                    return

    def is_active(self) -> bool:
        return self.held() > 0

    def restore(self) -> None:
        self._topping.set()
        topper, self._topper = self._topper, None
        if topper is not None and topper is not threading.current_thread():
            topper.join(self.connect_timeout + 1)
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None and watchdog is not threading.current_thread():
            watchdog.cancel()
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            _close(conn)

    def _expire(self) -> None:
        """The watchdog: no hog outlives max_seconds, whatever happens to the drill."""
        log.warning("%s: held for max_seconds=%g, releasing", self.describe(), self.max_seconds)
        try:
            self.rollback()
        except FaultError as exc:
            log.error("the connection hog's watchdog could not release its sessions: %s", exc)

    def ended_detail(self) -> str:
        return f"{self.describe()}: its sessions had all been terminated when the harness came to roll back"


def _alive(conn: Conn) -> bool:
    """Open, and nothing waiting on its socket: an idle session only hears from the server when
    the server ends it (pg_terminate_backend, shutdown), so readable means gone."""
    try:
        if conn.closed or conn.pgconn.status != pq.ConnStatus.OK:
            return False
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError, psycopg.Error):
        return False
    return not readable


def _close(conn: Conn) -> None:
    """Roll back and close, never blocking on a server that is gone or frozen: the ROLLBACK is
    sent without waiting for its answer (the server ends the transaction with the session anyway)."""
    with contextlib.suppress(OSError, psycopg.Error):
        if _alive(conn):
            conn.pgconn.send_query(b"ROLLBACK")
    with contextlib.suppress(OSError, psycopg.Error):
        conn.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
