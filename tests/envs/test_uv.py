"""Real uv-built environments for every declaration kind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from envs_helpers import make_project, run_in

from satchel.envs.interpreters import uv_bin, uv_environ
from satchel.envs.uv import UvManager
from satchel.errors import EnvironmentBuildError

pytestmark = pytest.mark.slow
CURRENT = f"{sys.version_info.major}.{sys.version_info.minor}"
PROBE = "import sys, six; print(six.__version__, sys.prefix == sys.base_prefix)"


def _prepare(project):
    return UvManager().prepare(project, report=lambda _: None)


def test_python_env_with_requirements_file(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "p",
        {
            "python_env.yaml": f'python: "{CURRENT}"\ndependencies: [-r requirements.txt]\n',
            "requirements.txt": "six==1.16.0\n",
        },
        kind="python_env",
        env_file="python_env.yaml",
    )
    env = _prepare(project)
    assert run_in(env.python, PROBE) == "1.16.0 False"  # declared version, inside a venv
    assert env.extra_tags["satchel.env.python"].startswith(CURRENT)
    assert env.manager == "uv" and env.root is not None and env.root.name == env.key


def test_moved_venv_console_scripts_work(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", {"requirements.txt": "pyflakes\n"})
    env = _prepare(project)
    assert ".tmp-" not in (env.root / "bin" / "pyflakes").read_text()
    (tmp_path / "ok.py").write_text("import os\nprint(os.sep)\n")
    out = subprocess.run(
        [str(env.root / "bin" / "pyflakes"), str(tmp_path / "ok.py")],
        capture_output=True,
        text=True,
        env=env.process_env({"PATH": "/usr/bin"}),
    )
    assert out.returncode == 0, out.stderr


def test_conda_yaml_converted(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "p",
        {
            "conda.yaml": (
                f"dependencies:\n  - python={CURRENT}\n  - numpy\n  - pip:\n    - six==1.16.0\n"
            )
        },
        kind="conda_env",
        env_file="conda.yaml",
    )
    env = _prepare(project)
    assert run_in(env.python, PROBE) == "1.16.0 False"
    assert env.extra_tags["satchel.env.conda_dropped"] == "numpy"
    assert run_in(env.python, "import importlib.util as u; print(u.find_spec('numpy'))") == "None"


def test_requirements_txt_without_env_file(tmp_path: Path) -> None:
    env = _prepare(make_project(tmp_path / "p", {"requirements.txt": "six==1.16.0\n"}))
    assert run_in(env.python, PROBE) == "1.16.0 False"


def test_pyproject_and_uv_lock(tmp_path: Path) -> None:
    root = tmp_path / "p"
    make_project(
        root,
        {
            "pyproject.toml": (
                "[project]\nname = 'demo'\nversion = '0.1'\n"
                f"requires-python = '>={CURRENT}'\ndependencies = ['six==1.16.0']\n"
            )
        },
    )
    subprocess.run([uv_bin(), "lock", "-q"], cwd=root, env=uv_environ(), check=True)
    env = _prepare(make_project(root, {}))
    assert "six==1.16.0" in env.lock_file.read_text()
    assert run_in(env.python, PROBE) == "1.16.0 False"


def test_nothing_declared_gives_a_bare_env_of_the_current_python(tmp_path: Path) -> None:
    env = _prepare(make_project(tmp_path / "p", {"main.py": "print(1)\n"}))
    assert run_in(env.python, "import sys; print('%d.%d' % sys.version_info[:2])") == CURRENT
    assert run_in(env.python, "import importlib.util as u; print(u.find_spec('six'))") == "None"
    assert env.lock_file.read_text() == ""


def test_unavailable_python_is_one_line_naming_what_is_there(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "p",
        {"python_env.yaml": 'python: "3.4"\n'},
        kind="python_env",
        env_file="python_env.yaml",
    )
    with pytest.raises(EnvironmentBuildError) as err:
        _prepare(project)
    message = str(err.value)
    assert "3.4" in message and "available:" in message and CURRENT in message
    assert "\n" not in message
