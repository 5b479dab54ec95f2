"""The MLflow bridge: MLflow-instrumented project code logs into its Satchel run, unchanged.

When the run's environment holds ``mlflow`` or ``mlflow-skinny`` (read from the resolved
lock; for ``--env-manager local`` from the running interpreter's installed distributions;
for a docker image from the distributions installed in it), the child gets
``MLFLOW_TRACKING_URI``, ``MLFLOW_RUN_ID`` and ``MLFLOW_EXPERIMENT_ID``, so
``mlflow.start_run()`` resumes the Satchel run:

- a server store (``http(s)://``): the server's own URL;
- the embedded SQLite store: a loopback endpoint served from this process for the run's
  lifetime, confined to the run by a per-run token (``server.run_scope``), so no
  ``mlflow.db`` or ``mlruns/`` is ever written into the project.

Nothing starts (and nothing heavy is imported) when the environment has no mlflow.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from satchel.envs.base import PreparedEnv
from satchel.tracking.entities import Run

__all__ = ["MLFLOW_DISTRIBUTIONS", "has_mlflow", "mlflow_bridge"]

MLFLOW_DISTRIBUTIONS = frozenset({"mlflow", "mlflow-skinny"})
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_names(lock_text: str) -> set[str]:
    """The distribution names pinned by a resolved lock (``name==version`` lines)."""
    names = set()
    for line in lock_text.splitlines():
        match = _REQUIREMENT.match(line)
        if match and not line.lstrip().startswith(("#", "-")):
            names.add(_normalized(match.group(1)))
    return names


def has_mlflow(prepared: PreparedEnv) -> bool:
    if prepared.lock_file is not None and Path(prepared.lock_file).is_file():
        return bool(lock_names(Path(prepared.lock_file).read_text()) & MLFLOW_DISTRIBUTIONS)
    if prepared.manager == "local":
        from importlib.metadata import distributions

        installed = {_normalized(d.metadata["Name"] or "") for d in distributions()}
        return bool(installed & MLFLOW_DISTRIBUTIONS)
    if prepared.manager == "docker" and prepared.image_id:
        from satchel.runner.backends.docker_inspect import image_distributions

        return bool(image_distributions(prepared.image_id) & MLFLOW_DISTRIBUTIONS)
    return False


@contextlib.contextmanager
def mlflow_bridge(tracking_uri: str, run: Run, prepared: PreparedEnv) -> Iterator[dict[str, str]]:
    """The MLflow variables for the child (empty when the env has no mlflow), valid for the
    ``with`` block: the embedded store's endpoint stops when it ends."""
    if not has_mlflow(prepared):
        yield {}
        return
    env = {"MLFLOW_RUN_ID": run.info.run_id, "MLFLOW_EXPERIMENT_ID": run.info.experiment_id}
    if tracking_uri.startswith(("http://", "https://")):
        yield {**env, "MLFLOW_TRACKING_URI": tracking_uri}
        return
    with _run_endpoint(tracking_uri, run) as (url, token):
        yield {**env, "MLFLOW_TRACKING_URI": url, "MLFLOW_TRACKING_TOKEN": token}


@contextlib.contextmanager
def _run_endpoint(tracking_uri: str, run: Run) -> Iterator[tuple[str, str]]:
    from satchel.server.app import create_app
    from satchel.server.context import ServerContext
    from satchel.server.run_scope import RunScope
    from satchel.server.serve import BackgroundServer
    from satchel.tracking.store import get_store

    store = get_store(tracking_uri)
    experiment = store.get_experiment(run.info.experiment_id)
    token = secrets.token_urlsafe(32)

    def model_source(model_id: str) -> str | None:
        from satchel.errors import SatchelError

        try:
            return store.get_logged_model(model_id).source_run_id
        except SatchelError:
            return None

    scope = RunScope(
        run.info.run_id, experiment.experiment_id, experiment.name, token, model_source
    )
    context = ServerContext(store, store.artifact_root, tracking_uri)
    app: Any = create_app(context=context, authorizer=scope, ui=False)
    with BackgroundServer(app) as url:
        yield url, token
