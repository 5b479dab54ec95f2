"""The one routes table: every route of the server, with the permission it needs.

Each ``RouteEntry`` names its method(s), path, handler, the permission the caller needs and
the resource it acts on (found in the request's parameters), so an authorizer
(``create_app(authorizer=...)``) can decide every request in one place, deny by default.
A test checks that no route lacks a declaration. Adding a route is one line here.

Handlers of kind ``json`` are ``(ServerContext, Params) -> dict`` and run in a worker thread;
``raw`` handlers (artifact bytes) are ``async (ServerContext, Request, path, max_upload) ->
Response``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from satchel.server.api import artifacts, experiments, meta, runs, satchel

__all__ = ["ROUTES", "Permission", "RouteEntry"]


class Permission(str, enum.Enum):
    """What a caller must hold on the route's resource (MLflow's levels)."""

    PUBLIC = "PUBLIC"  # health and version: no identity needed
    READ = "READ"
    EDIT = "EDIT"  # change a run or experiment: log, tag, upload, end
    MANAGE = "MANAGE"  # delete, restore, rename (and, later, grant)


@dataclass(frozen=True)
class RouteEntry:
    methods: tuple[str, ...]
    path: str
    handler: Callable[..., Any]
    permission: Permission
    # what the permission is checked on: "experiment" (experiment_id), "experiment_name",
    # "experiments" (experiment_ids), "run" (run_id / run_uuid), "artifact" (the proxy
    # path <exp>/<run>/...), "server" (nothing in particular: server-wide)
    resource: str
    kind: str = "json"


_API = "/api/2.0/mlflow"
_OWN = "/api/2.0/satchel"
_PROXY = "/api/2.0/mlflow-artifacts/artifacts"
R, E, M = Permission.READ, Permission.EDIT, Permission.MANAGE
GET, POST, BOTH = ("GET",), ("POST",), ("GET", "POST")

ROUTES: list[RouteEntry] = [
    RouteEntry(GET, "/health", meta.health, Permission.PUBLIC, "server"),
    RouteEntry(GET, "/version", meta.version, Permission.PUBLIC, "server"),
    RouteEntry(GET, "/api/3.0/mlflow/server-info", meta.server_info, Permission.PUBLIC, "server"),
    # experiments
    RouteEntry(POST, f"{_API}/experiments/create", experiments.create, E, "server"),
    RouteEntry(GET, f"{_API}/experiments/get", experiments.get, R, "experiment"),
    RouteEntry(
        GET, f"{_API}/experiments/get-by-name", experiments.get_by_name, R, "experiment_name"
    ),
    RouteEntry(BOTH, f"{_API}/experiments/search", experiments.search, R, "server"),
    RouteEntry(POST, f"{_API}/experiments/update", experiments.update, M, "experiment"),
    RouteEntry(POST, f"{_API}/experiments/delete", experiments.delete, M, "experiment"),
    RouteEntry(POST, f"{_API}/experiments/restore", experiments.restore, M, "experiment"),
    RouteEntry(
        POST, f"{_API}/experiments/set-experiment-tag", experiments.set_tag, E, "experiment"
    ),
    RouteEntry(
        POST, f"{_API}/experiments/delete-experiment-tag", experiments.delete_tag, E, "experiment"
    ),
    # runs
    RouteEntry(POST, f"{_API}/runs/create", runs.create, E, "experiment"),
    RouteEntry(GET, f"{_API}/runs/get", runs.get, R, "run"),
    RouteEntry(POST, f"{_API}/runs/update", runs.update, E, "run"),
    RouteEntry(POST, f"{_API}/runs/delete", runs.delete, M, "run"),
    RouteEntry(POST, f"{_API}/runs/restore", runs.restore, M, "run"),
    RouteEntry(BOTH, f"{_API}/runs/search", runs.search, R, "experiments"),
    RouteEntry(POST, f"{_API}/runs/log-metric", runs.log_metric, E, "run"),
    RouteEntry(POST, f"{_API}/runs/log-parameter", runs.log_param, E, "run"),
    RouteEntry(POST, f"{_API}/runs/set-tag", runs.set_tag, E, "run"),
    RouteEntry(POST, f"{_API}/runs/delete-tag", runs.delete_tag, E, "run"),
    RouteEntry(POST, f"{_API}/runs/log-batch", runs.log_batch, E, "run"),
    RouteEntry(POST, f"{_API}/runs/log-inputs", runs.log_inputs, E, "run"),
    RouteEntry(GET, f"{_API}/metrics/get-history", runs.metric_history, R, "run"),
    RouteEntry(GET, f"{_API}/artifacts/list", artifacts.list_run, R, "run"),
    # logged models (MLflow 3's log_model): not served yet, one clear 501
    RouteEntry(POST, f"{_API}/logged-models", meta.logged_models_missing, E, "experiment"),
    RouteEntry(POST, f"{_API}/logged-models/search", meta.logged_models_search, R, "experiments"),
    # Satchel's own client: liveness, atomic end, run-id prefixes
    RouteEntry(POST, f"{_OWN}/runs/heartbeat", satchel.heartbeat, E, "run"),
    RouteEntry(GET, f"{_OWN}/runs/running-owners", satchel.running_owners, R, "server"),
    RouteEntry(POST, f"{_OWN}/runs/terminate-if-running", satchel.terminate_if_running, E, "run"),
    RouteEntry(GET, f"{_OWN}/runs/ids-with-prefix", satchel.ids_with_prefix, R, "server"),
    # the artifact proxy
    RouteEntry(GET, _PROXY, artifacts.list_proxy, R, "artifact"),
    RouteEntry(("PUT",), _PROXY + "/{path:path}", artifacts.upload, E, "artifact", "raw"),
    RouteEntry(GET, _PROXY + "/{path:path}", artifacts.download, R, "artifact", "raw"),
    RouteEntry(("DELETE",), _PROXY + "/{path:path}", artifacts.delete, M, "artifact", "raw"),
]
