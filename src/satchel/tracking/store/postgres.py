"""The team store: a PostgreSQL database (``postgresql://user:pass@host:5432/db``).

Same tables and meaning as the SQLite store, hand-written SQL, psycopg 3. Every public method
is one short transaction through ``Database`` (a small per-process pool; units of work are
retried across a server restart), and every write is idempotent, so a retried or replayed
write never stores anything twice. The artifact root new experiments go under is fixed when
the database is first initialised (``artifact_root``, else ``SATCHEL_ARTIFACT_ROOT``, else
``./satchel/artifacts``) and recorded in the database, so every client agrees on it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from satchel.errors import (
    AlreadyExistsError,
    InvalidValueError,
    NotFoundError,
    StoreUnavailableError,
)

try:
    import psycopg
    from psycopg import errors as pg_errors
except ImportError as exc:  # psycopg is an optional dependency: say how to get it
    raise StoreUnavailableError(
        f"a postgresql:// tracking URI needs psycopg ({exc.name} is not installed)",
        hint="pip install 'satchel[postgres]'",
    ) from None
from satchel.tracking import validation as v
from satchel.tracking.entities import (
    DEFAULT_EXPERIMENT_NAME,
    Experiment,
    LifecycleStage,
    Metric,
    PagedList,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from satchel.tracking.store import postgres_reads as reads
from satchel.tracking.store import postgres_writes as writes
from satchel.tracking.store import rules
from satchel.tracking.store.base import Store
from satchel.tracking.store.names import new_run_id
from satchel.tracking.store.postgres_db import Database, redact
from satchel.tracking.store.postgres_registry import PostgresRegistry, QmarkDatabase
from satchel.tracking.store.rules import RUN_NAME_TAG
from satchel.tracking.store.sqlite_writes import checked_metric, latest_rows, unique_params

__all__ = ["ARTIFACT_ROOT_ENV", "PostgresStore", "open_store"]

ARTIFACT_ROOT_ENV = "SATCHEL_ARTIFACT_ROOT"
Conn = psycopg.Connection


def _now_ms() -> int:
    return int(time.time() * 1000)


def _require_experiment(conn: Conn, exp_id: int, active: bool = False) -> str:
    row = conn.execute(
        "SELECT lifecycle_stage FROM experiments WHERE experiment_id = %s", (exp_id,)
    ).fetchone()
    if row is None:
        raise rules.experiment_not_found(exp_id)
    if active and row[0] != "active":
        raise InvalidValueError(
            f"experiment id '{exp_id}' is deleted",
            hint=f"restore it: satchel experiments restore {exp_id}",
        )
    return str(row[0])


_RUN_STAGE = "SELECT lifecycle_stage FROM runs WHERE run_uuid = %s"
_RUN_STAGE_FOR_UPDATE = _RUN_STAGE + " FOR UPDATE"


def _require_run(conn: Conn, run_id: str, active: bool = False, lock: bool = False) -> None:
    # lock: params are checked then inserted; holding the run's row makes that atomic
    sql = _RUN_STAGE_FOR_UPDATE if lock else _RUN_STAGE
    row = conn.execute(sql, (run_id,)).fetchone()
    if row is None:
        raise rules.run_not_found(run_id)
    if active and row[0] != "active":
        raise InvalidValueError(
            f"run {run_id!r} is deleted", hint=f"restore it first: satchel runs restore {run_id}"
        )


def open_store(uri: str, create: bool, artifact_root: str | None) -> PostgresStore:
    """The registry's entry point (``satchel.tracking.store.STORES``). A server is there or
    not: ``create`` changes nothing (connecting says whether it is)."""
    return PostgresStore(uri, artifact_root)


class PostgresStore(PostgresRegistry, Store):
    def __init__(self, uri: str, artifact_root: str | None = None) -> None:
        self.uri = uri
        self._wanted_root = os.path.abspath(
            artifact_root
            or os.environ.get(ARTIFACT_ROOT_ENV)
            or os.path.join("satchel", "artifacts")
        )
        self._artifact_root: str | None = None
        self.db = Database(uri, on_create=self._initialise)
        self.registry_db = QmarkDatabase(self.db)  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PostgresStore({redact(self.uri)!r})"

    def close(self) -> None:
        self.db.close()

    @property
    def artifact_root(self) -> str:
        """Read from the database on first use (the first connection initialises it)."""
        if self._artifact_root is None:
            self.db.read(lambda conn: None)
        assert self._artifact_root is not None
        return self._artifact_root

    @artifact_root.setter
    def artifact_root(self, value: str) -> None:
        self._artifact_root = value

    def _initialise(self, conn: Conn) -> None:
        with conn.transaction():
            conn.execute(
                "INSERT INTO store_settings VALUES ('artifact_root', %s) ON CONFLICT DO NOTHING",
                (self._wanted_root,),
            )
            row = conn.execute(
                "SELECT value FROM store_settings WHERE key = 'artifact_root'"
            ).fetchone()
            self._artifact_root = str(row[0]) if row else self._wanted_root
            now = _now_ms()
            conn.execute(
                "INSERT INTO experiments VALUES (0, %s, %s, 'active', %s, %s) "
                "ON CONFLICT DO NOTHING",
                (DEFAULT_EXPERIMENT_NAME, os.path.join(self._artifact_root, "0"), now, now),
            )

    # -- experiments -------------------------------------------------------------------
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, str] | None = None
    ) -> str:
        name = v.validate_experiment_name(name)
        tag_rows = [v.validate_tag(k, val) for k, val in (tags or {}).items()]
        root = self.artifact_root

        def work(conn: Conn) -> str:
            row = conn.execute(
                "SELECT lifecycle_stage FROM experiments WHERE name = %s", (name,)
            ).fetchone()
            if row:
                state = " (deleted: restore it or pick another name)" if row[0] == "deleted" else ""
                raise AlreadyExistsError(
                    f"experiment {name!r} already exists{state}", hint="choose another name"
                )
            now = _now_ms()
            found = conn.execute(
                "INSERT INTO experiments (name, artifact_location, creation_time, "
                "last_update_time) VALUES (%s, '', %s, %s) RETURNING experiment_id",
                (name, now, now),
            ).fetchone()
            assert found is not None
            exp_id = int(found[0])
            location = artifact_location or os.path.join(root, str(exp_id))
            conn.execute(
                "UPDATE experiments SET artifact_location = %s WHERE experiment_id = %s",
                (location, exp_id),
            )
            if tag_rows:
                keys, values = writes.columns(tag_rows)
                conn.execute(
                    "INSERT INTO experiment_tags SELECT %s, * FROM unnest(%s::text[], %s::text[])",
                    (exp_id, keys, values),
                )
            return str(exp_id)

        try:
            return self.db.write(work)
        except pg_errors.UniqueViolation:  # a concurrent create of the same name won
            raise AlreadyExistsError(
                f"experiment {name!r} already exists", hint="choose another name"
            ) from None

    def get_experiment(self, experiment_id: str) -> Experiment:
        exp_id = rules.experiment_int_id(experiment_id)
        found = self.db.read(lambda c: reads.experiments(c, "experiment_id = %s", (exp_id,)))
        if not found:
            raise rules.experiment_not_found(experiment_id)
        return found[0]

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        found = self.db.read(lambda conn: reads.experiments(conn, "name = %s", (name,)))
        return found[0] if found else None

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        from satchel.tracking.store.postgres_search import pg_experiments_query

        query = pg_experiments_query(view_type, max_results, filter_string, order_by, page_token)
        return self.db.read(lambda conn: reads.experiment_page(conn, query))

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        exp_id = rules.experiment_int_id(experiment_id)
        new_name = v.validate_experiment_name(new_name)

        def work(conn: Conn) -> None:
            _require_experiment(conn, exp_id, active=True)
            taken = conn.execute(
                "SELECT experiment_id FROM experiments WHERE name = %s", (new_name,)
            ).fetchone()
            if taken and taken[0] != exp_id:
                raise AlreadyExistsError(
                    f"experiment {new_name!r} already exists", hint="choose another name"
                )
            conn.execute(
                "UPDATE experiments SET name = %s, last_update_time = %s WHERE experiment_id = %s",
                (new_name, _now_ms(), exp_id),
            )

        self.db.write(work)

    def delete_experiment(self, experiment_id: str) -> None:
        exp_id = rules.experiment_int_id(experiment_id)
        if exp_id == 0:
            raise InvalidValueError(
                "the default experiment '0' cannot be deleted", hint="delete its runs instead"
            )
        self._set_experiment_stage(exp_id, LifecycleStage.DELETED)

    def restore_experiment(self, experiment_id: str) -> None:
        self._set_experiment_stage(rules.experiment_int_id(experiment_id), LifecycleStage.ACTIVE)

    def _set_experiment_stage(self, exp_id: int, stage: LifecycleStage) -> None:
        # Like MLflow, the experiment's runs follow it into (and out of) the bin.
        def work(conn: Conn) -> None:
            if _require_experiment(conn, exp_id) == stage.value:
                raise InvalidValueError(
                    f"experiment id '{exp_id}' is already {stage.value}", hint="nothing to do"
                )
            now = _now_ms()
            deleted_time = now if stage is LifecycleStage.DELETED else None
            conn.execute(
                "UPDATE experiments SET lifecycle_stage = %s, last_update_time = %s "
                "WHERE experiment_id = %s",
                (stage.value, now, exp_id),
            )
            conn.execute(
                "UPDATE runs SET lifecycle_stage = %s, deleted_time = %s WHERE experiment_id = %s",
                (stage.value, deleted_time, exp_id),
            )

        self.db.write(work)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        exp_id = rules.experiment_int_id(experiment_id)
        key, value = v.validate_tag(key, value)

        def work(conn: Conn) -> None:
            _require_experiment(conn, exp_id, active=True)
            conn.execute(
                "INSERT INTO experiment_tags VALUES (%s, %s, %s) ON CONFLICT "
                "(experiment_id, key) DO UPDATE SET value = excluded.value",
                (exp_id, key, value),
            )

        self.db.write(work)

    # -- runs --------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
        status: RunStatus = RunStatus.RUNNING,
    ) -> Run:
        exp_id = rules.experiment_int_id(experiment_id)
        name, tag_map = rules.run_name_and_tags(tags, run_name)
        status = RunStatus(status)
        run_id = new_run_id()  # chosen before the transaction: a retry inserts the same run

        def work(conn: Conn) -> str:
            _require_experiment(conn, exp_id, active=True)
            row = conn.execute(
                "SELECT artifact_location FROM experiments WHERE experiment_id = %s", (exp_id,)
            ).fetchone()
            assert row is not None
            uri = rules.run_artifact_uri(row[0], run_id)
            conn.execute(
                "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, "
                "artifact_uri) VALUES (%s,%s,%s,%s,%s,%s,%s) ON CONFLICT DO NOTHING",
                (run_id, exp_id, name, user_id or "", status.value, int(start_time), uri),
            )
            keys, values = writes.columns(list(tag_map.items()))
            conn.execute(writes.UPSERT_TAGS, (run_id, keys, values))
            return uri

        uri = self.db.write(work)
        info = RunInfo(run_id, str(exp_id), name, user_id or "", status, int(start_time), None, uri)
        return Run(info, RunData(tags=tag_map))

    def get_run(self, run_id: str) -> Run:
        runs = self.db.read(lambda conn: reads.runs_by_ids(conn, [run_id]))
        if not runs:
            raise rules.run_not_found(run_id)
        return runs[0]

    def update_run_info(
        self,
        run_id: str,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        status = RunStatus(status) if status is not None else None
        if run_name is not None:
            v.validate_tag(RUN_NAME_TAG, run_name)

        def work(conn: Conn) -> None:
            _require_run(conn, run_id)
            conn.execute(
                "UPDATE runs SET status = COALESCE(%s, status), end_time = COALESCE(%s, end_time), "
                "name = COALESCE(%s, name) WHERE run_uuid = %s",
                (
                    status.value if status else None,
                    int(end_time) if end_time is not None else None,
                    run_name or None,
                    run_id,
                ),
            )
            if run_name:
                conn.execute(writes.UPSERT_TAG, (run_id, RUN_NAME_TAG, run_name))

        self.db.write(work)
        return self.get_run(run_id).info

    def set_terminated_if_running(self, run_id: str, status: RunStatus, end_time: int) -> bool:
        status = RunStatus(status)

        def work(conn: Conn) -> bool:
            _require_run(conn, run_id)
            cur = conn.execute(
                "UPDATE runs SET status = %s, end_time = %s WHERE run_uuid = %s AND status NOT IN "
                "('FINISHED', 'FAILED', 'KILLED')",
                (status.value, int(end_time), run_id),
            )
            return cur.rowcount > 0

        return self.db.write(work)

    def delete_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, LifecycleStage.DELETED, _now_ms())

    def restore_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, LifecycleStage.ACTIVE, None)

    def _set_run_stage(self, run_id: str, stage: LifecycleStage, when: int | None) -> None:
        def work(conn: Conn) -> None:
            _require_run(conn, run_id)
            conn.execute(
                "UPDATE runs SET lifecycle_stage = %s, deleted_time = %s WHERE run_uuid = %s",
                (stage.value, when, run_id),
            )

        self.db.write(work)

    # -- logging -----------------------------------------------------------------------
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        metric_rows = []
        for m in metrics:
            key, value, timestamp, step = checked_metric(m)
            nan = value != value  # NaN is the only float unequal to itself
            metric_rows.append((run_id, key, None if nan else value, nan, timestamp, step))
        param_rows = unique_params([v.validate_param(p.key, p.value) for p in params])
        tag_rows = [v.validate_tag(t.key, t.value) for t in tags]

        def work(conn: Conn) -> None:
            _require_run(conn, run_id, active=True, lock=bool(param_rows))
            if param_rows:
                writes.check_params_unchanged(conn, run_id, param_rows)
                conn.execute(writes.INSERT_PARAMS, (run_id, *writes.columns(param_rows)))
            if metric_rows:
                history = [row[1:] for row in metric_rows]
                conn.execute(writes.INSERT_METRICS, (run_id, *writes.columns(history)))
                latest = [row[1:] for row in latest_rows(metric_rows)]
                conn.execute(writes.UPSERT_LATEST, (run_id, *writes.columns(latest)))
            if tag_rows:
                conn.execute(writes.UPSERT_TAGS, (run_id, *writes.columns(tag_rows)))
                for key, value in tag_rows:
                    if key == RUN_NAME_TAG:
                        conn.execute(
                            "UPDATE runs SET name = %s WHERE run_uuid = %s", (value, run_id)
                        )

        self.db.write(work)

    def log_metric(self, run_id: str, metric: Metric) -> None:
        key, value, timestamp, step = checked_metric(metric)
        nan = value != value  # NaN is the only float unequal to itself
        args: dict[str, object] = {
            "run": run_id, "key": key, "value": None if nan else value, "nan": nan,
            "ts": timestamp, "step": step,
        }  # fmt: skip
        row = self.db.write_one(writes.LOG_METRIC, args)
        if not row or not row[0]:
            self.db.read(lambda conn: _require_run(conn, run_id, active=True))
            raise NotFoundError(f"run {run_id!r} not found", hint="it was deleted meanwhile")

    def delete_tag(self, run_id: str, key: str) -> None:
        def work(conn: Conn) -> None:
            _require_run(conn, run_id, active=True)
            cur = conn.execute("DELETE FROM tags WHERE run_uuid = %s AND key = %s", (run_id, key))
            if cur.rowcount == 0:
                raise NotFoundError(
                    f"run {run_id!r} has no tag {key!r}",
                    hint="see its tags with 'satchel runs show'",
                )

        self.db.write(work)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        exp_id = rules.experiment_int_id(experiment_id)

        def work(conn: Conn) -> None:
            _require_experiment(conn, exp_id, active=True)
            cur = conn.execute(
                "DELETE FROM experiment_tags WHERE experiment_id = %s AND key = %s", (exp_id, key)
            )
            if cur.rowcount == 0:
                raise NotFoundError(
                    f"experiment id '{exp_id}' has no tag {key!r}",
                    hint="list experiments with 'satchel experiments list -o json'",
                )

        self.db.write(work)

    def log_inputs(self, run_id: str, datasets: Sequence[dict[str, Any]]) -> None:
        from satchel.tracking.store.sqlite_writes import checked_input

        rows = [(run_id, *checked_input(d)) for d in datasets]

        def work(conn: Conn) -> None:
            _require_run(conn, run_id, active=True)
            for row in rows:
                conn.execute(
                    "INSERT INTO run_inputs (run_uuid, name, digest, input) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (run_uuid, name, digest) "
                    "DO UPDATE SET input = excluded.input",
                    row,
                )

        self.db.write(work)

    def get_run_inputs(self, run_id: str) -> list[dict[str, Any]]:
        import json

        def work(conn: Conn) -> list[dict[str, Any]]:
            _require_run(conn, run_id)
            rows = conn.execute(
                "SELECT input FROM run_inputs WHERE run_uuid = %s ORDER BY seq", (run_id,)
            ).fetchall()
            return [json.loads(text) for (text,) in rows]

        return self.db.read(work)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        def work(conn: Conn) -> list[Metric]:
            _require_run(conn, run_id)
            return reads.metric_history(conn, run_id, key)

        return self.db.read(work)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        from satchel.tracking.store.postgres_search import pg_runs_query
        from satchel.tracking.store.sqlite_reads import SqlQuery
        from satchel.tracking.store.sqlite_search import page_rows

        ids = [str(e) for e in experiment_ids]

        def work(conn: Conn) -> PagedList[Run]:
            def few(sql: str, args: Sequence[object], cap: int) -> bool:
                probe = f"SELECT count(*) FROM ({sql} LIMIT %s) AS candidates"  # noqa: S608
                row = conn.execute(probe, (*args, cap)).fetchone()
                return row is not None and int(row[0]) < cap

            args = (ids, filter_string, run_view_type, max_results, order_by, page_token, few)

            def build(present_first: bool) -> SqlQuery:
                return pg_runs_query(*args, present_first=present_first)

            def fetch(query: SqlQuery) -> list[tuple]:
                return conn.execute(query.sql, query.args).fetchall()

            def walk(query: SqlQuery) -> list[tuple]:
                # An index walk that stops after a page: parallel workers only add their
                # start-up (~50 ms) to a ~20 ms walk. For this query alone (a failure rolls
                # the transaction back, setting included).
                conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")
                rows = fetch(query)
                conn.execute("SET LOCAL max_parallel_workers_per_gather TO DEFAULT")
                return rows

            return reads.page_of(conn, *page_rows(build, fetch, order_by, walk))

        return self.db.read(work)

    def run_ids_with_prefix(self, prefix: str, limit: int = 10) -> list[str]:
        # a range on the primary key ("C" collation: byte order), an index seek
        rows = self.db.read(
            lambda conn: conn.execute(
                "SELECT run_uuid FROM runs WHERE run_uuid >= %s AND run_uuid < %s "
                "ORDER BY run_uuid LIMIT %s",
                (prefix, prefix + "g", int(limit)),
            ).fetchall()
        )
        return [r[0] for r in rows]

    # -- liveness ----------------------------------------------------------------------
    def heartbeat(self, run_id: str, owner: str | None = None) -> None:
        def work(conn: Conn) -> None:
            cur = conn.execute(
                "UPDATE runs SET heartbeat_time = %s, owner = COALESCE(%s, owner) "
                "WHERE run_uuid = %s",
                (_now_ms(), owner, run_id),
            )
            if cur.rowcount == 0:
                raise rules.run_not_found(run_id)

        self.db.write(work)

    def running_owners(self) -> list[tuple[str, str, int | None]]:
        rows = self.db.read(
            lambda conn: conn.execute(
                "SELECT run_uuid, owner, heartbeat_time FROM runs "
                "WHERE status = 'RUNNING' AND owner IS NOT NULL"
            ).fetchall()
        )
        return [(run_id, owner, beat) for run_id, owner, beat in rows]
