"""``satchel run`` and the runner's side of ``satchel runs`` (wait, cancel).

Thin: options → a ``RunRequest`` → ``satchel.runner``. Progress lines go to stderr, the
project's own output to stdout.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from satchel.cli import TRACKING_URI_HELP
from satchel.errors import UsageError

if TYPE_CHECKING:
    from satchel.runner.request import RunRequest
    from satchel.tracking.client import Client

__all__ = ["run_command", "runs_commands", "start"]


def _docker_args(items: tuple[str, ...]) -> dict[str, str | bool | list[str]]:
    """``-A gpus=all -A privileged -A env=A=1 -A env=B=2``
    → {"gpus": "all", "privileged": True, "env": ["A=1", "B=2"]} (a repeated name keeps all)."""
    args: dict[str, str | bool | list[str]] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not name:
            raise UsageError(f"invalid docker argument {item!r}", hint="use -A NAME[=VALUE]")
        given: str | bool = value if sep else True
        if name not in args:
            args[name] = given
            continue
        previous = args[name]
        values = previous if isinstance(previous, list) else [str(previous)]
        args[name] = [*values, str(given)]
    return args


def _experiment(
    ctx: click.Context, name: str | None, exp_id: str | None
) -> tuple[str | None, str | None]:
    """Both given on the command line is an error; one from the environment yields."""
    from click.core import ParameterSource

    if name and exp_id:
        from_env = {
            p
            for p in ("experiment_name", "experiment_id")
            if ctx.get_parameter_source(p) is ParameterSource.ENVIRONMENT
        }
        if not from_env or len(from_env) == 2:
            raise UsageError("give only one of --experiment-name and --experiment-id")
        if "experiment_name" in from_env:
            name = None
        else:
            exp_id = None
    return name, exp_id


def _dry_run(request: RunRequest) -> None:
    from satchel.runner.describe import environment_lines
    from satchel.runner.lifecycle import validate

    with validate(request) as plan:
        project = plan.project
        lines = [
            f"project:      {project.name or '(unnamed)'} at {project.root}",
            f"source:       {plan.fetched.source.name}",
            *([f"rerun of:     {request.rerun_of}"] if request.rerun_of else []),
            f"entry point:  {plan.entry_point.name}",
            *environment_lines(plan),
            f"backend:      {plan.backend}",
            f"tracking:     {plan.tracking_uri}",
            "parameters:",
        ]
        from satchel.tracking.secrets import mask_params

        for key, value in mask_params(plan.resolved.for_logging()).items():
            lines.append(f"  {key} = {value}")
        lines.append(f"command:      {plan.masked_command}")
    from satchel.terminal import printable

    click.echo(printable("\n".join(lines)))


_tracking_option = click.option(
    "--tracking-uri", envvar="SATCHEL_TRACKING_URI", metavar="URI", help=TRACKING_URI_HELP
)


@click.command("run")
@click.argument("uri", required=False)
@click.option(
    "-e",
    "--entry-point",
    default="main",
    show_default=True,
    help="Entry point name, or a script file (train.py, run.sh).",
)
@click.option("-v", "--version", default=None, help="Git commit, branch or tag to run.")
@click.option(
    "-P",
    "--param-list",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="A parameter (repeatable); undeclared ones are passed as --NAME VALUE.",
)
@click.option(
    "--allow-extra",
    is_flag=True,
    help="Pass a -P name that looks like a typo of a declared parameter as --NAME VALUE.",
)
@click.option(
    "-A",
    "--docker-args",
    "docker_args",
    multiple=True,
    metavar="NAME[=VALUE]",
    help="Extra `docker run` argument for docker projects (repeatable).",
)
@click.option(
    "--experiment-name",
    envvar="SATCHEL_EXPERIMENT_NAME",
    help="Experiment to record the run in (created if missing).",
)
@click.option(
    "--experiment-id", envvar="SATCHEL_EXPERIMENT_ID", help="Experiment id to record the run in."
)
@click.option("--run-name", default=None, help="Name of the run.")
@click.option(
    "--env-manager",
    default=None,
    metavar="local|uv|virtualenv",
    help="How to build the environment (default: from the project).",
)
@click.option("-b", "--backend", default=None, help="Where to run (local, ray).")
@click.option(
    "-c",
    "--backend-config",
    default=None,
    metavar="FILE|JSON",
    help="The backend's options: a JSON or YAML file, or inline JSON (ray: address, "
    "num_cpus, num_gpus, memory, resources, env_vars).",
)
@click.option("--build-image", is_flag=True, help="Docker: bake the code into a new image.")
@click.option("--refresh-env", is_flag=True, help="Re-resolve and rebuild the environment.")
@click.option("--detach", is_flag=True, help="Start the run in the background; print its id.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the project, parameters, environment and command; create nothing.",
)
@click.option(
    "--skip-if-done",
    is_flag=True,
    help="If a FINISHED run of the experiment has the same run key (code, environment, "
    "entry point, params, path inputs), print its id and run nothing.",
)
@_tracking_option
@click.option(
    "--request-file",
    default=None,
    hidden=True,
    help="Internal: the whole request as JSON (a file, removed once read, or - for stdin).",
)
@click.pass_context
def run_command(
    ctx: click.Context,
    uri: str | None,
    entry_point: str,
    version: str | None,
    params: tuple[str, ...],
    allow_extra: bool,
    docker_args: tuple[str, ...],
    experiment_name: str | None,
    experiment_id: str | None,
    run_name: str | None,
    env_manager: str | None,
    backend: str | None,
    backend_config: str | None,
    build_image: bool,
    refresh_env: bool,
    detach: bool,
    dry_run: bool,
    skip_if_done: bool,
    tracking_uri: str | None,
    request_file: str | None,
) -> None:
    """Run the project at URI (a directory, git URL or zip) as a tracked run."""
    from satchel.projects.params import parse_param_list
    from satchel.runner.request import RunRequest, parse_backend_config, read_request

    if request_file is not None:  # a detached runner, or a nested run handed over
        start(read_request(request_file), detach=detach, dry_run=dry_run)
        return
    if uri is None:
        raise click.UsageError("Missing argument 'URI'.")
    experiment_name, experiment_id = _experiment(ctx, experiment_name, experiment_id)
    request = RunRequest(
        uri=uri.strip().strip("'\""),
        entry_point=entry_point,
        version=version,
        parameters=parse_param_list(params),
        allow_extra=allow_extra,
        experiment_name=experiment_name,
        experiment_id=experiment_id,
        run_name=run_name,
        env_manager=env_manager,
        backend=backend,
        backend_config=parse_backend_config(backend_config),
        docker_args=_docker_args(docker_args),
        build_image=build_image,
        refresh_env=refresh_env,
        tracking_uri=tracking_uri,
        skip_if_done=skip_if_done,
    )
    start(request, detach=detach, dry_run=dry_run)


def start(request: RunRequest, *, detach: bool, dry_run: bool) -> None:
    """Describe, detach or run ``request`` (shared by `satchel run` and `runs rerun`)."""
    if dry_run:
        _dry_run(request)
        return
    if detach:
        from satchel.runner.submitted import submit

        submitted = submit(request)
        if not submitted.reused:
            click.echo(f"satchel: run {submitted.run_id} started in the background", err=True)
        click.echo(submitted.run_id)
        return
    from satchel.runner.lifecycle import execute
    from satchel.tracking.entities import RunStatus

    outcome = execute(request)
    if outcome.reused:
        click.echo(outcome.run_id)
    if outcome.status is RunStatus.KILLED:
        sys.exit(130)
    if not outcome.ok:
        sys.exit(1)


def _run_ref(run_ref: str, tracking_uri: str | None) -> tuple[Client, str]:
    """The store (which must exist) and the full id of RUN_ID (a unique prefix will do)."""
    from satchel.cli._options import make_client
    from satchel.tracking.views import resolve_run_id

    client = make_client(tracking_uri, read_only=True)
    return client, resolve_run_id(client, run_ref)


@click.command("wait")
@click.argument("run_id")
@click.option(
    "--timeout",
    type=float,
    default=None,
    help="Give up after this many seconds (exit 124; the run keeps going).",
)
@_tracking_option
def wait(run_id: str, timeout: float | None, tracking_uri: str | None) -> None:
    """Wait for a run to end.

    \b
    Exit status:
      0    the run FINISHED
      1    the run FAILED or was KILLED
      124  --timeout passed first; the run is still going
    """
    from satchel.runner.submitted import wait_run

    client, run_id = _run_ref(run_id, tracking_uri)
    status = wait_run(client, run_id, timeout)
    click.echo(f"satchel: run {run_id} {status.value}", err=True)
    sys.exit(0 if status.value == "FINISHED" else 1)


@click.command("cancel")
@click.argument("run_id")
@_tracking_option
def cancel(run_id: str, tracking_uri: str | None) -> None:
    """Stop a running run (its whole process group); it ends KILLED."""
    from satchel.runner.submitted import cancel_run

    client, run_id = _run_ref(run_id, tracking_uri)
    status = cancel_run(client, run_id)
    click.echo(f"satchel: run {run_id} {status.value}", err=True)


runs_commands: list[click.Command] = [wait, cancel]
