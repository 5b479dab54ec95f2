"""The run lifecycle as small named steps.

    validate:  fetch → spec → params → env choice        (a bad input: one line, no run)
    record:    the run (RUNNING), tags, params, source artifacts
    env:       prepare the environment (failure → FAILED with the reason)
    launch:    the command in its own process group (or container)
    watch:     stream output, heartbeat, turn Ctrl-C / SIGTERM into a stop of the group
    finish:    FINISHED / FAILED (exit code) / KILLED — every exit path sets one

``execute`` strings them together for a synchronous run; ``submitted.submit`` stops after
``record`` and hands the run to a detached runner (``satchel run --run-id``), which resumes
at ``env``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from satchel.errors import ExecutionError, SatchelError, UsageError
from satchel.runner.plan import Plan
from satchel.runner.request import Outcome, RunRequest
from satchel.runner.watch import GRACE_SECONDS, Stop, outcome_for, stop_signals, watch
from satchel.tracking.client import Client
from satchel.tracking.entities import Run, RunStatus, RunTag

if TYPE_CHECKING:
    from satchel.envs.base import PreparedEnv
    from satchel.projects.fetched import Fetched
    from satchel.projects.params import ResolvedParams
    from satchel.projects.source import SourceFiles
    from satchel.projects.spec import EntryPoint, Project
    from satchel.runner.backends.base import Handle

__all__ = [
    "GRACE_SECONDS",
    "Plan",
    "Stop",
    "child_env",
    "choose_env",
    "execute",
    "finish",
    "launch",
    "load_spec",
    "outcome_for",
    "prepare_env",
    "render",
    "stop_signals",
    "validate",
    "watch",
]


# -- validate: fetch → spec → params → env choice ----------------------------------------
def load_spec(root: Path, entry_point: str) -> tuple[Project, EntryPoint]:
    from satchel.projects.spec import get_entry_point, load_project

    project = load_project(root)
    return project, get_entry_point(project, entry_point)


def render(
    entry_point: EntryPoint,
    parameters: dict[str, str],
    project_root: Path,
    allow_extra: bool = False,
    tracking_uri: str | None = None,
) -> tuple[ResolvedParams, str, str]:
    """Typed params, the command, and the command with secrets masked. With a tracking URI,
    ``path`` params naming another run's artifacts are fetched (``runner.inputs``)."""
    from satchel.projects.params import resolve_parameters
    from satchel.projects.render import render_command

    resolved = resolve_parameters(
        entry_point,
        parameters,
        cwd=Path.cwd(),
        project_root=project_root,
        allow_extra=allow_extra,
    )
    if tracking_uri is not None:
        from satchel.runner.inputs import fetch_inputs

        resolved = fetch_inputs(entry_point, resolved, tracking_uri)
    command = render_command(entry_point, resolved)
    return resolved, command, render_command(entry_point, resolved, masked=True)


def choose_env(project: Project, requested: str | None) -> str:
    """The env manager: asked for > inherited from a parent run (SATCHEL_ENV_MANAGER) > the
    project's default. The envs registry owns these rules and their errors."""
    from satchel.envs import choose_manager

    return choose_manager(project, requested)


def choose_backend(requested: str | None) -> str:
    """The backend: asked for > inherited from a parent run (SATCHEL_BACKEND) > local."""
    from satchel.runner.backends import get_launcher

    backend = requested or os.environ.get("SATCHEL_BACKEND") or "local"
    get_launcher(backend)  # an unknown name is one line now
    return backend


