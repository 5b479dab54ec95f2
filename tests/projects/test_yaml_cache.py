"""The parsed-YAML cache: an unchanged project skips PyYAML, and any change is seen at once."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest

from satchel.envs.python_spec import declare
from satchel.errors import SpecError
from satchel.projects._yamlcache import cache_dir, cached_parse
from satchel.projects.spec import load_project

MLPROJECT = (
    "name: cached\npython_env: python_env.yaml\nentry_points:\n  main:\n    command: python a.py\n"
)
PY_ENV = 'python: "3.11"\ndependencies: [six==1.16.0]\n'

_PROBE = """
import sys
from pathlib import Path
from satchel.envs.python_spec import declare
from satchel.projects.spec import load_project
project = load_project(Path(sys.argv[1]))
spec = declare(project)
print(project.entry_points["main"].command, spec.requirements, "yaml" in sys.modules)
"""


def _project(root: Path, mlproject: str = MLPROJECT, py_env: str = PY_ENV) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "MLproject").write_text(mlproject)
    (root / "python_env.yaml").write_text(py_env)
    return root


def _probe(root: Path) -> str:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(root)], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_second_load_of_an_unchanged_project_does_not_import_yaml(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    first = _probe(root)
    assert first == "python a.py ('six==1.16.0',) True"
    assert _probe(root) == "python a.py ('six==1.16.0',) False"


def test_same_size_same_mtime_edit_is_seen(tmp_path: Path) -> None:
    """Keyed by content, not by stat: an edit that keeps size and mtime is still seen."""
    root = _project(tmp_path / "p")
    spec = root / "MLproject"
    before = load_project(root)
    stat = spec.stat()
    spec.write_text(MLPROJECT.replace("a.py", "b.py"))
    os.utime(spec, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert spec.stat().st_size == stat.st_size
    assert before.entry_points["main"].command == "python a.py"
    assert load_project(root).entry_points["main"].command == "python b.py"
    assert _probe(root).startswith("python b.py ")


def test_python_env_edit_changes_the_declared_spec(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    project = load_project(root)
    first = declare(project)
    (root / "python_env.yaml").write_text(PY_ENV.replace("1.16.0", "1.15.0"))
    second = declare(load_project(root))
    assert first.requirements == ("six==1.16.0",)
    assert second.requirements == ("six==1.15.0",)
    assert first.digest("uv") != second.digest("uv")


def test_root_file_list_is_checked_on_every_load(tmp_path: Path) -> None:
    """Only the raw document is cached: conventions and file checks run every time."""
    root = tmp_path / "p"
    root.mkdir()
    (root / "MLproject").write_text("name: conv\nentry_points:\n  main:\n    command: echo\n")
    assert load_project(root).env.kind == "none"
    (root / "python_env.yaml").write_text(PY_ENV)
    assert load_project(root).env.kind == "python_env"
    (root / "python_env.yaml").unlink()
    assert load_project(root).env.kind == "none"
    (root / "MLproject").write_text(MLPROJECT)
    for _ in range(2):  # the doc is cached the first time; the missing file is still an error
        with pytest.raises(SpecError, match=r"no such file 'python_env\.yaml'"):
            load_project(root)


def test_errors_are_not_cached_and_keep_their_line(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "MLproject").write_text("name: x\nname: y\n")
    for _ in range(2):
        with pytest.raises(SpecError, match=r"MLproject:2: invalid YAML: .*duplicate key 'name'"):
            load_project(root)
    assert not cache_dir().exists() or not list(cache_dir().iterdir())


def test_schema_checks_of_a_cached_doc_still_run(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", MLPROJECT.replace("entry_points", "entry_pionts"))
    for _ in range(2):
        (warning,) = load_project(root).warnings
        assert "did you mean 'entry_points'" in warning
    (root / "MLproject").write_text(MLPROJECT.replace("command: python a.py", "command: ''"))
    for _ in range(2):
        with pytest.raises(SpecError, match="expected a non-empty command string"):
            load_project(root)


def test_only_docs_that_survive_json_unchanged_are_stored() -> None:
    calls: list[str] = []

    def parse(text: str) -> object:
        calls.append(text)
        return {"int keys": {1: "a"}} if text == "ints" else {"when": datetime.date(2024, 1, 2)}

    for text in ("ints", "dates", "ints", "dates"):
        cached_parse(text, "test", parse)
    assert calls == ["ints", "dates", "ints", "dates"]
    assert cached_parse("ints", "test", parse) == {"int keys": {1: "a"}}


def test_a_corrupt_entry_is_parsed_again() -> None:
    calls: list[str] = []

    def parse(text: str) -> object:
        calls.append(text)
        return {"k": [1, 2.5, True, None, "s"]}

    assert cached_parse("doc", "test", parse) == {"k": [1, 2.5, True, None, "s"]}
    assert cached_parse("doc", "test", parse) == {"k": [1, 2.5, True, None, "s"]}
    assert calls == ["doc"]
    (entry,) = cache_dir().iterdir()
    entry.write_text("{not json")
    assert cached_parse("doc", "test", parse) == {"k": [1, 2.5, True, None, "s"]}
    assert calls == ["doc", "doc"]


def test_parser_flavours_do_not_share_entries() -> None:
    assert cached_parse("x", "one", lambda t: {"by": "one"}) == {"by": "one"}
    assert cached_parse("x", "two", lambda t: {"by": "two"}) == {"by": "two"}
    assert cached_parse("x", "one", lambda t: {"by": "changed"}) == {"by": "one"}
