"""The records a fetch produces (``Fetched``, ``SourceInfo``) and the URI helpers every
fetcher shares. ``fetch`` dispatches to ``fetch_git`` / ``fetch_zip`` / ``fetch_local``; they
all import their records from here, never from ``fetch``, so no fetcher imports its caller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import urlsplit

from satchel.errors import FetchError

__all__ = ["Fetched", "SourceInfo", "SourceType", "is_zip_uri", "resolve_subdir", "split_subdir"]

SourceType = Literal["local", "git", "zip"]


@dataclass(frozen=True)
class SourceInfo:
    """Where the code of a run came from (the ``mlflow.source.*`` facts)."""

    uri: str  # as the user gave it
    name: str  # the mlflow.source.name value
    type: SourceType
    commit: str | None = None
    branch: str | None = None
    repo_url: str | None = None
    dirty: bool = False
    # the git work tree (with .git) the project sits in; None outside git and for fresh
    # checkouts without submodules (files only: nothing there is untracked or changed)
    repo_root: Path | None = None
    subdir: str = ""  # the project root relative to repo_root (or to the fetched tree)


@dataclass(frozen=True)
class Fetched:
    """A project ready to run from ``root``; ``cleanup`` removes what fetching made."""

    root: Path  # the directory the command runs in
    source: SourceInfo
    cleanup: Callable[[], None]

    def __enter__(self) -> Fetched:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.cleanup()


def is_zip_uri(base: str) -> bool:
    return urlsplit(base).path.lower().endswith(".zip") or base.lower().endswith(".zip")


def split_subdir(uri: str) -> tuple[str, str]:
    """``base#sub/dir`` → (base, "sub/dir"), the subdir checked to stay inside its root."""
    base, _, subdir = uri.partition("#")
    if not subdir:
        return base, ""
    if subdir.startswith("/") or "\\" in subdir or PurePosixPath(subdir).is_absolute():
        raise FetchError(f"Bad subdirectory {subdir!r} in {uri!r}: use a relative path")
    parts = [p for p in PurePosixPath(subdir).parts if p != "."]
    if ".." in parts:
        raise FetchError(
            f"Bad subdirectory {subdir!r} in {uri!r}: '..' is not allowed "
            "(the subdirectory must stay inside the project)"
        )
    return base, "/".join(parts)


def resolve_subdir(root: Path, subdir: str, uri: str) -> Path:
    """``root/subdir``, which must be a directory that (after symlinks) stays inside root."""
    root = root.resolve()
    if not subdir:
        return root
    target = (root / subdir).resolve()
    if target != root and root not in target.parents:
        raise FetchError(f"Subdirectory {subdir!r} of {uri!r} points outside the project")
    if not target.is_dir():
        raise FetchError(f"Could not find subdirectory {subdir!r} in {uri!r}; check the #subdir")
    return target
