"""PostgreSQL access with psycopg 3: a bounded connection pool and the queries.

By default every use opens a fresh connection and closes it afterwards, so a database that
stops accepting connections is noticed by the very next request. With a maximum age
(DB_CONN_MAX_AGE_SECONDS, like Django's CONN_MAX_AGE) a connection is kept after use and
reused until it is that old: a request then pays the network's round trip for its queries
only, not for the handshake of a new connection. A kept connection that broke is dropped, and
the request that found it broken fails as it would have anyway.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.types.json import Jsonb

from .redaction import redact_text

Conn = psycopg.Connection[Any]
_SCHEMA_LOCK_ID = 7_311_402  # arbitrary advisory-lock key shared by the service and the CLI

SCHEMA_STATEMENTS = (
    """CREATE TABLE IF NOT EXISTS users (
        user_id text PRIMARY KEY,
        created_at timestamptz DEFAULT now())""",
    """CREATE TABLE IF NOT EXISTS sessions (
        session_id text PRIMARY KEY,
        user_id text NOT NULL,
        token_sha256 text NOT NULL,
        created_at timestamptz DEFAULT now(),
        expires_at timestamptz NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS sessions_user_id_idx ON sessions (user_id)",
    """CREATE TABLE IF NOT EXISTS chats (
        chat_id bigserial PRIMARY KEY,
        user_id text NOT NULL,
        title text NOT NULL,
        messages jsonb NOT NULL,
        created_at timestamptz DEFAULT now())""",
    "CREATE INDEX IF NOT EXISTS chats_user_id_idx ON chats (user_id, created_at DESC)",
    """CREATE TABLE IF NOT EXISTS banned_users (
        user_id text PRIMARY KEY,
        reason text,
        banned_at timestamptz DEFAULT now())""",
)


class StorageError(Exception):
    """Base class: the request cannot be served because of the database."""


class DatabaseUnavailable(StorageError):
    """Connecting failed, the connection broke, or the schema vanished."""


class PoolTimeout(StorageError):
    """Every pool slot stayed busy for longer than the acquire timeout."""


def describe_error(exc: BaseException) -> str:
    """First line of an error message, shortened and stripped of credentials."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return redact_text(text)[:200]


class BoundedPool:
    """At most ``max_size`` concurrent connections, each opened fresh and closed after use."""

    def __init__(
        self,
        conninfo: str,
        max_size: int,
        acquire_timeout: float,
        connect_timeout: int,
        init: Callable[[Conn], None] | None = None,
        max_age: float = 0.0,
    ) -> None:
        self._conninfo = conninfo
        self._max_age = max_age
        self._idle: list[tuple[float, Conn]] = []  # kept connections (at most max_size: one per slot)
        self._idle_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_size)
        self._acquire_timeout = acquire_timeout
        self._connect_timeout = connect_timeout
        self._init = init
        self._init_done = False
        self._init_lock = threading.Lock()

    def _connect(self) -> Conn:
        try:
            return psycopg.connect(self._conninfo, autocommit=True, connect_timeout=self._connect_timeout)
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(describe_error(exc)) from exc

    def _initialise(self, conn: Conn) -> None:
        if self._init is None or self._init_done:
            return
        with self._init_lock:
            if not self._init_done:
                self._init(conn)
                self._init_done = True

    def _take(self) -> tuple[float, Conn]:
        """A kept connection young enough to reuse, else a new one (and when it was opened)."""
        with self._idle_lock:
            while self._idle:
                opened, conn = self._idle.pop()
                if not conn.closed and time.monotonic() - opened < self._max_age:
                    return opened, conn
                conn.close()
        return time.monotonic(), self._connect()

    def _give_back(self, opened: float, conn: Conn, ok: bool) -> None:
        if ok and self._max_age > 0 and not conn.closed and time.monotonic() - opened < self._max_age:
            with self._idle_lock:
                self._idle.append((opened, conn))
            return
        conn.close()

    @contextmanager
    def connection(self) -> Iterator[Conn]:
        """Borrow a slot and a connection (fresh, or kept if DB_CONN_MAX_AGE_SECONDS allows);
        storage failures become StorageError."""
        if not self._slots.acquire(timeout=self._acquire_timeout):
            raise PoolTimeout(f"no free database connection within {self._acquire_timeout:g}s")
        try:
            opened, conn = self._take()
            ok = False
            try:
                self._initialise(conn)
                yield conn
                ok = True
            except pg_errors.UndefinedTable as exc:
                self._init_done = False  # database was recreated: rebuild the schema next time
                raise DatabaseUnavailable(describe_error(exc)) from exc
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                raise DatabaseUnavailable(describe_error(exc)) from exc
            finally:
                self._give_back(opened, conn, ok)
        finally:
            self._slots.release()

    def probe(self) -> None:
        """Open a fresh connection outside the pool slots and run ``SELECT 1``."""
        conn = self._connect()
        try:
            conn.execute("SELECT 1").fetchone()
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise DatabaseUnavailable(describe_error(exc)) from exc
        finally:
            conn.close()


def ensure_schema(conn: Conn) -> None:
    """Create the tables if they do not exist (idempotent, serialised by an advisory lock)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s::bigint)", (_SCHEMA_LOCK_ID,))
        for statement in SCHEMA_STATEMENTS:
            conn.execute(statement)


