"""Fixtures of the docker tests (imported by each test module, not a conftest: a second
``conftest`` module would shadow ``from conftest import run_cli``).

Docker tests run against a real engine and a local base image; neither → FAIL, never skip.
CI starts the engine and builds the image (``.ci/services.sh docker``). Every test is checked
for leftovers: no new container, no new dangling image; the images it built are removed.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

IMAGE = os.environ.get("SATCHEL_TEST_DOCKER_IMAGE", "satchel-test/python:3-bookworm")
PROJECTS = Path(__file__).resolve().parent.parent / "resources" / "docker_projects"


@pytest.fixture(scope="session")
def engine():  # type: ignore[no-untyped-def]
    import docker

    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        pytest.fail(f"no docker engine reachable ({exc}); start one: bash .ci/services.sh docker")
    try:
        client.images.get(IMAGE)
    except docker.errors.ImageNotFound:
        pytest.fail(f"base image {IMAGE} missing; build it: bash .ci/services.sh docker")
    return client


class DockerProject:
    """A copy of a resource project with a unique name (so its built images are its own)."""

    def __init__(self, engine, root: Path, name: str) -> None:  # type: ignore[no-untyped-def]
        self.engine = engine
        self.root = root
        self.name = name

    def images(self) -> list:  # type: ignore[type-arg]
        return self.engine.images.list(name=f"satchel-{self.name}")

    def set_image(self, image: str) -> None:
        spec = self.root / "MLproject"
        spec.write_text(spec.read_text().replace(f"image: {IMAGE}", f"image: {image}"))


@pytest.fixture
def docker_project(engine, tmp_path: Path) -> Iterator[DockerProject]:  # type: ignore[no-untyped-def]
    name = f"t{uuid.uuid4().hex[:10]}"
    root = tmp_path / "project"
    shutil.copytree(PROJECTS / "tracked", root)
    spec = root / "MLproject"
    text = spec.read_text().replace("name: tracked", f"name: {name}")
    spec.write_text(text.replace("image: satchel-test/python:3-bookworm", f"image: {IMAGE}"))
    project = DockerProject(engine, root, name)
    yield project
    for image in project.images():
        engine.images.remove(image.id, force=True)


@pytest.fixture(autouse=True)
def no_leftovers(engine) -> Iterator[None]:  # type: ignore[no-untyped-def]
    containers = {c.id for c in engine.containers.list(all=True)}
    dangling = {i.id for i in engine.images.list(filters={"dangling": True})}
    yield
    left = [c.name for c in engine.containers.list(all=True) if c.id not in containers]
    assert left == [], f"containers left behind: {left}"
    new_dangling = {i.id for i in engine.images.list(filters={"dangling": True})} - dangling
    assert new_dangling == set(), "dangling images left behind"


@pytest.fixture(scope="session")
def broken_base(engine) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A base image where /satchel is a file: COPY into /satchel/project must fail."""
    import io

    tag = f"satchel-test/broken-base:{uuid.uuid4().hex[:8]}"
    dockerfile = f"FROM {IMAGE}\nRUN echo not-a-directory > /satchel\n"
    engine.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True, forcerm=True)
    yield tag
    engine.images.remove(tag, force=True)
