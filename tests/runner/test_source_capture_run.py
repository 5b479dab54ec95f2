"""A run of a dirty git project keeps its exact code: snapshot, diff.patch and the untracked
files as artifacts (restorable byte for byte), plus the console output as logs/console.log."""

from __future__ import annotations

from pathlib import Path

import pytest
from runner_helpers import git, git_repo, satchel_cli

from satchel.projects.source import restore_source
from satchel.tracking.client import Client

pytestmark = pytest.mark.slow


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def test_dirty_run_artifacts_restore_the_exact_code(tmp_path: Path) -> None:
    repo = git_repo(tmp_path, subdir="proj")
    (repo / ".gitignore").write_text("*.ignored\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-q", "-m", "ignore")
    proj = repo / "proj"
    with (proj / "log_it.py").open("a") as fh:  # unstaged change
        fh.write("print('uncommitted line')\n")
    (proj / "fail.py").write_text("print('staged change')\n")
    git(repo, "add", "proj/fail.py")  # staged change
    (proj / "notes.txt").write_text("untracked but not ignored\n")
    (proj / "big.ignored").write_text("never captured\n")

    out = satchel_cli("run", str(proj), "--env-manager", "local")
    assert out.returncode == 0, out.stderr
    assert "uncommitted line" in out.stdout

    client = Client(f"sqlite:///{Path.cwd() / 'satchel' / 'satchel.db'}")
    (run,) = client.search_runs(["0"])
    assert run.data.tags["satchel.source.dirty"] == "true"
    assert run.data.tags["mlflow.source.name"] == f"file://{repo.resolve()}#proj"
    source = Path(client.download_artifacts(run.info.run_id, "source", tmp_path / "dl"))
    assert {p.name for p in source.iterdir()} >= {"snapshot", "diff.patch", "untracked.txt"}
    patch = (source / "diff.patch").read_text()
    assert "uncommitted line" in patch and "staged change" in patch
    assert (source / "untracked.txt").read_text().splitlines() == ["proj/notes.txt"]
    snapshot = _tree(source / "snapshot")
    assert "big.ignored" not in snapshot
    assert snapshot["notes.txt"] == b"untracked but not ignored\n"

    console = Path(
        client.download_artifacts(run.info.run_id, "logs/console.log", tmp_path / "log")
    ).read_text()
    assert "hello world" in console and "uncommitted line" in console

    restored = tmp_path / "restored"
    restore_source(source, str(repo), restored)
    expected = {k: v for k, v in _tree(proj).items() if not k.endswith(".ignored")}
    assert _tree(restored / "proj") == expected
