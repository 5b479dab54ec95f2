"""Which Python distributions a docker image holds (for the MLflow bridge), asked once per
image id and remembered under ``SATCHEL_HOME/cache/image-dists/`` (an image id names
immutable content, so the answer never goes stale)."""

from __future__ import annotations

import contextlib
import json

from satchel.home import satchel_home

__all__ = ["image_distributions"]

_PROBE = (
    "import json, importlib.metadata as m; "
    "print(json.dumps(sorted({(d.metadata['Name'] or '').lower() for d in m.distributions()})))"
)


def image_distributions(image_id: str) -> set[str]:
    """Normalised names of the distributions the image's ``python`` can import (empty when
    it has no Python)."""
    cache = satchel_home() / "cache" / "image-dists" / f"{image_id.replace(':', '-')}.json"
    if cache.is_file():
        return set(json.loads(cache.read_text()))
    names = _probe(image_id)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(json.dumps(sorted(names)))
    tmp.replace(cache)
    return names


def _probe(image_id: str) -> set[str]:
    for python in ("python", "python3"):
        out = _run_once(image_id, [python, "-c", _PROBE])
        if out is not None:
            try:
                listed = json.loads(out.strip().splitlines()[-1])
            except (ValueError, IndexError):
                return set()
            return {name.replace("_", "-").replace(".", "-") for name in listed}
    return set()  # no python in the image: nothing to bridge


def _run_once(image_id: str, command: list[str]) -> str | None:
    """The command's stdout, or None when it cannot start or fails. The container is removed
    whatever happens: ``containers.run(remove=True)`` leaves it behind when the start itself
    fails (an image without that executable)."""
    import docker.errors

    from satchel.envs.docker_engine import engine

    container = None
    try:
        container = engine().containers.create(image_id, command, network_disabled=True)
        container.start()
        if container.wait().get("StatusCode") != 0:
            return None
        return container.logs(stdout=True, stderr=False).decode(errors="replace")
    except docker.errors.DockerException:
        return None
    finally:
        if container is not None:
            with contextlib.suppress(docker.errors.DockerException):  # already gone
                container.remove(force=True)