@contextlib.contextmanager
def validate(request: RunRequest, report: Callable[[str], None] | None = None) -> Iterator[Plan]:
    """Every check that can fail before a run exists. The fetched tree is cleaned up on exit.
    Warnings (what MLflow tolerates in the MLproject, near misses) go to ``report``."""
    report = report or _report
    from satchel.home import check_home_writable
    from satchel.projects.fetch import fetch_project
    from satchel.tracking.uri import resolve_tracking_uri

    _check_experiment(request)
    backend = choose_backend(request.backend)
    tracking_uri = resolve_tracking_uri(request.tracking_uri)
    check_home_writable()
    started = time.perf_counter()
    parameters = request.parameters
    if request.rerun_of:
        from satchel.runner.rerun import restore_project

        fetched, parameters = restore_project(request, tracking_uri)
    else:
        fetched = fetch_project(request.uri, request.version)
    _debug_timing("fetch", started)
    try:
        source_files = readable_source(fetched)
        project, entry_point = load_spec(Path(fetched.root), request.entry_point)
        for warning in project.warnings:
            report(f"warning: {warning}")
        resolved, command, masked = render(
            entry_point, parameters, Path(fetched.root), request.allow_extra, tracking_uri
        )
        _check_loggable(resolved)
        env_manager = choose_env(project, request.env_manager)
        from satchel.envs import validate_env_decl

        for warning in validate_env_decl(project, env_manager):
            report(f"warning: {warning.removeprefix('warning: ')}")
        from satchel.runner.backends import get_launcher

        options = get_launcher(backend).configure(request, project, env_manager, tracking_uri)
        yield Plan(
            request,
            fetched,
            project,
            entry_point,
            resolved,
            command,
            masked,
            env_manager,
            backend,
            tracking_uri,
            source_files=source_files,
            backend_options=options,
        )
    finally:
        fetched.cleanup()


def readable_source(fetched: Fetched) -> SourceFiles:
    """What the snapshot will copy; an unreadable file or directory is one line now, not a
    run that fails (or a snapshot silently missing it) once it exists."""
    from satchel.projects.source import check_readable, list_source_files

    files = list_source_files(fetched)
    check_readable(files, fetched.root)
    return files


def _check_experiment(request: RunRequest) -> None:
    if request.experiment_id and request.experiment_name:
        raise UsageError("give only one of --experiment-name and --experiment-id")
    # "" would otherwise read as "not given" and land the run in Default without a word
    for option, value in (
        ("--experiment-name", request.experiment_name),
        ("--experiment-id", request.experiment_id),
    ):
        if value is not None and not value.strip():
            raise UsageError(
                f"{option} is empty",
                hint="give a name or id, or drop it for the Default experiment",
            )


def _check_loggable(resolved: ResolvedParams) -> None:
    """A value the store would refuse (too long, bad key) fails here, before a run exists."""
    from satchel.tracking.validation import validate_param

    for key, value in resolved.for_logging().items():
        validate_param(key, value)


def _debug_timing(step: str, started: float) -> None:
    """``SATCHEL_DEBUG_TIMING=1`` prints how long a step took (the benchmark reads it)."""
    if os.environ.get("SATCHEL_DEBUG_TIMING"):
        elapsed = (time.perf_counter() - started) * 1000
        print(f"satchel: timing {step} {elapsed:.1f} ms", file=sys.stderr)


# -- env ---------------------------------------------------------------------------------
def warm_up(plan: Plan) -> None:
    """Start what the env step will need in the background, overlapping the record step:
    for docker, the SDK import and the engine client (about 100 ms of a second run)."""
    if plan.env_manager == "docker":
        from satchel.envs.docker_engine import warm_up as docker_warm_up

        docker_warm_up()


def prepare_env(plan: Plan, client: Client, run: Run, report: Callable[[str], None]) -> PreparedEnv:
    """Prepare the env and record its tags/artifacts; a failure marks the run FAILED."""
    from satchel.envs import get_manager
    from satchel.errors import EnvironmentBuildError
    from satchel.runner.record import env_tags, log_env_artifacts

    options: dict[str, Any] = {}
    if plan.env_manager == "docker":
        options["build_image"] = plan.request.build_image
    if plan.request.rerun_of:
        from satchel.runner.rerun import adopt_recorded_lock

        adopt_recorded_lock(client, plan, report)
    try:
        manager = get_manager(plan.env_manager, **options)
        prepared = manager.prepare(plan.project, refresh=plan.request.refresh_env, report=report)
    except EnvironmentBuildError as exc:
        log_path = Path(exc.log_path) if exc.log_path else None
        log_env_artifacts(client, run, None, log_path)
        raise
    from satchel.runner.runkey import RUN_KEY_TAG, run_key

    # only what the run does not carry yet (a local env adds nothing): no empty write
    tags = {k: v for k, v in env_tags(prepared).items() if run.data.tags.get(k) != v}
    tags[RUN_KEY_TAG] = run_key(plan, prepared)  # in the same write as the env's tags
    if tags:
        client.log_batch(run.info.run_id, tags=[RunTag(k, v) for k, v in tags.items()])
    log_env_artifacts(client, run, prepared.lock_file, prepared.build_log)
    return prepared


