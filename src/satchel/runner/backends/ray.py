"""The Ray backend: the run's command as a Ray job, submitted through the Jobs REST API.

What the job gets, and why:

- the code: the run's recorded source snapshot (exactly what its ``source/snapshot``
  artifact holds), zipped reproducibly and uploaded once as the job's ``working_dir``;
- the environment: for uv / virtualenv projects, ``runtime_env.uv`` holding the run's
  resolved lock, so the cluster builds the same packages the local env key names — and,
  the runtime_env being a pure function of that lock, a second run reuses the cluster's env;
- ``import satchel`` without satchel in the environment: the client package as a
  ``py_modules`` package;
- the run's tracking variables (``SATCHEL_RUN_ID``, ``SATCHEL_TRACKING_URI``, the MLflow
  bridge's, a server token) in ``env_vars``: never in the entrypoint, a tag or the console.
  An embedded (SQLite) store is only reachable when the cluster runs on this machine, which
  ``configure`` checks; teams point ``--tracking-uri`` at a ``satchel server``.

Statuses map as PENDING → SCHEDULED, RUNNING → RUNNING, SUCCEEDED → FINISHED, FAILED →
FAILED with Ray's message, STOPPED → KILLED. Output is polled from the job's logs and
streamed to the console and the console-log artifact as it grows.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from satchel.errors import ExecutionError, UsageError
from satchel.runner.backends.base import Handle, Launcher, LaunchSpec
from satchel.runner.backends.ray_jobs import JobsApi, package_dir, shown_address, zip_tree
from satchel.tracking.entities import RunStatus

if TYPE_CHECKING:
    from satchel.projects.spec import Project
    from satchel.runner.control import RunnerControl
    from satchel.runner.request import RunRequest
    from satchel.tracking.entities import Run

__all__ = ["RayHandle", "RayLauncher", "check_config", "runtime_env"]

_KEYS = ("address", "num_cpus", "num_gpus", "memory", "resources", "env_vars")
_POLL_SECONDS = 0.25
_TERMINAL = {"SUCCEEDED", "FAILED", "STOPPED"}
# bash when the node has it (MLproject commands are written for bash), else POSIX sh; the
# command itself travels in the job's env_vars, so the entrypoint shown by Ray stays short
_ENTRYPOINT = (
    'if command -v bash >/dev/null 2>&1; then exec bash -c "$SATCHEL_COMMAND"; fi; '
    'exec sh -c "$SATCHEL_COMMAND"'
)
_NOT_SENT = {"SATCHEL_RUNNER_PYTHON"}  # a path on this machine: meaningless on a node


# -- configure: everything checked before a run exists ----------------------------------
def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise UsageError(
            f"--backend-config {key}: expected a number >= 0, got {value!r}",
            hint=f'e.g. {{"{key}": 1}}',
        )
    return float(value)


def _mapping(key: str, value: Any, numbers: bool) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and k for k in value):
        raise UsageError(f"--backend-config {key}: expected a mapping of names")
    if numbers:
        return {k: _number(f"{key}.{k}", v) for k, v in value.items()}
    if not all(
        isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value.values()
    ):
        raise UsageError(f"--backend-config {key}: values must be strings or numbers")
    return {k: str(v) for k, v in value.items()}


def _address(config: dict[str, Any]) -> str:
    address = config.get("address") or os.environ.get("RAY_ADDRESS") or ""
    if not isinstance(address, str) or not address:
        raise UsageError(
            "the ray backend needs the cluster's address",
            hint='set RAY_ADDRESS or --backend-config \'{"address": "http://head:8265"}\'',
        )
    if urlsplit(address).scheme not in ("http", "https"):
        raise UsageError(
            f"Ray address {address!r} is not the dashboard's http(s) URL",
            hint="Satchel talks to the Jobs API: give e.g. http://head:8265",
        )
    return address.rstrip("/")


def check_config(config: dict[str, Any]) -> dict[str, Any]:
    """The checked options: address, entrypoint resources, env_vars."""
    unknown = sorted(set(config) - set(_KEYS))
    if unknown:
        raise UsageError(
            f"--backend-config: unknown key {unknown[0]!r} for the ray backend",
            hint=f"known: {', '.join(_KEYS)}",
        )
    options: dict[str, Any] = {"address": _address(config)}
    for key in ("num_cpus", "num_gpus", "memory"):
        if key in config:
            options[key] = _number(key, config[key])
    if "resources" in config:
        options["resources"] = _mapping("resources", config["resources"], numbers=True)
    options["env_vars"] = _mapping("env_vars", config.get("env_vars") or {}, numbers=False)
    return options


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "ip6-localhost"):
        return True
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host).is_loopback
    return False


def _check_store_reachable(address: str, tracking_uri: str) -> None:
    """An embedded store is a file on this machine: only a cluster here can write into it."""
    scheme = urlsplit(tracking_uri).scheme
    if scheme in ("http", "https", "postgresql"):
        return
    if not _is_loopback(urlsplit(address).hostname or ""):
        raise UsageError(
            f"the Ray cluster at {shown_address(address)} cannot write into the local store "
            f"{tracking_uri}",
            hint="log to a shared `satchel server`: --tracking-uri http://HOST:PORT",
        )


# -- launch --------------------------------------------------------------------------------
def _lock_packages(lock_file: Path | None) -> list[str]:
    """The resolved requirements, one pinned line each (comments and options dropped)."""
    if lock_file is None or not lock_file.is_file():
        return []
    lines = []
    for raw in lock_file.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip().rstrip("\\").strip()
        if line and not line.startswith("-"):
            lines.append(line)
    return lines


def _snapshot_dir(spec: LaunchSpec, stack: contextlib.ExitStack) -> Path:
    """The run's recorded ``source/snapshot``: on disk when artifacts are local, else
    downloaded into a temp dir for the upload."""
    from satchel.runner.record import artifact_local_path
    from satchel.tracking.client import Client

    client = Client(spec.tracking_uri)
    run = client.get_run(spec.run_id)
    local = artifact_local_path(run, "source/snapshot")
    if local is not None and local.is_dir():
        return local
    import tempfile

    tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="satchel-ray-"))
    return Path(client.download_artifacts(spec.run_id, "source/snapshot", tmp))


def runtime_env(spec: LaunchSpec, api: JobsApi) -> dict[str, Any]:
    """The job's runtime_env: code, client package, environment, variables."""
    with contextlib.ExitStack() as stack:
        name, content = zip_tree(_snapshot_dir(spec, stack))
        working_dir = api.ensure_package(name, content)
    name, content = zip_tree(package_dir(spec.client_path), prefix="satchel")
    env_vars = dict(spec.options.get("env_vars") or {})
    env_vars.update({k: v for k, v in spec.env.items() if k not in _NOT_SENT})
    env_vars["SATCHEL_BACKEND"] = "local"  # a nested run runs where its parent runs
    env_vars["SATCHEL_COMMAND"] = spec.command
    env_vars["PYTHONUNBUFFERED"] = "1"
    env: dict[str, Any] = {
        "working_dir": working_dir,
        "py_modules": [api.ensure_package(name, content)],
        "env_vars": env_vars,
    }
    packages = _lock_packages(spec.prepared.lock_file)
    if packages:
        env["uv"] = {"packages": packages}
    return env


