"""`satchel runs diff` of two runs that differ in one line of code, one package version and
one param shows exactly those three differences (text and JSON)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from repro_helpers import require, runs_by_start, store, wheel_index
from runner_helpers import PROJECTS, satchel_cli

pytestmark = pytest.mark.slow


def test_runs_diff_shows_exactly_code_package_and_param(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    shutil.copytree(PROJECTS / "repro", project)
    env = wheel_index(tmp_path, "satchel_demo_pkg", ["1.0", "1.1"])
    require(project, "satchel_demo_pkg==1.0")
    assert satchel_cli("run", str(project), "-P", "label=first", env=env).returncode == 0
    train = project / "train.py"
    train.write_text(train.read_text().replace('print("score", score)', 'print("got", score)'))
    require(project, "satchel_demo_pkg==1.1")
    assert satchel_cli("run", str(project), "-P", "label=second", env=env).returncode == 0
    a, b = runs_by_start(store())

    out = satchel_cli("runs", "diff", a.info.run_id, b.info.run_id, "--output", "json")
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert found["code_files"] == ["train.py"]
    changed = [ln for ln in found["code"] if ln[:1] in "+-" and ln[:3] not in ("+++", "---")]
    assert changed == ['-print("score", score)\n', '+print("got", score)\n']
    assert found["packages"] == {"changed": ["satchel-demo-pkg==1.0 -> satchel-demo-pkg==1.1"]}
    assert list(found["env"]) == ["satchel.env.key"]  # follows from the package
    assert found["env_files"] == ["python_env.yaml"]
    assert found["params"] == {"label": ["first", "second"]}
    assert found["metrics"] == {} and found["command"] == []

    text = satchel_cli("runs", "diff", a.info.run_id[:8], b.info.run_id[:8]).stdout
    assert "code: 1 file(s) differ" in text
    assert "changed: satchel-demo-pkg==1.0 -> satchel-demo-pkg==1.1" in text
    assert "label: first -> second" in text
    assert "metrics:" not in text and "command:" not in text


def test_runs_diff_of_a_run_with_itself_says_no_differences(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    shutil.copytree(PROJECTS / "repro", project)
    assert satchel_cli("run", str(project), "--env-manager", "local").returncode == 0
    (run,) = store().search_runs(["0"])
    out = satchel_cli("runs", "diff", run.info.run_id, run.info.run_id)
    assert out.returncode == 0 and out.stdout.rstrip().endswith("no differences")
