"""The model registry inside the embedded SQLite store (mixed into ``SqliteStore``).

Every change is one ``BEGIN IMMEDIATE`` transaction that also appends its ``registry_events``
row, so the history can never disagree with the state. Reads build records in
``sqlite_registry_reads``. Standard library only.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Sequence

from satchel.errors import AlreadyExistsError, InvalidValueError, NotFoundError
from satchel.models.entities import (
    STAGES,
    ModelVersion,
    RegisteredModel,
    RegistryEvent,
    normalize_stage,
)
from satchel.tracking import validation as v
from satchel.tracking.entities import PagedList
from satchel.tracking.search import encode_page_token
from satchel.tracking.store import sqlite_registry_reads as reads
from satchel.tracking.store.sqlite_db import Database

TYPE_CHECKING = False
if TYPE_CHECKING:
    from satchel.tracking.store.sqlite_search import Dialect

__all__ = ["SqliteRegistry"]

_ALIAS_RE = re.compile(r"^[A-Za-z_][\w\-]{0,254}$")
_RESERVED_ALIAS = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)


def _now() -> int:
    return int(time.time() * 1000)


def validate_model_name(name: object) -> str:
    """A registered model name: ``models:/NAME/...`` must parse back, so no '/', '@' or ':'."""
    if not isinstance(name, str) or not name.strip() or len(name) > 256:
        raise InvalidValueError(
            f"registered model name {name!r} is empty or too long",
            hint="use 1 to 256 characters, e.g. 'wine-quality'",
        )
    if any(ch in name for ch in "/@:") or any(ord(ch) < 32 for ch in name):
        raise InvalidValueError(
            f"registered model name {name!r} contains '/', '@', ':' or a control character",
            hint="those separate the parts of a models:/ URI; use e.g. 'wine-quality'",
        )
    return name


def validate_alias(alias: object) -> str:
    if not isinstance(alias, str) or not _ALIAS_RE.match(alias) or _RESERVED_ALIAS.match(alias):
        raise InvalidValueError(
            f"invalid alias {alias!r}",
            hint="start with a letter; letters, digits, '_' and '-'; not 'latest' or 'v<N>'",
        )
    return alias


def parse_version(version: object) -> int:
    text = str(version)
    if not text.isdigit() or int(text) < 1:
        raise InvalidValueError(
            f"invalid model version {version!r}", hint="versions are whole numbers from 1"
        )
    return int(text)


def _event(
    conn: sqlite3.Connection,
    key: int,
    name: str,
    version: int | None,
    action: str,
    user: str,
    /,
    **detail: object,
) -> None:
    conn.execute(
        'INSERT INTO registry_events (time, "user", model_key, name, version, action, detail) '
        "VALUES (?,?,?,?,?,?,?)",
        (_now(), user, key, name, version, action, json.dumps(detail, sort_keys=True)),
    )


def _touch(conn: sqlite3.Connection, key: int, version: int | None = None) -> None:
    now = _now()
    conn.execute("UPDATE registered_models SET last_update_time=? WHERE model_key=?", (now, key))
    if version is not None:
        conn.execute(
            "UPDATE model_versions SET last_update_time=? WHERE model_key=? AND version=?",
            (now, key, version),
        )


class SqliteRegistry:
    """The registry methods of ``Store`` over ``self.registry_db`` (the store's SQLite
    ``Database``, or the PostgreSQL store's ``?``-speaking adapter)."""

    registry_db: Database

    def _registry_dialect(self) -> Dialect:
        from satchel.tracking.store.sqlite_search import SQLITE

        return SQLITE

    # -- registered models ------------------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        tags: dict[str, str] | None = None,
        description: str | None = None,
        user: str = "",
    ) -> RegisteredModel:
        name = validate_model_name(name)
        tag_rows = [v.validate_tag(k, val) for k, val in (tags or {}).items()]

        def work(conn: sqlite3.Connection) -> RegisteredModel:
            if reads.model_key(conn, name, missing_ok=True) is not None:
                raise AlreadyExistsError(
                    f"registered model {name!r} already exists",
                    hint="register a new version of it, or choose another name",
                )
            now = _now()
            key = conn.execute(
                "INSERT INTO registered_models (name, description, creation_time, "
                "last_update_time) VALUES (?,?,?,?) RETURNING model_key",
                (name, description or "", now, now),
            ).fetchone()[0]
            conn.executemany(
                "INSERT INTO registered_model_tags VALUES (?,?,?)",
                [(key, k, val) for k, val in tag_rows],
            )
            _event(conn, key, name, None, "create_model", user, description=description or "")
            return reads.registered_model(conn, name)

        return self.registry_db.write(work)

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self.registry_db.read(lambda conn: reads.registered_model(conn, name))

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        from satchel.tracking.store.registry_sql import registered_models_query

        query = registered_models_query(
            filter_string, max_results, order_by, page_token, self._registry_dialect()
        )

        def work(conn: sqlite3.Connection) -> PagedList[RegisteredModel]:
            names = [row[0] for row in conn.execute(query.sql, query.args)]
            more = len(names) > query.limit
            items = [reads.registered_model(conn, n) for n in names[: query.limit]]
            token = encode_page_token(query.offset + query.limit) if more else None
            return PagedList(items, token)

        return self.registry_db.read(work)

    def rename_registered_model(self, name: str, new_name: str, user: str = "") -> RegisteredModel:
        new_name = validate_model_name(new_name)

        def work(conn: sqlite3.Connection) -> RegisteredModel:
            key = reads.model_key(conn, name)
            if new_name != name and reads.model_key(conn, new_name, missing_ok=True) is not None:
                raise AlreadyExistsError(
                    f"registered model {new_name!r} already exists", hint="choose another name"
                )
            conn.execute("UPDATE registered_models SET name=? WHERE model_key=?", (new_name, key))
            _touch(conn, key)
            _event(conn, key, new_name, None, "rename_model", user, old_name=name)
            return reads.registered_model(conn, new_name)

        return self.registry_db.write(work)

    def update_registered_model(
        self, name: str, description: str, user: str = ""
    ) -> RegisteredModel:
        def work(conn: sqlite3.Connection) -> RegisteredModel:
            key = reads.model_key(conn, name)
            conn.execute(
                "UPDATE registered_models SET description=? WHERE model_key=?",
                (description or "", key),
            )
            _touch(conn, key)
            _event(conn, key, name, None, "update_model", user, description=description or "")
            return reads.registered_model(conn, name)

        return self.registry_db.write(work)

    def delete_registered_model(self, name: str, user: str = "") -> None:
        def work(conn: sqlite3.Connection) -> None:
            key = reads.model_key(conn, name)
            conn.execute("DELETE FROM registered_models WHERE model_key=?", (key,))
            _event(conn, key, name, None, "delete_model", user)

        self.registry_db.write(work)

    def set_registered_model_tag(self, name: str, key: str, value: str, user: str = "") -> None:
        tag_key, tag_value = v.validate_tag(key, value)

        def work(conn: sqlite3.Connection) -> None:
            mkey = reads.model_key(conn, name)
            conn.execute(
                "INSERT INTO registered_model_tags VALUES (?,?,?) ON CONFLICT (model_key, key) "
                "DO UPDATE SET value = excluded.value",
                (mkey, tag_key, tag_value),
            )
            _touch(conn, mkey)
            _event(conn, mkey, name, None, "set_model_tag", user, key=tag_key, value=tag_value)

        self.registry_db.write(work)

    def delete_registered_model_tag(self, name: str, key: str, user: str = "") -> None:
        def work(conn: sqlite3.Connection) -> None:
            mkey = reads.model_key(conn, name)
            conn.execute(
                "DELETE FROM registered_model_tags WHERE model_key=? AND key=?", (mkey, key)
            )
            _event(conn, mkey, name, None, "delete_model_tag", user, key=key)

        self.registry_db.write(work)

    # -- versions ---------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: dict[str, str] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
        user: str = "",
    ) -> ModelVersion:
        if not source:
            raise InvalidValueError(
                "a model version needs a source", hint="e.g. runs:/<run_id>/model"
            )
        tag_rows = [v.validate_tag(k, val) for k, val in (tags or {}).items()]

        def work(conn: sqlite3.Connection) -> ModelVersion:
            key = reads.model_key(conn, name)
            version = conn.execute(
                "UPDATE registered_models SET next_version = next_version + 1, "
                "last_update_time = ? WHERE model_key = ? RETURNING next_version - 1",
                (_now(), key),
            ).fetchone()[0]
            now = _now()
            conn.execute(
                "INSERT INTO model_versions (model_key, version, source, run_id, run_link, "
                "model_id, user_id, description, creation_time, last_update_time) "
                "VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    key,
                    version,
                    source,
                    run_id,
                    run_link,
                    model_id,
                    user,
                    description or "",
                    now,
                    now,
                ),
            )
            conn.executemany(
                "INSERT INTO model_version_tags VALUES (?,?,?,?)",
                [(key, version, k, val) for k, val in tag_rows],
            )
            _event(conn, key, name, version, "create_version", user, source=source, run_id=run_id)
            return reads.model_version(conn, key, name, version)

        return self.registry_db.write(work)

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        number = parse_version(version)

        def work(conn: sqlite3.Connection) -> ModelVersion:
            return reads.model_version(conn, reads.model_key(conn, name), name, number)

        return self.registry_db.read(work)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        from satchel.tracking.store.registry_sql import model_versions_query

        query = model_versions_query(
            filter_string, max_results, order_by, page_token, self._registry_dialect()
        )

        def work(conn: sqlite3.Connection) -> PagedList[ModelVersion]:
            rows = conn.execute(query.sql, query.args).fetchall()
            more = len(rows) > query.limit
            items = [
                reads.model_version(conn, reads.model_key(conn, n), n, ver)
                for n, ver in rows[: query.limit]
            ]
            token = encode_page_token(query.offset + query.limit) if more else None
            return PagedList(items, token)

        return self.registry_db.read(work)

    def update_model_version(
        self, name: str, version: str | int, description: str, user: str = ""
    ) -> ModelVersion:
        number = parse_version(version)

        def work(conn: sqlite3.Connection) -> ModelVersion:
            key = reads.version_key(conn, name, number)
            conn.execute(
                "UPDATE model_versions SET description=? WHERE model_key=? AND version=?",
                (description or "", key, number),
            )
            _touch(conn, key, number)
            _event(conn, key, name, number, "update_version", user, description=description)
            return reads.model_version(conn, key, name, number)

        return self.registry_db.write(work)

    def delete_model_version(self, name: str, version: str | int, user: str = "") -> None:
        number = parse_version(version)

        def work(conn: sqlite3.Connection) -> None:
            key = reads.version_key(conn, name, number)
            conn.execute(
                "DELETE FROM model_versions WHERE model_key=? AND version=?", (key, number)
            )
            _touch(conn, key)
            _event(conn, key, name, number, "delete_version", user)

        self.registry_db.write(work)

    def transition_model_version_stage(
        self,
        name: str,
        version: str | int,
        stage: str,
        archive_existing_versions: bool = False,
        user: str = "",
    ) -> ModelVersion:
        number, new_stage = parse_version(version), normalize_stage(stage)
        if archive_existing_versions and new_stage not in ("Staging", "Production"):
            raise InvalidValueError(
                f"archive_existing_versions only applies to Staging or Production, not {new_stage}",
                hint="drop archive_existing_versions",
            )

        def work(conn: sqlite3.Connection) -> ModelVersion:
            key = reads.version_key(conn, name, number)
            if archive_existing_versions:
                self._archive_others(conn, key, name, number, new_stage, user)
            self._set_stage(conn, key, name, number, new_stage, user)
            return reads.model_version(conn, key, name, number)

        return self.registry_db.write(work)

    @staticmethod
    def _set_stage(
        conn: sqlite3.Connection, key: int, name: str, number: int, stage: str, user: str
    ) -> None:
        old = conn.execute(
            "SELECT current_stage FROM model_versions WHERE model_key=? AND version=?",
            (key, number),
        ).fetchone()[0]
        conn.execute(
            "UPDATE model_versions SET current_stage=? WHERE model_key=? AND version=?",
            (stage, key, number),
        )
        _touch(conn, key, number)
        _event(conn, key, name, number, "transition_stage", user, old_stage=old, new_stage=stage)

    def _archive_others(
        self, conn: sqlite3.Connection, key: int, name: str, number: int, stage: str, user: str
    ) -> None:
        others = conn.execute(
            "SELECT version FROM model_versions WHERE model_key=? AND current_stage=? "
            "AND version != ?",
            (key, stage, number),
        ).fetchall()
        for (other,) in others:
            self._set_stage(conn, key, name, other, "Archived", user)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        wanted = [normalize_stage(s) for s in stages] if stages else list(STAGES)
        return [
            mv
            for mv in self.get_registered_model(name).latest_versions
            if mv.current_stage in wanted
        ]

    def set_model_version_tag(
        self, name: str, version: str | int, key: str, value: str, user: str = ""
    ) -> None:
        number = parse_version(version)
        tag_key, tag_value = v.validate_tag(key, value)

        def work(conn: sqlite3.Connection) -> None:
            mkey = reads.version_key(conn, name, number)
            conn.execute(
                "INSERT INTO model_version_tags VALUES (?,?,?,?) ON CONFLICT "
                "(model_key, version, key) DO UPDATE SET value = excluded.value",
                (mkey, number, tag_key, tag_value),
            )
            _touch(conn, mkey, number)
            _event(conn, mkey, name, number, "set_version_tag", user, key=tag_key, value=tag_value)

        self.registry_db.write(work)

    def delete_model_version_tag(
        self, name: str, version: str | int, key: str, user: str = ""
    ) -> None:
        number = parse_version(version)

        def work(conn: sqlite3.Connection) -> None:
            mkey = reads.version_key(conn, name, number)
            conn.execute(
                "DELETE FROM model_version_tags WHERE model_key=? AND version=? AND key=?",
                (mkey, number, key),
            )
            _event(conn, mkey, name, number, "delete_version_tag", user, key=key)

        self.registry_db.write(work)

    # -- aliases ----------------------------------------------------------------------
    def set_registered_model_alias(
        self, name: str, alias: str, version: str | int, user: str = ""
    ) -> None:
        alias, number = validate_alias(alias), parse_version(version)

        def work(conn: sqlite3.Connection) -> None:
            key = reads.version_key(conn, name, number)
            old = conn.execute(
                "SELECT version FROM registered_model_aliases WHERE model_key=? AND alias=?",
                (key, alias),
            ).fetchone()
            conn.execute(
                "INSERT INTO registered_model_aliases VALUES (?,?,?) ON CONFLICT "
                "(model_key, alias) DO UPDATE SET version = excluded.version",
                (key, alias, number),
            )
            _touch(conn, key)
            _event(
                conn,
                key,
                name,
                number,
                "set_alias",
                user,
                alias=alias,
                old_version=None if old is None else str(old[0]),
            )

        self.registry_db.write(work)

    def delete_registered_model_alias(self, name: str, alias: str, user: str = "") -> None:
        def work(conn: sqlite3.Connection) -> None:
            key = reads.model_key(conn, name)
            old = conn.execute(
                "DELETE FROM registered_model_aliases WHERE model_key=? AND alias=? "
                "RETURNING version",
                (key, alias),
            ).fetchone()
            if old is not None:
                _event(conn, key, name, old[0], "delete_alias", user, alias=alias)

        self.registry_db.write(work)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        def work(conn: sqlite3.Connection) -> ModelVersion:
            key = reads.model_key(conn, name)
            row = conn.execute(
                "SELECT version FROM registered_model_aliases WHERE model_key=? AND alias=?",
                (key, alias),
            ).fetchone()
            if row is None:
                raise InvalidValueError(
                    f"registered model {name!r} has no alias {alias!r}",
                    hint=f"see its aliases with 'satchel models show {name}'",
                )
            return reads.model_version(conn, key, name, row[0])

        return self.registry_db.read(work)

    # -- history ----------------------------------------------------------------------
    def get_registry_history(
        self, name: str | None = None, max_results: int = 1000
    ) -> list[RegistryEvent]:
        def work(conn: sqlite3.Connection) -> list[RegistryEvent]:
            args: tuple[object, ...] = ()
            if name is None:
                where = "1 = 1"
            else:
                key = reads.model_key(conn, name, missing_ok=True)
                where, args = (
                    ("model_key = ?", (key,)) if key is not None else ("name = ?", (name,))
                )
            rows = conn.execute(
                'SELECT event_id, time, "user", name, version, action, detail FROM '  # noqa: S608
                f"registry_events WHERE {where} ORDER BY event_id DESC LIMIT ?",
                (*args, int(max_results)),
            ).fetchall()
            if name is not None and not rows:
                raise NotFoundError(
                    f"no registry history for {name!r}",
                    hint="list models with 'satchel models list'",
                )
            return [
                RegistryEvent(
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    None if r[4] is None else str(r[4]),
                    r[5],
                    json.loads(r[6]),
                )
                for r in rows
            ]

        return self.registry_db.read(work)
