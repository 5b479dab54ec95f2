"""The records a fetch produces (``Fetched``, ``SourceInfo``) and the URI helpers every
fetcher shares. ``fetch`` dispatches to ``fetch_git`` / ``fetch_zip`` / ``fetch_local``; they
all import their records from here, never from ``fetch``, so no fetcher imports its caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import urlsplit

from satchel.errors import FetchError

__all__ = [
    "Fetched",
    "SourceInfo",
    "SourceType",
    "is_zip_uri",
    "redact_url",
    "resolve_subdir",
    "split_credentials",
    "split_subdir",
]

SourceType = Literal["local", "git", "zip"]
# scheme://userinfo@ — greedy up to the last "@" of the authority (a password may hold "@")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)@")


def split_credentials(url: str) -> tuple[str, str | None]:
    """``url`` without its credentials, and the credentials (``user:password``) if any.

    http(s) URLs lose their whole userinfo (a token is often the user name alone); other
    schemes keep the user name, which says who to log in as (``ssh://git@host``) and is
    needed for the fetch, and lose the password."""
    match = _USERINFO.match(url)
    if match is None:
        return url, None
    scheme, userinfo = match.group(1), match.group(2)
    rest = url[match.end() :]
    if scheme.lower() in ("http://", "https://"):
        return scheme + rest, userinfo
    user, sep, _ = userinfo.partition(":")
    return (f"{scheme}{user}@{rest}", userinfo) if sep else (url, None)


def redact_url(url: str) -> str:
    """``url`` as it may be recorded or printed: without credentials."""
    return split_credentials(url)[0]


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

    def __post_init__(self) -> None:
        # every recorded form of the source is credential-free, whoever built the record
        for name in ("uri", "name", "repo_url"):
            value = getattr(self, name)
            if value:
                object.__setattr__(self, name, redact_url(value))


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
