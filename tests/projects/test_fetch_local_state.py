"""The fast git facts of a local project agree with the one-question-per-process ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import git, make_git_repo, write_files
from satchel.projects.fetch_git import is_dirty, repo_facts
from satchel.projects.fetch_local import local_git_state


def _slow(path: Path, root: Path):  # type: ignore[no-untyped-def]
    facts = repo_facts(path)
    assert facts is not None
    inner = root.relative_to(facts.repo_root).as_posix()
    return facts, is_dirty(facts.repo_root, "" if inner == "." else inner)


def _same(path: Path, root: Path) -> None:
    fast = local_git_state(path.resolve(), root.resolve())
    assert fast == _slow(path.resolve(), root.resolve())


def test_outside_git_no_git_process_is_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "plain"
    project.mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools-here"))  # git cannot even be found
    assert local_git_state(project.resolve(), project.resolve()) is None


def test_clean_dirty_detached_and_remotes_agree(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_git_repo(repo, {"sub/MLproject": "", "a.py": "1", ".gitignore": "ignored.txt\n"})
    _same(repo, repo)
    _same(repo, repo / "sub")
    git("remote", "add", "zeta", "https://example.invalid/z.git", cwd=repo)
    git("remote", "add", "beta", "https://example.invalid/b.git", cwd=repo)
    _same(repo, repo)  # no origin: the first remote by name, as `git remote` lists them
    git("remote", "add", "origin", "https://example.invalid/o.git", cwd=repo)
    (repo / "ignored.txt").write_text("x")
    write_files(repo, {"satchel/satchel.db": "db"})  # the default store is not code
    _same(repo, repo)
    (repo / "sub" / "new.py").write_text("untracked")
    _same(repo, repo)
    _same(repo, repo / "sub")
    (repo / "a.py").write_text("2")
    _same(repo / "sub", repo / "sub")  # a.py is outside the project: sub is clean
    git("checkout", "--quiet", "--detach", cwd=repo)
    _same(repo, repo)


def test_a_repository_without_commits(tmp_path: Path) -> None:
    repo = tmp_path / "empty"
    repo.mkdir()
    git("init", "--quiet", "-b", "main", cwd=repo)
    (repo / "MLproject").write_text("")
    state = local_git_state(repo.resolve(), repo.resolve())
    assert state is not None
    facts, dirty = state
    assert (facts.commit, facts.branch, dirty) == (None, "main", True)
    _same(repo, repo)


def test_a_subdir_in_a_nested_repository_takes_the_careful_path(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    make_git_repo(outer, {"README": "r"})
    make_git_repo(outer / "inner", {"MLproject": ""})
    _same(outer, outer / "inner")
