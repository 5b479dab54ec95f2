"""The model registry and MLflow 3's logged models in the PostgreSQL store.

The registry's SQL is written once (``sqlite_registry``, ``sqlite_logged_models``,
``registry_sql``) in the subset both databases speak, over the same tables (PostgreSQL
migration 3 mirrors SQLite's schema 4). Here it runs on PostgreSQL: ``?`` placeholders become
psycopg's ``%s`` and LIKE patterns use PostgreSQL's case-sensitive LIKE (``POSTGRES``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import psycopg

from satchel.tracking.store.postgres_db import Database
from satchel.tracking.store.postgres_search import POSTGRES, pg_sql
from satchel.tracking.store.sqlite_logged_models import SqliteLoggedModels
from satchel.tracking.store.sqlite_registry import SqliteRegistry
from satchel.tracking.store.sqlite_search import Dialect

__all__ = ["PostgresRegistry", "QmarkDatabase"]

T = TypeVar("T")


class _QmarkConnection:
    """A psycopg connection taking the registry's ``?``-style SQL."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, args: Iterable[object] = ()) -> Any:
        return self.conn.execute(pg_sql(sql), tuple(args))

    def executemany(self, sql: str, rows: Iterable[Iterable[object]]) -> None:
        batch = [tuple(row) for row in rows]
        if batch:
            with self.conn.cursor() as cursor:
                cursor.executemany(pg_sql(sql), batch)


class QmarkDatabase:
    """``read``/``write`` units of work over the PostgreSQL ``Database``, as the SQLite
    ``Database`` offers them to the registry code."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def write(self, fn: Callable[[Any], T]) -> T:
        return self.db.write(lambda conn: fn(_QmarkConnection(conn)))

    def read(self, fn: Callable[[Any], T]) -> T:
        return self.db.read(lambda conn: fn(_QmarkConnection(conn)))


class PostgresRegistry(SqliteRegistry, SqliteLoggedModels):
    """Mixed into ``PostgresStore``, which sets ``registry_db = QmarkDatabase(self.db)``."""

    def _registry_dialect(self) -> Dialect:
        return POSTGRES