# -- launch ------------------------------------------------------------------------------
def child_env(plan: Plan, run: Run) -> dict[str, str]:
    """What the project (and any nested `satchel.projects.run`) must know about its run."""
    env = {
        "SATCHEL_TRACKING_URI": plan.tracking_uri,
        "SATCHEL_RUN_ID": run.info.run_id,
        "SATCHEL_EXPERIMENT_ID": run.info.experiment_id,
        "SATCHEL_ENV_MANAGER": plan.env_manager,
        "SATCHEL_BACKEND": plan.backend,
    }
    if plan.env_manager != "docker":  # a host path means nothing inside a container
        # nested runs from an env without satchel's dependencies delegate to this interpreter
        env["SATCHEL_RUNNER_PYTHON"] = sys.executable
    # The caller's identity on a team server goes along (a container gets only what it is
    # handed); it is environment only: never in the command, a tag or the console log.
    env.update({k: os.environ[k] for k in CREDENTIAL_VARS if os.environ.get(k)})
    return env


CREDENTIAL_VARS = (
    "SATCHEL_TRACKING_TOKEN",
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
)


def _echo(chunk: bytes) -> None:
    sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()


def launch(
    plan: Plan,
    run: Run,
    prepared: PreparedEnv,
    log_path: Path,
    extra_env: dict[str, str] | None = None,
    on_status: Callable[[RunStatus], None] | None = None,
) -> Handle:
    from satchel.runner.backends import get_launcher
    from satchel.runner.backends.base import LaunchSpec
    from satchel.runner.client_path import client_path

    spec = LaunchSpec(
        run_id=run.info.run_id,
        command=plan.command,
        display_command=plan.masked_command,
        workdir=Path(plan.project.root),
        env={**child_env(plan, run), **(extra_env or {})},
        project=plan.project,
        prepared=prepared,
        log_path=log_path,
        tracking_uri=plan.tracking_uri,
        client_path=client_path(),
        options=plan.backend_options,
        echo=_echo if plan.request.echo else None,
        on_status=on_status,
    )
    return get_launcher(plan.backend).launch(spec)


def _status_to(client: Client, run: Run) -> Callable[[RunStatus], None]:
    """What a launcher calls when its run waits for resources (SCHEDULED) or starts."""

    def set_status(status: RunStatus) -> None:
        with contextlib.suppress(SatchelError):  # a status line must never break the run
            client.update_run(run.info.run_id, status)

    return set_status


# -- finish ------------------------------------------------------------------------------
def finish(client: Client, run_id: str, outcome: Outcome) -> Outcome:
    """Set the terminal status unless someone already did (returns what the run ended as)."""
    from satchel.tracking.client import now_ms

    tags = []
    if outcome.exit_code is not None and outcome.status is not RunStatus.FINISHED:
        tags.append(RunTag("satchel.exit_code", str(outcome.exit_code)))
    if outcome.reason:
        tags.append(RunTag("satchel.failure.reason", outcome.reason))
    with contextlib.suppress(SatchelError):
        if tags:
            client.log_batch(run_id, tags=tags)
    client.set_terminated_if_running(run_id, outcome.status, now_ms())
    return outcome


# -- the whole thing ---------------------------------------------------------------------
def _report(line: str) -> None:
    from satchel.terminal import printable  # a path or key from the project may hold ESC

    print(f"satchel: {printable(line)}", file=sys.stderr, flush=True)


