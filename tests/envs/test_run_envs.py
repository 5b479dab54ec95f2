"""End to end through `satchel run`: the project runs inside its env, concurrent runs share
one build, a missing dependency fails the run with its build log."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from envs_helpers import make_project

from satchel.envs.cache import EnvCache
from satchel.home import satchel_home
from satchel.tracking.client import Client

pytestmark = pytest.mark.slow

MAIN = """\
import sys
import six
assert sys.prefix != sys.base_prefix, "not inside a venv"
assert six.__version__ == "1.16.0", six.__version__
try:
    import click  # a host package: must not leak into the env
except ImportError:
    pass
else:
    raise AssertionError("host package click leaked into the env")
import satchel
satchel.log_metric("inside", 1.0)
print("ENV-OK", sys.prefix)
"""
MLPROJECT = (
    "name: envdemo\npython_env: python_env.yaml\n"
    "entry_points:\n  main:\n    command: python main.py\n"
)


def _project(tmp_path: Path, deps: str = "six==1.16.0") -> Path:
    root = tmp_path / "proj"
    make_project(
        root,
        {"MLproject": MLPROJECT, "main.py": MAIN, "python_env.yaml": f"dependencies: [{deps}]\n"},
    )
    return root


def _satchel(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "satchel", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run_id(stderr: str) -> str:
    found = re.search(r"run ([0-9a-f]{32})", stderr)
    assert found, stderr
    return found.group(1)


def _client(cwd: Path) -> Client:
    return Client(f"sqlite:///{cwd / 'satchel' / 'satchel.db'}")


def test_project_runs_inside_its_env_and_imports_satchel(tmp_path: Path) -> None:
    root = _project(tmp_path)
    proc = _satchel("run", str(root), cwd=tmp_path)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    assert "ENV-OK" in out
    run = _client(tmp_path).get_run(_run_id(err))
    tags = run.data.tags
    assert tags["mlflow.project.env"] == "uv"
    assert tags["satchel.env.cache"] == "miss"
    key = tags["satchel.env.key"]
    assert str(satchel_home() / "envs" / key) in out
    assert run.data.metrics["inside"] == 1.0
    paths = {a.path for a in _client(tmp_path).list_artifacts(run.info.run_id, "env")}
    assert {"env/requirements.lock", "env/build.log"} <= paths

    again = _satchel("run", str(root), cwd=tmp_path)
    _out, err2 = again.communicate(timeout=120)
    assert again.returncode == 0, err2
    assert _client(tmp_path).get_run(_run_id(err2)).data.tags["satchel.env.cache"] == "hit"


def test_two_concurrent_runs_build_the_env_once(tmp_path: Path) -> None:
    root = _project(tmp_path)
    procs = [_satchel("run", str(root), cwd=tmp_path) for _ in range(2)]
    results = [p.communicate(timeout=180) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in results]
    caches = sorted(
        _client(tmp_path).get_run(_run_id(err)).data.tags["satchel.env.cache"] for _, err in results
    )
    assert caches == ["hit", "miss"]
    assert len(EnvCache().entries()) == 1
    assert len(list((satchel_home() / "envs" / "logs").glob("*.log"))) == 1


def test_missing_dependency_fails_the_run_with_its_build_log(tmp_path: Path) -> None:
    root = _project(tmp_path, deps="nonexistent-pkg-satchel-xyz")
    proc = _satchel("run", str(root), cwd=tmp_path)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    errors = [line for line in err.splitlines() if "nonexistent-pkg-satchel-xyz" in line]
    assert errors, err
    run = _client(tmp_path).get_run(_run_id(err))
    assert (
        run.info.status.value == "FAILED"
        if hasattr(run.info.status, "value")
        else (run.info.status == "FAILED")
    )
    paths = {a.path for a in _client(tmp_path).list_artifacts(run.info.run_id, "env")}
    assert "env/build.log" in paths
    assert EnvCache().entries() == []
    assert not list((satchel_home() / "envs").glob("*.tmp-*"))
