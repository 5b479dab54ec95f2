"""`satchel envs list | rm | gc` against a real cache."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from envs_helpers import make_project, run_cli

from satchel.envs.cache import EnvCache
from satchel.envs.uv import UvManager
from satchel.home import satchel_home


def _build(tmp_path: Path, name: str, req: str) -> str:
    project = make_project(tmp_path / name, {"requirements.txt": req + "\n"}, name=name)
    return UvManager().prepare(project, report=lambda _: None).key


@pytest.mark.parametrize("args", [["envs"], ["envs", "list"], ["envs", "rm"], ["envs", "gc"]])
def test_every_command_has_help(args: list[str]) -> None:
    out = run_cli(*args, "--help")
    assert out.returncode == 0 and "Usage:" in out.stdout
    assert "PLACEHOLDER" not in out.stdout


@pytest.mark.slow
def test_list_rm_gc(tmp_path: Path) -> None:
    assert "no cached environments" in run_cli("envs", "list").stdout
    six = _build(tmp_path, "alpha", "six==1.16.0")
    _build(tmp_path, "beta", "packaging")
    listed = json.loads(run_cli("envs", "list", "--output", "json").stdout)
    assert {e["key"] for e in listed} >= {six} and len(listed) == 2
    row = next(e for e in listed if e["key"] == six)
    assert row["projects"] == ["alpha"] and row["size"] > 0 and row["python"].count(".") == 2
    table = run_cli("envs", "list").stdout
    assert six in table and "alpha" in table

    ambiguous = run_cli("envs", "rm", "")
    assert ambiguous.returncode == 2
    gone = run_cli("envs", "rm", six[:8])
    assert gone.returncode == 0 and six in gone.stdout
    assert not (satchel_home() / "envs" / six).exists()

    stale = satchel_home() / "envs" / f"{'a' * 24}.tmp-999-abc"
    stale.mkdir()
    (stale / "junk").write_text("x" * 100)
    out = run_cli("envs", "gc", "--older-than", "30d")
    assert out.returncode == 0 and "temp dir" in out.stdout and "freed" in out.stdout
    assert not stale.exists() and len(EnvCache().entries()) == 1  # recent env kept
    entry = EnvCache().entries()[0]
    os.utime(entry.path / ".satchel-used", (1, 1))
    out = run_cli("envs", "gc", "--older-than", "1d")
    assert f"env {entry.key}" in out.stdout and EnvCache().entries() == []
    assert run_cli("envs", "gc", "--older-than", "soon").returncode == 2


def test_rm_refuses_ambiguous_prefix(tmp_path: Path) -> None:
    root = satchel_home() / "envs"
    for key in ("ab" + "0" * 22, "ab" + "1" * 22):
        (root / key).mkdir(parents=True)
        (root / key / ".satchel-ready").write_text("{}")
    out = run_cli("envs", "rm", "ab")
    assert out.returncode == 2 and "ambiguous" in out.stderr
    assert len(EnvCache().entries()) == 2
