"""One PostgreSQL database shared by many threads, processes and servers, kept boring.

A small pool of idle connections per process (a child after ``fork`` starts its own: a
connection must never cross a fork), short transactions (``READ COMMITTED`` for writes, one
``REPEATABLE READ`` snapshot for reads), migrations applied on the first connection of each
process. When the server goes away (a restart, a failover, a dropped connection) the unit of
work is retried on a fresh connection until ``GIVE_UP_AFTER_S``: every write the stores send
is idempotent, so a transaction whose commit was acknowledged to nobody can safely run again.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import errors as pg_errors

from satchel.errors import StoreUnavailableError
from satchel.tracking.store.postgres_migrations import migrate

__all__ = ["Database", "redact"]

T = TypeVar("T")

GIVE_UP_AFTER_S = 120.0  # long enough to ride out a server restart
CONNECT_TIMEOUT_S = 10
MAX_IDLE = 8  # idle connections kept per process; busier moments open more and close them

# Connection problems worth waiting out; anything else is an answer (or a bug) at once.
_PERMANENT = ("authentication", "does not exist", "no password", "permission denied", "role ")


def redact(uri: str) -> str:
    """``uri`` without its password, fit for messages and logs."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _retryable(exc: psycopg.Error) -> bool:
    if isinstance(exc, (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)):
        return True
    if not isinstance(exc, psycopg.OperationalError):
        return False
    if exc.sqlstate is not None:  # the server answered: shutting down, starting up, overloaded
        return exc.sqlstate[:2] in ("57", "53", "08")
    text = str(exc).lower()
    return not any(word in text for word in _PERMANENT)


class Database:
    """Thread- and fork-safe access to one database: ``write(fn)`` and ``read(fn)``."""

    def __init__(
        self, uri: str, on_create: Callable[[psycopg.Connection], None] | None = None
    ) -> None:
        self.uri = uri
        self._on_create = on_create  # runs once per process, after migrations
        self._lock = threading.Lock()
        self._idle: list[psycopg.Connection] = []
        self._pid = os.getpid()
        self._ready = False
        self.applied: list[int] = []  # migrations this process applied (usually none)

    def __repr__(self) -> str:
        return f"Database({redact(self.uri)!r})"

    # -- connections ---------------------------------------------------------------------
    def _connect(self) -> psycopg.Connection:
        try:
            conn = psycopg.connect(
                self.uri, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                application_name="satchel",
            )  # fmt: skip
        except psycopg.Error as exc:
            if _retryable(exc):
                raise
            raise StoreUnavailableError(
                f"cannot connect to {redact(self.uri)}: {_first_line(exc)}",
                hint="check the host, database name, user and password in the URI",
            ) from None
        if conn.info.encoding != "utf-8":  # e.g. a SQL_ASCII database: text is ours, UTF-8
            conn.execute("SET client_encoding TO 'UTF8'")
        if not self._ready:
            with self._lock:
                if not self._ready:
                    self.applied = migrate(conn)
                    if self._on_create is not None:
                        self._on_create(conn)
                    self._ready = True
        return conn

    def _get(self) -> psycopg.Connection:
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's connections are not ours
                self._idle, self._pid, self._ready = [], os.getpid(), False
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def _put(self, conn: psycopg.Connection, healthy: bool) -> None:
        keep = healthy and not conn.closed and conn.info.transaction_status == 0  # IDLE
        with self._lock:
            if keep and self._pid == os.getpid() and len(self._idle) < MAX_IDLE:
                self._idle.append(conn)
                return
        if self._pid == os.getpid():
            conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        if self._pid == os.getpid():
            for conn in idle:
                conn.close()

    def _discard_idle(self) -> None:
        """After a lost connection every idle one is suspect (the server restarted)."""
        self.close()

    # -- units of work -------------------------------------------------------------------
    def write(self, fn: Callable[[psycopg.Connection], T]) -> T:
        """Run ``fn`` in one transaction; retried on a fresh connection while the server is
        unreachable. ``fn`` must be safe to run again (every store write is idempotent)."""
        return self._retry(lambda: self._transaction(fn, None))

    def read(self, fn: Callable[[psycopg.Connection], T]) -> T:
        """Run ``fn`` on one consistent snapshot."""
        return self._retry(
            lambda: self._transaction(fn, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        )

    def autocommit(self, fn: Callable[[psycopg.Connection], T]) -> T:
        """Run ``fn`` on a connection in autocommit mode (it manages its own transactions,
        e.g. migrations); retried like ``write``."""
        return self._retry(lambda: self._transaction(fn, begin=False))

    def write_one(self, sql: str, args: dict[str, object]) -> tuple | None:
        """One statement as its own transaction (autocommit: one round trip, the lean path
        for single metrics); returns its first row. Retried like ``write``."""
        return self._retry(
            lambda: self._transaction(lambda c: c.execute(sql, args).fetchone(), begin=False)
        )

    def _transaction(
        self, fn: Callable[[psycopg.Connection], T], setup: str | None = None, begin: bool = True
    ) -> T:
        conn = self._get()
        healthy = False
        try:
            if begin:
                with conn.transaction():
                    if setup:
                        conn.execute(setup)
                    result = fn(conn)
            else:
                result = fn(conn)
            healthy = True
            return result
        except psycopg.Error as exc:
            healthy = not isinstance(exc, psycopg.OperationalError)
            raise
        finally:
            self._put(conn, healthy)

    def _retry(self, fn: Callable[[], T]) -> T:
        deadline = None
        delay = 0.05
        while True:
            try:
                return fn()
            except psycopg.Error as exc:
                if not _retryable(exc):
                    raise
                self._discard_idle()
                now = time.monotonic()
                deadline = deadline or now + GIVE_UP_AFTER_S
                if now > deadline:
                    raise StoreUnavailableError(
                        f"tracking database {redact(self.uri)} unreachable for "
                        f"{GIVE_UP_AFTER_S:.0f}s: {_first_line(exc)}",
                        hint="is the PostgreSQL server running?",
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 1.0)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
