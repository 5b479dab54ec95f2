"""Inputs that used to be silently ignored or defaulted are one-line usage errors, caught
before any run exists: docker options on a non-docker project, an empty experiment name,
an empty value for a typed parameter (an empty *string* stays a value)."""

from __future__ import annotations

from pathlib import Path

import pytest
from runner_helpers import db_runs, project_copy, satchel_cli

import satchel.projects
from satchel.errors import UsageError

pytestmark = pytest.mark.slow


def _no_run_left() -> None:
    assert db_runs(Path.cwd() / "satchel" / "satchel.db") == []


@pytest.mark.parametrize(
    "extra",
    [("-A", "gpus=all"), ("-A", "privileged"), ("--build-image",)],
    ids=["-A name=value", "-A flag", "--build-image"],
)
@pytest.mark.parametrize("manager", ["local", "uv"])
def test_docker_options_on_a_python_project_are_a_usage_error(
    tmp_path: Path, extra: tuple[str, ...], manager: str
) -> None:
    proj = project_copy(tmp_path)
    out = satchel_cli("run", str(proj), "--env-manager", manager, *extra)
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().splitlines() == [
        "Error: -A/--docker-args and --build-image apply to docker_env projects only; "
        f"basic uses {manager}"
    ]
    assert out.stdout == ""  # the project never started
    _no_run_left()


def test_docker_options_refused_by_dry_run_and_the_python_api(tmp_path: Path) -> None:
    proj = project_copy(tmp_path)
    out = satchel_cli("run", str(proj), "--dry-run", "-A", "memory=1g")
    assert out.returncode == 2 and "docker_env projects only; basic uses uv" in out.stderr
    with pytest.raises(UsageError, match="docker_env projects only; basic uses local"):
        satchel.projects.run(str(proj), env_manager="local", build_image=True)
    _no_run_left()


@pytest.mark.parametrize("option", ["--experiment-name", "--experiment-id"])
@pytest.mark.parametrize("value", ["", "  "])
def test_empty_experiment_is_a_usage_error(tmp_path: Path, option: str, value: str) -> None:
    proj = project_copy(tmp_path)
    out = satchel_cli("run", str(proj), "--env-manager", "local", option, value)
    assert out.returncode == 2, out.stderr
    (line,) = out.stderr.strip().splitlines()
    assert line.startswith(f"Error: {option} is empty")
    _no_run_left()


def test_empty_experiment_name_from_the_python_api(tmp_path: Path) -> None:
    proj = project_copy(tmp_path)
    with pytest.raises(UsageError, match="--experiment-name is empty"):
        satchel.projects.run(str(proj), env_manager="local", experiment_name="")
    _no_run_left()


def test_empty_string_parameter_is_a_value(tmp_path: Path) -> None:
    proj = project_copy(tmp_path)
    out = satchel_cli("run", str(proj), "-e", "args", "-P", "a=", "--env-manager", "local")
    assert out.returncode == 0, out.stderr
    assert 'ARGS ["", ""]' in out.stdout  # a (given empty) and b (default empty), both kept
    (run,) = db_runs(Path.cwd() / "satchel" / "satchel.db")
    assert run["status"] == "FINISHED"


@pytest.mark.parametrize("kind", ["path", "uri", "float", "int", "bool"])
def test_empty_typed_parameter_is_a_one_line_error(tmp_path: Path, kind: str) -> None:
    proj = tmp_path / "typed"
    proj.mkdir()
    (proj / "MLproject").write_text(
        f"name: typed\nentry_points:\n  main:\n    parameters:\n      x: {kind}\n"
        '    command: "echo {x}"\n'
    )
    out = satchel_cli("run", str(proj), "-P", "x=", "--env-manager", "local")
    assert out.returncode == 1, out.stderr
    (line,) = out.stderr.strip().splitlines()
    assert line.startswith(f"Error: Bad value '' for parameter 'x' ({kind})"), line
    _no_run_left()
