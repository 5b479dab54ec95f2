"""Artifact repositories: the files logged with a run, under the run's ``artifact_uri``.

A repository kind is one module with an ``open_repository(artifact_uri, tracking_uri)``
function plus one line in ``REPOSITORIES`` (by URI scheme): a local directory (``file://``
or a plain path) and the server's ``mlflow-artifacts:`` proxy. Every kind offers
``log_artifact``, ``log_artifacts``, ``write_bytes``, ``list_artifacts`` and
``download_artifacts``. ``relative_parts`` is the one check that a user-given artifact path
stays relative (the server uses it on every request path too). Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass

from satchel.errors import InvalidValueError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "REPOSITORIES",
    "FileInfo",
    "escape_error",
    "get_artifact_repository",
    "relative_parts",
]

# URI scheme ("" = a plain path) -> module whose open_repository(uri, tracking_uri) opens it
REPOSITORIES = {
    "": "satchel.tracking.artifacts.local",
    "file": "satchel.tracking.artifacts.local",
    "mlflow-artifacts": "satchel.tracking.artifacts.http",
}


@dataclass(frozen=True)
class FileInfo:
    """One entry of an artifact listing."""

    path: str  # relative to the repository root, '/'-separated
    is_dir: bool
    file_size: int | None


def get_artifact_repository(artifact_uri: str, tracking_uri: str | None = None) -> Any:
    """The repository for a run's ``artifact_uri``; ``tracking_uri`` locates a server."""
    import importlib

    scheme = artifact_uri.partition(":")[0] if "://" in artifact_uri else ""
    if artifact_uri.startswith("mlflow-artifacts:"):
        scheme = "mlflow-artifacts"
    module = REPOSITORIES.get(scheme.lower())
    if module is None:
        raise InvalidValueError(
            f"artifact URI {artifact_uri!r} has unsupported scheme {scheme!r}",
            hint="Satchel reads local (file://) and server (mlflow-artifacts:) artifacts",
        )
    return importlib.import_module(module).open_repository(artifact_uri, tracking_uri)


def escape_error(what: str, path: object) -> InvalidValueError:
    return InvalidValueError(
        f"artifact path {str(path)!r} {what}",
        hint="use a relative path inside the run's artifacts, e.g. 'plots/loss.png'",
    )


def relative_parts(artifact_path: str | None) -> list[str]:
    """The '/'-separated parts of a user-given relative path, refusing escapes."""
    if not artifact_path:
        return []
    text = str(artifact_path).replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        raise escape_error("is absolute", artifact_path)
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise escape_error("contains '..'", artifact_path)
    if "\x00" in text:
        raise escape_error("contains a NUL byte", artifact_path)
    return parts
