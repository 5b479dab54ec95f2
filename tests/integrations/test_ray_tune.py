"""Ray Tune sweeps on the real local Ray cluster, submitted with `satchel run --backend ray`:
Satchel's callback (a parent run, one child run per trial, batched metrics) and Ray's own
MLflowLoggerCallback / setup_mlflow pointed at `satchel server`. Never skipped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.runner.runner_helpers import PROJECTS, satchel_cli
from tests.server.server_helpers import running_server

from satchel.integrations.ray_tune import flatten
from satchel.tracking.client import Client
from satchel.tracking.entities import RunStatus

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ray_cluster")]


def test_a_sweep_is_a_parent_run_and_each_trial_a_child_run() -> None:
    out = satchel_cli(
        "run", str(PROJECTS / "ray_tune"), "--backend", "ray", "-P", "fail_trial=3",
        timeout=280,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert "TRIALS 8 ERRORS 1" in out.stdout
    client = Client(f"sqlite:///{Path.cwd() / 'satchel' / 'satchel.db'}")
    runs = client.search_runs(["0"])
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert parent.info.status is RunStatus.FINISHED
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(children) == 8 and len(runs) == 9
    by_index = {int(r.data.params["index"]): r for r in children}
    assert sorted(by_index) == list(range(8))
    for index, run in by_index.items():
        assert run.data.params["nested/width"] == "4"  # the config, flattened
        history = client.get_metric_history(run.info.run_id, "score")
        steps = [m.step for m in sorted(history, key=lambda m: m.step)]
        if index == 3:  # raised at its third iteration
            assert run.info.status is RunStatus.FAILED and steps == [1, 2]
            continue
        assert run.info.status is RunStatus.FINISHED
        assert steps == [1, 2, 3, 4, 5]  # the training iteration is the step
        assert [m.value for m in sorted(history, key=lambda m: m.step)] == [
            index * 10 + i for i in range(5)
        ]
        assert run.data.metrics["from_trainable"] == index  # setup_satchel in the trainable
        assert run.data.tags["satchel.tune.trial_id"] in run.info.run_name


def test_rays_mlflow_callback_and_setup_mlflow_log_to_satchel_server(tmp_path: Path) -> None:
    with running_server(
        "--backend-store-uri", f"sqlite:///{tmp_path / 's.db'}", cwd=tmp_path
    ) as url:
        out = satchel_cli(
            "run", str(PROJECTS / "ray_tune_mlflow"), "--backend", "ray", "--tracking-uri", url,
            timeout=280,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr[-3000:]
        assert "TRIALS 4" in out.stdout
        client = Client(url)
        # MLFLOW_EXPERIMENT_ID (the sweep run's, set for the project) wins over the names
        # given, as Ray documents: look at every experiment
        ids = [e.experiment_id for e in client.search_experiments()]
        runs = client.search_runs(ids)
        for metric in ("score", "inner"):  # the callback's runs, then setup_mlflow's
            logged = [r for r in runs if metric in r.data.metrics]
            assert len(logged) == 4, metric
            for run in logged:
                assert len(client.get_metric_history(run.info.run_id, metric)) == 3
                assert run.data.params["index"] in {"0", "1", "2", "3"}
        # the callback ends its runs; setup_mlflow's stay as a killed Ray actor leaves them
        assert {r.info.status for r in runs if "score" in r.data.metrics} == {RunStatus.FINISHED}


def test_flatten_joins_nested_keys() -> None:
    assert flatten({"a": {"b": 1, "c": {"d": "x"}}, "e": 2}) == {"a/b": 1, "a/c/d": "x", "e": 2}


class _CountingClient(Client):
    """A real client on a real store that also counts its writes."""

    calls = 0

    def log_batch(self, *args: Any, **kwargs: Any) -> None:
        type(self).calls += 1
        super().log_batch(*args, **kwargs)


def test_the_sweep_batches_metrics_and_ends_stopped_trials_killed(tmp_path: Path) -> None:
    """The callback's bookkeeping without Ray: one batch per flush, not one call per value."""
    from satchel.integrations.ray_tune import _Sweep

    client = _CountingClient(f"sqlite:///{tmp_path / 'db'}")
    sweep = _Sweep(client, "0", None, "sweep", flush_seconds=3600)
    sweep.start_trial("t1", "trial 1", {"lr": 0.1, "net": {"width": 8}})
    sweep.start_trial("t2", "trial 2", {"lr": 0.2})
    _CountingClient.calls = 0
    for i in range(1, 101):
        sweep.result("t1", {"training_iteration": i, "loss": 1 / i, "acc": i, "done": False})
    assert _CountingClient.calls == 0  # buffered: nothing sent before a flush is due
    sweep.end_trial("t1", RunStatus.FAILED)
    assert _CountingClient.calls == 1  # 200 points in one batch
    sweep.result("t2", {"training_iteration": 1, "loss": 0.5})
    sweep.end()  # the sweep stopped with t2 still running
    runs = {r.info.run_name: r for r in client.search_runs(["0"])}
    assert runs["trial 1"].info.status is RunStatus.FAILED
    assert runs["trial 2"].info.status is RunStatus.KILLED
    assert runs["sweep"].info.status is RunStatus.KILLED
    assert runs["trial 1"].data.params == {"lr": "0.1", "net/width": "8"}
    history = client.get_metric_history(runs["trial 1"].info.run_id, "loss")
    assert [m.step for m in history] == list(range(1, 101))
    assert "done" not in runs["trial 1"].data.metrics
    assert runs["trial 2"].data.tags["mlflow.parentRunId"] == runs["sweep"].info.run_id
