"""SqliteStore against real database files: experiments, runs, logging, liveness."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import on_small_tmpfs
from satchel.tracking.entities import (
    Metric,
)
from satchel.tracking.store import clear_store_cache, get_store
from satchel.tracking.store.sqlite import SqliteStore


def now() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    s = SqliteStore(str(tmp_path / "db" / "satchel.db"), str(tmp_path / "artifacts"))
    yield s
    s.close()


def test_default_experiment_exists_on_first_use(store: SqliteStore, tmp_path: Path) -> None:
    exp = store.get_experiment("0")
    assert exp.name == "Default"
    assert exp.artifact_location == str(tmp_path / "artifacts" / "0")
    assert store.get_experiment_by_name("Default") == exp


def test_get_store_default_is_cwd_satchel_dir(tmp_path: Path) -> None:
    clear_store_cache()
    s = get_store()
    assert isinstance(s, SqliteStore)
    assert s.db_path == os.path.join(os.getcwd(), "satchel", "satchel.db")
    assert s.artifact_root == os.path.join(os.getcwd(), "satchel", "artifacts")
    assert get_store() is s
    s.get_experiment("0")
    assert Path(s.db_path).exists()
    clear_store_cache()


def test_schema_uses_wal_and_foreign_keys(store: SqliteStore) -> None:
    store.get_experiment("0")
    conn = sqlite3.connect(store.db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert store.db.conn().execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_fork_child_opens_its_own_connection(store: SqliteStore) -> None:
    run_id = store.create_run("0", "u", now()).info.run_id
    parent_conn = store.db.conn()
    pid = os.fork()
    if pid == 0:  # child: must not reuse the parent's connection
        code = 1
        try:
            child_conn = store.db.conn()
            store.log_batch(run_id, metrics=[Metric("child", 1.0, 1, 0)])
            code = 0 if child_conn is not parent_conn else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    assert store.db.conn() is parent_conn
    assert store.get_run(run_id).data.metrics == {"child": 1.0}


def test_not_a_database_is_a_one_line_error(tmp_path: Path) -> None:
    from satchel.errors import StoreUnavailableError

    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreUnavailableError, match=r"bad\.db"):
        SqliteStore(str(bad), str(tmp_path / "a")).get_experiment("0")


_FILL_THEN_LOG = """
import sys
import satchel
from satchel.errors import SatchelError
store = sys.argv[1]
satchel.set_tracking_uri(store + "/runs.db")
satchel.start_run()
with open(store + "/ballast", "wb", buffering=0) as ballast:  # every free byte of the disk
    try:
        while True:
            ballast.write(b"\\0" * 4096)
    except OSError:
        pass
try:
    for step in range(100_000):
        satchel.log_metric("loss", step / 3, step=step)
except SatchelError as exc:
    print(f"one line: {exc}")
"""


def test_log_metric_on_a_full_disk_is_a_satchel_error(tmp_path: Path) -> None:
    """A real full disk: the store lives on a 512 KiB tmpfs (private mount namespace)."""
    store = tmp_path / "store"
    store.mkdir()
    argv = on_small_tmpfs(store, "512k", [sys.executable, "-c", _FILL_THEN_LOG, str(store)])
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in out.stderr, out.stderr
    assert out.stdout.startswith("one line: tracking database "), out.stdout + out.stderr
    assert "database or disk is full" in out.stdout
