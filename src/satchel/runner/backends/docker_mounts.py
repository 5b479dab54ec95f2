"""What a run's container mounts: the satchel client, user volumes, the tracking store.

Host paths are mounted at the SAME absolute paths when they appear in URIs the project sees
(the SQLite database, the run's artifact directory), so ``SATCHEL_TRACKING_URI`` and the run's
artifact URI mean the same inside and outside the container: nothing to rewrite (MLflow
rewrites them to ``/mlflow/tmp/mlruns`` and breaks artifact URIs logged from inside).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from satchel.errors import ExecutionError
from satchel.runner.backends.base import LaunchSpec

__all__ = ["CLIENT_DIR", "client_mounts", "resolve_volume", "tracking_mounts"]

CLIENT_DIR = "/opt/satchel-client"
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "ip6-localhost"}  # noqa: S104


def client_mounts(client_path: Path) -> list[str]:
    """The satchel client package, read-only. Each entry is resolved first: the client dir
    holds a symlink to the installed package, and a symlink to a host path would dangle
    inside the container."""
    return [
        f"{child.resolve()}:{CLIENT_DIR}/{child.name}:ro"
        for child in sorted(client_path.iterdir())
        if not child.name.startswith(".")
    ]


def _host_path(source: str, base: Path) -> str:
    path = Path(source).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def resolve_volume(spec: str, project_root: Path) -> str:
    """``-v`` syntax with relative host paths made absolute against the project directory.

    A bare name (``cache:/root/.cache``) stays a named volume, as in docker."""
    source, sep, rest = spec.partition(":")
    if not sep:
        raise ExecutionError(
            f"docker volume {spec!r} has no container path", hint="write HOST:CONTAINER[:ro]"
        )
    if source.startswith((".", "~", "/")) or "/" in source:
        source = _host_path(source, project_root)
    return f"{source}:{rest}"


def _sqlite_dir(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme == "sqlite":
        return Path("/" + parsed.path.lstrip("/")).parent
    return None


def _artifact_dir(spec: LaunchSpec) -> Path | None:
    """The run's local artifact directory (mounted so artifact URIs stay valid), if local."""
    uri = spec.env.get("SATCHEL_ARTIFACT_URI")
    if uri is None:
        try:  # the store knows the run's artifact URI; a store without it just skips the mount
            from satchel.tracking.client import Client

            uri = Client(spec.tracking_uri).get_run(spec.run_id).info.artifact_uri
        except Exception:
            return None
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file") and parsed.path.startswith("/"):
        return Path(parsed.path)
    return None


def tracking_mounts(spec: LaunchSpec) -> tuple[list[str], str | None]:
    """Bind mounts and the network mode the tracking store needs inside the container."""
    parsed = urlparse(spec.tracking_uri)
    if parsed.scheme in ("http", "https"):
        return [], ("host" if _on_loopback(spec.tracking_uri) else None)
    mounted: list[Path] = []
    for folder in (_sqlite_dir(spec.tracking_uri), _artifact_dir(spec)):
        if folder is None or any(folder.is_relative_to(done) for done in mounted):
            continue
        folder.mkdir(parents=True, exist_ok=True)  # else the engine creates it owned by root
        mounted.append(folder)
    # the MLflow bridge's per-run endpoint listens on the host's loopback
    bridge = spec.env.get("MLFLOW_TRACKING_URI", "")
    return [f"{folder}:{folder}:rw" for folder in mounted], (
        "host" if bridge and _on_loopback(bridge) else None
    )


def _on_loopback(url: str) -> bool:
    host = (urlparse(url).hostname or "").lower()
    return host in _LOOPBACK or host.startswith("127.")
