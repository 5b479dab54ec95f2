"""The docker launcher: one container per run, through the Docker SDK (never a shell).

What the container gets, and why:

- the project's code at ``WORKDIR``: bind-mounted read-write in mount mode (outputs land in the
  user's project directory, as with a local run), baked in with ``--build-image``;
- ``import satchel`` without satchel in the image: the client package (standard library only)
  bind-mounted read-only at ``CLIENT_DIR`` and put first on PYTHONPATH;
- the tracking store: a SQLite database's directory and the run's artifact directory mounted at
  the SAME absolute paths, so the tracking URI and the artifact URIs stay valid inside (WAL
  works across a bind mount on the same kernel); a server on the host's loopback is reached
  with host networking (MLflow #2697);
- an init process (docker's ``--init``), so a stop reaches the command as SIGTERM;
- the user: the image's default (root) when Satchel runs as root, else the host's uid:gid, so
  the files a run writes into mounted directories (outputs, SQLite's -wal/-shm files) stay the
  user's own; ``-A user=...`` overrides.

Output streams live to the console and the log; the container is always removed, and its
environment values are never printed (``docker_run_line`` masks them).
"""

from __future__ import annotations

import contextlib
import math
import os
import shlex
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from satchel.envs.docker import CODE_TAG, WORKDIR, docker_environment
from satchel.envs.docker_engine import engine, image_attrs
from satchel.errors import ExecutionError
from satchel.runner.backends.base import Handle, Launcher, LaunchSpec
from satchel.runner.backends.docker_args import apply_docker_args
from satchel.runner.backends.docker_mounts import (
    CLIENT_DIR,
    client_mounts,
    resolve_volume,
    tracking_mounts,
)

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

__all__ = ["CLIENT_DIR", "DockerHandle", "DockerLauncher", "run_kwargs", "stop_run_containers"]

RUN_LABEL = "satchel.run_id"
# Printed as is in the `docker run` line; every other value (the project's environment, which
# may hold secrets) is masked. MLflow logs them all, credentials included (#4357).
_SHOWN = {
    "SATCHEL_RUN_ID",
    "SATCHEL_EXPERIMENT_ID",
    "SATCHEL_ENV_MANAGER",
    "SATCHEL_BACKEND",
    "PYTHONPATH",
    "PYTHONUNBUFFERED",
    "HOME",
}
# bash when the image has it (MLproject commands are written for bash), else POSIX sh.
_SHELL = 'if command -v bash >/dev/null 2>&1; then exec bash -c "$1"; fi; exec sh -c "$1"'


def _image_env(client: docker.DockerClient, image: str) -> dict[str, str]:
    # the env step has usually just looked the image up: no second round trip for its attrs
    attrs = image_attrs(image) or client.images.get(image).attrs
    env = attrs.get("Config", {}).get("Env") or []
    return dict(item.partition("=")[::2] for item in env)


def run_kwargs(spec: LaunchSpec, image_env: dict[str, str]) -> dict[str, Any]:
    """Everything ``containers.create`` needs for this run."""
    prepared = spec.prepared
    # -A (checked by the local backend's configure): merged below, explicit wins
    extra = apply_docker_args({}, spec.options.get("docker_args", {}))
    volumes = client_mounts(Path(spec.client_path))
    if prepared.extra_tags.get(CODE_TAG, "mounted") == "mounted":
        volumes.append(f"{Path(spec.workdir).resolve()}:{WORKDIR}:rw")
    store_volumes, network = tracking_mounts(spec)
    decl = spec.project.env.docker
    user_volumes = [*(decl.volumes if decl else ()), *extra.pop("volumes", [])]
    volumes += store_volumes + [resolve_volume(v, spec.project.root) for v in user_volumes]
    env = {**docker_environment(spec.project), **spec.env}
    env["PYTHONUNBUFFERED"] = "1"  # live output: Python block-buffers a non-tty stdout
    if os.geteuid() != 0 and "user" not in extra:
        extra["user"] = f"{os.getuid()}:{os.getgid()}"
        env.setdefault("HOME", "/tmp")  # noqa: S108  the host user has no home in the image
    env.update(extra.pop("environment", {}))
    theirs = env.get("PYTHONPATH") or image_env.get("PYTHONPATH")
    env["PYTHONPATH"] = f"{CLIENT_DIR}:{theirs}" if theirs else CLIENT_DIR
    kwargs: dict[str, Any] = {
        "image": prepared.image_id or prepared.image,
        "command": ["sh", "-c", _SHELL, "satchel", spec.command],
        "working_dir": WORKDIR,
        "labels": {**extra.pop("labels", {}), RUN_LABEL: spec.run_id},
        "name": f"satchel-{spec.run_id}",
        "volumes": volumes,
        "environment": env,
        # An init as PID 1 forwards SIGTERM: a shell or Python as PID 1 ignores it, so every
        # cancel would wait out the grace period and end in SIGKILL. `-A init=false` opts out.
        "init": True,
    }
    if network:
        kwargs["network_mode"] = network
    kwargs.update(extra)
    return kwargs


def _shown(key: str, value: str) -> str:
    if key in _SHOWN:
        return value
    if key == "SATCHEL_TRACKING_URI":  # useful to see, but a server URL may carry credentials
        parsed = urlparse(value)
        if parsed.username is None and parsed.password is None and not parsed.query:
            return value
    return "***"


