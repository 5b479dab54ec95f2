"""One SQLite database file shared by many threads and processes, kept boring.

A connection per thread *and* per process (a child after ``fork`` opens its own: SQLite
connections must never cross a fork), WAL with ``synchronous=NORMAL`` (a commit is durable
against a crash of the process as soon as it returns; only a power loss can undo the last
few), a busy timeout, foreign keys on, and short ``BEGIN IMMEDIATE`` write transactions.
"database is locked" is retried here and never reaches a caller. Standard library only.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence

from satchel.errors import StoreUnavailableError
from satchel.tracking.store.migrations import migrate

__all__ = ["Database"]

TYPE_CHECKING = False  # `typing` costs ~5 ms on every project's first log call
if TYPE_CHECKING:
    from typing import TypeVar

    T = TypeVar("T")

BUSY_TIMEOUT_S = 30.0  # SQLite's own wait on a lock, per statement
GIVE_UP_AFTER_S = 600.0  # our retries on top of it; only a wedged store gets this far

# Connections inherited across fork belong to the parent: closing them in the child could
# disturb the parent's locks, so they are parked here and never touched again.
_INHERITED: list[sqlite3.Connection] = []

# Bumped in every forked child, so ``conn()`` notices a fork without a getpid() system call
# on each unit of work (the single-metric path counts microseconds).
_fork_generation = [0]


def _after_fork() -> None:
    _fork_generation[0] += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


_DAMAGE = (
    ("disk is full", "free some disk space and try again"),
    ("disk i/o error", "check the disk holding it"),
    ("readonly database", "make the file and its directory writable"),
    ("no such table", "its schema is damaged: restore it from a backup or use another store"),
    ("no such column", "its schema is damaged: restore it from a backup or use another store"),
    ("malformed", "the file is damaged: restore it from a backup or use another store"),
)


def _is_busy(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class Database:
    """Thread- and fork-safe access to one SQLite file: ``write(fn)`` and ``read(fn)``."""

    def __init__(
        self, path: str, on_create: Callable[[sqlite3.Connection], None] | None = None
    ) -> None:
        self.path = path
        self._on_create = on_create  # runs once per connection, after migrations
        self._local = threading.local()

    # -- connections ---------------------------------------------------------------------
    def conn(self) -> sqlite3.Connection:
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is not None:
            if local.generation == _fork_generation[0]:
                return conn
            _INHERITED.append(conn)
        conn = self._retry(self._open)
        local.conn, local.generation = conn, _fork_generation[0]
        return conn

    def _open(self) -> sqlite3.Connection:
        directory = os.path.dirname(self.path)
        try:
            if directory:
                os.makedirs(directory, exist_ok=True)
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, cached_statements=256
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailableError(
                f"cannot open tracking database {self.path}: {exc}",
                hint="check the path and its permissions",
            ) from exc
        try:
            # journal_mode is stored in the file: set it once, not on every open.
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            migrate(conn)
            if self._on_create is not None:
                self._on_create(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            if isinstance(exc, sqlite3.OperationalError) and _is_busy(exc):
                raise  # retried by the caller
            raise StoreUnavailableError(
                f"cannot use tracking database {self.path}: {exc}",
                hint="check it is a Satchel store on a writable disk",
            ) from exc
        except BaseException:
            conn.close()
            raise
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.generation == _fork_generation[0]:
            conn.close()
        self._local.conn = None

    # -- units of work -------------------------------------------------------------------
    def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one ``BEGIN IMMEDIATE`` transaction; retried while the db is busy."""
        return self._retry(lambda: self._transaction(fn, "BEGIN IMMEDIATE"))

    def write_one(self, sql: str, args: Sequence[object]) -> int:
        """One write statement as its own transaction (autocommit: SQLite takes the write lock
        when the statement starts, like BEGIN IMMEDIATE, and commits when it ends); returns
        the rows it changed, its triggers' included. The lean path for single metrics."""
        try:
            return self._execute_counted(sql, args)
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise self._damage(exc) or exc from exc
        return self._retry(lambda: self._execute_counted(sql, args))

    def _execute_counted(self, sql: str, args: Sequence[object]) -> int:
        conn = self.conn()
        before = conn.total_changes  # counts trigger work too, unlike rowcount
        conn.execute(sql, args)
        return conn.total_changes - before

    def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` on one consistent snapshot (a deferred read transaction)."""
        return self._retry(lambda: self._transaction(fn, "BEGIN"))

    def _transaction(self, fn: Callable[[sqlite3.Connection], T], begin: str) -> T:
        conn = self.conn()
        conn.execute(begin)
        try:
            result = fn(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return result

    def _damage(self, exc: sqlite3.DatabaseError) -> StoreUnavailableError | None:
        """The one line for what the machine or the file did (a full disk, a read-only file,
        a damaged schema); None for anything else, which stays our bug."""
        text = str(exc).lower()
        for pattern, hint in _DAMAGE:
            if pattern in text:
                return StoreUnavailableError(f"tracking database {self.path}: {exc}", hint=hint)
        return None

    def _retry(self, fn: Callable[[], T]) -> T:
        deadline = None
        delay = 0.001
        while True:
            try:
                return fn()
            except sqlite3.DatabaseError as exc:
                if not _is_busy(exc):
                    raise self._damage(exc) or exc from exc
                now = time.monotonic()
                deadline = deadline or now + GIVE_UP_AFTER_S
                if now > deadline:
                    raise StoreUnavailableError(
                        f"tracking database {self.path} stayed locked for {GIVE_UP_AFTER_S:.0f}s",
                        hint="is another process stuck holding it?",
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
