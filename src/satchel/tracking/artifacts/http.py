"""The server's artifact proxy (``mlflow-artifacts:/<exp>/<run>/artifacts`` URIs).

Files go up with one PUT each to ``<tracking URI>/api/2.0/mlflow-artifacts/artifacts/<path>``
and come down with GETs; listings use ``?path=``. Paths are checked locally before anything
is sent (the server checks them again). Standard library only.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

from satchel.errors import InvalidValueError, NotFoundError
from satchel.tracking.artifacts import FileInfo, escape_error, relative_parts
from satchel.tracking.store.http_conn import Connection

__all__ = ["HttpArtifactRepository", "open_repository"]

PROXY = "/api/2.0/mlflow-artifacts/artifacts"
_CONNECTIONS: dict[str, Connection] = {}


def open_repository(artifact_uri: str, tracking_uri: str | None) -> HttpArtifactRepository:
    """``mlflow-artifacts:/path`` (on the tracking server) or ``mlflow-artifacts://host/path``."""
    rest = artifact_uri[len("mlflow-artifacts:") :]
    if rest.startswith("//"):
        host, _, path = rest[2:].partition("/")
        base = f"http://{host}"
    else:
        path = rest.lstrip("/")
        if not tracking_uri or not tracking_uri.startswith(("http://", "https://")):
            raise InvalidValueError(
                f"artifact URI {artifact_uri!r} lives on a tracking server",
                hint="use that server's http:// URL as the tracking URI",
            )
        base = tracking_uri
    connection = _CONNECTIONS.get(base)
    if connection is None:
        connection = _CONNECTIONS[base] = Connection(base)
    return HttpArtifactRepository(connection, path)


class HttpArtifactRepository:
    def __init__(self, connection: Connection, root: str) -> None:
        self.conn = connection
        self.root = root.strip("/")

    def __repr__(self) -> str:
        return f"HttpArtifactRepository({self.conn.base_url!r}, {self.root!r})"

    def _url(self, rel: str) -> str:
        full = "/".join(x for x in (self.root, rel) if x)
        return f"{PROXY}/{quote(full)}"

    # -- writing -------------------------------------------------------------------------
    def write_bytes(self, artifact_path: str, data: bytes) -> None:
        rel = "/".join(relative_parts(artifact_path))
        if not rel:
            raise escape_error("is empty", artifact_path)
        status, payload = self.conn.send("PUT", self._url(rel), data, "application/octet-stream")
        if status >= 400:
            raise InvalidValueError(
                f"upload of artifact {rel!r} failed: HTTP {status} {payload[:200]!r}",
                hint="check the server's log",
            )

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
        self.write_bytes(rel, source.read_bytes())

    def log_artifacts(
        self, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        from satchel.tracking.artifacts.local import files_inside

        source = Path(local_dir)
        if not source.is_dir():
            raise NotFoundError(
                f"cannot log {str(source)!r}: not a directory",
                hint="check the path; use log_artifact for a single file",
            )
        base = relative_parts(artifact_path)
        for rel in files_inside(source):  # checked in full before anything is sent
            self.write_bytes("/".join([*base, *rel.parts]), (source / rel).read_bytes())

    # -- reading -------------------------------------------------------------------------
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        prefix = relative_parts(path)
        full = "/".join([self.root, *prefix])
        answer = self.conn.json("GET", PROXY, {"path": full})
        out = []
        for entry in answer.get("files", ()):
            rel = "/".join([*prefix, entry["path"]])
            out.append(FileInfo(rel, bool(entry.get("is_dir")), entry.get("file_size")))
        return sorted(out, key=lambda f: f.path)

    def download_artifacts(
        self, artifact_path: str | None, dst_dir: str | os.PathLike[str]
    ) -> Path:
        """Copy a file or directory from the server into ``dst_dir``; returns the copy."""
        parts = relative_parts(artifact_path)
        dst = Path(dst_dir)
        dst.mkdir(parents=True, exist_ok=True)
        target = dst / (parts[-1] if parts else "artifacts")
        listing = self.list_artifacts("/".join(parts))
        if not listing and parts:
            self._download_file("/".join(parts), target)
            return target
        target.mkdir(parents=True, exist_ok=True)
        pending = listing
        while pending:
            entry = pending.pop()
            local = target.joinpath(*entry.path.split("/")[len(parts) :])
            if entry.is_dir:
                local.mkdir(parents=True, exist_ok=True)
                pending += self.list_artifacts(entry.path)
            else:
                local.parent.mkdir(parents=True, exist_ok=True)
                self._download_file(entry.path, local)
        return target

    def _download_file(self, rel: str, target: Path) -> None:
        status, payload = self.conn.send("GET", self._url(rel))
        if status == 404:
            raise NotFoundError(
                f"artifact {rel!r} not found", hint="see what exists with 'satchel artifacts list'"
            )
        if status >= 400:
            raise InvalidValueError(f"download of artifact {rel!r} failed: HTTP {status}")
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(payload)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
