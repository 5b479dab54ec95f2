"""``satchel db copy``: a store's experiments, runs, params, tags, full metric history, run
inputs (datasets), model registry, logged models and artifacts into a PostgreSQL store,
keeping every id.

Idempotent: every row is an upsert keyed on its identity (metric points on MLflow's point
key), so copying twice stores nothing twice. Resumable: runs go over in chunks, one
transaction each, in run-id order, and each chunk's transaction records the last run id it
copied; an interrupted copy (even SIGKILL) resumes after that run. The registry and logged
models follow the runs, chunked and resumable the same way (``copy_registry``). A chunk's
artifact files are copied before its transaction commits, each file to a temporary name then
moved into place, and files already there with the same size are skipped.

Artifacts move only when the two stores' artifact roots differ; URIs under the source root
are then rewritten to the destination root. Others (a remote URI, a location outside the
root) are kept as they are.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from satchel.errors import InvalidValueError
from satchel.tracking.store import get_store
from satchel.tracking.store.base import Store
from satchel.tracking.uri import resolve_tracking_uri

__all__ = ["CopyReport", "copy_store"]

CHUNK = 500
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:")
_RUN_COLUMNS = (
    "run_uuid, experiment_id, name, user_id, status, start_time, end_time, artifact_uri, "
    "lifecycle_stage, deleted_time, heartbeat_time, owner"
)
_EXPERIMENT_COLUMNS = (
    "experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time"
)


@dataclass(frozen=True)
class CopyReport:
    experiments: int
    runs: int
    registered_models: int
    logged_models: int
    resumed_after: str | None  # the last run id an interrupted copy had finished
    artifact_files: int


class _Source:
    """Reads a SQLite or PostgreSQL store's tables through its own ``db.read``."""

    def __init__(self, store: Store) -> None:
        self.db = store.db  # type: ignore[attr-defined]
        sqlite = type(store).__name__ == "SqliteStore"
        self.mark = "?" if sqlite else "%s"
        self.arrival = "rowid" if sqlite else "seq"  # the order metric points came in

    def rows(self, sql: str, args: Sequence[object] = ()) -> list[tuple]:
        text = sql.replace("?", self.mark)
        return self.db.read(lambda conn: conn.execute(text, tuple(args)).fetchall())

    def chunk(self, ids: list[str]) -> dict[str, list[tuple]]:
        marks = ",".join("?" * len(ids))
        where = f"WHERE run_uuid IN ({marks})"
        return {
            "params": self.rows(f"SELECT run_uuid, key, value FROM params {where}", ids),  # noqa: S608
            "tags": self.rows(f"SELECT run_uuid, key, value FROM tags {where}", ids),  # noqa: S608
            "metrics": self.rows(
                "SELECT run_uuid, key, value, is_nan, timestamp, step FROM metrics "  # noqa: S608
                f"{where} ORDER BY run_uuid, key, step, timestamp, {self.arrival}",
                ids,
            ),
            "latest": self.rows(
                "SELECT run_uuid, key, value, is_nan, timestamp, step FROM latest_metrics "  # noqa: S608
                + where,
                ids,
            ),
            "inputs": self.rows(
                "SELECT run_uuid, name, digest, input FROM run_inputs "  # noqa: S608
                f"{where} ORDER BY run_uuid, {self.arrival}",
                ids,
            ),
        }


