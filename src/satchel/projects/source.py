"""Source capture: the exact code a run ran, as artifacts, and its restoration.

    dest/snapshot/       the project root as it is now: tracked + untracked non-ignored files
    dest/diff.patch      `git diff --binary HEAD` of the project root (only when dirty)
    dest/untracked.txt   untracked non-ignored paths, relative to the repository root
    dest/skipped.txt     files left out of the snapshot (too big, symlinks leaving the root)
    dest/source.json     the facts restore needs (commit, subdir, repo URL)

``restore_source`` rebuilds a dirty run's code: clone at the commit, apply the diff, copy
the untracked files back from the snapshot.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from satchel import process
from satchel.errors import FetchError, ProjectError
from satchel.projects.fetch_git import git, noise_excludes
from satchel.projects.fetched import Fetched, SourceInfo

__all__ = [
    "MAX_FILE_BYTES",
    "Captured",
    "SourceFiles",
    "capture_source",
    "list_source_files",
    "restore_source",
    "source_files",
    "source_tags",
]

MAX_FILE_BYTES = 50 * 1024 * 1024
_NEVER = {".git", ".hg", ".svn", "__pycache__"}  # not code, in any directory
_GIT_UNREADABLE = re.compile(r"could not open directory '(.+?)/?': Permission denied")


@dataclass(frozen=True)
class SourceFiles:
    """What a snapshot of the project will copy, listed once before the run exists (so an
    unreadable file is refused then) and handed forward to ``capture_source``."""

    files: tuple[str, ...]  # relative to the project root
    untracked: tuple[str, ...] = ()  # relative to the repository root (git projects)
    unreadable: tuple[str, ...] = ()  # relative to the project root (or the repository's)


def list_source_files(fetched: Fetched) -> SourceFiles:
    """The files of the snapshot; unreadable ones (a ``chmod 000`` file or directory) are
    listed apart, never silently left out of the record of what ran."""
    source, root = fetched.source, fetched.root
    if source.repo_root is not None:
        files, untracked, hidden = _git_files(source.repo_root, source.subdir, root)
    else:
        (files, hidden), untracked = _walk_files(root), []
    denied = [rel for rel in files if _denied(root / rel)]
    return SourceFiles(tuple(files), tuple(untracked), tuple(hidden + denied))


def check_readable(files: SourceFiles, root: Path) -> None:
    """One line naming the first unreadable file or directory (before any run exists)."""
    if files.unreadable:
        more = len(files.unreadable) - 1
        others = f" (and {more} more)" if more else ""
        raise ProjectError(
            f"cannot read {files.unreadable[0]}{others} in project {root}: permission denied",
            hint="make the project's files readable (chmod -R u+rX) to run it",
        )


def _denied(path: Path) -> bool:
    return not path.is_symlink() and path.is_file() and not os.access(path, os.R_OK)


@dataclass(frozen=True)
class Captured:
    """What ``capture_source`` wrote: the snapshot, the diff, and their tags."""

    tags: dict[str, str]
    snapshot: Path
    diff: Path | None = None
    untracked: tuple[str, ...] = ()
    skipped: tuple[str, ...] = field(default_factory=tuple)


def source_tags(source: SourceInfo) -> dict[str, str]:
    """MLflow's source tags plus Satchel's dirty flag and the URI as given."""
    tags = {"mlflow.source.name": source.name, "mlflow.source.type": "PROJECT"}
    optional = {
        "mlflow.source.git.commit": source.commit,
        "mlflow.source.git.branch": source.branch,
        "mlflow.source.git.repoURL": source.repo_url,
    }
    tags.update({k: v for k, v in optional.items() if v})
    tags["satchel.source.dirty"] = "true" if source.dirty else "false"
    tags["satchel.source.uri"] = source.uri
    return tags


def capture_source(fetched: Fetched, dest: Path, files: SourceFiles | None = None) -> Captured:
    """Write the run's source artifacts into ``dest`` (created if missing); ``files`` is
    the listing made before the run existed (listed now if not given)."""
    source = fetched.source
    dest.mkdir(parents=True, exist_ok=True)
    snapshot = dest / "snapshot"
    snapshot.mkdir(exist_ok=True)
    listed = files if files is not None else list_source_files(fetched)
    untracked = list(listed.untracked)
    diff = None
    if source.repo_root is not None and source.dirty and source.commit:
        diff = _write_diff(source.repo_root, source.subdir, dest / "diff.patch")
    skipped = _copy_files(fetched.root, list(listed.files), snapshot)
    if untracked:
        (dest / "untracked.txt").write_text("".join(f"{p}\n" for p in untracked))
    if skipped:
        (dest / "skipped.txt").write_text("".join(f"{p}\n" for p in skipped))
    # where the work tree sat on this machine is no fact about the code: a rerun's
    # source.json must be byte-identical to the original's
    meta = {k: v for k, v in asdict(source).items() if k != "repo_root"}
    (dest / "source.json").write_text(json.dumps(meta, indent=2) + "\n")
    return Captured(source_tags(source), snapshot, diff, tuple(untracked), tuple(skipped))


def source_files(fetched: Fetched) -> tuple[list[str], list[str]]:
    """(the project's code files relative to its root, untracked paths relative to the repo
    root): what the snapshot holds, and what the run key hashes."""
    listed = list_source_files(fetched)
    return list(listed.files), list(listed.untracked)


def _git_files(repo_root: Path, subdir: str, root: Path) -> tuple[list[str], list[str], list[str]]:
    """(files relative to the project root, untracked paths relative to the repo root,
    directories git could not open)."""
    noise = ["/".join(p for p in (subdir, d) if p) for d in noise_excludes(root)]
    spec = [subdir or "."] + [f":(exclude){n}" for n in noise]
    tracked = _zlist(
        git("ls-files", "-z", "--cached", "--recurse-submodules", "--", *spec, cwd=repo_root)
    )
    listed = git("ls-files", "-z", "--others", "--exclude-standard", "--", *spec, cwd=repo_root)
    others = _zlist(listed)
    hidden = _GIT_UNREADABLE.findall(listed.stderr)
    prefix = f"{subdir}/" if subdir else ""
    rel = [p[len(prefix) :] for p in dict.fromkeys(tracked + others) if p.startswith(prefix)]
    return [p for p in rel if os.path.lexists(root / p)], others, hidden


def _zlist(result: process.Result) -> list[str]:
    return [p for p in result.stdout.split("\0") if p]


def _write_diff(repo_root: Path, subdir: str, out: Path) -> Path | None:
    # git writes the file itself: patches of non-UTF-8 files must stay byte-exact.
    git(
        "diff",
        "--binary",
        "--no-ext-diff",
        "--no-textconv",
        "--no-color",
        f"--output={out}",
        "HEAD",
        "--",
        subdir or ".",
        cwd=repo_root,
    )
    if out.stat().st_size == 0:
        out.unlink()
        return None
    return out


def _walk_files(root: Path) -> tuple[list[str], list[str]]:
    """(files, directories that cannot be listed), relative to ``root``."""
    skip_top = set(noise_excludes(root))
    files: list[str] = []
    errors: list[str] = []
    for current, dirs, names in os.walk(root, onerror=lambda e: errors.append(e.filename)):
        here = Path(current)
        top = here == root
        dirs[:] = sorted(d for d in dirs if d not in _NEVER and not (top and d in skip_top))
        for d in dirs:
            if (here / d).is_symlink():  # os.walk does not descend; keep the link itself
                names.append(d)
        files.extend((here / n).relative_to(root).as_posix() for n in sorted(names))
    return files, [os.path.relpath(e, root) for e in errors]


def _copy_files(root: Path, files: list[str], snapshot: Path) -> list[str]:
    skipped = []
    for rel in files:
        src, dst = root / rel, snapshot / rel
        if src.is_symlink():
            link = _link_inside(root, src)
            if link is None:
                skipped.append(f"{rel}\tsymlink leaving the project")
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(link, dst)
        elif src.is_file():
            if src.stat().st_size > MAX_FILE_BYTES:
                skipped.append(f"{rel}\tlarger than 50 MB")
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    return skipped


def _link_inside(root: Path, link: Path) -> str | None:
    """What the snapshot's copy of symlink ``link`` should point to: its own text if it
    stays inside the project (dangling and looping links included: they are kept as they
    are, never followed), made relative if it is an absolute path into the project (the
    snapshot must not point back at the user's tree); None if it leads outside."""
    text = os.readlink(link)
    real_root = os.path.realpath(root)
    # realpath does not raise on loops or missing targets: it resolves as far as it can
    target = os.path.realpath(os.path.join(link.parent, text))
    if target != real_root and not target.startswith(real_root.rstrip(os.sep) + os.sep):
        return None
    if os.path.isabs(text):
        return os.path.relpath(target, os.path.realpath(link.parent))
    return text


def restore_source(source_artifacts_dir: Path, repo_url_or_path: str, dest: Path) -> None:
    """Rebuild the exact code of a run into ``dest`` (repo root; project at its subdir)."""
    meta = json.loads((source_artifacts_dir / "source.json").read_text())
    commit = meta.get("commit")
    if not commit:
        raise FetchError(
            f"The run in {source_artifacts_dir} recorded no git commit; its code is the "
            "snapshot/ directory itself"
        )
    try:
        git("clone", "--quiet", "--no-checkout", repo_url_or_path, str(dest))
        git("checkout", "--quiet", "--detach", commit, cwd=dest)
        patch = source_artifacts_dir / "diff.patch"
        if patch.is_file():
            # --index: a file that was staged (a new one included) is tracked again
            git(
                "apply",
                "--index",
                "--binary",
                "--whitespace=nowarn",
                str(patch.resolve()),
                cwd=dest,
            )
    except process.CommandFailed as err:
        raise FetchError(
            f"Could not restore commit {commit} from {repo_url_or_path!r}: {err.stderr_tail}"
        ) from None
    _copy_untracked(source_artifacts_dir, meta.get("subdir") or "", dest)


def _copy_untracked(artifacts: Path, subdir: str, dest: Path) -> None:
    listing = artifacts / "untracked.txt"
    if not listing.is_file():
        return
    prefix = f"{subdir}/" if subdir else ""
    for path in listing.read_text().splitlines():
        if not path.startswith(prefix) or ".." in Path(path).parts or Path(path).is_absolute():
            continue  # never write outside dest, whatever the artifact says
        src = artifacts / "snapshot" / path[len(prefix) :]
        dst = dest / path
        if src.is_file() or src.is_symlink():
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_symlink():
                os.symlink(os.readlink(src), dst)
            else:
                shutil.copy2(src, dst)
