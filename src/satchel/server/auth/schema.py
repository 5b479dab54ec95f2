"""The auth tables: in the tracking database itself (SQLite or PostgreSQL), with their own
migration ledger (``auth_migrations``) so they never collide with the tracking schema's
numbering. The SQL is written once, in the subset both databases speak (``?`` placeholders,
converted for PostgreSQL by ``Sql``).
"""

from __future__ import annotations

import time
from typing import Any

__all__ = ["AUTH_MIGRATIONS", "Sql", "ensure_schema"]

_T = "TEXT"
AUTH_MIGRATIONS: list[tuple[int, str, tuple[str, ...]]] = [
    (
        1,
        "users, tokens, groups, grants, settings",
        (
            f"""CREATE TABLE auth_users (
            username {_T} PRIMARY KEY,
            password_hash {_T},
            is_admin INTEGER NOT NULL DEFAULT 0,
            created_at BIGINT NOT NULL)""",
            f"""CREATE TABLE auth_tokens (
            token_hash {_T} PRIMARY KEY,
            username {_T} NOT NULL REFERENCES auth_users(username) ON DELETE CASCADE,
            name {_T} NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT,
            revoked_at BIGINT,
            UNIQUE (username, name))""",
            f"""CREATE TABLE auth_groups (
            name {_T} PRIMARY KEY,
            created_at BIGINT NOT NULL)""",
            f"""CREATE TABLE auth_members (
            group_name {_T} NOT NULL REFERENCES auth_groups(name) ON DELETE CASCADE,
            username {_T} NOT NULL REFERENCES auth_users(username) ON DELETE CASCADE,
            PRIMARY KEY (group_name, username))""",
            # principal: 'user:<name>' or 'group:<name>'; level READ, EDIT or MANAGE
            f"""CREATE TABLE auth_grants (
            principal {_T} NOT NULL,
            experiment_id BIGINT NOT NULL,
            level {_T} NOT NULL,
            PRIMARY KEY (principal, experiment_id))""",
            "CREATE INDEX auth_grants_by_experiment ON auth_grants (experiment_id)",
            f"""CREATE TABLE auth_settings (
            key {_T} PRIMARY KEY,
            value {_T} NOT NULL)""",
        ),
    ),
    (
        2,
        "grants on registered models",
        (
            # by the model's name: a rename moves its grants, a delete drops them
            f"""CREATE TABLE auth_model_grants (
            principal {_T} NOT NULL,
            model_name {_T} NOT NULL,
            level {_T} NOT NULL,
            PRIMARY KEY (principal, model_name))""",
            "CREATE INDEX auth_model_grants_by_model ON auth_model_grants (model_name)",
        ),
    ),
]
_LOCK_KEY = 0x5341544155544800  # "SATAUTH": the PostgreSQL advisory lock for these tables


class Sql:
    """One database connection of either kind, speaking ``?`` placeholders."""

    def __init__(self, conn: Any, postgres: bool) -> None:
        self.conn = conn
        self.postgres = postgres

    def execute(self, sql: str, args: tuple = ()) -> Any:
        return self.conn.execute(sql.replace("?", "%s") if self.postgres else sql, args)

    def one(self, sql: str, args: tuple = ()) -> tuple | None:
        row: tuple | None = self.execute(sql, args).fetchone()
        return row

    def all(self, sql: str, args: tuple = ()) -> list[tuple]:
        return list(self.execute(sql, args).fetchall())


def _sqlite_migrate(db: Any) -> None:
    def work(conn: Any) -> None:  # inside BEGIN IMMEDIATE: one process migrates at a time
        conn.execute(
            "CREATE TABLE IF NOT EXISTS auth_migrations (version INTEGER PRIMARY KEY, "
            "name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM auth_migrations")}
        for version, name, statements in AUTH_MIGRATIONS:
            if version not in done:
                for statement in statements:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO auth_migrations VALUES (?, ?, ?)",
                    (version, name, int(time.time() * 1000)),
                )

    db.write(work)


def _postgres_migrate(db: Any) -> None:
    from satchel.tracking.store.postgres_migrations import migrate

    def work(conn: Any) -> list[int]:
        return migrate(conn, AUTH_MIGRATIONS, "auth_migrations", _LOCK_KEY)

    db.autocommit(work)


def ensure_schema(db: Any, postgres: bool) -> None:
    """Apply pending auth migrations on ``db`` (a store's ``Database``)."""
    (_postgres_migrate if postgres else _sqlite_migrate)(db)
