"""The fluent logging API: ``satchel.start_run()``, ``satchel.log_metric(...)`` and friends.

    satchel.set_experiment("Wine Regression")
    with satchel.start_run(run_name="baseline"):
        satchel.log_param("alpha", 0.5)
        satchel.log_metric("rmse", 0.71, step=3)

A stack of active runs lives in ``run_stack`` (the top one is ``active_run()``); every ``log_*``
call starts a run implicitly when none is active. How each run ends:

- leaving a ``with start_run()`` block: FINISHED, or FAILED when an exception escapes it
  (KILLED for Ctrl-C; ``sys.exit(0)`` counts as success);
- a script that logs without ``with`` and exits normally: FINISHED, at interpreter exit (atexit);
- a script that dies of an uncaught exception: FAILED (a chained ``sys.excepthook``; MLflow marks
  these FINISHED);
- a script that logs without ``with`` and calls ``sys.exit(n)``: FAILED for a non-zero ``n``
  (or a message), FINISHED for 0 / None. The first ``start_run`` wraps ``sys.exit`` to record
  the code for the atexit handler (the original is still called).
  Limit: a bare ``raise SystemExit(3)`` (or ``exit(3)`` / ``quit(3)`` in the REPL) outside a
  ``with`` block bypasses ``sys.exit``; the interpreter consumes the exception before atexit
  handlers run and ``sys.excepthook`` never sees SystemExit, so no standard-library hook can
  observe its code: such a run ends FINISHED. Use ``sys.exit`` or a ``with`` block.

Environment variables: ``SATCHEL_TRACKING_URI`` (the store), ``SATCHEL_EXPERIMENT_ID`` /
``SATCHEL_EXPERIMENT_NAME`` (the experiment of new runs; a missing name is created) and
``SATCHEL_RUN_ID``: the first ``start_run()`` or implicit start RESUMES that run instead of
creating one, and consumes the variable, so later ``start_run(nested=True)`` calls create
real child runs. ``satchel run`` uses it to hand its run to the project code.

The runner owns the final status of a run handed over by ``SATCHEL_RUN_ID``: it sets
FINISHED / FAILED / KILLED from the process's exit code. So for such a run this module never
writes a terminal status, neither at ``end_run()``, at the end of a ``with`` block nor at
exit. An uncaught exception still makes the process exit non-zero, so the runner marks it
FAILED. Child runs created under it are ordinary runs and end as described above.

Liveness: when this module creates (or explicitly resumes) a run it records the owner
(``host:pid``) with ``Store.heartbeat``, and a daemon thread repeats the heartbeat every
``HEARTBEAT_INTERVAL_S`` while the run is active. So a run whose process was SIGKILLed is
reaped (``satchel runs reap``, and before every ``satchel runs list``) — at once on the same
host (dead pid), after the staleness threshold elsewhere (a container) — while a long,
quiet, live run never is. A run resumed from ``SATCHEL_RUN_ID`` is the runner's to watch.

This module holds the logging and reading functions; ``run_stack`` starts and ends runs,
``context`` keeps the tracking URI and the current experiment; every public name is importable
from here. Standard library only and cheap to import: the store is opened on first use.
"""

from __future__ import annotations

import os

from satchel.errors import UsageError
from satchel.tracking.client import make_metric, now_ms

# Besides what this module uses, ENV_*, _state, _clients, _stack and _Frame are re-exported:
# callers and tests reach for them through ``satchel.tracking.fluent``.
from satchel.tracking.context import (  # noqa: F401
    ENV_EXPERIMENT_ID,
    ENV_EXPERIMENT_NAME,
    _client,
    _clients,
    _current_experiment_id,
    _state,
    get_experiment_by_name,
    get_tracking_uri,
    set_experiment,
    set_tracking_uri,
)
from satchel.tracking.entities import Param, Run, RunTag, ViewType
from satchel.tracking.run_stack import (  # noqa: F401
    ENV_RUN_ID,
    HEARTBEAT_INTERVAL_S,
    PARENT_RUN_TAG,
    ActiveRun,
    _Frame,
    _stack,
    active_run,
    end_run,
    last_active_run,
    start_run,
)

