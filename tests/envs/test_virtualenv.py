"""The virtualenv + pip kind (for machines without uv): real builds, relocation, the cache."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from envs_helpers import make_project, run_in

from satchel.envs import get_manager
from satchel.envs.cache import EnvCache
from satchel.errors import EnvironmentBuildError

pytestmark = pytest.mark.slow
SIX = {
    "python_env.yaml": "dependencies: [-r requirements.txt]\n",
    "requirements.txt": "six==1.16.0\n",
}


def _prepare(project, **kw):
    return get_manager("virtualenv").prepare(project, report=lambda _: None, **kw)


def test_build_hit_and_relocated_scripts(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", SIX, kind="python_env", env_file="python_env.yaml")
    env = _prepare(project)
    assert env.manager == "virtualenv" and not env.cache_hit
    assert run_in(env.python, "import six, sys; print(six.__version__, sys.prefix)") == (
        f"1.16.0 {env.root}"
    )
    assert env.lock_file.read_text() == "six==1.16.0\n"
    pip = subprocess.run(
        [str(env.root / "bin" / "pip"), "--version"], capture_output=True, text=True, check=True
    )
    assert str(env.root) in pip.stdout  # the shebang points at the final dir, not the temp one
    again = _prepare(project)
    assert again.cache_hit and again.key == env.key


def test_rebuild_from_the_recorded_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project(tmp_path / "p", SIX, kind="python_env", env_file="python_env.yaml")
    env = _prepare(project)
    env.release()  # the lease would keep `remove` from deleting it
    EnvCache().remove(env.key)
    monkeypatch.setenv("SATCHEL_PROGRESS", "1")  # progress lines are off a terminal
    lines: list[str] = []
    again = get_manager("virtualenv").prepare(project, report=lines.append)
    assert again.key == env.key and not again.cache_hit
    assert any("recorded lock" in line for line in lines)
    assert run_in(again.python, "import six; print(six.__version__)") == "1.16.0"


def test_missing_dependency_is_one_line(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", {"requirements.txt": "nonexistent-pkg-satchel-xyz\n"})
    with pytest.raises(EnvironmentBuildError) as err:
        _prepare(project)
    assert "nonexistent-pkg-satchel-xyz" in str(err.value) and "\n" not in str(err.value)
    assert EnvCache().entries() == []
    assert not list(EnvCache().root.glob("*.tmp-*"))
