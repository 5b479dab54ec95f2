"""What every handler works with: the store, the artifact root, and the proxy's URI mapping.

Artifacts live under one root directory (``--artifacts-destination``, by default the store's
own ``artifacts/``). Clients never see or choose a server path: a location under the root is
shown as ``mlflow-artifacts:/<relative path>``, and proxy requests name paths relative to the
root, which ``artifact_target`` resolves under the artifact directory of the run they name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from satchel.server.errors import RestError
from satchel.tracking.artifacts import relative_parts
from satchel.tracking.artifacts.local import LocalArtifactRepository
from satchel.tracking.client import Client
from satchel.tracking.store.base import Store

__all__ = ["PROXY_SCHEME", "ServerContext", "safe_path_parts"]

PROXY_SCHEME = "mlflow-artifacts:"
_FORBIDDEN = ("#", ";", "\\", "\x00", "%", "?")


def safe_path_parts(path: str) -> list[str]:
    """The parts of a request's artifact path (already URL-decoded once by the server), or
    INVALID_PARAMETER_VALUE "Invalid path": anything still percent-encoded (double
    encoding), ``..``, ``.`` and empty segments, absolute paths, drive letters, backslashes,
    ``#``, ``;`` and NUL."""
    if any(ch in path for ch in _FORBIDDEN) or unquote(path) != path:
        raise _invalid_path(path)
    segments = path[:-1].split("/") if path.endswith("/") else path.split("/")
    if path and any(s in ("", ".", "..") for s in segments):
        raise _invalid_path(path)  # "a//b", "./a": never what a client means
    try:
        return relative_parts(path)
    except Exception:
        raise _invalid_path(path) from None


def _invalid_path(path: str) -> RestError:
    return RestError("INVALID_PARAMETER_VALUE", f"Invalid path: {path!r}")


