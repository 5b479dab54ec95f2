"""The model registry and logged models in ``db copy``, after the runs and the same way:
groups of rows (a registered model with its tags, versions, version tags and aliases; a
logged model with its tags and params; a stretch of the registry history) go over in chunks
in key order, one transaction each, and each transaction records the last key it copied, so
an interrupted copy resumes after it. Every row is an upsert keyed on its identity, keeping
ids, version numbers and timestamps; history rows are only ever inserted (the table is
append-only by trigger), and an event already there must be the same event.

Logged models' artifact locations and model versions' sources under the source artifact
root are moved under the destination root like runs' artifact URIs (their files copied).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from satchel.errors import InvalidValueError
from satchel.tracking.store.copy_writes import read_progress, refuse_name_clashes, set_progress
from satchel.tracking.store.postgres_writes import columns

__all__ = ["GROUPS", "Group", "Table", "copy_group", "finish", "refuse_foreign_history"]


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]  # (name, PostgreSQL type)
    key: tuple[str, ...]
    relocate: str | None = None  # a column holding an artifact location

    @property
    def names(self) -> str:
        return ", ".join(name for name, _ in self.columns)

    def upsert(self) -> str:
        arrays = ", ".join(f"%s::{kind}[]" for _, kind in self.columns)
        sets = ", ".join(f"{n} = excluded.{n}" for n, _ in self.columns if n not in self.key)
        return (
            f"INSERT INTO {self.name} ({self.names}) SELECT * FROM unnest({arrays}) "  # noqa: S608
            f"ON CONFLICT ({', '.join(self.key)}) DO UPDATE SET {sets}"
        )


@dataclass(frozen=True)
class Group:
    """A parent table copied in chunks of its key, with child tables keyed on the same
    first column (written after it, in order: foreign keys)."""

    label: str
    parent: Table
    children: tuple[Table, ...] = ()
    integer_key: bool = True
    write: Callable[..., None] | None = None  # instead of upserts (the history)
    check: Callable[[psycopg.Connection, list[tuple]], None] | None = None  # before upserts
    identity: str | None = None  # the parent's generated id, to carry on after the copied ones


def _cols(spec: str) -> tuple[tuple[str, str], ...]:
    return tuple((part.split(":")[0], part.split(":")[1]) for part in spec.split())


_PAIRS = "key:text value:text"
_LOGGED = Group(
    "logged models",
    Table(
        "logged_models",
        _cols(
            "model_id:text experiment_id:int8 name:text source_run_id:text status:text "
            "model_type:text artifact_location:text creation_time:int8 last_update_time:int8 "
            "lifecycle_stage:text"
        ),
        ("model_id",),
        relocate="artifact_location",
    ),
    (
        Table("logged_model_tags", _cols(f"model_id:text {_PAIRS}"), ("model_id", "key")),
        Table("logged_model_params", _cols(f"model_id:text {_PAIRS}"), ("model_id", "key")),
    ),
    integer_key=False,
)
_REGISTERED = Group(
    "registered models",
    Table(
        "registered_models",
        _cols(
            "model_key:int8 name:text description:text creation_time:int8 "
            "last_update_time:int8 next_version:int8"
        ),
        ("model_key",),
    ),
    (
        Table("registered_model_tags", _cols(f"model_key:int8 {_PAIRS}"), ("model_key", "key")),
        Table(
            "model_versions",
            _cols(
                "model_key:int8 version:int8 source:text run_id:text run_link:text "
                "model_id:text user_id:text status:text description:text current_stage:text "
                "creation_time:int8 last_update_time:int8"
            ),
            ("model_key", "version"),
            relocate="source",
        ),
        Table(
            "model_version_tags",
            _cols(f"model_key:int8 version:int8 {_PAIRS}"),
            ("model_key", "version", "key"),
        ),
        Table(
            "registered_model_aliases",
            _cols("model_key:int8 alias:text version:int8"),
            ("model_key", "alias"),
        ),
    ),
    check=functools.partial(
        refuse_name_clashes,
        table="registered_models",
        id_column="model_key",
        what="a registered model",
    ),
    identity="model_key",
)
_EVENTS_TABLE = Table(
    "registry_events",
    _cols(
        'event_id:int8 time:int8 "user":text model_key:int8 name:text version:int8 '
        "action:text detail:text"
    ),
    ("event_id",),
)
# Ids were handed out by the source; new models and events must come after the copied ones.
_RESYNC = (
    "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
    "(SELECT COALESCE(max({column}), 0) + 1 FROM {table}), false)"
)


def _append_events(conn: psycopg.Connection, rows: list[tuple], _: dict) -> None:
    """History rows keep their ids (``OVERRIDING SYSTEM VALUE``: the destination's ids are
    generated ALWAYS); one already there is left alone, and must be the same event."""
    ids = [row[0] for row in rows]
    there = conn.execute(
        f"SELECT {_EVENTS_TABLE.names} FROM registry_events WHERE event_id = ANY(%s)",  # noqa: S608
        (ids,),
    ).fetchall()
    ours = {row[0]: row for row in rows}
    for row in there:
        if tuple(row) != ours[row[0]]:
            raise InvalidValueError(
                f"the destination's registry history differs from the source's at event {row[0]}",
                hint="copy into a new, empty database",
            )
    arrays = ", ".join(f"%s::{kind}[]" for _, kind in _EVENTS_TABLE.columns)
    conn.execute(
        f"INSERT INTO registry_events ({_EVENTS_TABLE.names}) OVERRIDING SYSTEM VALUE "  # noqa: S608
        f"SELECT * FROM unnest({arrays}) ON CONFLICT (event_id) DO NOTHING",
        columns(rows),
    )


def refuse_foreign_history(
    rows: Callable[[str, Sequence[object]], list[tuple]], dest_db: Any
) -> None:
    """Before anything is written: the destination's registry history must be a beginning
    of the source's (empty, or an earlier or interrupted copy of it). Every registry change
    appends an event, so a destination used since (or another store's) shows here, and
    upserting into it could overwrite its models."""
    select = f"SELECT {_EVENTS_TABLE.names} FROM registry_events"  # noqa: S608
    last = dest_db.read(
        lambda conn: conn.execute(select + " ORDER BY event_id DESC LIMIT 1").fetchone()
    )
    if last is None:
        return
    ours = rows(select + " WHERE event_id = ?", (last[0],))
    if not ours or tuple(ours[0]) != tuple(last):
        raise InvalidValueError(
            f"the destination's registry history has changes the source does not (event "
            f"{last[0]}, {last[6]} on {last[4]!r})",
            hint="copy into a new, empty database",
        )


_EVENTS = Group("registry events", _EVENTS_TABLE, write=_append_events, identity="event_id")
GROUPS = (_LOGGED, _REGISTERED, _EVENTS)  # logged models first: versions name them


def _write(
    conn: psycopg.Connection,
    group: Group,
    rows: list[tuple],
    children: dict[str, list[tuple]],
    marker: str,
    last: str,
) -> None:
    if group.check is not None:
        group.check(conn, rows)
    if group.write is not None:
        group.write(conn, rows, children)
    else:
        for table in (group.parent, *group.children):
            batch = rows if table is group.parent else children[table.name]
            if batch:
                conn.execute(table.upsert(), columns(batch))
    if group.identity is not None:  # in the chunk: a store used mid-copy must not clash
        conn.execute(_RESYNC.format(table=group.parent.name, column=group.identity))
    set_progress(conn, marker, last)


def _relocated(table: Table, rows: list[tuple], move: Callable[[str], str]) -> list[tuple]:
    if table.relocate is None:
        return rows
    at = [name for name, _ in table.columns].index(table.relocate)
    return [(*row[:at], move(row[at]), *row[at + 1 :]) for row in rows]


def copy_group(
    group: Group,
    rows: Callable[[str, Sequence[object]], list[tuple]],
    dest_db: Any,
    marker: str,
    move: Callable[[str], str],
    chunk: int,
) -> int:
    """Copy one group after the key its marker recorded; returns how many parents the
    source holds."""
    key = group.parent.key[0]
    found = dest_db.read(lambda conn: read_progress(conn, marker))
    after: object = (int if group.integer_key else str)(found) if found else ""
    if found is None and group.integer_key:
        after = -(2**62)
    while True:
        parents = rows(
            f"SELECT {group.parent.names} FROM {group.parent.name} "  # noqa: S608
            f"WHERE {key} > ? ORDER BY {key} LIMIT ?",
            (after, chunk),
        )
        if not parents:
            break
        keys = [row[0] for row in parents]
        marks = ",".join("?" * len(keys))
        children = {
            table.name: _relocated(
                table,
                rows(f"SELECT {table.names} FROM {table.name} WHERE {key} IN ({marks})", keys),  # noqa: S608
                move,
            )
            for table in group.children
        }
        after = keys[-1]
        dest_db.write(
            functools.partial(
                _write,
                group=group,
                rows=_relocated(group.parent, parents, move),
                children=children,
                marker=marker,
                last=str(after),
            )
        )
    return int(rows(f"SELECT count(*) FROM {group.parent.name}", ())[0][0])  # noqa: S608


def finish(conn: psycopg.Connection, markers: list[str]) -> None:
    conn.execute("DELETE FROM store_settings WHERE key = ANY(%s)", (markers,))