class RayLauncher(Launcher):
    name = "ray"

    def configure(
        self, request: RunRequest, project: Project, env_manager: str, tracking_uri: str
    ) -> dict[str, Any]:
        if env_manager == "docker" or request.docker_args or request.build_image:
            raise UsageError(
                "the ray backend runs python projects (local, uv, virtualenv environments); "
                "docker_env projects and -A/--build-image run on the local backend",
                hint="drop --backend ray, or give the project a python_env",
            )
        options = check_config(dict(request.backend_config))
        _check_store_reachable(options["address"], tracking_uri)
        JobsApi(options["address"]).version()  # unreachable: one line, and no run
        return options

    def launch(self, spec: LaunchSpec) -> RayHandle:
        from satchel.runner.control import update_control

        options = spec.options
        api = JobsApi(options["address"])
        request: dict[str, Any] = {
            "entrypoint": _ENTRYPOINT,
            "submission_id": f"satchel-{spec.run_id}",
            "runtime_env": runtime_env(spec, api),
            "metadata": {"satchel_run_id": spec.run_id},
        }
        for key in ("num_cpus", "num_gpus", "memory"):
            if key in options:
                value = options[key]
                request[f"entrypoint_{key}"] = int(value) if key == "memory" else value
        if options.get("resources"):
            request["entrypoint_resources"] = options["resources"]
        job_id = api.submit(request)
        update_control(spec.run_id, job_id=job_id, address=api.address)
        if spec.echo is not None:
            print(
                f"satchel: Ray job {job_id} submitted to {shown_address(api.address)}",
                file=sys.stderr,
                flush=True,
            )
        return RayHandle(api, job_id, spec)

    def cancel(self, run: Run, control: RunnerControl | None) -> None:
        """Stop the job a runner that died left behind (named in its control file only)."""
        if control is None or "job_id" not in control.backend:
            return
        with contextlib.suppress(ExecutionError):
            JobsApi(control.backend["address"]).stop(control.backend["job_id"])


