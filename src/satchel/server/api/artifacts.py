"""The ``mlflow-artifacts`` proxy and ``mlflow/artifacts/list``.

- PUT    ``/api/2.0/mlflow-artifacts/artifacts/<path>``  the body becomes the file (streamed)
- GET    ``/api/2.0/mlflow-artifacts/artifacts/<path>``  the file's bytes
- DELETE ``/api/2.0/mlflow-artifacts/artifacts/<path>``  the file or directory
- GET    ``/api/2.0/mlflow-artifacts/artifacts?path=``    one directory level (``{}`` if empty)
- GET    ``/api/2.0/mlflow/artifacts/list?run_id&path``   the same, run-relative

Every path is checked by ``ServerContext.artifact_target``: decoded, no escapes, and resolved
under the artifact directory of the run it names. Uploads are written to a temporary file
and renamed into place, so nobody reads half an artifact, and stop at ``max_upload`` bytes.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from satchel.server.context import ServerContext
from satchel.server.errors import RestError
from satchel.server.params import Params
from satchel.tracking.artifacts import FileInfo
from satchel.tracking.serialize import file_info_to_dict

__all__ = ["delete", "download", "list_proxy", "list_run", "upload"]

_TEXT = (".txt", ".log", ".json", ".yaml", ".yml", ".md", ".csv", ".py", ".patch", ".toml")


async def upload(ctx: ServerContext, request: Request, path: str, max_upload: int) -> Response:
    repo, rest = ctx.artifact_target(path)
    if not rest:
        raise RestError("INVALID_PARAMETER_VALUE", f"Invalid path: {path!r} names no file")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_upload:
        raise _too_large(max_upload)
    target = repo.local_path(rest)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{id(request)}.tmp")
    size = 0
    try:
        with open(tmp, "wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_upload:
                    raise _too_large(max_upload)
                fh.write(chunk)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return Response(status_code=200)


def _too_large(limit: int) -> RestError:
    return RestError(
        "INVALID_PARAMETER_VALUE", f"artifact larger than this server's {limit} byte limit", 413
    )


async def download(ctx: ServerContext, request: Request, path: str, max_upload: int) -> Response:
    repo, rest = ctx.artifact_target(path)
    target = repo._resolve(rest)
    if not rest or not target.is_file():
        raise RestError("RESOURCE_DOES_NOT_EXIST", f"No artifact at path {path!r}")
    media = "text/plain" if target.suffix.lower() in _TEXT else "application/octet-stream"
    return FileResponse(target, media_type=media)


async def delete(ctx: ServerContext, request: Request, path: str, max_upload: int) -> Response:
    repo, rest = ctx.artifact_target(path)
    target = repo._resolve(rest)
    if not rest:
        raise RestError("INVALID_PARAMETER_VALUE", "refusing to delete a run's whole artifacts")
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    elif target.exists() or target.is_symlink():
        target.unlink()
    else:
        raise RestError("RESOURCE_DOES_NOT_EXIST", f"No artifact at path {path!r}")
    return Response(content=b"{}", media_type="application/json")


def _listing(files: list[FileInfo], strip: str) -> list[dict[str, Any]]:
    prefix = strip.strip("/") + "/" if strip.strip("/") else ""
    out = []
    for info in files:
        shown = info.path[len(prefix) :] if info.path.startswith(prefix) else info.path
        out.append(file_info_to_dict(FileInfo(shown, info.is_dir, info.file_size)))
    return out


def list_proxy(ctx: ServerContext, p: Params) -> dict[str, Any]:
    """Entries are named relative to the listed directory (as MLflow's proxy answers)."""
    path = p.text("path") or ""
    parts = [x for x in path.split("/") if x]
    if len(parts) < 3:
        return {}  # the root or an experiment: no run named, nothing to list
    repo, rest = ctx.artifact_target(path)
    files = repo.list_artifacts(rest or None)
    return {"files": _listing(files, rest)} if files else {}


def list_run(ctx: ServerContext, p: Params) -> dict[str, Any]:
    """Entries carry their run-relative path (MLflow's ``artifacts/list``)."""
    from satchel.server.context import safe_path_parts

    run_id = p.run_id()
    rest = "/".join(safe_path_parts(p.text("path") or ""))
    repo = ctx.run_repository(run_id)
    out: dict[str, Any] = {"root_uri": ctx.public_uri(ctx.store.get_run(run_id).info.artifact_uri)}
    files = repo.list_artifacts(rest or None)
    if files:
        out["files"] = [file_info_to_dict(f) for f in files]
    return out
