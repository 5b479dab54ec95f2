"""Hostile YAML (alias bombs, deep nesting, huge files) is refused with one line, quickly,
for every file read through the YAML path: MLproject, python_env.yaml, conda.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli
from satchel.envs.python_spec import declare
from satchel.errors import SpecError
from satchel.projects._yamlcache import cache_dir
from satchel.projects._yamlsafe import MAX_BYTES, load_yaml_file
from satchel.projects.spec import load_project

# 9 levels of 9 aliases: a few hundred bytes, 9**9 values once expanded
BOMB = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)
)
MAIN = "entry_points:\n  main:\n    command: python a.py\n"


def _cache_bytes() -> int:
    root = cache_dir()
    return sum(p.stat().st_size for p in root.iterdir()) if root.is_dir() else 0


def test_alias_bomb_in_mlproject_is_refused_before_expansion(tmp_path: Path) -> None:
    (tmp_path / "MLproject").write_text(BOMB + MAIN)
    assert len(BOMB) < 600
    with pytest.raises(SpecError, match=r"MLproject: the document expands to more than"):
        load_project(tmp_path)
    assert _cache_bytes() == 0  # nothing expanded into the spec cache


@pytest.mark.parametrize(
    ("name", "kind"), [("python_env.yaml", "python_env"), ("conda.yaml", "conda_env")]
)
def test_alias_bomb_in_env_files_is_refused(tmp_path: Path, name: str, kind: str) -> None:
    (tmp_path / name).write_text(BOMB)
    (tmp_path / "MLproject").write_text(f"{kind}: {name}\n{MAIN}")
    project = load_project(tmp_path)
    with pytest.raises(SpecError, match=rf"{name}: the document expands"):
        declare(project)
    assert _cache_bytes() < 10_000


def test_small_legitimate_aliases_still_load(tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text("base: &b {python: '3.11'}\nother: *b\nlist: [*b, *b]\n")
    assert load_yaml_file(path) == {
        "base": {"python": "3.11"},
        "other": {"python": "3.11"},
        "list": [{"python": "3.11"}, {"python": "3.11"}],
    }


def test_self_referencing_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text("a: &a [1, *a]\n")
    with pytest.raises(SpecError, match="refers to the value that contains it"):
        load_yaml_file(path)


def test_thousands_of_nested_brackets_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "MLproject").write_text("x: " + "[" * 5000 + "]" * 5000 + "\n" + MAIN)
    with pytest.raises(SpecError, match=r"MLproject: invalid YAML: nested more than 100 levels"):
        load_project(tmp_path)


def test_nesting_beyond_the_bound_is_refused_even_when_python_copes(tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text("x: " + "[" * 150 + "]" * 150 + "\n")
    with pytest.raises(SpecError, match="nested more than 100 levels"):
        load_yaml_file(path)


def test_oversized_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "MLproject"
    path.write_text("# " + "x" * MAX_BYTES + "\n" + MAIN)
    with pytest.raises(SpecError, match=r"MLproject: the file is \d+ bytes, more than"):
        load_project(tmp_path)


def test_cli_refuses_a_bomb_with_one_line_and_no_run(tmp_path: Path) -> None:
    project = tmp_path / "bomb"
    project.mkdir()
    (project / "MLproject").write_text(BOMB + MAIN)
    out = run_cli("run", str(project), timeout=60)
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "expands to more than" in out.stderr
    assert not (Path.cwd() / "satchel").exists()  # no store, so no run
