"""The local-directory artifact repository (``file://`` URIs and plain paths).

Any path that comes from a user or from a directory being logged is checked to stay inside
the root: ``..`` parts, absolute paths and symlinks pointing outside are refused with
``InvalidValueError``. Every file is written to a temporary name and ``os.replace``d, so
nobody sees half an artifact. Standard library only.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from satchel.errors import NotFoundError
from satchel.tracking.artifacts import FileInfo, escape_error, relative_parts

__all__ = ["LocalArtifactRepository", "files_inside", "open_repository"]

_COPY_BUFFER = 1024 * 1024


def open_repository(artifact_uri: str, tracking_uri: str | None) -> LocalArtifactRepository:
    """The registry's entry point for ``file://`` URIs and plain paths."""
    from urllib.parse import unquote, urlparse  # not on the ``import satchel`` path

    parsed = urlparse(artifact_uri)
    return LocalArtifactRepository(unquote(parsed.path) if parsed.scheme else artifact_uri)


class LocalArtifactRepository:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(os.path.abspath(root))

    def __repr__(self) -> str:
        return f"LocalArtifactRepository({str(self.root)!r})"

    # -- paths ---------------------------------------------------------------------------
    def _resolve(self, artifact_path: str | None) -> Path:
        """The real path for ``artifact_path``, proven to stay inside the root."""
        target = self.root.joinpath(*relative_parts(artifact_path))
        real_root = os.path.realpath(self.root)
        real = os.path.realpath(target)  # follows any symlink already in the repository
        if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
            raise escape_error(
                "points outside the artifact root (through a symlink)", artifact_path
            )
        return target

    def local_path(self, artifact_path: str) -> Path:
        """Where ``artifact_path`` lives on disk (parents created), e.g. for streaming logs."""
        if not relative_parts(artifact_path):
            raise escape_error("is empty", artifact_path)
        target = self._resolve(artifact_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        self._resolve(artifact_path)  # re-check: a parent could have been a symlink
        return target

    # -- writing -------------------------------------------------------------------------
    def log_artifact(
        self, local_file: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        source = Path(local_file)
        if not source.is_file():
            raise NotFoundError(
                f"cannot log {str(source)!r}: not a file",
                hint="check the path; use log_artifacts for a directory",
            )
        rel = "/".join([*relative_parts(artifact_path), source.name])
        self._copy_file(source, self.local_path(rel))

    def log_artifacts(
        self, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        source = Path(local_dir)
        if not source.is_dir():
            raise NotFoundError(
                f"cannot log {str(source)!r}: not a directory",
                hint="check the path; use log_artifact for a single file",
            )
        base = relative_parts(artifact_path)
        files = files_inside(source)  # checked in full before anything is written
        for rel in files:
            self._copy_file(source / rel, self.local_path("/".join([*base, *rel.parts])))
        if not files:
            self._resolve("/".join(base)).mkdir(parents=True, exist_ok=True)

    def write_bytes(self, artifact_path: str, data: bytes) -> None:
        """Write ``data`` as one artifact atomically (log_text / log_dict)."""
        target = self.local_path(artifact_path)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    @staticmethod
    def _copy_file(source: Path, target: Path) -> None:
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            with open(source, "rb") as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst, _COPY_BUFFER)
            shutil.copymode(source, tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    # -- reading -------------------------------------------------------------------------
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        directory = self._resolve(path)
        if not directory.is_dir():
            return []
        prefix = relative_parts(path)
        out = []
        for entry in sorted(directory.iterdir(), key=lambda p: p.name):
            if entry.name.startswith(".") and entry.name.endswith(".tmp"):
                continue  # a write in progress
            rel = "/".join([*prefix, entry.name])
            if entry.is_symlink():  # a leaf, never followed: it may dangle or loop
                out.append(FileInfo(rel, False, None))
                continue
            is_dir = entry.is_dir()
            out.append(FileInfo(rel, is_dir, None if is_dir else entry.stat().st_size))
        return out

    def download_artifacts(
        self, artifact_path: str | None, dst_dir: str | os.PathLike[str]
    ) -> Path:
        """Copy a file or directory out of the repository into ``dst_dir``; returns the copy."""
        source = self._resolve(artifact_path)
        if not source.exists() and not source.is_symlink():
            raise NotFoundError(
                f"artifact {artifact_path!r} not found in {self.root}",
                hint="see what exists with 'satchel artifacts list'",
            )
        dst = Path(dst_dir)
        dst.mkdir(parents=True, exist_ok=True)
        target = dst / (source.name if relative_parts(artifact_path) else "artifacts")
        if source.is_file() and not source.is_symlink():
            self._copy_file(source, target)
            return target
        if source.is_symlink():  # one link asked for by name: copied as a link
            _copy_link(source, target)
            return target
        files, links = _download_entries(source)
        for rel in files:
            out = target.joinpath(*rel.parts)
            out.parent.mkdir(parents=True, exist_ok=True)
            self._copy_file(source / rel, out)
        for rel in links:
            out = target.joinpath(*rel.parts)
            out.parent.mkdir(parents=True, exist_ok=True)
            _copy_link(source / rel, out)
        target.mkdir(parents=True, exist_ok=True)
        return target


def _download_entries(directory: Path) -> tuple[list[Path], list[Path]]:
    """(files, symlinks) under ``directory``, relative. Symlinks (a run's source snapshot
    keeps them) are copied as links, never followed: one may dangle, loop or name a
    directory. A link leading outside ``directory`` is not copied: the download would
    otherwise point into the user's machine."""
    real_root = os.path.realpath(directory)
    files: list[Path] = []
    links: list[Path] = []
    for current, dirs, names in os.walk(directory, followlinks=False):
        for name in [*dirs, *names]:
            full = os.path.join(current, name)
            rel = Path(os.path.relpath(full, directory))
            if os.path.islink(full):
                real = os.path.realpath(full)
                if real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep):
                    links.append(rel)
            elif name in names:
                files.append(rel)
    return sorted(files), sorted(links)


def _copy_link(source: Path, target: Path) -> None:
    target.unlink(missing_ok=True)
    os.symlink(os.readlink(source), target)


def files_inside(directory: Path) -> list[Path]:
    """Every file under ``directory`` (relative), refusing symlinks that lead outside it."""
    real_root = os.path.realpath(directory)
    out = []
    for current, dirs, files in os.walk(directory, followlinks=False):
        for name in [*dirs, *files]:
            full = os.path.join(current, name)
            if os.path.islink(full):
                real = os.path.realpath(full)
                if not real.startswith(real_root.rstrip(os.sep) + os.sep):
                    raise escape_error(
                        "is a symlink pointing outside the directory being logged",
                        os.path.relpath(full, directory),
                    )
                if name in dirs:
                    raise escape_error(
                        "is a symlink to a directory (not followed)",
                        os.path.relpath(full, directory),
                    )
        out += [Path(os.path.relpath(os.path.join(current, f), directory)) for f in files]
    return sorted(out)
