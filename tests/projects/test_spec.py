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


# MLproject files MLflow runs (six of them from MLflow's own repository were refused): each
# loads with one warning naming the file, key path and fix, and runs as MLflow runs it.
TOLERATED = {
    "type_str": ("a: {type: str, default: x}", "unknown type 'str' (did you mean 'string'?)"),
    "glued_flow_key": (
        "a: {type:float, default: 1}",
        "unknown key 'type:float' (did you mean 'type: float'? YAML needs the space)",
    ),
    "spaced_flow_key": (
        "a: {type str, default: x}",
        "unknown key 'type str' (did you mean 'type: str'? YAML needs the space)",
    ),
    "int_default_auto": (
        "a: {type: int, default: auto}",
        "default 'auto' is not a valid int (must be an integer (e.g. 10)); it is passed as",
    ),
    "unknown_type": ("a: flaot", "unknown type 'flaot' (did you mean 'float'?)"),
    "unknown_param_key": ("a: {type: string, defualt: x}", "did you mean 'default'?"),
}


@pytest.mark.parametrize("case", sorted(TOLERATED))
def test_what_mlflow_runs_loads_with_one_warning(case: str, tmp_path: Path) -> None:
    param, warning = TOLERATED[case]
    spec = f"entry_points:\n  main:\n    parameters:\n      {param}\n    command: echo {{a}}\n"
    project = load_project(_project(tmp_path / "p", spec))
    assert len(project.warnings) == 1 and warning in project.warnings[0]
    assert project.warnings[0].startswith(f"{tmp_path / 'p' / 'MLproject'}: entry_points / main")
    ep = get_entry_point(project, "main")
    given = {"a": "7"} if case in ("unknown_param_key", "unknown_type") else {}
    resolved = resolve_parameters(ep, given, cwd=tmp_path)
    expected = {"type_str": "x", "glued_flow_key": "1", "spaced_flow_key": "x"}
    expected |= {"int_default_auto": "auto", "unknown_type": "7", "unknown_param_key": "7"}
    assert resolved.for_logging() == {"a": expected[case]}


def test_unknown_types_take_any_value_and_bad_defaults_keep_the_type_for_p(tmp_path: Path) -> None:
    spec = (
        "name: [not, a, string]\nentry_points:\n  main:\n    parameters:\n"
        "      t: flaot\n      n: {type: int, default: auto}\n      my.x: {default: 1}\n"
        "    command: echo {t} {n}\n"
    )
    project = load_project(_project(tmp_path / "p", spec))
    assert project.name is None and len(project.warnings) == 4
    ep = get_entry_point(project, "main")
    assert resolve_parameters(ep, {"t": "abc"}, cwd=tmp_path).for_logging()["t"] == "abc"
    with pytest.raises(SatchelError, match=r"Bad value 'ten' for parameter 'n' \(int\)"):
        resolve_parameters(ep, {"t": "1", "n": "ten"}, cwd=tmp_path)


def test_misspelt_keys_name_themselves_in_the_error_they_cause(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path / "p", "entry_point:\n  main:\n    command: x\n"))
    with pytest.raises(EntryPointError, match=r"did you mean 'entry_points'\?"):
        get_entry_point(project, "main")


def test_cli_runs_a_tolerated_project_and_reports_its_warning(tmp_path: Path) -> None:
    from conftest import run_cli

    spec = "entry_points:\n  main:\n    parameters:\n      s: {type: str, default: hi}\n"
    root = _project(tmp_path / "p", spec + "    command: echo said {s}\n")
    out = run_cli("run", str(root), "--env-manager", "local")
    assert out.returncode == 0, out.stderr
    assert "said hi" in out.stdout
    warnings = [line for line in out.stderr.splitlines() if "warning" in line]
    assert warnings == [
        f"satchel: warning: {root / 'MLproject'}: entry_points / main / parameters / s / type: "
        "unknown type 'str' (did you mean 'string'?); it is run as a string, as MLflow does "
        "(allowed: string, float, int, bool, path, uri)"
    ]
