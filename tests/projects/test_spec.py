"""MLproject parsing: records, entry points, environment resolution, and the bad-spec corpus."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from satchel.errors import EntryPointError, SatchelError, SpecError
from satchel.projects.fetch import fetch_project
from satchel.projects.params import parse_param_list, resolve_parameters
from satchel.projects.spec import get_entry_point, load_project

BAD_SPECS = Path(__file__).resolve().parent.parent / "resources" / "bad_specs"
CASES = yaml.safe_load((BAD_SPECS / "cases.yaml").read_text())

GREETER = """\
name: greeter
entry_points:
  main:
    command: echo hi
  greeter:
    parameters:
      greeting: {type: string, default: hi}
      name: string
    command: python greeter.py {greeting} {name}
"""


def _project(root: Path, spec: str | None, filename: str = "MLproject", **files: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if spec is not None:
        (root / filename).write_text(spec)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def test_entry_points_parse_name_command_and_parameters(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path / "p", GREETER))
    assert project.name == "greeter"
    greeter = get_entry_point(project, "greeter")
    assert greeter.command == "python greeter.py {greeting} {name}"
    assert greeter.parameters["greeting"].default == "hi"
    assert not greeter.parameters["greeting"].required
    assert greeter.parameters["name"].required and greeter.parameters["name"].type == "string"
    assert list(project.entry_points) == ["main", "greeter"]


@pytest.mark.parametrize("filename", ["MLproject", "mlproject", "MLProject"])
def test_spec_file_name_is_case_insensitive(tmp_path: Path, filename: str) -> None:
    project = load_project(_project(tmp_path / "p", GREETER, filename))
    assert project.spec_path == (tmp_path / "p" / filename).resolve()
    assert "greeter" in project.entry_points


def test_spec_file_is_looked_up_in_the_root_only(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", None)
    _project(root / "sub", GREETER)
    project = load_project(root)
    assert project.spec_path is None and project.entry_points == {}


def test_typed_defaults_are_converted(tmp_path: Path) -> None:
    spec = """\
entry_points:
  main:
    parameters:
      a: {type: float, default: 1}
      n: {type: int, default: "5"}
      b: {type: bool, default: "yes"}
      s: {type: string, default: 10}
    command: x {a} {n} {b} {s}
"""
    params = get_entry_point(load_project(_project(tmp_path / "p", spec)), "main").parameters
    assert (params["a"].default, params["n"].default) == (1.0, 5)
    assert params["b"].default is True and params["s"].default == "10"


def test_script_entry_points(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", None, **{"train.py": "", "run.sh": "", "my file.py": ""})
    project = load_project(root)
    assert get_entry_point(project, "train.py").command == "python train.py"
    assert get_entry_point(project, "run.sh").command == "bash run.sh"
    spaced = get_entry_point(project, "my file.py")
    assert spaced.command == "python 'my file.py'" and spaced.is_script


def test_script_names_with_braces_are_escaped(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", None, **{"a{b}.py": ""})
    ep = get_entry_point(load_project(root), "a{b}.py")
    assert ep.command.format() == "python 'a{b}.py'"


def test_unknown_entry_point_lists_available_with_did_you_mean(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path / "p", GREETER, **{"train.py": ""}))
    with pytest.raises(EntryPointError) as err:
        get_entry_point(project, "greeterr")
    message = str(err.value)
    assert "did you mean 'greeter'?" in message
    assert "main, greeter" in message and "train.py" in message
    with pytest.raises(EntryPointError, match=r"Could not find entry point 'my_program\.scala'"):
        get_entry_point(project, "my_program.scala")


def test_script_outside_the_project_is_refused(tmp_path: Path) -> None:
    (tmp_path / "evil.py").write_text("")
    project = load_project(_project(tmp_path / "p", None))
    with pytest.raises(EntryPointError):
        get_entry_point(project, "../evil.py")


def test_no_files_means_no_entry_points_and_no_env(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path / "p", None))
    assert project.entry_points == {} and project.env.kind == "none" and project.env.path is None


def test_env_resolution_order(tmp_path: Path) -> None:
    cmd = "entry_points:\n  main:\n    command: x\n"
    both = {"python_env.yaml": "python: '3.11'\n", "conda.yaml": "name: x\n"}
    assert load_project(_project(tmp_path / "a", cmd, **both)).env.kind == "python_env"
    conda = load_project(_project(tmp_path / "b", cmd, **{"conda.yaml": "name: x\n"}))
    assert conda.env.kind == "conda_env"
    assert conda.env.path == (tmp_path / "b" / "conda.yaml").resolve()
    named = load_project(
        _project(
            tmp_path / "c", "conda_env: env.yaml\n" + cmd, "mlproject", **{"env.yaml": "", **both}
        )
    )
    assert named.env.kind == "conda_env" and named.env.path.name == "env.yaml"
    docker = load_project(_project(tmp_path / "d", "docker_env:\n  image: img:1\n" + cmd, **both))
    assert docker.env.kind == "docker" and docker.env.path is None
    assert docker.env.docker is not None and docker.env.docker.image == "img:1"
    py = load_project(_project(tmp_path / "e", "python_env: py.yaml\n" + cmd, **{"py.yaml": ""}))
    assert py.env.kind == "python_env" and py.env.path == (tmp_path / "e" / "py.yaml").resolve()


def test_docker_env_volumes_and_environment(tmp_path: Path) -> None:
    spec = """\
docker_env:
  image: img
  volumes: ["/a:/b"]
  environment: [HOME_VAR, [EXPLICIT, 3]]
entry_points:
  main:
    command: x
"""
    docker = load_project(_project(tmp_path / "p", spec)).env.docker
    assert docker is not None and docker.volumes == ("/a:/b",)
    assert docker.environment == (("HOME_VAR", None), ("EXPLICIT", "3"))


def test_literal_braces_and_multiline_commands_are_valid(tmp_path: Path) -> None:
    spec = """\
entry_points:
  main:
    parameters:
      a: {type: int, default: 1}
    command: |
      python -c "print({{'a': {a}}})"
      echo done
"""
    ep = get_entry_point(load_project(_project(tmp_path / "p", spec)), "main")
    assert ep.command.startswith('python -c "print({{')


def _drive(root: Path, spec: dict) -> None:
    """What `satchel run` does before a run exists, at the library level."""
    params = parse_param_list(spec["params"])
    uri = str(root) + (f"#{spec['subdir']}" if spec.get("subdir") else "")
    with fetch_project(uri, spec.get("version")) as fetched:
        project = load_project(fetched.root)
        entry_point = get_entry_point(project, spec["entry_point"])
        resolve_parameters(entry_point, params, cwd=Path.cwd(), project_root=fetched.root)


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 25
    assert all((BAD_SPECS / case / "MLproject").is_file() for case in CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_spec_gives_one_line_error(case: str, tmp_path: Path) -> None:
    spec = CASES[case]
    root = tmp_path / "cases" / case  # a copy outside any git repository
    shutil.copytree(BAD_SPECS / case, root)
    with pytest.raises(SatchelError) as err:
        _drive(root, spec)
    message = str(err.value)
    assert "\n" not in message
    assert spec["error"] in message, message
    if isinstance(err.value, SpecError):
        assert str(root) in message  # names the file
