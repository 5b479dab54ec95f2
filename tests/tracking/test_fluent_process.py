"""How runs end when a real Python process logs with the fluent API and exits.

Each test runs a script in a subprocess (the way users run them) and then reads the SQLite
store the script wrote into ``./satchel/`` of the test's working directory.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.conftest import kv, run_cli

import satchel
from satchel.tracking.entities import RunStatus

pytestmark = pytest.mark.slow


def run_script(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    script = Path("script.py")
    script.write_text(textwrap.dedent(code))
    return subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def runs_by_name() -> dict[str, satchel.Run]:
    return {r.info.run_name: r for r in satchel.Client().search_runs(["0"])}


def test_exception_escaping_with_marks_failed() -> None:
    proc = run_script("""
        import satchel
        with satchel.start_run(run_name="boom"):
            satchel.log_metric("m", 1)
            raise RuntimeError("model diverged")
    """)
    assert proc.returncode == 1 and "model diverged" in proc.stderr
    assert runs_by_name()["boom"].info.status == RunStatus.FAILED


def test_plain_script_exit_marks_finished() -> None:
    proc = run_script("""
        import satchel
        satchel.start_run(run_name="plain")
        satchel.log_param("alpha", 0.5)
    """)
    assert proc.returncode == 0, proc.stderr
    run = runs_by_name()["plain"]
    assert run.info.status == RunStatus.FINISHED and run.info.end_time is not None
    assert run.data.params == {"alpha": "0.5"}


def test_implicit_run_of_a_plain_script_is_finished() -> None:
    proc = run_script("import satchel\nsatchel.log_metric('m', 2.0)\n")
    assert proc.returncode == 0, proc.stderr
    (run,) = runs_by_name().values()
    assert run.info.status == RunStatus.FINISHED and run.data.metrics == {"m": 2.0}


def test_uncaught_exception_marks_failed_and_keeps_the_traceback() -> None:
    proc = run_script("""
        import satchel
        satchel.start_run(run_name="crash")
        satchel.log_metric("m", 1)
        raise ValueError("bad data")
    """)
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "ValueError: bad data" in proc.stderr
    assert runs_by_name()["crash"].info.status == RunStatus.FAILED


def test_uncaught_ctrl_c_marks_killed() -> None:
    proc = run_script("""
        import satchel
        satchel.start_run(run_name="interrupted")
        raise KeyboardInterrupt
    """)
    assert proc.returncode != 0
    assert runs_by_name()["interrupted"].info.status == RunStatus.KILLED


def test_nested_runs_in_a_script() -> None:
    proc = run_script("""
        import satchel
        with satchel.start_run(run_name="parent") as parent:
            for i in range(3):
                with satchel.start_run(run_name=f"child-{i}", nested=True):
                    satchel.log_metric("i", i)
    """)
    assert proc.returncode == 0, proc.stderr
    found = runs_by_name()
    parent_id = found["parent"].info.run_id
    for i in range(3):
        child = found[f"child-{i}"]
        assert child.data.tags["mlflow.parentRunId"] == parent_id
        assert child.info.status == RunStatus.FINISHED and child.data.metrics == {"i": i}


def test_satchel_run_id_resumes_without_creating_a_run() -> None:
    client = satchel.Client()
    handed = client.create_run("0", run_name="handed").info.run_id
    proc = run_script(
        """
        import satchel
        with satchel.start_run() as run:
            print(run.info.run_id)
            satchel.log_metric("rmse", 0.4)
            with satchel.start_run(nested=True, run_name="child"):
                satchel.log_metric("x", 1)
    """,
        env={"SATCHEL_RUN_ID": handed, "SATCHEL_TRACKING_URI": client.tracking_uri},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == handed
    found = runs_by_name()
    assert set(found) == {"handed", "child"}  # no new top-level run
    assert found["handed"].data.metrics == {"rmse": 0.4}
    assert found["handed"].info.status == RunStatus.RUNNING  # the runner sets the end status
    assert found["child"].data.tags["mlflow.parentRunId"] == handed
    assert found["child"].info.status == RunStatus.FINISHED


def test_sigkilled_script_is_reaped_not_left_running() -> None:
    script = Path("sleeper.py")
    script.write_text(
        textwrap.dedent("""
        import sys, time, satchel
        run = satchel.start_run(run_name="victim")
        satchel.log_metric("m", 1.0)
        print(run.info.run_id, flush=True)
        time.sleep(120)
    """)
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        run_id = proc.stdout.readline().strip()
        # alive: a reap leaves it alone
        assert "No dead runs." in run_cli("runs", "reap").stdout
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    listed = json.loads(run_cli("runs", "list", "-o", "json").stdout)
    (entry,) = [r for r in listed if r["info"]["run_id"] == run_id]
    assert entry["info"]["status"] == "FAILED"
    assert kv(entry["data"]["metrics"]) == {"m": 1.0}


def test_wine_regression_example_from_the_issue() -> None:
    Path("train.py").write_text("print('training')\n")
    Path("plots").mkdir()
    Path("plots", "loss.png").write_bytes(b"\x89PNG fake")
    proc = run_script("""
        import satchel
        satchel.set_tracking_uri("sqlite:///runs.db")    # optional; default store is ./satchel/
        satchel.set_experiment("Wine Regression")         # created when missing; returns it
        with satchel.start_run(run_name="Sk_Elasticnet"):
            satchel.set_tags({"team": "Analytics", "release.version": "2.2.2"})
            satchel.log_param("alpha", 0.5)
            satchel.log_params({"l1_ratio": 0.5, "max_depth": None})
            satchel.log_metric("rmse", 0.71)
            for i in range(10):
                satchel.log_metric("loss", 1 / (i + 1), step=i)
                satchel.log_metrics({"a": i, "b": 2 * i}, step=i)
            satchel.log_artifact("train.py", artifact_path="code")
            satchel.log_artifacts("plots/", artifact_path="plots")
            satchel.log_dict({"k": 1}, "config.json")
            satchel.log_text("free text", "notes/readme.txt")
    """)
    assert proc.returncode == 0, proc.stderr
    assert Path("runs.db").is_file() and not Path("satchel").exists()
    client = satchel.Client("sqlite:///runs.db")
    experiment = client.get_experiment_by_name("Wine Regression")
    (run,) = client.search_runs([experiment.experiment_id])
    run_id = run.info.run_id
    assert run.info.run_name == "Sk_Elasticnet" and run.info.status == RunStatus.FINISHED
    assert run.data.params == {"alpha": "0.5", "l1_ratio": "0.5", "max_depth": "None"}
    assert run.data.metrics == {"rmse": 0.71, "loss": 0.1, "a": 9.0, "b": 18.0}
    assert run.data.tags["team"] == "Analytics"
    assert run.data.tags["release.version"] == "2.2.2"
    loss = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in loss] == [(i, 1 / (i + 1)) for i in range(10)]
    assert [m.value for m in client.get_metric_history(run_id, "b")] == [2 * i for i in range(10)]
    files = set()
    pending = [None]
    while pending:
        for info in client.list_artifacts(run_id, pending.pop()):
            (pending.append(info.path) if info.is_dir else files.add(info.path))
    assert files == {"code/train.py", "plots/loss.png", "config.json", "notes/readme.txt"}
    local = Path(client.download_artifacts(run_id, "", "dl"))
    assert json.loads((local / "config.json").read_text()) == {"k": 1}
    assert (local / "notes" / "readme.txt").read_text() == "free text"


@pytest.mark.parametrize(
    ("call", "code", "status"),
    [
        ("sys.exit(3)", 3, RunStatus.FAILED),
        ("sys.exit('bad config')", 1, RunStatus.FAILED),
        ("sys.exit(0)", 0, RunStatus.FINISHED),
        ("sys.exit()", 0, RunStatus.FINISHED),
    ],
)
def test_sys_exit_without_with_sets_the_status(call: str, code: int, status: RunStatus) -> None:
    proc = run_script(f"""
        import sys
        import satchel
        satchel.start_run(run_name="exits")
        satchel.log_metric("m", 1)
        {call}
    """)
    assert proc.returncode == code, proc.stderr
    assert runs_by_name()["exits"].info.status == status


def test_sys_exit_in_a_thread_does_not_fail_the_run() -> None:
    proc = run_script("""
        import sys, threading
        import satchel
        satchel.start_run(run_name="threaded")
        t = threading.Thread(target=sys.exit, args=(4,))
        t.start(); t.join()
    """)
    assert proc.returncode == 0, proc.stderr
    assert runs_by_name()["threaded"].info.status == RunStatus.FINISHED


def test_sys_exit_nonzero_leaves_a_handed_over_run_to_the_runner() -> None:
    client = satchel.Client()
    handed = client.create_run("0", run_name="handed").info.run_id
    proc = run_script(
        "import sys, satchel\nsatchel.log_metric('m', 1)\nsys.exit(3)\n",
        env={"SATCHEL_RUN_ID": handed, "SATCHEL_TRACKING_URI": client.tracking_uri},
    )
    assert proc.returncode == 3, proc.stderr
    assert client.get_run(handed).info.status == RunStatus.RUNNING