def start_record(plan: Plan, client: Client) -> Run:
    """Create the run and capture its source (or pick up the run we were handed)."""
    from satchel.runner.record import ended_on_error, log_source, record_run

    if plan.request.run_id:
        run = client.get_run(plan.request.run_id)
        if run.info.status is not RunStatus.RUNNING:
            raise ExecutionError(f"run {run.info.run_id} is {run.info.status}, not RUNNING")
        return run
    started = time.perf_counter()
    run = record_run(client, plan)
    _debug_timing("record", started)
    with ended_on_error(client, run.info.run_id, "source capture failed"):
        started = time.perf_counter()
        log_source(client, plan, run)
        _debug_timing("source", started)
    return run


@contextlib.contextmanager
def _handed_run_ended_on_error(request: RunRequest) -> Iterator[None]:
    """A detached runner whose own validation fails (the source moved, a signal) still ends
    the run it was handed, instead of leaving it RUNNING until the reaper notices."""
    if not request.run_id:
        yield
        return
    from satchel.runner.record import ended_on_error
    from satchel.tracking.uri import resolve_tracking_uri

    client = Client(resolve_tracking_uri(request.tracking_uri))
    with ended_on_error(client, request.run_id, "the detached runner could not start"):
        yield


def execute(request: RunRequest, report: Callable[[str], None] = _report) -> Outcome:
    """Run a project synchronously, from validation to a terminal status."""
    from satchel.runner.control import runner_control
    from satchel.runner.record import ended_on_error

    with stop_signals(), _handed_run_ended_on_error(request), validate(request, report) as plan:
        warm_up(plan)
        client = Client(plan.tracking_uri)
        try:
            if request.skip_if_done and not request.run_id:
                from satchel.runner.reuse import reuse_if_done

                reused = reuse_if_done(plan, client, report)
                if reused is not None:
                    return reused
            run = start_record(plan, client)
            # also covers the moments before run_recorded's own handlers are in place
            with (
                ended_on_error(client, run.info.run_id, "internal error"),
                runner_control(run.info.run_id),  # `runs cancel` finds this process by it
            ):
                return run_recorded(plan, client, run, report)
        finally:
            with contextlib.suppress(Exception):  # now, not at interpreter exit (see cli.main)
                client.close()


def run_recorded(plan: Plan, client: Client, run: Run, report: Callable[[str], None]) -> Outcome:
    """env → launch → watch → finish for a run that exists; every path sets a status."""
    from satchel.runner.heartbeat import Heartbeat
    from satchel.runner.mlflow_bridge import mlflow_bridge
    from satchel.runner.record import console_log

    run_id = run.info.run_id
    started = time.monotonic()
    report(f"run {run_id} started (experiment {run.info.experiment_id})")
    with Heartbeat(client, run_id):
        try:
            step = time.perf_counter()
            prepared = prepare_env(plan, client, run, report)
            _debug_timing("env", step)
            step = time.perf_counter()
            with (
                console_log(client, run) as log_path,
                mlflow_bridge(plan.tracking_uri, run, prepared) as mlflow_env,
            ):
                handle = launch(plan, run, prepared, log_path, mlflow_env, _status_to(client, run))
                _debug_timing("launch", step)
                if handle.tags:
                    client.log_batch(run_id, tags=[RunTag(k, v) for k, v in handle.tags.items()])
                code, stopped = watch(
                    handle, on_stop=lambda how: report(f"stopping run {run_id} ({how})")
                )
            _debug_timing("watch", step)
            seconds = time.monotonic() - started
            outcome = outcome_for(
                run_id, code, stopped or handle.stopped, seconds, handle.output_error,
                handle.reason,
            )  # fmt: skip
        except KeyboardInterrupt:
            outcome = Outcome(
                run_id, RunStatus.KILLED, None, time.monotonic() - started, "stopped by a signal"
            )
        except SatchelError as exc:
            outcome = Outcome(run_id, RunStatus.FAILED, None, time.monotonic() - started, str(exc))
        # anything else (our bug) escapes to execute's ended_on_error, which marks it FAILED
        finish(client, run_id, outcome)
    report(
        f"run {run_id} {outcome.status.value} in {outcome.seconds:.1f}s"
        + (f" ({outcome.reason})" if outcome.reason else "")
    )
    return outcome
