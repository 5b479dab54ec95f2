"""A Ray cluster's Jobs REST API over urllib (no ray package on our side), and the packages a
job's runtime_env names (``gcs://_ray_pkg_<hash>.zip``, uploaded once, reused by content).

    GET  /api/version                     reachability
    GET  /api/packages/gcs/<name>         does the package exist? (200 / 404)
    PUT  /api/packages/gcs/<name>         upload the zip
    POST /api/jobs/                       submit  → {"job_id", "submission_id"}
    GET  /api/jobs/<id>                   status, message, driver_exit_code
    GET  /api/jobs/<id>/logs              {"logs": "..."}
    POST /api/jobs/<id>/stop
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from satchel.errors import ExecutionError

__all__ = ["JobsApi", "package_dir", "shown_address", "zip_tree"]

_TIMEOUT = 30.0
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed: the same files make the same zip, the same name


def shown_address(address: str) -> str:
    """The address without credentials (for tags and messages)."""
    parts = urlsplit(address)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


class JobsApi:
    """One Ray cluster's dashboard (``http(s)://host:port``)."""

    def __init__(self, address: str, timeout: float = _TIMEOUT) -> None:
        self.address = address.rstrip("/")
        self.timeout = timeout

    def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        data: bytes | None = None,
        timeout: float | None = None,
    ) -> tuple[int, bytes]:
        headers = {}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(  # noqa: S310  an http(s) URL checked by configure
            self.address + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ExecutionError(
                f"cannot reach the Ray cluster at {shown_address(self.address)}: {reason}",
                hint="check the address (the dashboard URL, e.g. http://head:8265) and that "
                "the cluster is up",
            ) from None

    def _json(self, method: str, path: str, body: Any = None) -> Any:
        status, raw = self._call(method, path, body)
        if status >= 400:
            text = " ".join(raw.decode(errors="replace").split())[-300:]
            raise ExecutionError(f"Ray refused {method} {path} ({status}): {text}")
        return json.loads(raw or b"null")

    def version(self, timeout: float = 5.0) -> dict[str, Any]:
        status, raw = self._call("GET", "/api/version", timeout=timeout)
        if status != 200:
            raise ExecutionError(
                f"{shown_address(self.address)} is not a Ray dashboard (GET /api/version: "
                f"{status})",
                hint="give the dashboard URL, e.g. http://head:8265",
            )
        data: dict[str, Any] = json.loads(raw)
        return data

    def ensure_package(self, name: str, content: bytes) -> str:
        """Upload the zip ``content`` as ``name`` unless the cluster has it; its URI."""
        path = f"/api/packages/gcs/{quote(name)}"
        status, _ = self._call("GET", path)
        if status == 404:
            status, _ = self._call("PUT", path, data=content, timeout=max(self.timeout, 300))
            if status >= 400:
                raise ExecutionError(f"Ray refused the package {name} ({status})")
        elif status >= 400:
            raise ExecutionError(f"Ray could not look up the package {name} ({status})")
        return f"gcs://{name}"

    def submit(self, request: dict[str, Any]) -> str:
        answer = self._json("POST", "/api/jobs/", request)
        return str(answer["submission_id"])

    def info(self, job_id: str) -> dict[str, Any]:
        data: dict[str, Any] = self._json("GET", f"/api/jobs/{quote(job_id)}")
        return data

    def logs(self, job_id: str) -> str:
        return str(self._json("GET", f"/api/jobs/{quote(job_id)}/logs").get("logs") or "")

    def stop(self, job_id: str) -> None:
        self._json("POST", f"/api/jobs/{quote(job_id)}/stop")


def _files(root: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            yield Path(dirpath, name)


def zip_tree(root: Path, prefix: str = "") -> tuple[str, bytes]:
    """``root``'s files as a reproducible zip (under ``prefix/`` when given) and the name Ray
    gives packages: ``_ray_pkg_<content hash>.zip``. Symlinks are stored as what they point to
    inside ``root`` and skipped when they point outside (a snapshot never reaches out)."""
    buffer = io.BytesIO()
    real_root = root.resolve()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in _files(root):
            target = path.resolve()
            if not target.is_file() or not target.is_relative_to(real_root):
                continue
            rel = path.relative_to(root).as_posix()
            info = zipfile.ZipInfo(f"{prefix}/{rel}" if prefix else rel, _ZIP_TIME)
            info.external_attr = (target.stat().st_mode & 0o777) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, target.read_bytes())
    content = buffer.getvalue()
    return f"_ray_pkg_{hashlib.sha256(content).hexdigest()[:32]}.zip", content


def package_dir(client_path: Path) -> Path:
    """The ``satchel`` package that ``client_path`` holds (a symlink to the installed one)."""
    return (client_path / "satchel").resolve()
