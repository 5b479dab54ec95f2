"""``satchel artifacts list|download``: a run's files.

JSON shape of ``list --output json``: a list of ``{"path", "is_dir", "file_size"}``
(``file_size`` is null for directories), paths relative to the run's artifact root.
"""

from __future__ import annotations

import posixpath
from typing import Any

import click

from satchel.cli._options import make_client, output_option, tracking_uri_option
from satchel.cli._output import emit
from satchel.errors import NotFoundError
from satchel.tracking.client import Client
from satchel.tracking.views import resolve_run_id

__all__ = ["artifacts"]


@click.group()
def artifacts() -> None:
    """List and download the artifacts of a run."""


def _run_id_args(fn: Any) -> Any:
    """RUN_ID as an argument (``satchel artifacts list RUN_ID``) or, like MLflow's CLI,
    as ``--run-id``."""
    fn = click.option(
        "--run-id", "run_id_option", metavar="RUN_ID", help="The run (instead of RUN_ID)."
    )(fn)
    return click.argument("run_id", required=False)(fn)


def _pick_run_id(run_id: str | None, run_id_option: str | None) -> str:
    if run_id and run_id_option and run_id != run_id_option:
        raise click.UsageError("RUN_ID and --run-id name different runs; give one of them")
    chosen = run_id or run_id_option
    if not chosen:
        raise click.UsageError("missing RUN_ID (or --run-id)")
    return chosen


def _require_artifact(client: Client, run_id: str, path: str) -> None:
    """Listing a path that does not exist says so (as download does), instead of printing
    an empty listing: the parent directory is listed and must hold it."""
    wanted = posixpath.normpath(path.strip("/"))
    parent = posixpath.dirname(wanted)
    present = {info.path.strip("/") for info in client.list_artifacts(run_id, parent or None)}
    if wanted not in present:
        raise NotFoundError(
            f"no artifact {path!r} in run {run_id}",
            hint=f"see what exists with `satchel artifacts list {run_id}`",
        )


@artifacts.command("list")
@_run_id_args
@click.option(
    "--artifact-path",
    "--path",
    "artifact_path",
    metavar="PATH",
    help="A directory inside the run's artifacts [default: the root].",
)
@output_option
@tracking_uri_option
def list_(
    run_id: str | None,
    run_id_option: str | None,
    artifact_path: str | None,
    output: str,
    tracking_uri: str | None,
) -> None:
    """List the artifacts of run RUN_ID (one directory level)."""
    client = make_client(tracking_uri, read_only=True)
    run_id = resolve_run_id(client, _pick_run_id(run_id, run_id_option))
    client.get_run(run_id)  # an unknown run is an error, not "No artifacts."
    listing = client.list_artifacts(run_id, artifact_path)  # also rejects escaping paths
    if not listing and artifact_path and artifact_path.strip("/."):
        _require_artifact(client, run_id, artifact_path)
    rows = [
        {
            "path": info.path + ("/" if info.is_dir and output == "table" else ""),
            "is_dir": bool(info.is_dir),
            "file_size": None if info.is_dir else info.file_size,
        }
        for info in listing
    ]
    emit(output, rows, ["path", "is_dir", "file_size"], empty="No artifacts.")


@artifacts.command("download")
@_run_id_args
@click.option(
    "--artifact-path",
    "--path",
    "artifact_path",
    default="",
    metavar="PATH",
    help="A file or directory inside the run's artifacts [default: all of them].",
)
@click.option(
    "--dst-path",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Directory to download into [default: a new temporary directory].",
)
@tracking_uri_option
def download(
    run_id: str | None,
    run_id_option: str | None,
    artifact_path: str,
    dst_path: str | None,
    tracking_uri: str | None,
) -> None:
    """Download artifacts of run RUN_ID and print the local path of the copy."""
    client = make_client(tracking_uri, read_only=True)
    run_id = resolve_run_id(client, _pick_run_id(run_id, run_id_option))
    click.echo(client.download_artifacts(run_id, artifact_path, dst_path))