class _Relocate:
    """Artifact locations under the source root, moved under the destination root."""

    def __init__(self, source_root: str, dest_root: str) -> None:
        self.source = os.path.abspath(source_root)
        self.dest = os.path.abspath(dest_root)
        self.files = 0

    def path(self, location: str) -> str:
        scheme = "file://" if location.startswith("file://") else ""
        local = location[len(scheme) :]
        if self.source == self.dest or _URI.match(local):  # e.g. s3://, runs:/, models:/
            return location
        if os.path.commonpath([self.source, os.path.abspath(local)]) != self.source:
            return location
        moved = os.path.join(self.dest, os.path.relpath(local, self.source))
        self._copy_tree(local, moved)
        return scheme + moved

    def _copy_tree(self, src: str, dst: str) -> None:
        for folder, _, names in os.walk(src):
            target = os.path.join(dst, os.path.relpath(folder, src))
            os.makedirs(target, exist_ok=True)
            for name in names:
                there = os.path.join(target, name)
                here = os.path.join(folder, name)
                if os.path.isfile(there) and os.path.getsize(there) == os.path.getsize(here):
                    continue
                partial = there + ".satchel-copy"
                shutil.copyfile(here, partial)
                os.replace(partial, there)
                self.files += 1


def copy_store(
    source_uri: str, dest_uri: str, progress: Callable[[int, int], None] | None = None
) -> CopyReport:
    """Copy everything from ``source_uri`` (SQLite or PostgreSQL) into ``dest_uri``
    (PostgreSQL); ``progress(done, total)`` after each chunk of runs."""
    from satchel.tracking.store import copy_registry as registry
    from satchel.tracking.store import copy_writes as w
    from satchel.tracking.store.postgres import PostgresStore

    source_resolved, dest_resolved = (
        resolve_tracking_uri(source_uri),
        resolve_tracking_uri(dest_uri),
    )
    if source_resolved == dest_resolved:
        raise InvalidValueError("db copy: --from and --to are the same store", hint="pick two")
    dest = get_store(dest_resolved)
    if not isinstance(dest, PostgresStore):
        raise InvalidValueError(
            f"db copy writes into a PostgreSQL store, not {dest_resolved.partition(':')[0]}",
            hint="pass --to postgresql://user:pass@host:5432/db",
        )
    source_store = get_store(source_resolved, create=False)
    source = _Source(source_store)
    relocate = _Relocate(source_store.artifact_root, dest.artifact_root)
    marker = w.progress_key(source_resolved)
    registry.refuse_foreign_history(source.rows, dest.db)

    experiments = source.rows(f"SELECT {_EXPERIMENT_COLUMNS} FROM experiments")  # noqa: S608
    experiments = [(e[0], e[1], relocate.path(e[2]), *e[3:]) for e in experiments]
    exp_tags = source.rows("SELECT experiment_id, key, value FROM experiment_tags")
    dest.db.write(lambda conn: w.write_experiments(conn, experiments, exp_tags))

    resumed = dest.db.read(lambda conn: w.read_progress(conn, marker))
    total = int(source.rows("SELECT count(*) FROM runs")[0][0])
    after = resumed or ""
    done = int(source.rows("SELECT count(*) FROM runs WHERE run_uuid <= ?", (after,))[0][0])
    while True:
        runs = source.rows(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_uuid > ? ORDER BY run_uuid LIMIT ?",  # noqa: S608
            (after, CHUNK),
        )
        if not runs:
            break
        details = source.chunk([r[0] for r in runs])
        runs = [(*r[:7], relocate.path(r[7]), *r[8:]) for r in runs]
        after = runs[-1][0]
        dest.db.write(functools.partial(w.write_runs, runs=runs, details=details, marker=marker,
                                        last_run_id=after))  # fmt: skip
        done += len(runs)
        if progress is not None:
            progress(done, total)
    markers = {group.label: f"{marker} {group.label}" for group in registry.GROUPS}
    copied = {
        group.label: registry.copy_group(
            group, source.rows, dest.db, markers[group.label], relocate.path, CHUNK
        )
        for group in registry.GROUPS
    }

    def finish(conn: Any) -> None:
        w.finish(conn, marker)
        registry.finish(conn, list(markers.values()))

    dest.db.write(finish)
    return CopyReport(
        len(experiments),
        total,
        copied["registered models"],
        copied["logged models"],
        resumed,
        relocate.files,
    )
