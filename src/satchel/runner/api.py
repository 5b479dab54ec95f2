"""``satchel.projects.run``: the Python face of `satchel run`."""

from __future__ import annotations

from typing import Any

from satchel.errors import RunFailedError
from satchel.runner.request import RunRequest
from satchel.runner.submitted import SubmittedRun
from satchel.tracking.entities import RunStatus

__all__ = ["run_project"]


def _as_text(value: Any) -> str:
    # Python values arrive like -P strings would; the entry point's types convert them back.
    return str(value)


def _runner_deps_missing() -> bool:
    """True inside a project env that lacks satchel's own dependencies (yaml, click)."""
    import importlib.util

    return any(importlib.util.find_spec(m) is None for m in ("yaml", "click"))


def _delegate(request: RunRequest, synchronous: bool) -> SubmittedRun:
    """Run through the interpreter that launched us (``SATCHEL_RUNNER_PYTHON``), detached,
    then wait if asked: a project env only has satchel's stdlib-only client."""
    import json
    import os
    import subprocess
    from dataclasses import asdict

    from satchel.errors import ExecutionError

    python = os.environ.get("SATCHEL_RUNNER_PYTHON")
    if not python:
        raise ExecutionError(
            "satchel.projects.run needs PyYAML and click, which this environment lacks",
            hint="install satchel here, or call it from a project launched by `satchel run`",
        )
    # the request goes through a pipe, never argv (`ps` shows argv to everyone)
    argv = [python, "-m", "satchel", "run", "--request-file", "-", "--detach"]
    from satchel.runner.record import parent_run_id

    env = {**os.environ, "SATCHEL_RUN_ID": parent_run_id() or ""}  # the run we are part of
    out = subprocess.run(
        argv,
        input=json.dumps(asdict(request)),
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if out.returncode != 0:
        lines = out.stderr.strip().splitlines()
        raise ExecutionError(lines[-1] if lines else f"{argv[0]} exited {out.returncode}")
    run_id = out.stdout.strip().splitlines()[-1]
    from satchel.runner.request import Outcome
    from satchel.runner.reuse import REUSED_NOTE
    from satchel.tracking.uri import resolve_tracking_uri

    reused = Outcome(run_id, RunStatus.FINISHED, 0, reused=True)
    submitted = SubmittedRun(
        run_id,
        resolve_tracking_uri(request.tracking_uri),
        outcome=reused if REUSED_NOTE in out.stderr else None,
    )
    if synchronous and not submitted.wait():
        raise RunFailedError(f"run {run_id} {submitted.get_status().value}", run_id=run_id)
    return submitted


def run_project(
    uri: str,
    entry_point: str = "main",
    parameters: dict[str, Any] | None = None,
    version: str | None = None,
    experiment_name: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    env_manager: str | None = None,
    backend: str | None = None,
    backend_config: dict[str, Any] | None = None,
    synchronous: bool = True,
    docker_args: dict[str, Any] | None = None,
    build_image: bool = False,
    tracking_uri: str | None = None,
    refresh_env: bool = False,
    allow_extra: bool = False,
    skip_if_done: bool = False,
) -> SubmittedRun:
    """Run a project as a tracked run, like ``satchel run``; returns a ``SubmittedRun``.

    Synchronous (default): blocks; raises RunFailedError if the run did not finish. Inside a
    running project the new run is nested (``mlflow.parentRunId``) and inherits the parent's
    environment manager and backend unless given. ``backend=None`` means inherited or local;
    ``backend_config`` holds the backend's options (ray: address, num_cpus, env_vars, ...).
    ``allow_extra``: pass a parameter whose name is close to a declared one (``alpah``) to the
    command instead of refusing it.
    ``skip_if_done``: when a FINISHED run of the experiment has the same run key (code, env,
    entry point, params, ``path`` inputs' content), nothing runs and that run is returned.
    """
    from satchel.runner.lifecycle import execute
    from satchel.runner.submitted import submit
    from satchel.tracking.uri import resolve_tracking_uri

    if tracking_uri is None:
        from satchel.tracking.fluent import get_tracking_uri

        tracking_uri = get_tracking_uri()  # honours satchel.set_tracking_uri()
    request = RunRequest(
        uri=str(uri),
        entry_point=entry_point,
        version=version,
        parameters={str(k): _as_text(v) for k, v in (parameters or {}).items()},
        allow_extra=allow_extra,
        experiment_name=experiment_name,
        experiment_id=str(experiment_id) if experiment_id is not None else None,
        run_name=run_name,
        env_manager=env_manager,
        backend=backend,
        backend_config=dict(backend_config or {}),
        docker_args=dict(docker_args or {}),
        build_image=build_image,
        refresh_env=refresh_env,
        tracking_uri=tracking_uri,
        skip_if_done=skip_if_done,
    )
    if _runner_deps_missing():
        return _delegate(request, synchronous)
    if not synchronous:
        return submit(request)
    outcome = execute(request)
    if outcome.status is RunStatus.KILLED:
        raise KeyboardInterrupt(f"run {outcome.run_id} was stopped")
    if not outcome.ok:
        raise RunFailedError(
            f"run {outcome.run_id} {outcome.status.value}: {outcome.reason}",
            run_id=outcome.run_id,
            exit_code=outcome.exit_code,
        )
    return SubmittedRun(outcome.run_id, resolve_tracking_uri(tracking_uri), outcome=outcome)