class RayHandle(Handle):
    """A submitted job: polled for its status and its growing logs."""

    def __init__(self, api: JobsApi, job_id: str, spec: LaunchSpec) -> None:
        self.api = api
        self.job_id = job_id
        self._spec = spec
        self._shown = 0  # how much of the job's log is written out already
        self._status: str | None = None
        self._code: int | None = None
        self._stop_asked = False

    @property
    def tags(self) -> dict[str, str]:
        return {
            "satchel.ray.job_id": self.job_id,
            "satchel.ray.address": shown_address(self.api.address),
        }

    def wait(self) -> int:
        while self._code is None:
            info = self.api.info(self.job_id)
            self._follow(info)
            self._pump()
            if info.get("status") in _TERMINAL:
                self._pump()  # what was written between the status and now
                self._code = self._ended(info)
            elif self._stop_asked and info.get("status") == "PENDING":
                # Ray queues the stop of a job still waiting for resources (its supervisor
                # actor is not scheduled yet): it never runs, so there is nothing to wait for
                self._code = 143
            else:
                time.sleep(_POLL_SECONDS)
        return self._code

    def _follow(self, info: dict[str, Any]) -> None:
        status = str(info.get("status"))
        if status != self._status and self._spec.on_status is not None:
            if status == "PENDING":
                self._spec.on_status(RunStatus.SCHEDULED)
            elif status == "RUNNING" and self._status == "PENDING":
                self._spec.on_status(RunStatus.RUNNING)
        self._status = status

    def _pump(self) -> None:
        logs = self.api.logs(self.job_id).encode()
        chunk = logs[self._shown :]
        if not chunk:
            return
        self._shown = len(logs)
        try:
            with open(self._spec.log_path, "ab") as log:
                log.write(chunk)
        except OSError as exc:
            self.output_error = f"the console log could not be written ({exc.strerror})"
        if self._spec.echo is not None:
            with contextlib.suppress(OSError, ValueError):
                self._spec.echo(chunk)

    def _ended(self, info: dict[str, Any]) -> int:
        status = info.get("status")
        if status == "SUCCEEDED":
            return 0
        message = " ".join(str(info.get("message") or "").split())
        message = message.split(", last available logs", 1)[0]
        if status == "STOPPED":
            self.stopped = not self._stop_asked  # stopped by someone else: KILLED too
            self.reason = None if self._stop_asked else f"the Ray job was stopped: {message}"
            code = info.get("driver_exit_code")
            return int(code) if isinstance(code, int) else 143
        self.reason = f"Ray job {self.job_id} failed: {message[:500]}"
        code = info.get("driver_exit_code")
        return int(code) if isinstance(code, int) and code != 0 else 1

    def poll(self) -> int | None:
        if self._code is None and self.api.info(self.job_id).get("status") in _TERMINAL:
            return self.wait()
        return self._code

    def terminate(self, grace_seconds: float = 10.0) -> None:
        """Ask Ray to stop the job (SIGTERM, then SIGKILL after Ray's own grace period);
        ``wait`` then follows it to STOPPED."""
        self._stop_asked = True
        with contextlib.suppress(ExecutionError):
            self.api.stop(self.job_id)
