"""Rows of the registry tables → ``RegisteredModel`` / ``ModelVersion`` records.

Every function takes an open connection inside the caller's transaction. Standard library only.
"""

from __future__ import annotations

import sqlite3

from satchel.errors import NotFoundError
from satchel.models.entities import STAGES, ModelVersion, RegisteredModel

__all__ = ["model_key", "model_version", "registered_model", "version_key"]

_VERSION_COLUMNS = (
    "version, creation_time, last_update_time, current_stage, description, source, run_id, "
    "status, run_link, model_id, user_id"
)


def model_key(conn: sqlite3.Connection, name: str, missing_ok: bool = False) -> int:
    row = conn.execute("SELECT model_key FROM registered_models WHERE name = ?", (name,)).fetchone()
    if row is None:
        if missing_ok:
            return None  # type: ignore[return-value]
        raise NotFoundError(
            f"registered model {name!r} not found",
            hint="list models with 'satchel models list'",
        )
    return int(row[0])


def version_key(conn: sqlite3.Connection, name: str, version: int) -> int:
    """The model key, after checking ``version`` exists."""
    key = model_key(conn, name)
    found = conn.execute(
        "SELECT 1 FROM model_versions WHERE model_key = ? AND version = ?", (key, version)
    ).fetchone()
    if found is None:
        raise NotFoundError(
            f"registered model {name!r} has no version {version}",
            hint=f"list its versions with 'satchel models versions {name}'",
        )
    return key


def _version(conn: sqlite3.Connection, key: int, name: str, row: tuple) -> ModelVersion:
    number = row[0]
    tags = dict(
        conn.execute(
            "SELECT key, value FROM model_version_tags WHERE model_key = ? AND version = ?",
            (key, number),
        ).fetchall()
    )
    aliases = [
        r[0]
        for r in conn.execute(
            "SELECT alias FROM registered_model_aliases WHERE model_key = ? AND version = ? "
            "ORDER BY alias",
            (key, number),
        )
    ]
    return ModelVersion(
        name=name,
        version=str(number),
        creation_timestamp=row[1],
        last_updated_timestamp=row[2],
        current_stage=row[3],
        description=row[4],
        source=row[5],
        run_id=row[6],
        status=row[7],
        run_link=row[8],
        model_id=row[9],
        user_id=row[10],
        tags=tags,
        aliases=aliases,
    )


def model_version(conn: sqlite3.Connection, key: int, name: str, version: int) -> ModelVersion:
    row = conn.execute(
        f"SELECT {_VERSION_COLUMNS} FROM model_versions "  # noqa: S608
        "WHERE model_key = ? AND version = ?",
        (key, version),
    ).fetchone()
    if row is None:
        raise NotFoundError(
            f"registered model {name!r} has no version {version}",
            hint=f"list its versions with 'satchel models versions {name}'",
        )
    return _version(conn, key, name, row)


def registered_model(conn: sqlite3.Connection, name: str) -> RegisteredModel:
    key = model_key(conn, name)
    row = conn.execute(
        "SELECT description, creation_time, last_update_time FROM registered_models "
        "WHERE model_key = ?",
        (key,),
    ).fetchone()
    tags = dict(
        conn.execute(
            "SELECT key, value FROM registered_model_tags WHERE model_key = ?", (key,)
        ).fetchall()
    )
    aliases = {
        alias: str(version)
        for alias, version in conn.execute(
            "SELECT alias, version FROM registered_model_aliases WHERE model_key = ? "
            "ORDER BY alias",
            (key,),
        )
    }
    latest = []
    for stage in STAGES:  # MLflow's latest_versions: the newest version in each stage
        found = conn.execute(
            f"SELECT {_VERSION_COLUMNS} FROM model_versions WHERE model_key = ? "  # noqa: S608
            "AND current_stage = ? ORDER BY version DESC LIMIT 1",
            (key, stage),
        ).fetchone()
        if found is not None:
            latest.append(_version(conn, key, name, found))
    return RegisteredModel(
        name=name,
        creation_timestamp=row[1],
        last_updated_timestamp=row[2],
        description=row[0],
        tags=tags,
        aliases=aliases,
        latest_versions=latest,
    )
