"""Which Python distributions a docker image holds (for the MLflow bridge), asked once per
image id and remembered under ``SATCHEL_HOME/cache/image-dists/`` (an image id names
immutable content, so the answer never goes stale)."""

from __future__ import annotations

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
    import docker.errors

    from satchel.envs.docker_engine import engine

    try:
        out = engine().containers.run(
            image_id, ["python", "-c", _PROBE], remove=True, network_disabled=True
        )
    except docker.errors.DockerException:
        return set()  # no python in the image: nothing to bridge
    try:
        listed = json.loads(out.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        return set()
    return {name.replace("_", "-").replace(".", "-") for name in listed}
