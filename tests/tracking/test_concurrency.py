"""Many real processes on one SQLite store: nothing lost, no lock error, crash-safe."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from satchel.tracking.store.sqlite import SqliteStore

WRITERS = 8
PER_WRITER = 5000

# Each writer is project code as `satchel run` launches it: the public fluent API, resuming
# the run named by SATCHEL_RUN_ID; every log_metric call is its own committed write.
WRITER = textwrap.dedent("""
    import os, sys
    db, root, run_id, worker, count = sys.argv[1:6]
    os.environ["SATCHEL_TRACKING_URI"] = "sqlite:///" + db
    os.environ["SATCHEL_RUN_ID"] = run_id
    import satchel
    key = f"w{worker}"
    for step in range(int(count)):
        satchel.log_metric(key, float(step), step=step)
        if step == 0 or step % 1000 == 999:
            print(step, flush=True)
    print("done", flush=True)
""")

SEARCHER = textwrap.dedent("""
    import sys, os
    from satchel.tracking.store.sqlite import SqliteStore
    db, root, exp_id, stop_file = sys.argv[1:5]
    store = SqliteStore(db, root)
    searches = 0
    while not os.path.exists(stop_file):
        runs = store.search_runs([exp_id], "metrics.w0 >= 0", order_by=["metrics.w1 DESC"])
        assert len(runs) <= 1
        store.get_run(runs[0].info.run_id) if runs else None
        searches += 1
    print("searches", searches, flush=True)
""")


def _spawn(code: str, *args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_eight_writers_and_a_searcher_lose_nothing(tmp_path: Path) -> None:
    db, root = str(tmp_path / "satchel.db"), str(tmp_path / "artifacts")
    store = SqliteStore(db, root)
    exp_id = store.create_experiment("concurrent")
    run_id = store.create_run(exp_id, "u", 0).info.run_id
    stop = tmp_path / "stop"
    searcher = _spawn(SEARCHER, db, root, exp_id, stop)
    writers = [_spawn(WRITER, db, root, run_id, n, PER_WRITER) for n in range(WRITERS)]
    outputs = [w.communicate(timeout=540) for w in writers]
    stop.touch()
    search_out, search_err = searcher.communicate(timeout=60)

    for writer, (out, err) in zip(writers, outputs):
        assert writer.returncode == 0, err
        assert "locked" not in err.lower() and out.strip().endswith("done")
    assert searcher.returncode == 0, search_err
    assert int(search_out.split()[-1]) > 0
    conn = sqlite3.connect(db)
    total = conn.execute("SELECT COUNT(*) FROM metrics WHERE run_uuid = ?", (run_id,))
    assert total.fetchone()[0] == WRITERS * PER_WRITER
    conn.close()
    run = store.get_run(run_id)
    for n in range(WRITERS):
        history = store.get_metric_history(run_id, f"w{n}")
        assert [m.step for m in history] == list(range(PER_WRITER))
        assert run.data.metrics[f"w{n}"] == PER_WRITER - 1


@pytest.mark.slow
def test_sigkill_mid_run_keeps_committed_data(tmp_path: Path) -> None:
    db, root = str(tmp_path / "satchel.db"), str(tmp_path / "artifacts")
    store = SqliteStore(db, root)
    run_id = store.create_run("0", "u", 0).info.run_id
    writer = _spawn(WRITER, db, root, run_id, 0, 10_000_000)
    assert writer.stdout is not None
    # wait until it has committed a few thousand values, then kill it without warning
    lines = 0
    deadline = time.monotonic() + 120
    while lines < 4 and time.monotonic() < deadline:
        if writer.stdout.readline():
            lines += 1
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    assert writer.returncode == -signal.SIGKILL
    assert lines == 4
    # every step it reported (printed after the commit returned) must be there, in order
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    steps = [
        row[0]
        for row in conn.execute(
            "SELECT step FROM metrics WHERE run_uuid = ? ORDER BY step", (run_id,)
        )
    ]
    conn.close()
    assert len(steps) >= 3000
    assert steps == list(range(len(steps)))
    # and the store still works for the next process
    fresh = SqliteStore(db, root)
    assert fresh.get_run(run_id).data.metrics["w0"] == len(steps) - 1


@pytest.mark.slow
def test_two_processes_create_a_new_database_at_once(tmp_path: Path) -> None:
    db, root = str(tmp_path / "new" / "satchel.db"), str(tmp_path / "artifacts")
    code = textwrap.dedent("""
        import sys
        from satchel.tracking.store.sqlite import SqliteStore
        store = SqliteStore(sys.argv[1], sys.argv[2])
        for i in range(20):
            store.create_run("0", "u", i)
        print("ok")
    """)
    procs = [_spawn(code, db, root) for _ in range(6)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.strip() == "ok"
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 120
    assert conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] >= 1
    assert conn.execute("SELECT COUNT(*) FROM experiments").fetchone()[0] == 1
    conn.close()
