"""One Docker SDK client per process and engine, made cheaply.

Two costs dominate a docker run's start on an unchanged project, and both are avoidable:

- importing the SDK (requests, urllib3, ...): ``warm_up()`` starts it in a background thread as
  soon as the runner knows the project is docker, so it overlaps the record step (SQLite writes,
  git subprocesses) instead of following it;
- the API version negotiation (a ``GET /version`` round trip per client): the negotiated
  version is pinned under ``satchel_home()/docker/`` together with the identity of the engine's
  unix socket (inode and mtime, which change whenever the daemon restarts, e.g. after an
  upgrade). A pin that does not match, a tcp/ssh engine, or any error reading it → "auto".
  A pinned client that then fails its first call drops the pin (``unpin``) and is renegotiated.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from typing import TYPE_CHECKING, Any

from satchel.errors import ExecutionError

if TYPE_CHECKING:
    import docker

__all__ = ["engine", "engine_address", "image_attrs", "remember_image", "unpin", "warm_up"]

_lock = threading.Lock()
_clients: dict[str, docker.DockerClient] = {}
_pinned: set[str] = set()  # addresses whose client uses a pinned (not negotiated) version
_images: dict[str, dict[str, Any]] = {}  # image id -> attrs, as seen by this process


def engine_address() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def engine() -> docker.DockerClient:
    """A client for the engine named by DOCKER_HOST (default: the local socket).

    One per process and engine: the env step and the launcher share it. Without a valid pin
    the client negotiates, which fails fast (one line) when no engine is reachable."""
    where = engine_address()
    with _lock:
        client = _clients.get(where)
        if client is None:
            client = _clients[where] = _connect(where)
        return client


def _connect(where: str) -> docker.DockerClient:
    import docker

    pinned = _read_pin(where)
    try:
        if pinned:
            client = docker.from_env(version=pinned)
            _pinned.add(where)
            return client
        client = docker.from_env()  # negotiates the API version: fails fast without an engine
    except docker.errors.DockerException as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ExecutionError(
            f"no docker engine reachable at {where}: {reason}",
            hint="start it (`sudo systemctl start docker`, or `sudo dockerd &`) "
            "or point DOCKER_HOST at a running engine",
        ) from None
    _write_pin(where, str(client.api.api_version))
    return client


def unpin(exc: BaseException) -> bool:
    """After a failed first call: True if the client used a pinned version and the failure
    may come from it (the engine changed, or is gone); the pin and the client are dropped, so
    the next ``engine()`` negotiates (and reports a missing engine in one line)."""
    import docker
    import requests

    where = engine_address()
    stale = isinstance(exc, requests.exceptions.ConnectionError) or (
        isinstance(exc, docker.errors.APIError) and exc.status_code == 400  # version refused
    )
    with _lock:
        if where not in _pinned or not stale:
            return False
        _pinned.discard(where)
        _clients.pop(where, None)
        with contextlib.suppress(OSError):
            _pin_path(where).unlink()
    return True


def warm_up() -> None:
    """Import the SDK and make the client in the background; errors are left for the caller's
    own ``engine()`` call to raise (it then simply starts over)."""

    def work() -> None:
        with contextlib.suppress(Exception):
            engine()

    threading.Thread(target=work, name="satchel-docker-warm-up", daemon=True).start()


def remember_image(image: Any) -> Any:
    """Keep an image's attributes (its id is a content hash) so the launcher does not ask the
    engine for them again in the same process."""
    _images[str(image.id)] = dict(image.attrs)
    return image


def image_attrs(image_id: str) -> dict[str, Any] | None:
    return _images.get(image_id)


# -- the pin -----------------------------------------------------------------------------
def _socket_identity(where: str) -> str | None:
    if not where.startswith("unix://"):
        return None  # tcp/ssh engines: no cheap way to notice a restart, always negotiate
    try:
        st = os.stat(where[len("unix://") :])
    except OSError:
        return None
    return f"{st.st_dev}:{st.st_ino}:{st.st_mtime_ns}"


def _pin_path(where: str) -> Any:
    import hashlib

    from satchel.home import satchel_home

    name = hashlib.sha256(where.encode()).hexdigest()[:16]
    return satchel_home() / "docker" / f"api-version-{name}.json"


def _read_pin(where: str) -> str | None:
    identity = _socket_identity(where)
    if identity is None:
        return None
    try:
        pin = json.loads(_pin_path(where).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(pin, dict) or pin.get("socket") != identity:
        return None
    version = pin.get("version")
    return version if isinstance(version, str) and version else None


def _write_pin(where: str, version: str) -> None:
    identity = _socket_identity(where)
    if identity is None:
        return
    path = _pin_path(where)
    with contextlib.suppress(OSError):  # a read-only home only costs the next run a round trip
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"socket": identity, "version": version}) + "\n")
        os.replace(tmp, path)
