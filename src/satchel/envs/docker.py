"""The docker environment kind: a project's ``docker_env`` → an image ready to run.

Two ways to get the project's code into the container, chosen explicitly (MLflow 2.x silently
stopped shipping the code, #7532):

- mount (default): the base image as is; the launcher bind-mounts the project directory at
  ``WORKDIR``. Nothing is built, so a rerun costs one image lookup.
- ``--build-image``: an image FROM the base image with the code copied to ``WORKDIR``, tagged by
  a content key (see ``satchel.envs.docker_build``); an unchanged project reuses its tag.

The engine is driven through the Docker SDK, never a shell. Every failure is one line: no
engine, an image that is neither local nor pullable, a failed build (its log kept).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from satchel.envs.base import EnvManager, PreparedEnv, Reporter
from satchel.envs.docker_engine import engine, remember_image, unpin
from satchel.errors import EnvironmentBuildError, ProjectError
from satchel.projects.spec import DockerEnv, Project

if TYPE_CHECKING:
    import docker
    from docker.models.images import Image

__all__ = [
    "CODE_TAG",
    "WORKDIR",
    "DockerManager",
    "docker_environment",
    "engine",
    "validate_docker_env",
]

WORKDIR = "/satchel/project"  # where the project's code is inside the container, in both modes
CODE_TAG = "satchel.docker.code"  # "mounted" | "baked": tells the launcher what to mount


def _docker_decl(project: Project) -> DockerEnv:
    if project.env.docker is None:
        raise ProjectError(
            f"project {project.root} declares no docker_env",
            hint="add `docker_env: {image: ...}` to its MLproject or choose another env manager",
        )
    return project.env.docker


def validate_docker_env(project: Project, environ: Mapping[str, str] | None = None) -> None:
    """Cheap pre-check (no engine contacted), meant to run before any run record exists:
    every host variable docker_env copies is set, every volume names a container path."""
    docker_environment(project, environ)
    for volume in _docker_decl(project).volumes:
        if ":" not in volume:
            raise ProjectError(
                f"{project.spec_path or project.root}: docker_env / volumes: {volume!r} "
                "has no container path",
                hint="write HOST:CONTAINER[:ro], e.g. ./data:/data:ro",
            )


def docker_environment(
    project: Project, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The docker_env ``environment`` resolved: explicit pairs, and names copied from the host.

    A name missing on the host is an error naming every missing one (values never shown)."""
    environ = os.environ if environ is None else environ
    decl = _docker_decl(project)
    missing = [name for name, value in decl.environment if value is None and name not in environ]
    if missing:
        where = project.spec_path or project.root
        raise ProjectError(
            f"{where}: docker_env / environment copies {', '.join(missing)} from the host, "
            "but it is not set",
            hint=f"export {missing[0]}=... before `satchel run`",
        )
    return {name: (environ[name] if value is None else value) for name, value in decl.environment}


def _short(exc: BaseException) -> str:
    text = getattr(exc, "explanation", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())[:300]


def base_image(client: docker.DockerClient, ref: str, report: Reporter) -> Image:
    """The image ``ref``: local, or pulled once. Neither → one line naming the image."""
    import docker
    from docker.utils import parse_repository_tag

    try:
        return remember_image(client.images.get(ref))
    except docker.errors.ImageNotFound:
        pass
    except Exception as exc:  # the first call to the engine: a stale pinned API version?
        if unpin(exc):
            return base_image(engine(), ref, report)
        if not isinstance(exc, docker.errors.APIError):
            raise
        raise EnvironmentBuildError(f"docker image {ref!r}: {_short(exc)}") from None
    report(f"pulling docker image {ref}")
    repository, tag = parse_repository_tag(ref)
    try:
        # An explicit tag: without one the SDK would pull every tag of the repository.
        return remember_image(client.images.pull(repository, tag=tag or "latest"))
    except docker.errors.DockerException as exc:
        raise EnvironmentBuildError(
            f"docker image {ref!r} is neither local nor pullable: {_short(exc)}",
            hint="build or load it first (`docker images` lists what is local), "
            "or fix docker_env / image in MLproject",
        ) from None


class DockerManager(EnvManager):
    """``docker_env`` projects: the base image as is (mount) or a content-keyed build."""

    name = "docker"

    def __init__(self, build_image: bool = False) -> None:
        self.build_image = build_image

    def prepare(self, project: Project, *, refresh: bool = False, report: Reporter) -> PreparedEnv:
        decl = _docker_decl(project)
        validate_docker_env(project)
        client = engine()
        base = base_image(client, decl.image, report)
        if self.build_image:
            return self._built(client, project, base, refresh=refresh, report=report)
        return PreparedEnv(
            manager="docker",
            key=base.id,
            image=decl.image,
            image_id=base.id,
            extra_tags=_tags(decl.image, base.id, "mounted"),
        )

    def _built(
        self,
        client: docker.DockerClient,
        project: Project,
        base: Image,
        *,
        refresh: bool,
        report: Reporter,
    ) -> PreparedEnv:
        from satchel.envs import docker_build

        context = docker_build.BuildContext.scan(project.root)
        tag = docker_build.image_tag(project, context.key(base.id))
        existing = None if refresh else docker_build.existing_image(client, tag)
        if existing is not None:
            report(f"reusing docker image {tag}")
            return PreparedEnv(
                manager="docker",
                key=tag.rsplit(":", 1)[1],
                image=tag,
                image_id=existing.id,
                extra_tags=_tags(tag, existing.id, "baked"),
            )
        report(f"building docker image {tag} ({len(context.files)} files)")
        start = time.monotonic()
        image, log_path = docker_build.build(client, context, base, tag, WORKDIR)
        return PreparedEnv(
            manager="docker",
            key=tag.rsplit(":", 1)[1],
            image=tag,
            image_id=image.id,
            cache_hit=False,
            build_seconds=time.monotonic() - start,
            build_log=log_path,
            extra_tags=_tags(tag, image.id, "baked"),
        )


def _tags(uri: str, image_id: str, code: str) -> dict[str, str]:
    return {
        "mlflow.docker.image.uri": uri,
        "mlflow.docker.image.id": image_id,
        CODE_TAG: code,
    }