TYPE_CHECKING = False  # importing typing costs ~10 ms; mypy reads this as True
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

__all__ = [
    "ActiveRun",
    "active_run",
    "end_run",
    "get_experiment_by_name",
    "get_run",
    "get_tracking_uri",
    "last_active_run",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "search_runs",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]


# -- logging into the active run ---------------------------------------------------------
def _frame() -> _Frame:
    if not _stack:
        start_run()
    return _stack[-1]


def log_param(key: str, value: Any) -> Any:
    frame = _frame()
    return frame.client.log_param(frame.run_id, key, value)


def log_params(params: Mapping[str, Any]) -> None:
    frame = _frame()
    batch = [Param(k, str(v)) for k, v in params.items()]
    frame.client.log_batch(frame.run_id, params=batch)


def log_metric(
    key: str, value: float, step: int | None = None, timestamp: int | None = None
) -> None:
    # The hot path of a training loop: the top frame caches its client and run id.
    frame = _stack[-1] if _stack else _frame()
    frame.client.log_metric(frame.run_id, key, value, timestamp, step)


def log_metrics(
    metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None
) -> None:
    frame = _frame()
    when = timestamp if timestamp is not None else now_ms()
    batch = [make_metric(k, v, when, step) for k, v in metrics.items()]
    frame.client.log_batch(frame.run_id, metrics=batch)


def set_tag(key: str, value: Any) -> None:
    frame = _frame()
    frame.client.set_tag(frame.run_id, key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    frame = _frame()
    batch = [RunTag(k, str(v)) for k, v in tags.items()]
    frame.client.log_batch(frame.run_id, tags=batch)


def log_artifact(local_path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
    frame = _frame()
    frame.client.log_artifact(frame.run_id, local_path, artifact_path)


def log_artifacts(local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> None:
    frame = _frame()
    frame.client.log_artifacts(frame.run_id, local_dir, artifact_path)


def log_dict(dictionary: Any, artifact_file: str) -> None:
    frame = _frame()
    frame.client.log_dict(frame.run_id, dictionary, artifact_file)


def log_text(text: str, artifact_file: str) -> None:
    frame = _frame()
    frame.client.log_text(frame.run_id, text, artifact_file)


# -- reading -----------------------------------------------------------------------------
def get_run(run_id: str) -> Run:
    return _client().get_run(run_id)


def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str = "",
    run_view_type: ViewType = ViewType.ACTIVE_ONLY,
    max_results: int = 1000,
    order_by: Sequence[str] | None = None,
    experiment_names: Sequence[str] | None = None,
    output_format: str | None = None,
) -> Any:
    """Runs matching an MLflow filter; defaults to the current experiment.

    ``output_format="pandas"`` (the default when pandas is importable, as MLflow's) returns a
    DataFrame shaped like ``mlflow.search_runs``'s; ``"list"`` (the default otherwise) a list
    of Run records. pandas is imported only here, never by ``import satchel``."""
    from satchel.tracking.dataframe import has_pandas, runs_to_dataframe

    if output_format is None:
        output_format = "pandas" if has_pandas() else "list"
    if output_format not in ("pandas", "list"):
        raise UsageError(f"unknown output_format {output_format!r}", hint="use 'pandas' or 'list'")
    client = _client()
    ids = list(experiment_ids or [])
    for name in experiment_names or []:
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            ids.append(experiment.experiment_id)
    if experiment_ids is None and experiment_names is None:
        ids = [_current_experiment_id(client)]
    runs = list(client.search_runs(ids, filter_string, run_view_type, max_results, order_by))
    return runs_to_dataframe(runs) if output_format == "pandas" else runs
