"""Finding installed interpreters the way users have them: pyenv versions that are not on
PATH (no global shim), uv-managed ones, ``pythonX.Y`` names; downloads only when allowed."""

from __future__ import annotations

import os
import platform
import pwd
import sys
from pathlib import Path

import pytest

from satchel.envs.interpreters import downloads_allowed, find_python
from satchel.errors import EnvironmentBuildError, UsageError

CURRENT = ".".join(platform.python_version().split(".")[:2])


def _another_real_python() -> tuple[str, Path]:
    """An installed interpreter of another minor version than the one running the tests
    (pyenv's versions of the real home, or the system's pythonX.Y)."""
    real_home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    places = sorted((real_home / ".pyenv" / "versions").glob("3.*/bin/python3"))
    places += sorted(Path("/usr/bin").glob("python3.[0-9]*"))
    for python in places:
        version = python.parent.parent.name if "pyenv" in str(python) else python.name[6:]
        other = version.count(".") >= 1 and ".".join(version.split(".")[:2]) != CURRENT
        if other and os.access(python, os.X_OK) and not python.name.endswith("-config"):
            return version, python
    pytest.fail("this test needs a second Python (another minor version) installed")


def test_a_pyenv_version_off_path_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    version, real = _another_real_python()
    minor = ".".join(version.split(".")[:2])
    pyenv_bin = tmp_path / "pyenv" / "versions" / version / "bin"
    pyenv_bin.mkdir(parents=True)
    (pyenv_bin / "python3").symlink_to(real)
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    # PATH as a user without a global pyenv shim has it: uv finds nothing of that version
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable))
    found = find_python(minor, where="python_env.yaml")
    assert found.path == pyenv_bin / "python3"
    assert found.version.startswith(minor + ".")


@pytest.mark.parametrize("layout", ["uv-managed", "pythonX.Y on PATH"])
def test_uv_managed_and_versioned_names_are_found(
    layout: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    version, real = _another_real_python()
    minor = ".".join(version.split(".")[:2])
    path = [os.path.dirname(sys.executable)]
    if layout == "uv-managed":  # `uv python install` puts it here, not on PATH
        folder = tmp_path / "uv-python" / f"cpython-{version}-linux-x86_64-gnu" / "bin"
        folder.mkdir(parents=True)
        (folder / "python3").symlink_to(real)
        monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "uv-python"))
        expected = folder / "python3"
    else:  # only a versioned name, as some distributions and installers leave it
        folder = tmp_path / "bin"
        folder.mkdir()
        (folder / f"python{minor}").symlink_to(real)
        path.append(str(folder))
        expected = folder / f"python{minor}"
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    monkeypatch.setenv("PATH", os.pathsep.join(path))
    found = find_python(minor, where="python_env.yaml")
    assert found.version.startswith(minor + ".")
    assert found.path == expected or found.path.resolve() == real.resolve()


def test_a_missing_version_with_downloads_off_is_one_line(monkeypatch) -> None:
    assert os.environ["SATCHEL_PYTHON_DOWNLOADS"] == "never"  # conftest: tests never download
    assert not downloads_allowed()
    with pytest.raises(EnvironmentBuildError) as err:
        find_python("3.99", where="python_env.yaml")
    line = str(err.value)
    assert "Python 3.99 (from python_env.yaml) is not installed" in line and "\n" not in line
    assert "SATCHEL_PYTHON_DOWNLOADS=auto" in line
    monkeypatch.delenv("SATCHEL_PYTHON_DOWNLOADS")
    assert downloads_allowed()  # auto by default
    monkeypatch.setenv("SATCHEL_PYTHON_DOWNLOADS", "sometimes")
    with pytest.raises(UsageError, match="auto, never"):
        downloads_allowed()