@dataclass(frozen=True)
class SessionRow:
    session_id: str
    user_id: str
    token_sha256: str
    expires_at: datetime


@dataclass(frozen=True)
class ChatSummary:
    chat_id: int
    title: str
    created_at: datetime


def upsert_user(conn: Conn, user_id: str) -> None:
    conn.execute("INSERT INTO users (user_id) VALUES (%s) ON CONFLICT (user_id) DO NOTHING", (user_id,))


def is_banned(conn: Conn, user_id: str) -> bool:
    row = conn.execute("SELECT 1 FROM banned_users WHERE user_id = %s", (user_id,)).fetchone()
    return row is not None


def insert_session(
    conn: Conn, session_id: str, user_id: str, token_sha256: str, expires_at: datetime
) -> None:
    with conn.transaction():
        conn.execute("DELETE FROM sessions WHERE user_id = %s AND expires_at < now()", (user_id,))
        conn.execute(
            "INSERT INTO sessions (session_id, user_id, token_sha256, expires_at) VALUES (%s, %s, %s, %s)",
            (session_id, user_id, token_sha256, expires_at),
        )


def get_session(conn: Conn, session_id: str) -> SessionRow | None:
    row = conn.execute(
        "SELECT session_id, user_id, token_sha256, expires_at FROM sessions WHERE session_id = %s",
        (session_id,),
    ).fetchone()
    return None if row is None else SessionRow(*row)


def delete_session(conn: Conn, session_id: str) -> bool:
    cur = conn.execute("DELETE FROM sessions WHERE session_id = %s", (session_id,))
    return cur.rowcount > 0


def insert_chat(conn: Conn, user_id: str, title: str, messages: list[object]) -> int:
    row = conn.execute(
        "INSERT INTO chats (user_id, title, messages) VALUES (%s, %s, %s) RETURNING chat_id",
        (user_id, title, Jsonb(messages)),
    ).fetchone()
    if row is None:
        raise RuntimeError("INSERT ... RETURNING produced no row")
    return int(row[0])


def list_chats(conn: Conn, user_id: str, limit: int = 50) -> list[ChatSummary]:
    rows = conn.execute(
        "SELECT chat_id, title, created_at FROM chats WHERE user_id = %s"
        " ORDER BY created_at DESC, chat_id DESC LIMIT %s",
        (user_id, limit),
    ).fetchall()
    return [ChatSummary(int(r[0]), r[1], r[2]) for r in rows]


def ban_user(conn: Conn, user_id: str, reason: str | None) -> int:
    """Ban ``user_id`` and revoke its sessions; returns the number of sessions revoked."""
    with conn.transaction():
        conn.execute(
            "INSERT INTO banned_users (user_id, reason) VALUES (%s, %s)"
            " ON CONFLICT (user_id) DO UPDATE SET reason = EXCLUDED.reason",
            (user_id, reason),
        )
        return conn.execute("DELETE FROM sessions WHERE user_id = %s", (user_id,)).rowcount


def unban_user(conn: Conn, user_id: str) -> bool:
    cur = conn.execute("DELETE FROM banned_users WHERE user_id = %s", (user_id,))
    return cur.rowcount > 0


def list_bans(conn: Conn) -> list[tuple[str, str | None, datetime]]:
    rows = conn.execute(
        "SELECT user_id, reason, banned_at FROM banned_users ORDER BY banned_at, user_id"
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def active_session_counts(conn: Conn) -> list[tuple[str, int]]:
    rows = conn.execute(
        "SELECT user_id, count(*) FROM sessions WHERE expires_at > now() GROUP BY user_id ORDER BY user_id"
    ).fetchall()
    return [(r[0], int(r[1])) for r in rows]
