"""Declarations → DeclaredSpec: every kind, conversion, hashing of contents, one-line errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from envs_helpers import make_project

from satchel.envs import choose_manager, get_manager, validate_env_decl
from satchel.envs.python_spec import declare
from satchel.errors import SpecError, UsageError
from satchel.projects.spec import DockerEnv, EnvDecl, Project

CURRENT = f"{sys.version_info.major}.{sys.version_info.minor}"


def test_python_env_expands_r_and_c_files(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "p",
        {
            "python_env.yaml": 'python: "3.11"\nbuild_dependencies: [pip]\n'
            "dependencies:\n  - -r reqs/base.txt\n  - -c constraints.txt\n",
            "reqs/base.txt": "# comment\nsix==1.16.0\n-r more.txt\n",
            "reqs/more.txt": "packaging  # trailing comment\n",
            "constraints.txt": "packaging<30\n",
        },
        kind="python_env",
        env_file="python_env.yaml",
    )
    spec = declare(project)
    assert spec.source == "python_env.yaml"
    assert spec.python == "3.11"
    assert spec.requirements == ("pip", "six==1.16.0", "packaging")
    assert spec.constraints == ("packaging<30",)


def test_digest_follows_file_contents_not_comments(tmp_path: Path) -> None:
    files = {
        "python_env.yaml": "dependencies: [-r requirements.txt]\n",
        "requirements.txt": "six==1.16.0\n",
    }
    project = make_project(tmp_path / "p", files, kind="python_env", env_file="python_env.yaml")
    first = declare(project).digest("uv")
    (tmp_path / "p" / "requirements.txt").write_text("# a comment\nsix==1.16.0\n")
    assert declare(project).digest("uv") == first
    (tmp_path / "p" / "requirements.txt").write_text("six==1.15.0\n")
    assert declare(project).digest("uv") != first
    assert declare(project).digest("virtualenv") != declare(project).digest("uv")
    assert declare(project).python == CURRENT


def test_r_file_outside_the_project_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("six\n")
    project = make_project(
        tmp_path / "p",
        {"python_env.yaml": "dependencies: [-r ../secret.txt]"},
        kind="python_env",
        env_file="python_env.yaml",
    )
    with pytest.raises(SpecError, match="outside the project"):
        declare(project)


def test_missing_r_file_is_one_line(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "p",
        {"python_env.yaml": "dependencies: [-r nope.txt]"},
        kind="python_env",
        env_file="python_env.yaml",
    )
    with pytest.raises(SpecError) as err:
        declare(project)
    assert "nope.txt" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    "text,match",
    [
        ("python: 3.10\n", "ambiguous"),
        ("python: latest\n", "not a version"),
        ("dependencies: six\n", "must be a list"),
        ("pyton: '3.11'\n", "unknown key"),
        ("python: [\n", "invalid YAML"),
    ],
)
def test_bad_python_env(tmp_path: Path, text: str, match: str) -> None:
    project = make_project(
        tmp_path / "p", {"python_env.yaml": text}, kind="python_env", env_file="python_env.yaml"
    )
    with pytest.raises(SpecError, match=match):
        validate_env_decl(project)


def test_conda_yaml_is_converted_and_lists_what_it_drops(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "p",
        {
            "conda.yaml": (
                "name: demo\nchannels: [conda-forge]\ndependencies:\n"
                "  - python=3.11\n  - pip=24.0\n  - conda-forge::numpy=1.26\n  - cudatoolkit\n"
                "  - pip:\n    - six==1.16.0\n    - -r requirements.txt\n"
            ),
            "requirements.txt": "packaging\n",
        },
        kind="conda_env",
        env_file="conda.yaml",
    )
    spec = declare(project)
    assert spec.source == "conda.yaml"
    assert spec.python == "3.11"
    assert spec.requirements == ("pip==24.0", "six==1.16.0", "packaging")
    assert spec.dropped == ("conda-forge::numpy=1.26", "cudatoolkit")
    warnings = validate_env_decl(project)
    assert len(warnings) == 1 and "numpy" in warnings[0] and "cudatoolkit" in warnings[0]


def test_conda_python_forms(tmp_path: Path) -> None:
    for dep, expected in [
        ("python=3.10.*", "3.10"),
        ("python==3.11.7", "3.11.7"),
        ("python>=3.9", ">=3.9"),
        ("python", CURRENT),
    ]:
        project = make_project(
            tmp_path / dep.replace("*", "x"),
            {"conda.yaml": f"dependencies: ['{dep}']\n"},
            kind="conda_env",
            env_file="conda.yaml",
        )
        assert declare(project).python == expected


def test_uv_project_requirements_txt_and_nothing(tmp_path: Path) -> None:
    uvp = make_project(
        tmp_path / "uvp",
        {
            "pyproject.toml": "[project]\nname='x'\n",
            "uv.lock": "version = 1\n",
            ".python-version": "3.11\n",
        },
    )
    spec = declare(uvp)
    assert (spec.source, spec.python, spec.uv_project) == ("uv.lock", "3.11", uvp.root)
    req = make_project(tmp_path / "req", {"requirements.txt": "six==1.16.0\n"})
    assert declare(req).requirements == ("six==1.16.0",)
    bare = declare(make_project(tmp_path / "bare", {"main.py": ""}))
    assert (bare.source, bare.python, bare.requirements) == ("none", CURRENT, ())


def test_choose_manager(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    py = make_project(tmp_path / "p", {})
    docker = Project(
        root=tmp_path,
        name="d",
        spec_path=None,
        env=EnvDecl("docker", docker=DockerEnv(image="python:3.11")),
    )
    assert choose_manager(py, None) == "uv"
    assert choose_manager(py, "virtualenv") == "virtualenv"
    monkeypatch.setenv("SATCHEL_ENV_MANAGER", "local")
    assert choose_manager(py, None) == "local"
    assert choose_manager(py, "uv") == "uv"
    assert choose_manager(docker, None) == "docker"
    with pytest.raises(UsageError, match="docker_env"):
        choose_manager(docker, "uv")
    with pytest.raises(UsageError, match="conda"):
        choose_manager(py, "conda")


def test_get_manager_registry() -> None:
    assert get_manager("local").name == "local"
    assert get_manager("uv").name == "uv"
    with pytest.raises(UsageError, match="local, uv, virtualenv, docker"):
        get_manager("conda")