@dataclass
class ServerContext:
    store: Store
    artifact_root: str  # absolute; every proxied artifact lives below it
    tracking_uri: str

    @property
    def client(self) -> Client:
        """The web UI's client: this server's store, and each run's artifacts where this
        server keeps them (see ``local_location``)."""
        return _ServerClient(self)

    # -- stored location -> what clients see -----------------------------------------------
    def public_uri(self, location: str) -> str:
        path = _local_path(location)
        if path is None:
            return location
        root = self.artifact_root.rstrip(os.sep)
        if path == root:
            return PROXY_SCHEME
        if path.startswith(root + os.sep):
            return PROXY_SCHEME + "/" + path[len(root) + 1 :].replace(os.sep, "/")
        return location

    # -- proxy path -> the run's repository and the path inside it -------------------------
    def artifact_target(self, path: str) -> tuple[LocalArtifactRepository, str]:
        """``<experiment>/<run id>/artifacts/<rest>`` (a run's) or ``<experiment>/models/
        <model id>/artifacts/<rest>`` (an MLflow 3 logged model's): its repository and
        ``<rest>``, resolved under its own artifact directory (symlinks included)."""
        parts = safe_path_parts(path)
        if len(parts) >= 4 and parts[1] == "models" and parts[3] == "artifacts":
            repo = self.logged_model_repository(parts[2], parts[0])
            rest = "/".join(parts[4:])
        elif len(parts) >= 3 and parts[2] == "artifacts":
            repo = self.run_repository(parts[1], parts[0])
            rest = "/".join(parts[3:])
        else:
            raise RestError(
                "INVALID_PARAMETER_VALUE",
                f"Invalid path: {path!r} is not inside a run's or a logged model's artifacts "
                "(<experiment id>/<run id>/artifacts/..., <experiment id>/models/<model id>/"
                "artifacts/...)",
            )
        try:
            repo._resolve(rest)  # symlinks inside the run's directory may not lead out
        except Exception:
            raise _invalid_path(path) from None
        return repo, rest

    def logged_model_repository(
        self, model_id: str, experiment_id: str | None = None
    ) -> LocalArtifactRepository:
        from satchel.errors import NotFoundError

        try:
            model = self.store.get_logged_model(model_id)
        except NotFoundError:
            raise RestError(
                "RESOURCE_DOES_NOT_EXIST", f"Logged model '{model_id}' not found"
            ) from None
        if experiment_id is not None and model.experiment_id != experiment_id:
            raise RestError("RESOURCE_DOES_NOT_EXIST", f"Logged model '{model_id}' not found")
        return self._local_repository(model.artifact_location, f"logged model {model_id}")

    def run_repository(
        self, run_id: str, experiment_id: str | None = None
    ) -> LocalArtifactRepository:
        from satchel.errors import NotFoundError

        try:
            info = self.store.get_run(run_id).info
        except NotFoundError:
            raise RestError("RESOURCE_DOES_NOT_EXIST", f"Run '{run_id}' not found") from None
        if experiment_id is not None and info.experiment_id != experiment_id:
            raise RestError("RESOURCE_DOES_NOT_EXIST", f"Run '{run_id}' not found")
        return self._local_repository(info.artifact_uri, f"run {run_id}")

    def _local_repository(self, location: str, what: str) -> LocalArtifactRepository:
        local = self.local_location(location)
        if local is None:
            raise RestError(
                "INVALID_PARAMETER_VALUE",
                f"{what} keeps its artifacts at {location}, not on this server",
            )
        return LocalArtifactRepository(local)

    # -- a client's location -> where it is stored ------------------------------------------
    def stored_source(self, source: str) -> str:
        """A model version's ``source`` as stored: ``mlflow-artifacts:/...`` becomes the path
        under the artifact root it names; a local path must already be under the root (a
        client never points the server at its own files); ``runs:/``, ``models:/`` and
        remote URIs are kept as sent."""
        parsed = urlparse(source)
        if parsed.scheme == PROXY_SCHEME[:-1]:
            parts = safe_path_parts(parsed.path.lstrip("/"))
            return os.path.join(self.artifact_root, *parts)
        if parsed.scheme in ("", "file") or len(parsed.scheme) == 1:  # a path (or C:\...)
            path = _local_path(source)
            root = self.artifact_root.rstrip(os.sep) + os.sep
            if path is None or not (path + os.sep).startswith(root) or ".." in source:
                raise RestError(
                    "INVALID_PARAMETER_VALUE",
                    f"model version source {source!r} is a path outside this server's "
                    "artifacts: register runs:/<run id>/<path>, models:/<model id> or an "
                    "mlflow-artifacts:/ URI",
                )
            return path
        return source

    def local_location(self, location: str) -> str | None:
        """The directory of a stored location on this server: a local path, or a proxy URI
        as MLflow's server stores them (``mlflow-artifacts:/<path>``, a path under the
        artifact root); None for anything elsewhere (another host, another scheme)."""
        if location.startswith(PROXY_SCHEME) and not location.startswith(PROXY_SCHEME + "//"):
            parts = safe_path_parts(location[len(PROXY_SCHEME) :].lstrip("/"))
            return os.path.join(self.artifact_root, *parts)
        return _local_path(location)


class _ServerClient(Client):
    """A client over the server's own store whose artifact reads go where the server keeps
    them, whatever form the run's stored URI has."""

    def __init__(self, context: ServerContext) -> None:
        super().__init__(context.tracking_uri)
        self._opened = context.store  # this server's store (its artifact root), not a new one
        self._context = context

    def _repo(self, run_id: str) -> LocalArtifactRepository:
        from satchel.errors import InvalidValueError, NotFoundError

        try:
            return self._context.run_repository(run_id)
        except RestError as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                raise NotFoundError(str(exc), hint="see the experiment's runs") from None
            raise InvalidValueError(str(exc), hint="its artifacts are not on this server") from None


def _local_path(location: str) -> str | None:
    """The absolute directory of a local location (``file://`` or a plain path)."""
    parsed = urlparse(location)
    if parsed.scheme == "file":
        return os.path.abspath(unquote(parsed.path))
    if not parsed.scheme and location.startswith("/"):
        return os.path.abspath(location)
    return None
