"""``satchel db upgrade``: apply a store's pending schema migrations now and say which.

Stores also migrate on first use; this lets an administrator do it at a chosen moment (before
starting servers, after installing a new Satchel). One function per scheme.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable

from satchel.errors import InvalidValueError
from satchel.tracking.uri import resolve_tracking_uri, sqlite_path

__all__ = ["upgrade"]


def _sqlite(uri: str) -> list[int]:
    from satchel.tracking.store.migrations import migrate
    from satchel.tracking.store.sqlite_db import BUSY_TIMEOUT_S

    path = sqlite_path(uri)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        return migrate(conn)
    finally:
        conn.close()


def _postgres(uri: str) -> list[int]:
    from satchel.tracking.store.postgres import PostgresStore

    store = PostgresStore(uri)
    try:
        _ = store.artifact_root  # the first connection migrates and initialises the store
        return store.db.applied
    finally:
        store.close()


_UPGRADES: dict[str, Callable[[str], list[int]]] = {
    "sqlite": _sqlite,
    "postgresql": _postgres,
}


def upgrade(uri: str) -> list[int]:
    """Apply the pending migrations of the store at ``uri``; the versions applied now."""
    resolved = resolve_tracking_uri(uri)
    scheme = resolved.partition("://")[0]
    if scheme not in _UPGRADES:
        raise InvalidValueError(
            f"{scheme} stores have no schema to upgrade", hint="pass the server's database URI"
        )
    return _UPGRADES[scheme](resolved)
