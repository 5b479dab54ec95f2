"""`satchel envs list | rm | gc` against a real cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from envs_helpers import make_project

from conftest import run_cli
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
    assert "no cached environments" in run_cli("envs", "list").stderr  # as every empty list
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


def _fake_env(key: str, last_used: float, projects: str = "") -> Path:
    """A cache entry as a build leaves it (marker, metadata), without building anything."""
    env = satchel_home() / "envs" / key
    env.mkdir(parents=True)
    meta = {"python": "3.11.7", "manager": "uv", "size": 2048, "created": 1_700_000_000.5}
    (env / ".satchel-ready").write_text(json.dumps(meta))
    (env / ".satchel-used").touch()
    os.utime(env / ".satchel-used", (last_used, last_used))
    if projects:
        (env / ".satchel-projects").write_text(projects)
    return env


def test_list_table_and_json_match_the_other_commands() -> None:
    _fake_env("c" * 24, 1_700_000_100.25, "alpha\nbeta\n")
    table = run_cli("envs", "list")
    assert table.returncode == 0, table.stderr
    header = table.stdout.splitlines()[0].split()
    assert header == ["key", "manager", "python", "size", "last_used", "projects"]
    assert "c" * 24 in table.stdout and "2.0 KB" in table.stdout and "alpha, beta" in table.stdout
    out = run_cli("envs", "list", "-o", "json")
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(out.stdout)
    assert list(row) == sorted(row)  # keys sorted, as every --output json
    assert row["created"] == 1_700_000_000_500 and row["last_used"] == 1_700_000_100_250
    assert row["size"] == 2048 and row["projects"] == ["alpha", "beta"]
    csv = run_cli("envs", "list", "-o", "csv").stdout.splitlines()
    assert csv[0] == "key,manager,python,size,last_used,projects"
    assert csv[1] == f"{'c' * 24},uv,3.11.7,2048,1700000100250,alpha beta"


def test_rm_usage_and_unknown_keys() -> None:
    _fake_env("d" * 24, time.time())
    empty = run_cli("envs", "rm", "")
    assert empty.returncode == 2 and empty.stderr.count("\n") == 1
    assert "needs an environment key" in empty.stderr
    unknown = run_cli("envs", "rm", "e" * 8)
    assert unknown.returncode == 1 and unknown.stderr.count("\n") == 1
    assert "no environment key starts with 'eeeeeeee'" in unknown.stderr
    assert [e.key for e in EnvCache().entries()] == ["d" * 24]


_HOLD = (
    "import fcntl, sys, time\n"
    "fh = open(sys.argv[1], 'a+'); fcntl.flock(fh, fcntl.LOCK_SH)\n"
    "print('held', flush=True); time.sleep(300)\n"
)


def test_gc_removes_orphaned_lock_files_but_not_held_or_owned_ones() -> None:
    kept_env = "f" * 24
    _fake_env(kept_env, time.time())
    locks = satchel_home() / "envs" / ".locks"
    locks.mkdir(parents=True)
    owned = [locks / f"env-{kept_env}.lock", locks / f"use-{kept_env}.lock"]
    orphans = [locks / f"env-{'1' * 24}.lock", locks / f"spec-{'2' * 24}.lock"]
    held = locks / f"use-{'3' * 24}.lock"
    for path in [*owned, *orphans, held]:
        path.touch()
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(held)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        out = run_cli("envs", "gc", "--older-than", "30d")
        assert out.returncode == 0, out.stderr
        for path in orphans:
            assert f"removed lock file {path.name}" in out.stdout and not path.exists()
        assert all(p.exists() for p in owned) and held.exists()
    finally:
        holder.kill()
        holder.wait()
    out = run_cli("envs", "gc", "--older-than", "30d")
    assert f"removed lock file {held.name}" in out.stdout and not held.exists()
    assert all(p.exists() for p in owned)  # the env is recent: kept, and so are its locks


def test_gc_sweeps_old_parsed_specs_and_a_run_reparses(tmp_path: Path) -> None:
    from satchel.projects._yamlcache import cache_dir

    project = tmp_path / "proj"
    project.mkdir()
    (project / "MLproject").write_text("name: p\nentry_points:\n  main:\n    command: echo hi\n")
    assert run_cli("run", str(project), "--env-manager", "local").returncode == 0
    (entry,) = cache_dir().glob("*.json")  # the MLproject's parse, cached by its text
    old = time.time() - 40 * 86400
    os.utime(entry, (old, old))
    out = run_cli("envs", "gc", "--older-than", "30d")
    assert out.returncode == 0, out.stderr
    assert f"parsed spec {entry.name}" in out.stdout and not entry.exists()
    again = run_cli("run", str(project), "--env-manager", "local")
    assert again.returncode == 0 and "hi" in again.stdout
    assert entry.exists()  # parsed again and cached again
