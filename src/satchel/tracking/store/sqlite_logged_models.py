"""MLflow 3's logged models in the embedded SQLite store (mixed into ``SqliteStore``).

``mlflow.<flavor>.log_model`` creates one (PENDING), uploads the files under its
``artifact_location`` (``<experiment artifacts>/models/<model_id>/artifacts``), then marks it
READY; ``register_model`` finds it by name and source run. Standard library only.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from satchel.errors import InvalidValueError, NotFoundError
from satchel.models.entities import LoggedModel
from satchel.tracking import validation as v
from satchel.tracking.entities import PagedList
from satchel.tracking.search import decode_page_token, encode_page_token, parse_filter
from satchel.tracking.store.sqlite_db import Database

if TYPE_CHECKING:
    from satchel.tracking.entities import Experiment

__all__ = ["SqliteLoggedModels"]

STATUSES = ("LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED")
_COLUMNS = (
    "model_id, experiment_id, name, artifact_location, creation_time, last_update_time, "
    "status, model_type, source_run_id"
)
_FILTERABLE = {
    "name": "name",
    "source_run_id": "source_run_id",
    "model_id": "model_id",
    "status": "status",
    "model_type": "model_type",
}


def _read(conn: sqlite3.Connection, model_id: str) -> LoggedModel:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM logged_models WHERE model_id = ? "  # noqa: S608
        "AND lifecycle_stage = 'active'",
        (model_id,),
    ).fetchone()
    if row is None:
        raise NotFoundError(f"logged model {model_id!r} not found")
    tags = dict(
        conn.execute(
            "SELECT key, value FROM logged_model_tags WHERE model_id = ?", (model_id,)
        ).fetchall()
    )
    params = dict(
        conn.execute(
            "SELECT key, value FROM logged_model_params WHERE model_id = ?", (model_id,)
        ).fetchall()
    )
    return LoggedModel(
        model_id=row[0],
        experiment_id=str(row[1]),
        name=row[2],
        artifact_location=row[3],
        creation_timestamp=row[4],
        last_updated_timestamp=row[5],
        status=row[6],
        model_type=row[7],
        source_run_id=row[8],
        tags=tags,
        params=params,
    )


class SqliteLoggedModels:
    registry_db: Database

    if TYPE_CHECKING:  # provided by SqliteStore

        def get_experiment(self, experiment_id: str) -> Experiment: ...

    def create_logged_model(
        self,
        experiment_id: str,
        name: str,
        source_run_id: str | None = None,
        tags: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        experiment = self.get_experiment(experiment_id)
        name = v.validate_key(name or "model", "logged model name")
        model_id = f"m-{uuid.uuid4().hex}"
        location = os.path.join(experiment.artifact_location, "models", model_id, "artifacts")
        tag_rows = [v.validate_tag(k, val) for k, val in (tags or {}).items()]
        param_rows = [v.validate_param(k, val) for k, val in (params or {}).items()]

        def work(conn: sqlite3.Connection) -> LoggedModel:
            now = int(time.time() * 1000)
            conn.execute(
                "INSERT INTO logged_models (model_id, experiment_id, name, source_run_id, "
                "status, model_type, artifact_location, creation_time, last_update_time) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    model_id,
                    int(experiment_id),
                    name,
                    source_run_id,
                    STATUSES[0],
                    model_type,
                    location,
                    now,
                    now,
                ),
            )
            conn.executemany(
                "INSERT INTO logged_model_tags VALUES (?,?,?)",
                [(model_id, k, val) for k, val in tag_rows],
            )
            conn.executemany(
                "INSERT INTO logged_model_params VALUES (?,?,?)",
                [(model_id, k, val) for k, val in param_rows],
            )
            return _read(conn, model_id)

        return self.registry_db.write(work)

    def get_logged_model(self, model_id: str) -> LoggedModel:
        return self.registry_db.read(lambda conn: _read(conn, model_id))

    def finalize_logged_model(self, model_id: str, status: str) -> LoggedModel:
        if status not in STATUSES:
            raise InvalidValueError(
                f"invalid logged model status {status!r}", hint=f"use one of {', '.join(STATUSES)}"
            )

        def work(conn: sqlite3.Connection) -> LoggedModel:
            _read(conn, model_id)
            conn.execute(
                "UPDATE logged_models SET status = ?, last_update_time = ? WHERE model_id = ?",
                (status, int(time.time() * 1000), model_id),
            )
            return _read(conn, model_id)

        return self.registry_db.write(work)

    def delete_logged_model(self, model_id: str) -> None:
        def work(conn: sqlite3.Connection) -> None:
            _read(conn, model_id)
            conn.execute(
                "UPDATE logged_models SET lifecycle_stage = 'deleted' WHERE model_id = ?",
                (model_id,),
            )

        self.registry_db.write(work)

    def set_logged_model_tags(self, model_id: str, tags: dict[str, str]) -> None:
        rows = [v.validate_tag(k, val) for k, val in tags.items()]

        def work(conn: sqlite3.Connection) -> None:
            _read(conn, model_id)
            conn.executemany(
                "INSERT INTO logged_model_tags VALUES (?,?,?) ON CONFLICT (model_id, key) "
                "DO UPDATE SET value = excluded.value",
                [(model_id, k, val) for k, val in rows],
            )

        self.registry_db.write(work)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self.registry_db.write(
            lambda conn: conn.execute(
                "DELETE FROM logged_model_tags WHERE model_id = ? AND key = ?", (model_id, key)
            )
        )

    def log_logged_model_params(self, model_id: str, params: dict[str, str]) -> None:
        rows = [v.validate_param(k, val) for k, val in params.items()]

        def work(conn: sqlite3.Connection) -> None:
            _read(conn, model_id)
            conn.executemany(
                "INSERT INTO logged_model_params VALUES (?,?,?) ON CONFLICT DO NOTHING",
                [(model_id, k, val) for k, val in rows],
            )

        self.registry_db.write(work)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        ids = [int(e) for e in experiment_ids if str(e).isdigit()]
        where = [f"experiment_id IN ({','.join('?' * len(ids))})", "lifecycle_stage = 'active'"]
        args: list[object] = list(ids)
        for cmp in parse_filter(filter_string):
            column = _FILTERABLE.get(cmp.key)
            if column is None or cmp.op not in ("=", "!=") or not isinstance(cmp.value, str):
                raise InvalidValueError(
                    f"cannot filter logged models on {cmp.token!r} {cmp.op}",
                    hint=f"use {', '.join(_FILTERABLE)} with = or !=",
                )
            where.append(f"{column} {cmp.op} ?")
            args.append(cmp.value)
        offset = decode_page_token(page_token)
        sql = (
            f"SELECT model_id FROM logged_models WHERE {' AND '.join(where)} "  # noqa: S608
            "ORDER BY creation_time DESC, model_id LIMIT ? OFFSET ?"
        )

        def work(conn: sqlite3.Connection) -> PagedList[LoggedModel]:
            found = [r[0] for r in conn.execute(sql, (*args, max_results + 1, offset))]
            token = encode_page_token(offset + max_results) if len(found) > max_results else None
            return PagedList([_read(conn, m) for m in found[:max_results]], token)

        return self.registry_db.read(work)
