"""`--skip-if-done`: a FINISHED run with the same run key is reused (nothing runs); one
changed byte in the code, in a data file given as a `path` param, in the environment's lock,
or in a param value runs again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from repro_helpers import require, runs_by_start, store, wheel_index
from runner_helpers import PROJECTS, satchel_cli

import satchel.projects
from satchel.tracking.client import Client

pytestmark = pytest.mark.slow


def run_skip(project: Path, data: Path, *extra: str, env: dict[str, str]) -> str:
    """`satchel run --skip-if-done`; returns the id it printed when reused, else ""."""
    out = satchel_cli("run", str(project), "--skip-if-done", "-P", f"data={data}", *extra, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1] if "reused, nothing ran" in out.stderr else ""


def count(client: Client) -> int:
    return len(client.search_runs(["0"]))


def test_skip_if_done_reuses_until_one_byte_changes(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    shutil.copytree(PROJECTS / "repro", project)
    env = wheel_index(tmp_path, "satchel_demo_pkg", ["1.0", "1.1"])
    require(project, "satchel_demo_pkg==1.0")
    data = tmp_path / "data.txt"
    data.write_text("the data\n")
    client = store()

    assert run_skip(project, data, env=env) == ""  # nothing to reuse yet: it runs
    (first,) = client.search_runs(["0"])
    assert len(first.data.tags["satchel.run_key"]) == 64
    assert run_skip(project, data, env=env) == first.info.run_id  # unchanged: reused
    assert count(client) == 1

    with (project / "train.py").open("a") as fh:  # one byte of code
        fh.write("#")
    assert run_skip(project, data, env=env) == ""
    assert run_skip(project, data, env=env) != ""  # and that new run is reused in turn

    data.write_text("the data!\n")  # one byte of the data file
    assert run_skip(project, data, env=env) == ""

    require(project, "satchel_demo_pkg==1.1")  # the lock
    assert run_skip(project, data, env=env) == ""

    assert run_skip(project, data, "-P", "scale=2", env=env) == ""  # a param
    assert run_skip(project, data, "-P", "scale=2.0", env=env) != ""  # the same typed value
    keys = {r.data.tags["satchel.run_key"] for r in runs_by_start(client)}
    assert count(client) == 5 and len(keys) == 5


def test_projects_run_skip_if_done_returns_the_finished_run(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    shutil.copytree(PROJECTS / "repro", project)
    first = satchel.projects.run(str(project), env_manager="local", skip_if_done=True)
    assert not first.reused
    again = satchel.projects.run(str(project), env_manager="local", skip_if_done=True)
    assert again.reused and again.run_id == first.run_id
    assert again.get_status().value == "FINISHED"
    assert count(store()) == 1


def test_a_failed_run_is_never_reused(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    shutil.copytree(PROJECTS / "repro", project)
    data = tmp_path / "missing-later.txt"
    data.write_text("x\n")
    (project / "train.py").write_text("raise SystemExit(3)\n")
    env = {"SATCHEL_ENV_MANAGER": "local"}
    out = satchel_cli("run", str(project), "--skip-if-done", "-P", f"data={data}", env=env)
    assert out.returncode == 1
    out = satchel_cli("run", str(project), "--skip-if-done", "-P", f"data={data}", env=env)
    assert out.returncode == 1 and "reused" not in out.stderr
    assert count(store()) == 2
