"""Fetching local directories: in place, never modified; git facts; --version checkouts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.conftest import commit_all, git, make_git_repo, write_files

from satchel.errors import FetchError
from satchel.projects.fetch import fetch_project


def _tree(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }


def test_local_dir_is_used_in_place(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    write_files(root, {"MLproject": "x: 1\n", "mlruns/keep": "k", "satchel/satchel.db": ""})
    before = _tree(root)
    for uri in (str(root), f"file://{root}", os.path.relpath(root)):
        fetched = fetch_project(uri)
        assert fetched.root == root.resolve()
        assert fetched.source.type == "local" and fetched.source.name == str(root.resolve())
        assert fetched.source.uri == uri and fetched.source.commit is None
        fetched.cleanup()
    assert _tree(root) == before  # nothing created, changed or removed


def test_local_subdir(tmp_path: Path) -> None:
    write_files(tmp_path / "proj", {"examples/v1.2/MLproject": ""})
    fetched = fetch_project(f"{tmp_path / 'proj'}#examples/v1.2")
    assert fetched.root == (tmp_path / "proj" / "examples" / "v1.2").resolve()
    with pytest.raises(FetchError, match="Could not find subdirectory 'fake'"):
        fetch_project(f"{tmp_path / 'proj'}#fake")
    with pytest.raises(FetchError, match=r"'\.\.' is not allowed"):
        fetch_project(f"{tmp_path / 'proj'}#examples/../..")
    with pytest.raises(FetchError, match="use a relative path"):
        fetch_project(f"{tmp_path / 'proj'}#/etc")


def test_subdir_symlink_escape_is_refused(tmp_path: Path) -> None:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "out").symlink_to(tmp_path)
    with pytest.raises(FetchError, match="points outside the project"):
        fetch_project(f"{tmp_path / 'proj'}#out")


def test_quotes_around_the_uri_are_stripped(tmp_path: Path) -> None:
    (tmp_path / "proj").mkdir()
    assert fetch_project(f"'{tmp_path / 'proj'}'").root == (tmp_path / "proj").resolve()


def test_neither_path_nor_repo(tmp_path: Path) -> None:
    with pytest.raises(FetchError) as err:
        fetch_project(str(tmp_path / "no-such-dir"))
    assert "neither an existing directory nor a git repository URL" in str(err.value)
    (tmp_path / "file.txt").write_text("")
    with pytest.raises(FetchError, match="is a file, not a project directory"):
        fetch_project(str(tmp_path / "file.txt"))


def test_version_on_a_non_git_dir(tmp_path: Path) -> None:
    (tmp_path / "proj").mkdir()
    with pytest.raises(FetchError, match="Setting a version is only supported for git projects"):
        fetch_project(str(tmp_path / "proj"), "main")


def test_local_git_repo_facts(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    commit = make_git_repo(repo, {"sub/MLproject": "", "README": "r"})
    git("remote", "add", "origin", "https://example.invalid/org/repo.git", cwd=repo)
    fetched = fetch_project(str(repo / "sub"))
    src = fetched.source
    assert fetched.root == (repo / "sub").resolve()
    assert (src.type, src.commit, src.branch) == ("local", commit, "main")
    assert src.repo_url == "https://example.invalid/org/repo.git"
    assert src.name == f"file://{repo.resolve()}#sub" and src.subdir == "sub"
    assert src.repo_root == repo.resolve() and src.dirty is False
    assert fetch_project(str(repo)).source.name == f"file://{repo.resolve()}"


def test_dirty_detection(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_git_repo(repo, {"a.py": "1", ".gitignore": "ignored.txt\n"})
    (repo / "ignored.txt").write_text("x")
    write_files(repo, {"satchel/satchel.db": "db"})  # the default store is not code
    assert fetch_project(str(repo)).source.dirty is False
    (repo / "new.py").write_text("untracked")
    assert fetch_project(str(repo)).source.dirty is True
    (repo / "new.py").unlink()
    (repo / "a.py").write_text("2")
    assert fetch_project(str(repo)).source.dirty is True


def test_version_on_local_repo_uses_a_separate_checkout(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    first = make_git_repo(repo, {"proj/train.py": "v1"})
    write_files(repo, {"proj/train.py": "v2"})
    commit_all(repo)
    (repo / "proj" / "train.py").write_text("uncommitted")
    before = (
        _tree(repo),
        git("status", "--porcelain", cwd=repo),
        git("rev-parse", "HEAD", cwd=repo),
    )
    fetched = fetch_project(str(repo / "proj"), first[:10])
    assert (fetched.root / "train.py").read_text() == "v1"
    assert fetched.source.commit == first and fetched.source.name == f"file://{repo.resolve()}#proj"
    assert repo.resolve() not in fetched.root.parents
    after = (
        _tree(repo),
        git("status", "--porcelain", cwd=repo),
        git("rev-parse", "HEAD", cwd=repo),
    )
    assert after == before  # the user's working copy is untouched
    fetched.cleanup()
    assert not fetched.root.exists()
    branch = fetch_project(str(repo / "proj"), "main")
    assert (branch.root / "train.py").read_text() == "v2" and branch.source.branch == "main"
    branch.cleanup()
