"""Git sources: facts about a local work tree, and cached checkouts of any repository.

One bare mirror per URL lives under ``satchel_home()/git/<sha256 of url>``. It is fetched
only when the asked-for version is missing (a branch is re-resolved with one ``ls-remote``,
falling back to the cached branch when offline), so running the same commit again does no
network operation. A file lock guards each mirror; checkouts are ``clone --shared`` copies
in a temp dir that ``cleanup()`` removes.

Credentials in an http(s) URL never reach the mirror's config, a checkout's ``origin`` or
argv: the mirror is keyed and configured by the URL without them, and network commands get
an ``Authorization`` header for that host through git's ``GIT_CONFIG_*`` environment.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from satchel import process
from satchel.errors import FetchError
from satchel.home import satchel_home
from satchel.projects.fetched import (
    Fetched,
    SourceInfo,
    redact_url,
    resolve_subdir,
    split_credentials,
)

__all__ = [
    "RepoFacts",
    "fetch_remote",
    "git",
    "is_bare_repo",
    "is_dirty",
    "looks_like_git_url",
    "noise_excludes",
    "repo_facts",
]

_GIT_URL = re.compile(r"^(https?|ssh|git|git\+ssh|ssh\+git|file)://|^[\w.-]+@[\w.-]+:")
_HEX = re.compile(r"^[0-9a-fA-F]{7,40}$")


def git(
    *args: str,
    cwd: Path | str | None = None,
    check: bool = True,
    env_extra: Mapping[str, str] | None = None,
) -> process.Result:
    """Run git non-interactively: never a credential or host-key prompt."""
    env = {**os.environ, **(env_extra or {})}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_OPTIONAL_LOCKS"] = "0"  # `git status` must not rewrite the user's index
    env.setdefault("GCM_INTERACTIVE", "never")
    if "GIT_SSH_COMMAND" not in env and "GIT_SSH" not in env:
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"
    return process.run(["git", *args], cwd=cwd, env=env, check=check)


def looks_like_git_url(uri: str) -> bool:
    return bool(_GIT_URL.match(uri))


def is_bare_repo(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir()


@dataclass(frozen=True)
class RepoFacts:
    """The state of a local git work tree: root, commit, branch, remote."""

    repo_root: Path
    commit: str | None  # None: no commit yet
    branch: str | None  # None: detached HEAD
    repo_url: str | None  # remote "origin", else the first remote


def repo_facts(path: Path) -> RepoFacts | None:
    """Facts about the git work tree containing ``path``, or None outside git."""
    top = git("rev-parse", "--show-toplevel", cwd=path, check=False)
    if top.returncode != 0 or not top.stdout.strip():
        return None
    root = Path(top.stdout.strip()).resolve()
    commit = git("rev-parse", "--verify", "--quiet", "HEAD", cwd=root, check=False)
    branch = git("symbolic-ref", "--short", "--quiet", "HEAD", cwd=root, check=False)
    remotes = git("remote", cwd=root, check=False).stdout.split()
    url = None
    if remotes:
        remote = "origin" if "origin" in remotes else remotes[0]
        url = git("remote", "get-url", remote, cwd=root, check=False).stdout.strip() or None
    return RepoFacts(
        repo_root=root,
        commit=commit.stdout.strip() or None if commit.returncode == 0 else None,
        branch=branch.stdout.strip() or None if branch.returncode == 0 else None,
        repo_url=redact_url(url) if url else None,  # a remote may embed a token
    )


def noise_excludes(project_root: Path) -> list[str]:
    """Top-level dirs that are tool output, not code: the default store and a venv."""
    excludes = []
    if (project_root / "satchel" / "satchel.db").exists():
        excludes.append("satchel")
    if (project_root / ".venv" / "pyvenv.cfg").exists():
        excludes.append(".venv")
    return excludes


def is_dirty(repo_root: Path, subdir: str) -> bool:
    """Uncommitted changes (staged, unstaged, untracked non-ignored) under ``subdir``."""
    project = repo_root / subdir
    pathspec = ["."] + [f":(exclude){d}" for d in noise_excludes(project)]
    out = git("status", "--porcelain", "--untracked-files=all", "--", *pathspec, cwd=project)
    return bool(out.stdout.strip())


@dataclass(frozen=True)
class _Remote:
    """A repository URL without credentials, and the environment that authenticates to it."""

    url: str
    auth_env: Mapping[str, str]

    @classmethod
    def parse(cls, url: str) -> _Remote:
        clean, credentials = split_credentials(url)
        if credentials is None or not clean.lower().startswith(("http://", "https://")):
            return cls(clean, {})
        import base64
        from urllib.parse import unquote, urlsplit

        parts = urlsplit(clean)
        user, _, password = credentials.partition(":")
        token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode()
        index = int(os.environ.get("GIT_CONFIG_COUNT", "0") or 0)  # after the user's own
        return cls(
            clean,
            {
                "GIT_CONFIG_COUNT": str(index + 1),
                # scoped to this host: a submodule elsewhere never sees the header
                f"GIT_CONFIG_KEY_{index}": f"http.{parts.scheme}://{parts.netloc}/.extraHeader",
                f"GIT_CONFIG_VALUE_{index}": f"Authorization: Basic {token}",
            },
        )


def fetch_remote(
    given: str, url: str, subdir: str, version: str | None, cache_dir: Path | None
) -> Fetched:
    """A fresh checkout of ``url`` at ``version`` (default branch if None), from the mirror."""
    import hashlib  # here: a local run never needs it (its OpenSSL load costs ~4 ms)
    import tempfile

    remote = _Remote.parse(url)
    cache = Path(cache_dir) if cache_dir is not None else satchel_home() / "git"
    cache.mkdir(parents=True, exist_ok=True)
    mirror = cache / hashlib.sha256(remote.url.encode()).hexdigest()[:32]
    tmp = Path(tempfile.mkdtemp(prefix="satchel-git-"))
    try:
        with _locked(mirror.with_name(mirror.name + ".lock")):
            commit, branch = _mirror_resolve(mirror, remote, version)
        # Objects of a resolved commit are never pruned by a concurrent fetch: no lock needed.
        checkout = tmp / "repo"
        work_tree = _checkout(mirror, checkout, remote, commit)
        root = resolve_subdir(checkout, subdir, given)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    info = SourceInfo(
        uri=given,
        name=given,
        type="git",
        commit=commit,
        branch=branch,
        repo_url=remote.url,
        repo_root=work_tree,
        subdir=subdir,
    )
    return Fetched(root, info, lambda: shutil.rmtree(tmp, ignore_errors=True))


def _checkout(mirror: Path, checkout: Path, remote: _Remote, commit: str) -> Path | None:
    """Files of ``commit`` into ``checkout``; returns the work tree if one (with .git) exists.

    The fast path is one ``read-tree`` from the mirror with a throwaway index: no .git, no
    clone. Submodules need a real work tree, so only then do we clone (shared) and update.
    """
    checkout.mkdir()
    index = checkout.parent / "index"
    git(
        "--git-dir", str(mirror), "--work-tree", str(checkout),
        "read-tree", "--reset", "-u", commit,
        env_extra={"GIT_INDEX_FILE": str(index)},
    )  # fmt: skip
    index.unlink()
    if not (checkout / ".gitmodules").is_file():
        return None
    shutil.rmtree(checkout)
    _clone_with_submodules(mirror, checkout, remote, commit)
    return checkout


def _clone_with_submodules(mirror: Path, checkout: Path, remote: _Remote, commit: str) -> None:
    git("clone", "--quiet", "--shared", "--no-checkout", "--template=", str(mirror), str(checkout))
    # origin = the real URL, so relative submodule URLs resolve like in a normal clone
    git("remote", "set-url", "origin", remote.url, cwd=checkout)
    git("checkout", "--quiet", "--detach", commit, cwd=checkout)
    # A local superproject may have local submodules; git refuses file:// for them by default.
    local = not looks_like_git_url(remote.url) or remote.url.startswith("file:")
    extra = ["-c", "protocol.file.allow=always"] if local else []
    try:
        git(
            *extra, "submodule", "update", "--quiet", "--init", "--recursive",
            cwd=checkout, env_extra=remote.auth_env,
        )  # fmt: skip
    except process.CommandFailed as err:
        raise FetchError(
            f"Could not fetch the submodules of {remote.url!r}: {err.stderr_tail}"
        ) from None


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """The mirror's lock. A failed first fetch leaves no mirror, and then no lock file
    either: it is unlinked while held, and whoever waited on the unlinked file retries
    (the same rule as satchel.envs.locks, so `envs gc` may remove orphans too)."""
    while True:
        with open(lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            if not _same_file(handle.fileno(), lock_path):
                continue  # unlinked while we waited: it guards nothing any more
            try:
                yield
            finally:
                if not lock_path.with_suffix("").joinpath("HEAD").is_file():
                    lock_path.unlink(missing_ok=True)  # no mirror: nothing left to guard
                fcntl.flock(handle, fcntl.LOCK_UN)
            return


def _same_file(fd: int, path: Path) -> bool:
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino)


def _mirror_resolve(mirror: Path, remote: _Remote, version: str | None) -> tuple[str, str | None]:
    created = not (mirror / "HEAD").is_file()
    if created:
        shutil.rmtree(mirror, ignore_errors=True)  # a half-made mirror from a crash
        git("init", "--quiet", "--bare", "--template=", str(mirror))
        git("config", "remote.origin.url", remote.url, cwd=mirror)
        git("config", "remote.origin.fetch", "+refs/heads/*:refs/heads/*", cwd=mirror)
        git("config", "--add", "remote.origin.fetch", "+refs/tags/*:refs/tags/*", cwd=mirror)
    try:
        if version is None:
            return _resolve_default(mirror, remote)
        return _resolve_version(mirror, remote, version)
    except BaseException:
        if created:  # never fetched anything useful: leave no empty mirror behind
            shutil.rmtree(mirror, ignore_errors=True)
        raise


def _resolve_default(mirror: Path, remote: _Remote) -> tuple[str, str | None]:
    try:
        out = _network(mirror, remote, "ls-remote", "--symref", "origin", "HEAD").stdout
    except FetchError:
        cached = _rev(mirror, "HEAD")
        if cached is None:
            raise
        return cached, _head_branch(mirror)  # offline: the default branch we fetched before
    branch = sha = None
    for line in out.splitlines():
        if line.startswith("ref: refs/heads/") and line.endswith("\tHEAD"):
            branch = line[len("ref: refs/heads/") : -len("\tHEAD")]
        elif line.endswith("\tHEAD"):
            sha = line.split("\t")[0]
    if sha is None:
        raise FetchError(f"Git repository {remote.url!r} has no commits (no default branch)")
    if _rev(mirror, sha) is None:
        _fetch(mirror, remote)
    if branch:
        git("symbolic-ref", "HEAD", f"refs/heads/{branch}", cwd=mirror)
    return sha, branch


def _resolve_version(mirror: Path, remote: _Remote, version: str) -> tuple[str, str | None]:
    full_sha = len(version) == 40 and _HEX.match(version) is not None
    is_branch = not full_sha and _rev(mirror, f"refs/heads/{version}") is not None
    known = _rev(mirror, version)
    if known is not None and not is_branch:
        return known, None  # a commit or tag we already have: immutable, no network
    try:
        out = _network(mirror, remote, "ls-remote", "origin", f"refs/heads/{version}").stdout
    except FetchError:
        if known is not None:
            return known, version  # offline: the branch as last fetched
        raise
    if out.strip():
        sha = out.split()[0]
        if _rev(mirror, sha) is None:
            _fetch(mirror, remote)
        return sha, version
    _fetch(mirror, remote)  # a tag or commit we do not have yet
    commit = _rev(mirror, version)
    if commit is None and _HEX.match(version):
        commit = _fetch_sha(mirror, remote, version)
    if commit is None:
        raise FetchError(
            f"Unable to checkout version {version!r} of git repository {remote.url!r}: "
            "no such commit, branch or tag"
        )
    return commit, None


def _rev(mirror: Path, rev: str) -> str | None:
    out = git(
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        f"{rev}^{{commit}}",
        cwd=mirror,
        check=False,
    )
    return out.stdout.strip() or None if out.returncode == 0 else None


def _head_branch(mirror: Path) -> str | None:
    out = git("symbolic-ref", "--short", "--quiet", "HEAD", cwd=mirror, check=False)
    return out.stdout.strip() or None


def _network(mirror: Path, remote: _Remote, *args: str) -> process.Result:
    try:
        return git(*args, cwd=mirror, env_extra=remote.auth_env)
    except process.CommandFailed as err:
        raise FetchError(
            f"Could not reach git repository {remote.url!r} "
            f"({err.stderr_tail or 'git failed'}), "
            "and no local directory of that name exists; check the URI, network and access"
        ) from None


def _fetch(mirror: Path, remote: _Remote) -> None:
    _network(mirror, remote, "fetch", "--quiet", "--prune", "--force", "origin")


def _fetch_sha(mirror: Path, remote: _Remote, sha: str) -> str | None:
    """An unadvertised commit (servers that allow fetching by id), pinned by a ref."""
    if len(sha) != 40:
        return None
    out = git("fetch", "--quiet", "origin", sha, cwd=mirror, check=False, env_extra=remote.auth_env)
    if out.returncode != 0:
        return None
    git("update-ref", f"refs/satchel/{sha}", sha, cwd=mirror)
    return _rev(mirror, sha)
