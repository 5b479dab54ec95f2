"""Numbered schema migrations, recorded in the database and applied once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import run_cli
from satchel.tracking.entities import Metric
from satchel.tracking.store import migrations
from satchel.tracking.store.sqlite import SqliteStore


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(str(path), isolation_level=None, timeout=30)


def test_fresh_database_gets_every_migration(tmp_path: Path) -> None:
    conn = _connect(tmp_path / "m.db")
    applied = migrations.migrate(conn)
    assert applied == [v for v, _, _ in migrations.MIGRATIONS]
    assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST_VERSION
    rows = conn.execute("SELECT version, name FROM schema_migrations").fetchall()
    assert rows == [(v, name) for v, name, _ in migrations.MIGRATIONS]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"experiments", "runs", "params", "tags", "metrics", "latest_metrics"} <= tables
    assert migrations.migrate(conn) == []  # second time: nothing to do


def test_store_records_migrations_on_first_use(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "s.db"), str(tmp_path / "a"))
    store.get_experiment("0")
    conn = _connect(tmp_path / "s.db")
    assert migrations.applied_versions(conn) == {v for v, _, _ in migrations.MIGRATIONS}


def test_a_new_migration_is_applied_to_an_old_database(tmp_path: Path, monkeypatch) -> None:
    store = SqliteStore(str(tmp_path / "s.db"), str(tmp_path / "a"))
    run_id = store.create_run("0", "u", 1).info.run_id
    store.close()
    step = (
        migrations.LATEST_VERSION + 1,
        "add a column",
        ("ALTER TABLE runs ADD COLUMN note TEXT",),
    )
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, step])
    monkeypatch.setattr(migrations, "LATEST_VERSION", step[0])
    conn = _connect(tmp_path / "s.db")
    assert migrations.migrate(conn) == [step[0]]
    assert conn.execute("SELECT note FROM runs WHERE run_uuid = ?", (run_id,)).fetchone() == (None,)
    assert migrations.migrate(conn) == []


def test_failed_migration_rolls_back(tmp_path: Path, monkeypatch) -> None:
    step = (
        migrations.LATEST_VERSION + 1,
        "broken",
        ("CREATE TABLE ok_table (x)", "THIS IS NOT SQL"),
    )
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, step])
    monkeypatch.setattr(migrations, "LATEST_VERSION", step[0])
    conn = _connect(tmp_path / "m.db")
    try:
        migrations.migrate(conn)
    except sqlite3.OperationalError:
        pass
    else:
        raise AssertionError("the broken migration should fail")
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'ok_table'").fetchone() is None
    assert migrations.applied_versions(conn) == set()


def test_nan_points_stored_twice_before_migration_6_are_kept_once(
    tmp_path: Path, monkeypatch
) -> None:
    db = tmp_path / "s.db"
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:5])
    monkeypatch.setattr(migrations, "LATEST_VERSION", 5)
    store = SqliteStore(str(db), str(tmp_path / "a"))
    run_id = store.create_run("0", "u", 1).info.run_id
    for _ in range(3):  # a client's replays, each stored (NULL != NULL in the old key)
        store.log_batch(run_id, metrics=[Metric("m", float("nan"), 5, 1), Metric("m", 1.0, 5, 2)])
    assert len(store.get_metric_history(run_id, "m")) == 4
    store.close()
    monkeypatch.undo()
    store = SqliteStore(str(db), str(tmp_path / "a"))
    history = store.get_metric_history(run_id, "m")
    assert [(m.step, repr(m.value)) for m in history] == [(1, "nan"), (2, "1.0")]
    store.log_metric(run_id, Metric("m", float("nan"), 5, 1))
    assert len(store.get_metric_history(run_id, "m")) == 2
    store.close()


def _store_with_a_run(tmp_path: Path) -> Path:
    db = tmp_path / "s.db"
    store = SqliteStore(str(db), str(tmp_path / "a"))
    store.create_run("0", "u", 1)
    store.close()
    return db


def test_a_store_from_a_newer_satchel_is_refused_with_one_line(tmp_path: Path) -> None:
    db = _store_with_a_run(tmp_path)
    newer = migrations.LATEST_VERSION + 5
    _connect(db).execute(f"PRAGMA user_version = {newer}")
    out = run_cli("runs", "list", "--tracking-uri", str(db))
    assert out.returncode == 1, out.stderr
    assert out.stderr.strip().splitlines() == [
        f"Error: this store was written by a newer Satchel "
        f"(schema {newer} > {migrations.LATEST_VERSION}); upgrade Satchel to use it"
    ]
    assert _connect(db).execute("PRAGMA user_version").fetchone()[0] == newer  # untouched


def test_a_damaged_schema_is_one_line_not_a_crash(tmp_path: Path) -> None:
    db = _store_with_a_run(tmp_path)
    _connect(db).execute("DROP TABLE tags")
    out = run_cli("runs", "list", "--tracking-uri", str(db))
    assert out.returncode == 1, out.stderr
    (line,) = out.stderr.strip().splitlines()
    assert "no such table: tags" in line and "schema is damaged" in line
