"""`satchel runs rerun` of a docker run, on a real engine: the project directory is gone, the
rerun runs the recorded snapshot in the same image (same env key) with the same result."""

# ruff: noqa: F811  (fixtures imported from docker_helpers are test parameters)

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from docker_helpers import docker_project, engine, no_leftovers  # noqa: F401  (fixtures)

from conftest import run_cli
from satchel.tracking.client import Client

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_rerun_of_a_docker_run_after_its_project_is_deleted(
    docker_project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SATCHEL_TEST_SECRET", "not-printed")
    store = f"sqlite:///{tmp_path / 'store' / 'satchel.db'}"
    first_out = run_cli(
        "run", str(docker_project.root), "--tracking-uri", store, "-P", "alpha=0.8", timeout=180
    )
    assert first_out.returncode == 0, first_out.stderr
    client = Client(store)
    (first,) = client.search_runs(["0"])
    shutil.rmtree(docker_project.root)

    out = run_cli("runs", "rerun", first.info.run_id, "--tracking-uri", store, timeout=180)
    assert out.returncode == 0, out.stderr
    assert "trained with alpha 0.8" in out.stdout
    again = next(r for r in client.search_runs(["0"]) if r.info.run_id != first.info.run_id)
    assert again.data.tags["satchel.rerun_of"] == first.info.run_id
    assert again.data.tags["mlflow.project.env"] == "docker"
    assert again.data.tags["satchel.env.key"] == first.data.tags["satchel.env.key"]
    assert again.data.metrics == first.data.metrics == {"rmse": 0.4}
    source_a = client.download_artifacts(first.info.run_id, "source", tmp_path / "a")
    source_b = client.download_artifacts(again.info.run_id, "source", tmp_path / "b")
    assert _tree(Path(source_b)) == _tree(Path(source_a))
