"""``--dry-run`` says where the environment comes from: the declaration file (relative to the
project) or "none: current Python X.Y", the python asked for, and for docker the image and
whether the code is mounted or baked. It still creates nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from runner_helpers import db_runs, satchel_cli

pytestmark = pytest.mark.slow

CURRENT = f"{sys.version_info.major}.{sys.version_info.minor}"


def _project(
    tmp_path: Path, mlproject_extra: str = "", files: dict[str, str] | None = None
) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "MLproject").write_text(
        f"name: envy\n{mlproject_extra}entry_points:\n  main:\n    command: python -V\n"
    )
    for name, text in (files or {}).items():
        (proj / name).parent.mkdir(parents=True, exist_ok=True)
        (proj / name).write_text(text)
    return proj


def _env_section(proj: Path, *args: str) -> list[str]:
    """The ``environment:`` line and its indented details."""
    out = satchel_cli("run", str(proj), "--dry-run", *args)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("environment:"))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("  "))
    assert db_runs(Path.cwd() / "satchel" / "satchel.db") == []  # nothing created
    return lines[start:end]


def test_no_declaration_names_the_current_python(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    assert _env_section(proj) == [
        "environment:  uv",
        f"  declared in:  none: current Python {CURRENT}",
    ]


def test_python_env_file_in_a_subfolder_with_a_python(tmp_path: Path) -> None:
    proj = _project(
        tmp_path,
        "python_env: envs/py.yaml\n",
        {"envs/py.yaml": 'python: "3.10"\ndependencies: []\n'},
    )
    assert _env_section(proj, "--env-manager", "virtualenv") == [
        "environment:  virtualenv",
        "  declared in:  envs/py.yaml",
        "  python:       3.10",
    ]


def test_python_env_without_a_python_says_none_requested(tmp_path: Path) -> None:
    proj = _project(tmp_path, files={"python_env.yaml": "dependencies: []\n"})
    assert _env_section(proj) == [
        "environment:  uv",
        "  declared in:  python_env.yaml",
        f"  python:       not requested: current Python {CURRENT}",
    ]


def test_conda_file_python_and_requirements(tmp_path: Path) -> None:
    conda = _project(
        tmp_path,
        "conda_env: conda.yaml\n",
        {"conda.yaml": "dependencies:\n  - python=3.9\n  - python-dateutil\n"},
    )
    assert _env_section(conda)[1:] == ["  declared in:  conda.yaml", "  python:       3.9"]
    reqs = tmp_path / "reqs"
    reqs.mkdir()
    (reqs / "MLproject").write_text("name: r\nentry_points:\n  main:\n    command: python -V\n")
    (reqs / "requirements.txt").write_text("\n")
    assert _env_section(reqs)[1:] == [
        "  declared in:  requirements.txt",
        f"  python:       not requested: current Python {CURRENT}",
    ]


def test_local_says_it_ignores_the_declaration(tmp_path: Path) -> None:
    proj = _project(tmp_path, files={"python_env.yaml": 'python: "3.10"\n'})
    assert _env_section(proj, "--env-manager", "local") == [
        "environment:  local",
        f"  declared in:  none: current Python {CURRENT} "
        "(--env-manager local ignores python_env.yaml)",
    ]


@pytest.mark.parametrize("build", [False, True])
def test_docker_image_and_code_mode(tmp_path: Path, build: bool) -> None:
    proj = _project(tmp_path, "docker_env:\n  image: satchel-test/python:offline\n")
    section = _env_section(proj, *(["--build-image"] if build else []))
    assert section[:3] == [
        "environment:  docker",
        "  declared in:  MLproject (docker_env)",
        "  image:        satchel-test/python:offline",
    ]
    if build:
        assert section[3].startswith("  code:         baked into an image built FROM")
    else:
        assert section[3].startswith("  code:         mounted at /satchel/project")
