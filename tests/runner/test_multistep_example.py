"""examples/multistep_workflow end to end: load → etl → train as child runs of the workflow
run, artifacts handed on as runs:/ path params; its second run reuses every step, and a
changed `train` param reruns `train` alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from repro_helpers import runs_by_start, store
from runner_helpers import satchel_cli

from conftest import REPO
from satchel.tracking.entities import Run

pytestmark = pytest.mark.slow
STEPS = ["load_raw_data", "etl_data", "train"]


def children(runs: list[Run], parent: Run) -> dict[str, Run]:
    return {
        r.data.tags["mlflow.project.entryPoint"]: r
        for r in runs
        if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id
    }


def workflows(runs: list[Run]) -> list[Run]:
    return [r for r in runs if r.data.tags["mlflow.project.entryPoint"] == "main"]


def test_multistep_workflow_runs_then_reuses_every_step(tmp_path: Path) -> None:
    example = tmp_path / "multistep"
    shutil.copytree(REPO / "examples" / "multistep_workflow", example)
    client = store()

    first_out = satchel_cli("run", str(example), timeout=300)
    assert first_out.returncode == 0, first_out.stderr
    (workflow,) = workflows(runs_by_start(client))
    steps = children(runs_by_start(client), workflow)
    assert sorted(steps) == sorted(STEPS)
    assert all(r.info.status.value == "FINISHED" for r in steps.values())
    load, etl, train = (steps[s] for s in STEPS)
    assert etl.data.params["ratings_csv"] == (
        f"runs:/{load.info.run_id}/ratings-csv-dir/ratings.csv"
    )
    assert train.data.params["ratings_data"] == (
        f"runs:/{etl.info.run_id}/ratings-clean-dir/ratings.csv"
    )
    assert 0 < train.data.metrics["test_rmse"] < 1.5

    second_out = satchel_cli("run", str(example), timeout=300)
    assert second_out.returncode == 0, second_out.stderr
    assert second_out.stdout.count("(reused)") == 3
    runs = runs_by_start(client)
    assert len(runs) == 8  # a new workflow run and three links: no step ran again
    again = children(runs, workflows(runs)[1])
    assert {s: r.data.tags["satchel.reused_run"] for s, r in again.items()} == {
        s: steps[s].info.run_id for s in STEPS
    }
    assert workflows(runs)[1].data.params["train_run"] == train.info.run_id

    third_out = satchel_cli("run", str(example), "-P", "epochs=5", timeout=300)
    assert third_out.returncode == 0, third_out.stderr
    runs = runs_by_start(client)
    third = children(runs, workflows(runs)[2])
    assert {s for s, r in third.items() if "satchel.reused_run" in r.data.tags} == {
        "load_raw_data",
        "etl_data",
    }
    assert third["train"].data.tags["satchel.run_key"] != train.data.tags["satchel.run_key"]
