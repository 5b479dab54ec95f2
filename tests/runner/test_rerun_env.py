"""A rerun's environment comes from the recorded lock, not a new resolution: after the env
cache is emptied and a newer release of a dependency appears, the rerun still installs the
recorded version and gets the recorded env key (a plain run of the project would not)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from repro_helpers import make_wheel, require, runs_by_start, store, wheel_index
from runner_helpers import PROJECTS, satchel_cli

pytestmark = pytest.mark.slow


def lock_of(run_id: str, dest: Path) -> str:
    return Path(store().download_artifacts(run_id, "env/requirements.lock", dest)).read_text()


def test_rerun_installs_the_recorded_lock_after_the_cache_is_emptied(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    shutil.copytree(PROJECTS / "repro", project)
    env = wheel_index(tmp_path, "satchel_demo_pkg", ["1.0"])
    require(project, "satchel_demo_pkg")  # unpinned: whatever the index offers
    assert satchel_cli("run", str(project), env=env).returncode == 0
    (first,) = store().search_runs(["0"])
    assert lock_of(first.info.run_id, tmp_path / "l1") == "satchel-demo-pkg==1.0\n"

    shutil.rmtree(Path(os.environ["SATCHEL_HOME"]) / "envs")
    make_wheel(tmp_path / "wheels", "satchel_demo_pkg", "1.1")
    assert satchel_cli("run", str(project), env=env).returncode == 0  # resolves anew: 1.1
    _first, plain = runs_by_start(store())
    assert plain.data.tags["satchel.env.key"] != first.data.tags["satchel.env.key"]

    out = satchel_cli("runs", "rerun", first.info.run_id, env=env)
    assert out.returncode == 0, out.stderr
    again = runs_by_start(store())[-1]
    assert again.data.tags["satchel.rerun_of"] == first.info.run_id
    assert again.data.tags["satchel.env.key"] == first.data.tags["satchel.env.key"]
    assert lock_of(again.info.run_id, tmp_path / "l3") == "satchel-demo-pkg==1.0\n"
