"""``path`` parameters that name another run's artifact, fetched before the command starts.

    -P data=runs:/<run id>/ratings.csv                       (MLflow's form)
    -P data=mlflow-artifacts:/<exp>/<run id>/artifacts/x     (the run's artifact URI)

The artifact is copied from the store into a cache kept per source run
(``$SATCHEL_HOME/run-inputs/<run id>/<path>``): a FINISHED run's artifacts are fetched once
and shared by every run that reads them. The command gets the local copy; the param keeps
its URI, so the run records where its input came from, and the run key hashes the content.
A bad reference is one line before any run exists.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from satchel.errors import NotFoundError, ParameterError, SatchelError
from satchel.tracking.client import Client
from satchel.tracking.entities import RunStatus

if TYPE_CHECKING:
    from satchel.projects.params import ResolvedParams
    from satchel.projects.records import EntryPoint

__all__ = ["fetch_inputs", "parse_run_artifact"]

_RUNS = re.compile(r"^runs:/([^/]+)/(.+)$")
_ARTIFACT_URI = re.compile(r"^mlflow-artifacts:/(?:[^?#]*/)?([0-9a-f]{32})/artifacts/(.+)$")


def parse_run_artifact(uri: str) -> tuple[str, str]:
    """``runs:/ID/a/b`` (or an artifact URI) → ("ID", "a/b"); ParameterError if malformed."""
    found = _RUNS.match(uri) or _ARTIFACT_URI.match(uri)
    path = found.group(2).strip("/") if found else ""
    if not found or not path:
        raise ParameterError(
            f"Bad run artifact reference {uri!r}: use runs:/RUN_ID/path/in/its/artifacts"
        )
    return found.group(1), path


def fetch_inputs(
    entry_point: EntryPoint, resolved: ResolvedParams, tracking_uri: str
) -> ResolvedParams:
    """``resolved`` with every run-artifact ``path`` value replaced by its local copy."""
    from satchel.projects.params import RUN_ARTIFACT

    wanted = {
        name: value
        for name, value in resolved.declared.items()
        if name in entry_point.parameters
        and entry_point.parameters[name].type == "path"
        and RUN_ARTIFACT.match(str(value))
    }
    if not wanted:
        return resolved
    client = Client(tracking_uri)
    declared = dict(resolved.declared)
    for name, uri in wanted.items():
        try:
            declared[name] = str(fetch_run_artifact(client, uri))
        except SatchelError as exc:
            raise ParameterError(f"parameter {name!r}: {exc}") from None
    return dataclasses.replace(resolved, declared=declared, shown={**resolved.shown, **wanted})


def _cache_root() -> Path:
    from satchel.home import satchel_home

    return satchel_home() / "run-inputs"


def fetch_run_artifact(client: Client, uri: str) -> Path:
    """The local copy of the artifact ``uri`` names (fetched unless already cached)."""
    run_id, path = parse_run_artifact(uri)
    try:
        run = client.get_run(run_id)
    except NotFoundError:
        raise NotFoundError(
            f"no run {run_id} in {client.tracking_uri}", hint="check the run id"
        ) from None
    run_id = run.info.run_id
    from satchel.tracking.artifacts import relative_parts  # the one path-escape check

    dest = _cache_root().joinpath(run_id, *relative_parts(path))
    finished = run.info.status is RunStatus.FINISHED
    if finished and dest.exists():
        return dest  # a finished run's artifacts do not change
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=dest.parent))
    try:
        copy = Path(client.download_artifacts(run_id, path, staging))
        if dest.exists() and not finished:
            _remove(dest)  # a running run may have changed it: take the fresh copy
        if not dest.exists():
            os.replace(copy, dest)  # atomic: a concurrent reader sees all of it or nothing
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
