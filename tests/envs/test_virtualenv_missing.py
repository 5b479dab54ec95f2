"""`--env-manager virtualenv` on a machine without the `virtualenv` package: one line with the
fix, before any run exists. Each test runs a real interpreter in which ``virtualenv`` cannot be
imported (``sys.modules['virtualenv'] = None`` is how Python spells "not installed")."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from envs_helpers import make_project

from satchel.tracking.client import Client

_NO_VIRTUALENV = "import sys; sys.modules['virtualenv'] = None\n"


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _NO_VIRTUALENV + textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_validate_env_decl_names_the_fix(tmp_path: Path) -> None:
    make_project(tmp_path / "p", {"requirements.txt": "six\n"})
    out = _python(
        """
        from pathlib import Path
        from satchel.envs import validate_env_decl
        from satchel.errors import EnvironmentBuildError
        from satchel.projects.spec import EntryPoint, EnvDecl, Project
        root = Path(sys.argv[1])
        project = Project(root=root, name="p", spec_path=None, env=EnvDecl("none", None),
                          entry_points={"main": EntryPoint("main", "python main.py")})
        assert validate_env_decl(project, "uv") == ()  # other managers do not need it
        try:
            validate_env_decl(project, "virtualenv")
        except EnvironmentBuildError as exc:
            print(exc)
        """,
        str(tmp_path / "p"),
    )
    assert out.returncode == 0, out.stderr
    line = out.stdout
    assert line.count("\n") == 1 and "`virtualenv` package" in line
    assert "pip install 'satchel[virtualenv]'" in line and "pip install virtualenv" in line


def test_run_fails_before_creating_a_run(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    make_project(
        root,
        {
            "MLproject": "name: p\nentry_points:\n  main:\n    command: python -c 'print(1)'\n",
            "requirements.txt": "six\n",
        },
    )
    out = _python(
        "from satchel.cli import main\nmain(sys.argv[1:])\n",
        "run",
        str(root),
        "--env-manager",
        "virtualenv",
    )
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert out.stderr.count("\n") == 1 and "pip install 'satchel[virtualenv]'" in out.stderr
    db = Path.cwd() / "satchel" / "satchel.db"
    assert not db.exists() or Client(f"sqlite:///{db}").search_runs(["0"]) == []
    # the same command with a manager it has does create (and finish) a run in that store
    done = _python(
        "from satchel.cli import main\nmain(sys.argv[1:])\n",
        "run",
        str(root),
        "--env-manager",
        "local",
    )
    assert done.returncode == 0, done.stderr
    assert len(Client(f"sqlite:///{db}").search_runs(["0"])) == 1
