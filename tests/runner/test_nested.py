"""A project that calls ``satchel.projects.run`` makes a child run tagged with its parent,
in the same experiment, inheriting the parent's environment manager and backend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from runner_helpers import project_copy, satchel_cli

from satchel.tracking.client import Client
from satchel.tracking.entities import RunStatus

pytestmark = pytest.mark.slow


def test_nested_run_is_tagged_with_parent_and_inherits_choices(tmp_path: Path) -> None:
    outer = project_copy(tmp_path)
    inner = outer  # the same project again, through its `env` entry point
    out = satchel_cli(
        "run",
        str(outer),
        "-e",
        "nested",
        "-P",
        f"child={inner}",
        "--env-manager",
        "local",
        "--experiment-name",
        "nest",
    )
    assert out.returncode == 0, out.stderr
    client = Client(f"sqlite:///{Path.cwd() / 'satchel' / 'satchel.db'}")
    exp = client.get_experiment_by_name("nest")
    runs = {
        r.data.tags["mlflow.project.entryPoint"]: r for r in client.search_runs([exp.experiment_id])
    }
    assert set(runs) == {"nested", "env"}
    parent, child = runs["nested"], runs["env"]
    assert parent.info.status is RunStatus.FINISHED and child.info.status is RunStatus.FINISHED
    assert parent.data.params["outer"] == "yes"
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert "mlflow.parentRunId" not in parent.data.tags
    # the child inherited --env-manager local (MLflow would fall back to its default)
    assert child.data.tags["mlflow.project.env"] == "local"
    info = json.loads(out.stdout.split("ENV ", 1)[1].splitlines()[0])
    assert info["SATCHEL_RUN_ID"] == child.info.run_id
    assert info["SATCHEL_ENV_MANAGER"] == "local" and info["SATCHEL_BACKEND"] == "local"
    assert f"nested run {child.info.run_id}" in out.stdout
    assert "has_yaml True" in out.stdout  # the local env: the nested run ran in-process


def test_nested_run_from_an_isolated_env_delegates_to_the_runner(tmp_path: Path) -> None:
    """Inside a uv env the project has only satchel's stdlib client (no yaml, no click):
    the nested run goes through the runner's interpreter and still nests and inherits."""
    outer = project_copy(tmp_path)
    out = satchel_cli(
        "run",
        str(outer),
        "-e",
        "nested",
        "-P",
        f"child={outer}",
        "--env-manager",
        "uv",
        timeout=300,
    )
    assert out.returncode == 0, out.stderr + out.stdout
    client = Client(f"sqlite:///{Path.cwd() / 'satchel' / 'satchel.db'}")
    runs = {r.data.tags["mlflow.project.entryPoint"]: r for r in client.search_runs(["0"])}
    parent, child = runs["nested"], runs["env"]
    assert parent.data.tags["mlflow.project.env"] == "uv"
    assert "has_yaml False" in out.stdout  # isolated indeed: satchel's deps are not there
    assert child.info.status is RunStatus.FINISHED
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert child.data.tags["mlflow.project.env"] == "uv"  # inherited, not re-chosen
    log = Path(
        client.download_artifacts(child.info.run_id, "logs/console.log", tmp_path / "dl")
    ).read_text()
    info = json.loads(log.split("ENV ", 1)[1].splitlines()[0])
    assert info["SATCHEL_RUN_ID"] == child.info.run_id
