"""Source capture (snapshot, diff, untracked) and byte-identical restore of a dirty run."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import git, make_git_repo, write_files

from satchel.projects.fetch import fetch_project
from satchel.projects.source import capture_source, restore_source

BINARY = bytes(range(256)) * 40
LATIN1 = "caf\xe9 na\xefve\n".encode("latin-1")


def _files(root: Path, skip: tuple[str, ...] = (".git",)) -> dict[str, bytes | str]:
    out: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] in skip:
            continue
        if path.is_symlink():
            out[str(rel)] = "-> " + os.readlink(path)
        elif path.is_file():
            out[str(rel)] = path.read_bytes() + b"|%o" % (path.stat().st_mode & 0o777)
    return out


def _dirty_repo(repo: Path) -> str:
    commit = make_git_repo(
        repo,
        {
            "proj/train.py": "print('v1')\n",
            "proj/model.bin": BINARY,
            "proj/legacy.py": "old\n",
            "proj/old_name.py": "rename me\n",
            "proj/latin1.txt": LATIN1,
            "proj/run.sh": "echo\n",
            "other/outside.py": "x\n",
            ".gitignore": "*.log\n",
        },
    )
    write_files(
        repo,
        {
            "proj/train.py": "print('v2')\n",  # unstaged edit
            "proj/model.bin": BINARY[::-1] + b"\x00\xff",  # binary edit
            "proj/latin1.txt": LATIN1 + "\xe0 bient\xf4t\n".encode("latin-1"),
            "proj/staged_new.py": "new\n",
            "proj/data/untracked.csv": "a,b\n1,2\n",
            "proj/untracked.bin": b"\x00\x01\x02",
            "proj/debug.log": "ignored\n",
        },
    )
    (repo / "proj" / "legacy.py").unlink()  # deleted, unstaged
    git("mv", "proj/old_name.py", "proj/new_name.py", cwd=repo)  # staged rename
    git("add", "proj/staged_new.py", cwd=repo)
    (repo / "proj" / "run.sh").chmod(0o755)  # mode change
    return commit


def test_dirty_capture_and_byte_identical_restore(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    commit = _dirty_repo(repo)
    fetched = fetch_project(f"{repo}#proj")
    assert fetched.source.dirty is True
    captured = capture_source(fetched, tmp_path / "artifacts")
    art = tmp_path / "artifacts"
    assert captured.tags["mlflow.source.git.commit"] == commit
    assert captured.tags["mlflow.source.type"] == "PROJECT"
    assert captured.tags["mlflow.source.name"] == f"file://{repo.resolve()}#proj"
    assert captured.tags["satchel.source.dirty"] == "true"
    assert captured.tags["mlflow.source.git.branch"] == "main"
    assert captured.diff == art / "diff.patch" and captured.diff.is_file()
    untracked = (art / "untracked.txt").read_text().splitlines()
    assert sorted(untracked) == ["proj/data/untracked.csv", "proj/untracked.bin"]
    snapshot = _files(art / "snapshot")
    assert "debug.log" not in snapshot and "legacy.py" not in snapshot
    assert "new_name.py" in snapshot and "data/untracked.csv" in snapshot

    restored = tmp_path / "restored"
    restore_source(art, str(repo), restored)
    expected = _files(repo / "proj")
    expected.pop("debug.log")  # ignored files are not the code
    assert _files(restored / "proj") == expected
    assert _files(art / "snapshot") == expected  # the snapshot is the code that ran, too


def test_clean_repo_has_no_diff(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_git_repo(repo, {"train.py": "x\n"})
    captured = capture_source(fetch_project(str(repo)), tmp_path / "art")
    assert captured.tags["satchel.source.dirty"] == "false" and captured.diff is None
    assert not (tmp_path / "art" / "diff.patch").exists()
    assert not (tmp_path / "art" / "untracked.txt").exists()
    assert json.loads((tmp_path / "art" / "source.json").read_text())["commit"]


def test_non_git_snapshot_skips_noise_and_big_files(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    write_files(
        root,
        {
            "train.py": "x",
            "pkg/mod.py": "y",
            "pkg/__pycache__/mod.pyc": "c",
            ".git/config": "",
            ".venv/pyvenv.cfg": "",
            "satchel/satchel.db": "",
            "nested/satchel/keep.py": "k",
        },
    )
    with open(root / "huge.bin", "wb") as handle:
        handle.truncate(51 * 1024 * 1024)
    (root / "escape").symlink_to(tmp_path)
    (root / "inner").symlink_to("pkg/mod.py")
    captured = capture_source(fetch_project(str(root)), tmp_path / "art")
    snap = sorted(
        str(p.relative_to(captured.snapshot))
        for p in captured.snapshot.rglob("*")
        if not p.is_dir() or p.is_symlink()
    )
    assert snap == ["inner", "nested/satchel/keep.py", "pkg/mod.py", "train.py"]
    skipped = (tmp_path / "art" / "skipped.txt").read_text()
    assert "huge.bin" in skipped and "escape" in skipped
    assert captured.tags["mlflow.source.name"] == str(root.resolve())
    assert "mlflow.source.git.commit" not in captured.tags


def test_store_dir_inside_a_git_project_is_not_captured(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_git_repo(repo, {"train.py": "x\n"})
    write_files(repo, {"satchel/satchel.db": "db", "satchel/artifacts/a.txt": "a"})
    fetched = fetch_project(str(repo))
    assert fetched.source.dirty is False
    captured = capture_source(fetched, tmp_path / "art")
    assert sorted(p.name for p in captured.snapshot.iterdir()) == ["train.py"]


def test_remote_checkout_capture(tmp_path: Path) -> None:
    work = tmp_path / "w"
    commit = make_git_repo(work, {"sub/train.py": "x\n", "top.py": "t"})
    git("clone", "--quiet", "--bare", str(work), str(tmp_path / "o.git"))
    with fetch_project(f"file://{tmp_path / 'o.git'}#sub") as fetched:
        captured = capture_source(fetched, tmp_path / "art")
    assert [p.name for p in captured.snapshot.iterdir()] == ["train.py"]
    assert captured.tags["mlflow.source.git.commit"] == commit
    assert captured.tags["mlflow.source.name"] == f"file://{tmp_path / 'o.git'}#sub"
    assert captured.tags["satchel.source.dirty"] == "false"
