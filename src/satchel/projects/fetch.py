"""URI (+ version) → a project directory and the facts about where it came from.

    fetch_project("path/to/dir")                  local, run in place, never modified
    fetch_project("file:///repo#sub")             local (or a bare repo → git)
    fetch_project("https://host/org/repo.git#examples/foo", "v1.2")   git, cached mirror
    fetch_project("https://host/project.zip")     zip, extracted safely

Everything this module creates lives in a temp dir that ``Fetched.cleanup()`` removes, and
is removed on every failure path before the error propagates.

Credentials in a URL (``https://user:TOKEN@host/repo.git``) are used for the fetch only:
``SourceInfo`` strips them from every field it holds (so no tag, ``source.json`` or printed
line carries them), error lines name the URL without them, and the transports get them out
of band (git through an HTTP header in its environment, never in a mirror's config).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from satchel.errors import FetchError
from satchel.projects.fetched import (
    Fetched,
    SourceInfo,
    is_zip_uri,
    redact_url,
    resolve_subdir,
    split_subdir,
)

__all__ = ["Fetched", "SourceInfo", "fetch_project", "is_zip_uri", "resolve_subdir", "split_subdir"]


def _noop() -> None:
    pass


def fetch_project(
    uri: str, version: str | None = None, *, cache_dir: Path | None = None
) -> Fetched:
    """Fetch the project at ``uri`` (optionally at git ``version``); see the module doc."""
    from satchel.projects import fetch_git

    given = redact_url(uri)  # what errors and records name; ``base`` keeps the credentials
    base, subdir = split_subdir(uri.strip().strip("'\""))
    if version is not None and (not version.strip() or version.startswith("-")):
        raise FetchError(f"Bad version {version!r}: give a commit, branch or tag name")
    if is_zip_uri(base):
        from satchel.projects import fetch_zip

        if version is not None:
            raise FetchError(f"--version is not supported for zip archives ({given})")
        return fetch_zip.fetch_zip(given, base, subdir)
    local = _local_path(base)
    if local is not None and local.is_dir():
        _check_readable(local, given)
    if local is not None and local.is_dir() and not fetch_git.is_bare_repo(local):
        return _fetch_local(given, local, subdir, version, cache_dir)
    if local is not None and not local.is_dir():
        raise FetchError(f"{given!r} is a file, not a project directory, a zip or a git repo")
    if local is not None or fetch_git.looks_like_git_url(base):
        # a bare repo given as a path is keyed (and recorded) by its absolute path
        url = str(local) if local is not None and not base.startswith("file:") else base
        return fetch_git.fetch_remote(given, url, subdir, version, cache_dir)
    raise FetchError(
        f"{given!r} is neither an existing directory nor a git repository URL "
        "(https://, ssh://, git@host:org/repo.git, git://, file://); check the path"
    )


def _check_readable(path: Path, given: str) -> None:
    try:
        with os.scandir(path):
            (path / "HEAD").is_file()  # a searchable directory too, not only a listable one
    except PermissionError:
        raise FetchError(
            f"cannot read {path.name} ({given}): permission denied; make it readable "
            f"(chmod u+rx {path})"
        ) from None


def _fetch_local(
    given: str, path: Path, subdir: str, version: str | None, cache_dir: Path | None
) -> Fetched:
    from satchel.projects import fetch_git

    path = path.resolve()
    if version is not None:
        facts = fetch_git.repo_facts(path)
        if facts is None:
            raise FetchError(
                f"Setting a version is only supported for git projects: {path} is not "
                "inside a git repository; drop --version"
            )
        # A separate checkout from the local repo: the user's working copy is never touched.
        inner = path.relative_to(facts.repo_root).as_posix()
        full_sub = "/".join(p for p in (inner, subdir) if p and p != ".")
        fetched = fetch_git.fetch_remote(given, str(facts.repo_root), full_sub, version, cache_dir)
        name = _local_git_name(facts.repo_root, full_sub)
        source = replace(fetched.source, name=name, repo_url=facts.repo_url)
        return Fetched(fetched.root, source, fetched.cleanup)
    from satchel.projects.fetch_local import local_git_state

    root = resolve_subdir(path, subdir, given)
    state = local_git_state(path, root)
    if state is None:
        info = SourceInfo(given, str(root), "local", subdir=subdir)
        return Fetched(root, info, _noop)
    facts, dirty = state
    inner = root.relative_to(facts.repo_root).as_posix()
    inner = "" if inner == "." else inner
    info = SourceInfo(
        uri=given,
        name=_local_git_name(facts.repo_root, inner),
        type="local",
        commit=facts.commit,
        branch=facts.branch,
        repo_url=facts.repo_url,
        dirty=dirty,
        repo_root=facts.repo_root,
        subdir=inner,
    )
    return Fetched(root, info, _noop)


def _local_git_name(repo_root: Path, subdir: str) -> str:
    # MLflow's form for a local path inside a git repo: file://<repo root>#<subdir>
    return f"file://{repo_root}" + (f"#{subdir}" if subdir else "")


def _local_path(base: str) -> Path | None:
    """The local path ``base`` names, if it exists (``file://`` URIs included)."""
    if base.startswith("file:"):
        parts = urlsplit(base)
        if parts.netloc not in ("", "localhost"):
            return None
        path = Path(unquote(parts.path))
    else:
        if "://" in base:
            return None
        path = Path(os.path.expanduser(base))
    return path.resolve() if path.exists() else None
