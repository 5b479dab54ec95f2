"""The git facts of a local project directory, with as few git processes as possible.

A local run asks git four things: the work tree's root, HEAD (commit and branch), the remote
URL and whether the project is dirty. Each ``git`` process costs 5-20 ms, so:

- outside any repository (no ``.git`` in the directory or above it, no ``GIT_DIR``) git is
  not asked at all;
- inside one, three independent calls run side by side: ``rev-parse --show-toplevel``,
  ``status --porcelain=v2 --branch`` (commit, branch and dirty state at once) and
  ``remote -v``; the wall time is that of one.

The answers are the same as ``fetch_git.repo_facts`` + ``fetch_git.is_dirty``; when the
project root sits in a different repository than the given path (a ``#subdir`` inside a
nested repository) those are used as they are.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from satchel import process
from satchel.projects.fetch_git import RepoFacts, git, is_dirty, noise_excludes, repo_facts

__all__ = ["local_git_state"]


def _has_git_entry(directory: Path) -> bool:
    return os.path.lexists(directory / ".git")


def _maybe_in_git(path: Path) -> bool:
    """False only when git could not find a repository for ``path`` (no ``.git`` anywhere up
    the tree and no environment variable pointing git elsewhere)."""
    if os.environ.get("GIT_DIR") or os.environ.get("GIT_WORK_TREE"):
        return True
    return any(_has_git_entry(d) for d in (path, *path.parents))


def _same_repo(path: Path, root: Path) -> bool:
    """``root`` (inside ``path``) belongs to ``path``'s repository: no ``.git`` in between."""
    if root == path:
        return True
    inner = root.relative_to(path)
    return not any(_has_git_entry(path / p) for p in (inner, *inner.parents) if str(p) != ".")


def _side_by_side(calls: dict[str, tuple[Path, list[str]]]) -> dict[str, process.Result]:
    results: dict[str, process.Result] = {}
    errors: list[BaseException] = []

    def one(name: str, cwd: Path, args: list[str]) -> None:
        try:
            results[name] = git(*args, cwd=cwd, check=False)
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(n, *c)) for n, c in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def _remote_url(remote_v: str) -> str | None:
    """``git remote -v`` (sorted by name) → the fetch URL of "origin", else of the first."""
    urls: dict[str, str] = {}
    for line in remote_v.splitlines():
        name, _, rest = line.partition("\t")
        url, _, kind = rest.rpartition(" ")
        if kind == "(fetch)" and name not in urls:
            urls[name] = url.strip()
    if not urls:
        return None
    return (urls.get("origin") if "origin" in urls else next(iter(urls.values()))) or None


def _parse_status(out: str) -> tuple[str | None, str | None, bool]:
    """``status --porcelain=v2 --branch`` → (commit, branch, dirty)."""
    commit = branch = None
    dirty = False
    for line in out.splitlines():
        if line.startswith("# branch.oid "):
            value = line[len("# branch.oid ") :].strip()
            commit = None if value == "(initial)" else value
        elif line.startswith("# branch.head "):
            value = line[len("# branch.head ") :].strip()
            branch = None if value == "(detached)" else value
        elif line and not line.startswith("#"):
            dirty = True
    return commit, branch, dirty


def local_git_state(path: Path, root: Path) -> tuple[RepoFacts, bool] | None:
    """(facts about ``path``'s work tree, whether ``root`` is dirty), or None outside git.

    ``path`` is the resolved directory the user named, ``root`` the project root in it."""
    if not _maybe_in_git(path):
        return None
    if not _same_repo(path, root):
        facts = repo_facts(path)
        if facts is None:
            return None
        inner = root.relative_to(facts.repo_root).as_posix()
        return facts, is_dirty(facts.repo_root, "" if inner == "." else inner)
    pathspec = ["."] + [f":(exclude){d}" for d in noise_excludes(root)]
    found = _side_by_side(
        {
            "top": (path, ["rev-parse", "--show-toplevel"]),
            "status": (root, ["status", "--porcelain=v2", "--branch", "-uall", "--", *pathspec]),
            "remote": (path, ["remote", "-v"]),
        }
    )
    top = found["top"]
    if top.returncode != 0 or not top.stdout.strip():
        return None
    status = found["status"]
    if status.returncode != 0:  # as is_dirty: a failing status is an error worth seeing
        raise process.CommandFailed(status)
    commit, branch, dirty = _parse_status(status.stdout)
    facts = RepoFacts(
        repo_root=Path(top.stdout.strip()).resolve(),
        commit=commit,
        branch=branch,
        repo_url=_remote_url(found["remote"].stdout) if found["remote"].returncode == 0 else None,
    )
    return facts, dirty
