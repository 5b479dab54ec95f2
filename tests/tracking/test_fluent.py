"""The fluent API in-process, against a real SQLite store per test.

Process-level behaviour (atexit, excepthook, SATCHEL_RUN_ID handed over by a runner) is in
test_fluent_process.py, with real subprocesses.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import satchel
from satchel.errors import InvalidValueError, NotFoundError
from satchel.tracking import fluent, uri
from satchel.tracking.entities import RunStatus


@pytest.fixture(autouse=True)
def fresh_fluent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Module state is per process; reset it so each test starts with no active run."""
    fluent._stack.clear()
    fluent._state.__init__()  # type: ignore[misc]
    monkeypatch.setattr(uri, "_current", None)  # the current store: process state, restored
    satchel.set_tracking_uri(f"sqlite:///{tmp_path / 'fluent.db'}")
    yield
    fluent._stack.clear()
    fluent._state.__init__()  # type: ignore[misc]


def _status(run_id: str) -> RunStatus:
    return satchel.get_run(run_id).info.status


def test_set_experiment_creates_once_and_returns_it() -> None:
    exp = satchel.set_experiment("Wine Regression")
    assert exp.name == "Wine Regression" and exp.experiment_id != "0"
    assert satchel.set_experiment("Wine Regression").experiment_id == exp.experiment_id
    assert satchel.set_experiment(experiment_id=exp.experiment_id).name == "Wine Regression"
    assert satchel.set_experiment(name="Wine Regression") == exp
    with satchel.start_run() as run:
        pass
    assert run.info.experiment_id == exp.experiment_id


def test_set_experiment_bad_calls() -> None:
    with pytest.raises(InvalidValueError):
        satchel.set_experiment()
    with pytest.raises(NotFoundError):
        satchel.set_experiment(experiment_id="424242")
    exp = satchel.set_experiment("doomed")
    satchel.Client().delete_experiment(exp.experiment_id)
    with pytest.raises(InvalidValueError, match="deleted"):
        satchel.set_experiment("doomed")


def test_with_block_finishes_and_records_system_tags() -> None:
    with satchel.start_run(run_name="ok", tags={"team": "x"}) as run:
        assert satchel.active_run() is run
        satchel.log_param("alpha", 0.5)
    assert satchel.active_run() is None
    stored = satchel.get_run(run.info.run_id)
    assert stored.info.status == RunStatus.FINISHED and stored.info.end_time is not None
    assert stored.info.run_name == "ok" and stored.info.experiment_id == "0"
    tags = stored.data.tags
    assert tags["team"] == "x" and tags["mlflow.source.type"] == "LOCAL"
    assert tags["mlflow.runName"] == "ok" and tags["mlflow.user"]
    assert satchel.last_active_run().info.run_id == run.info.run_id


def test_exception_in_with_block_fails_the_run() -> None:
    with pytest.raises(ZeroDivisionError), satchel.start_run() as run:
        1 / 0
    assert _status(run.info.run_id) == RunStatus.FAILED


def test_ctrl_c_in_with_block_kills_the_run() -> None:
    with pytest.raises(KeyboardInterrupt), satchel.start_run() as run:
        raise KeyboardInterrupt
    assert _status(run.info.run_id) == RunStatus.KILLED


def test_plain_calls_and_end_run_status() -> None:
    run = satchel.start_run()
    assert satchel.active_run().info.run_id == run.info.run_id
    satchel.end_run("KILLED")
    assert _status(run.info.run_id) == RunStatus.KILLED
    satchel.end_run()  # nothing active: a no-op
    assert satchel.active_run() is None


def test_generated_run_names_are_distinct() -> None:
    names = set()
    for _ in range(5):
        with satchel.start_run() as run:
            names.add(run.info.run_name)
    assert len(names) == 5 and all(names)


def test_second_start_run_needs_nested() -> None:
    with satchel.start_run() as parent:
        with pytest.raises(InvalidValueError, match="nested=True"):
            satchel.start_run()
        with satchel.start_run(nested=True, run_name="child") as child:
            assert satchel.active_run() is child
        assert satchel.active_run() is parent
    child_run = satchel.get_run(child.info.run_id)
    assert child_run.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert child_run.info.status == RunStatus.FINISHED


def test_leaving_the_parent_ends_forgotten_children() -> None:
    with satchel.start_run() as parent:
        child = satchel.start_run(nested=True)
    assert _status(child.info.run_id) == RunStatus.FINISHED
    assert _status(parent.info.run_id) == RunStatus.FINISHED


def test_log_calls_start_a_run_implicitly() -> None:
    satchel.log_metric("loss", 0.5, step=2)
    run = satchel.active_run()
    assert run is not None
    satchel.log_metrics({"a": 1, "b": 2.5}, step=3)
    satchel.log_params({"x": None, "y": [1, 2]})
    satchel.set_tags({"k": 1})
    satchel.set_tag("k2", "v")
    satchel.end_run()
    data = satchel.get_run(run.info.run_id).data
    assert data.metrics == {"loss": 0.5, "a": 1.0, "b": 2.5}
    assert data.params == {"x": "None", "y": "[1, 2]"}
    assert data.tags["k"] == "1" and data.tags["k2"] == "v"
    history = satchel.Client().get_metric_history(run.info.run_id, "a")
    assert [(m.step, m.value) for m in history] == [(3, 1.0)]