def docker_run_line(
    kwargs: dict[str, Any], image_label: str, shown_command: str | None = None
) -> str:
    """The equivalent ``docker run`` command for the user: environment values masked, and the
    project command as ``shown_command`` (secret-named parameters masked) when given."""
    argv = ["docker", "run", "--rm", "--name", kwargs["name"], "-w", kwargs["working_dir"]]
    for volume in kwargs["volumes"]:
        argv += ["-v", volume]
    for key, value in kwargs["environment"].items():
        argv += ["-e", f"{key}={_shown(key, value)}"]
    skip = {"name", "working_dir", "volumes", "environment", "image", "command", "labels"}
    for key, value in kwargs.items():
        if key not in skip:  # SDK names (mem_limit, nano_cpus ...): close enough to read
            argv.append(f"--{key.replace('_', '-')}={value}")
    command = list(kwargs["command"])
    if shown_command is not None:
        command[-1] = shown_command  # ["bash", "-c", <command>]
    return shlex.join([*argv, image_label, *command])


class DockerHandle(Handle):
    """A running container. Removed after it exits, and by ``terminate``."""

    def __init__(self, container: Container, spec: LaunchSpec) -> None:
        self._container = container
        self._spec = spec
        self._code: int | None = None
        self._removed = False
        self._lock = threading.Lock()

    @property
    def container_id(self) -> str:
        return str(self._container.id)

    def wait(self) -> int:
        import docker

        if self._removed:  # after terminate(): the code it collected (the lifecycle re-waits)
            return self._code if self._code is not None else 137
        try:
            self._stream()
            code = self._exit_code()
        except docker.errors.NotFound:  # removed behind our back (`docker rm -f`, a cancel)
            self._removed = True
            return self._code if self._code is not None else 137
        except BaseException:
            self.terminate()  # Ctrl-C or a broken stream: never leave the container behind
            raise
        self._remove()
        return code

    def _stream(self) -> None:
        echo = self._spec.echo
        with open(self._spec.log_path, "ab") as log:
            for chunk in self._container.logs(stream=True, follow=True):
                log.write(chunk)
                log.flush()
                if echo is not None:
                    echo(chunk)

    def _exit_code(self) -> int:
        import docker

        with contextlib.suppress(docker.errors.NotFound):  # removed by terminate() meanwhile
            self._code = int(self._container.wait()["StatusCode"])
        return self._code if self._code is not None else 137

    def poll(self) -> int | None:
        import docker

        if self._code is not None or self._removed:
            return self._code if self._code is not None else 137
        try:
            self._container.reload()
        except docker.errors.NotFound:
            return 137
        state = self._container.attrs.get("State", {})
        if state.get("Status") in ("exited", "dead"):
            self._code = int(state.get("ExitCode", 1))
        return self._code

    def terminate(self, grace_seconds: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``grace_seconds``; then the container is removed."""
        import docker

        with self._lock:
            if self._removed:
                return
            try:
                self._container.stop(timeout=max(0, math.ceil(grace_seconds)))
                self._code = int(self._container.wait(timeout=30)["StatusCode"])
            except docker.errors.DockerException:
                pass
            except Exception:  # noqa: S110  a timed-out wait: the removal below forces it
                pass
            finally:
                self._remove_locked()

    def _remove(self) -> None:
        with self._lock:
            self._remove_locked()

    def _remove_locked(self) -> None:
        import docker

        if self._removed:
            return
        try:
            self._container.remove(v=True, force=True)
        except docker.errors.APIError as exc:
            # 404: already gone; 409: another process (a cancel) is removing it right now.
            if exc.status_code not in (404, 409):
                raise ExecutionError(
                    f"docker could not remove container {self._container.name}: "
                    f"{' '.join(str(exc.explanation or exc).split())[:200]}",
                    hint=f"remove it by hand: docker rm -f {self._container.name}",
                ) from None
        self._removed = True


class DockerLauncher(Launcher):
    name = "docker"

    def launch(self, spec: LaunchSpec) -> DockerHandle:
        import docker

        client = engine()
        image = spec.prepared.image_id or spec.prepared.image or ""
        try:
            kwargs = run_kwargs(spec, _image_env(client, image))
        except docker.errors.ImageNotFound:
            raise ExecutionError(
                f"docker image {spec.prepared.image} disappeared before the run started",
                hint="run again: the environment step will pull or rebuild it",
            ) from None
        if spec.echo is not None:  # interactive: show the equivalent command, values masked
            line = docker_run_line(kwargs, spec.prepared.image or image, spec.shown_command)
            print(f"satchel: {line}", file=sys.stderr, flush=True)
        container = None
        try:
            container = client.containers.create(**kwargs)
            container.start()
        except BaseException as exc:  # a refused start or Ctrl-C: no container left behind
            if container is not None:
                with contextlib.suppress(docker.errors.DockerException):
                    container.remove(v=True, force=True)
            if not isinstance(exc, docker.errors.DockerException):
                raise
            reason = getattr(exc, "explanation", None) or str(exc)
            raise ExecutionError(
                f"docker could not start the container of run {spec.run_id}: "
                f"{' '.join(str(reason).split())[:300]}",
                hint="check the -A docker arguments and docker_env volumes",
            ) from None
        return DockerHandle(container, spec)


def stop_run_containers(run_id: str, grace_seconds: float = 10.0) -> int:
    """Stop and remove the containers of ``run_id`` (``satchel runs cancel`` from another
    process); how many there were."""
    client = engine()
    containers = client.containers.list(all=True, filters={"label": f"{RUN_LABEL}={run_id}"})
    for container in containers:
        DockerHandle(container, spec=None).terminate(grace_seconds)  # type: ignore[arg-type]
    return len(containers)
