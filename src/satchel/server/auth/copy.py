"""``satchel db copy``'s second half: who may do what. Users (password hashes), tokens
(hashes), groups, members, grants (on experiments and on registered models, by name) and
the default level go from the source store's auth
tables into a PostgreSQL store's, as upserts: copying twice changes nothing, and a team
moving its server keeps its sign-ins and permissions (experiment ids are kept by the copy).
"""

from __future__ import annotations

from typing import Any

from satchel.server.auth.schema import Sql, ensure_schema

__all__ = ["AUTH_TABLES", "copy_auth"]

# each table, its columns and its key, users and groups before what refers to them
AUTH_TABLES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("auth_users", ("username", "password_hash", "is_admin", "created_at"), ("username",)),
    ("auth_groups", ("name", "created_at"), ("name",)),
    (
        "auth_tokens",
        ("token_hash", "username", "name", "created_at", "expires_at", "revoked_at"),
        ("token_hash",),
    ),
    ("auth_members", ("group_name", "username"), ("group_name", "username")),
    ("auth_grants", ("principal", "experiment_id", "level"), ("principal", "experiment_id")),
    ("auth_settings", ("key", "value"), ("key",)),
    ("auth_model_grants", ("principal", "model_name", "level"), ("principal", "model_name")),
)


def _is_postgres(store: Any) -> bool:
    return type(store).__name__ == "PostgresStore"


def _read(store: Any) -> dict[str, list[tuple]]:
    postgres = _is_postgres(store)
    probe = (
        "SELECT 1 FROM pg_tables WHERE tablename = ?"
        if postgres
        else "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    )

    def work(conn: Any) -> dict[str, list[tuple]]:
        sql = Sql(conn, postgres)
        if sql.one(probe, ("auth_users",)) is None:
            return {}  # this store never had auth
        return {  # a table a later auth migration adds may not be there yet: nothing to copy
            table: sql.all(f"SELECT {', '.join(cols)} FROM {table}")  # noqa: S608
            if sql.one(probe, (table,))
            else []
            for table, cols, _ in AUTH_TABLES
        }

    found: dict[str, list[tuple]] = store.db.read(work)
    return found


def _upsert(conn: Any, rows: dict[str, list[tuple]]) -> None:
    for table, cols, key in AUTH_TABLES:
        changed = [c for c in cols if c not in key]
        action = "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in changed)
        marks = ", ".join(["%s"] * len(cols))
        statement = (
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks}) "  # noqa: S608
            f"ON CONFLICT ({', '.join(key)}) " + (action if changed else "DO NOTHING")
        )
        for row in rows[table]:
            conn.execute(statement, row)


def copy_auth(source_uri: str, dest_uri: str) -> int:
    """Copy the auth tables of the store at ``source_uri`` into the PostgreSQL store at
    ``dest_uri`` (after ``copy_store``); the number of users copied (0 when the source
    never had auth)."""
    from satchel.tracking.store import get_store

    source, dest = get_store(source_uri, create=False), get_store(dest_uri)
    rows = _read(source)
    if not rows:
        return 0
    database: Any = dest.db  # type: ignore[attr-defined]  # a SQL store's (copy_store checked)
    ensure_schema(database, postgres=True)
    database.write(lambda conn: _upsert(conn, rows))
    return len(rows["auth_users"])