def test_bad_values_raise_one_line_errors() -> None:
    with satchel.start_run():
        satchel.log_param("alpha", 0.5)
        with pytest.raises(InvalidValueError) as changed:
            satchel.log_param("alpha", 0.6)
        with pytest.raises(InvalidValueError):
            satchel.log_metric("rmse", "high")
        with pytest.raises(InvalidValueError):
            satchel.log_metric("../up", 1.0)
    assert "0.5" in str(changed.value) and "0.6" in str(changed.value)
    assert "\n" not in str(changed.value)


def test_resume_by_run_id_reopens_the_run() -> None:
    with satchel.start_run() as first:
        satchel.log_metric("m", 1)
    with satchel.start_run(run_id=first.info.run_id) as again:
        assert satchel.get_run(first.info.run_id).info.status == RunStatus.RUNNING
        satchel.log_metric("m", 2, step=1)
    assert again.info.run_id == first.info.run_id
    stored = satchel.get_run(first.info.run_id)
    assert stored.info.status == RunStatus.FINISHED and stored.data.metrics["m"] == 2


def test_env_run_id_is_resumed_once_and_left_to_the_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    handed = satchel.Client().create_run("0", run_name="from-runner").info.run_id
    monkeypatch.setenv("SATCHEL_RUN_ID", handed)
    satchel.log_metric("m", 1.0)  # implicit start resumes the handed-over run
    assert satchel.active_run().info.run_id == handed
    with satchel.start_run(nested=True) as child:
        assert child.info.run_id != handed
    satchel.end_run()
    # the runner owns the final status of its run
    assert _status(handed) == RunStatus.RUNNING
    assert _status(child.info.run_id) == RunStatus.FINISHED
    assert satchel.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == handed
    with satchel.start_run() as fresh:  # consumed: a later start_run creates a new run
        pass
    assert fresh.info.run_id != handed


def test_env_experiment_name_is_created(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATCHEL_EXPERIMENT_NAME", "from-env")
    with satchel.start_run() as run:
        pass
    assert satchel.get_experiment_by_name("from-env").experiment_id == run.info.experiment_id


def test_search_runs_defaults_to_current_experiment() -> None:
    satchel.set_experiment("search-me")
    for rmse in (0.3, 0.6):
        with satchel.start_run():
            satchel.log_metric("rmse", rmse)
    found = satchel.search_runs(filter_string="metrics.rmse < 0.5")
    assert [r.data.metrics["rmse"] for r in found] == [0.3]
    assert len(satchel.search_runs(experiment_names=["search-me"])) == 2


def test_tracking_uri_roundtrip(tmp_path: Path) -> None:
    satchel.set_tracking_uri(str(tmp_path / "other.db"))
    assert satchel.get_tracking_uri() == f"sqlite:///{tmp_path / 'other.db'}"


def test_search_runs_returns_a_list_without_pandas() -> None:
    from satchel.errors import UsageError

    with satchel.start_run():
        satchel.log_metric("rmse", 0.3)
    assert [r.data.metrics for r in satchel.search_runs(output_format="list")] == [{"rmse": 0.3}]
    if importlib.util.find_spec("pandas") is None:
        assert isinstance(satchel.search_runs(), list)  # the default without pandas
        with pytest.raises(UsageError, match="needs pandas"):
            satchel.search_runs(output_format="pandas")


# read at import: the autouse fixture clears SATCHEL_* variables before each test
MLFLOW_PYTHON = os.environ.get("SATCHEL_TEST_MLFLOW_PYTHON", "")  # a venv with pandas
_PANDAS_PROBE = """
import sys
import satchel
assert "pandas" not in sys.modules, "import satchel imported pandas"
satchel.set_experiment("frames")
for alpha, rmse in (("0.1", 0.3), ("0.5", None)):
    with satchel.start_run():
        satchel.log_param("alpha", alpha)
        if rmse is not None:
            satchel.log_metric("rmse", rmse)
frame = satchel.search_runs(order_by=["params.alpha"])
import pandas as pd
assert isinstance(frame, pd.DataFrame), type(frame)
print(list(frame.columns))
print(frame["params.alpha"].tolist(), frame["metrics.rmse"].isna().tolist())
print(str(frame["start_time"].dtype), list(frame["status"]))
print(type(satchel.search_runs(output_format="list")).__name__)
"""


def test_search_runs_returns_mlflows_dataframe_when_pandas_is_there(tmp_path: Path) -> None:
    python = MLFLOW_PYTHON
    assert python, "SATCHEL_TEST_MLFLOW_PYTHON is unset: `source .ci/services.sh && ci_up mlflow`"
    src = Path(satchel.__file__).resolve().parent.parent
    out = subprocess.run(
        [python, "-c", _PANDAS_PROBE],
        env={**os.environ, "PYTHONPATH": str(src)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    columns, values, dtype, listed = out.stdout.strip().splitlines()
    assert columns == str(
        ["run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time",
         "metrics.rmse", "params.alpha", "tags.mlflow.runName", "tags.mlflow.source.name",
         "tags.mlflow.source.type", "tags.mlflow.user"]
    )  # fmt: skip
    assert values == "['0.1', '0.5'] [False, True]"
    assert dtype.startswith("datetime64[") and dtype.endswith(", UTC] ['FINISHED', 'FINISHED']")
    assert listed == "list"
