"""A run of a dirty git project keeps its exact code: snapshot, diff.patch and the untracked
files as artifacts (restorable byte for byte), plus the console output as logs/console.log."""

from __future__ import annotations

import os
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


def test_symlinks_in_the_source_are_kept_listed_and_downloaded(tmp_path: Path) -> None:
    """Dangling, looping, directory and absolute-into-the-project links are captured as
    links (an absolute one made relative), never followed out of the project; `runs show`,
    `artifacts list` and `artifacts download` handle them."""
    proj = tmp_path / "linked"
    (proj / "sub").mkdir(parents=True)
    (proj / "main.py").write_text("print('ran')\n")
    (proj / "sub" / "data.txt").write_text("data\n")
    links = {
        "dangling": "nowhere",
        "loop1": "loop2",
        "loop2": "loop1",
        "subdir_link": "sub",
        "abs_inside": str(proj / "sub" / "data.txt"),
        "outside": "/etc/hostname",
    }
    for name, target in links.items():
        (proj / name).symlink_to(target)
    run = satchel_cli("run", str(proj), "-e", "main.py", "--env-manager", "local")
    assert run.returncode == 0, run.stderr
    (found,) = Client(f"sqlite:///{Path.cwd() / 'satchel' / 'satchel.db'}").search_runs(["0"])
    run_id = found.info.run_id

    show = satchel_cli("runs", "show", run_id)
    assert show.returncode == 0, show.stderr
    listed = satchel_cli("artifacts", "list", run_id, "--path", "source/snapshot")
    assert listed.returncode == 0, listed.stderr
    for name in ("dangling", "loop1", "loop2", "subdir_link", "abs_inside"):
        assert f"source/snapshot/{name}" in listed.stdout
    assert "outside" not in listed.stdout
    dest = tmp_path / "out"
    got = satchel_cli("artifacts", "download", run_id, "--path", "source", "--dst-path", str(dest))
    assert got.returncode == 0, got.stderr
    snap = dest / "source" / "snapshot"
    kept = {p.name: os.readlink(p) for p in snap.iterdir() if p.is_symlink()}
    assert kept == {
        "dangling": "nowhere",
        "loop1": "loop2",
        "loop2": "loop1",
        "subdir_link": "sub",
        "abs_inside": "sub/data.txt",  # no longer pointing back into the user's tree
    }
    assert (snap / "abs_inside").read_text() == "data\n"
    assert "outside\tsymlink leaving the project" in (dest / "source" / "skipped.txt").read_text()
