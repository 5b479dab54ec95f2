"""The one routes table: every route of the server, with the permission it needs.

Each ``RouteEntry`` names its method(s), path, handler, the permission the caller needs and
the resource it acts on (found in the request's parameters), so an authorizer
(``create_app(authorizer=...)``) can decide every request in one place, deny by default.
A test checks that no route lacks a declaration. Adding a route is one line here.

The REST API: handlers of kind ``json`` are ``(ServerContext, Params) -> dict`` and run in a
worker thread; ``raw`` handlers (artifact bytes) are ``async (ServerContext, Request, path,
max_upload) -> Response``. The web UI (``UI_ROUTES``, kinds ``page``, ``data``, ``write``,
``static``): handlers are named ``"module.function"`` under ``satchel.server.ui`` (imported
when the UI is mounted, so the API alone stays light) and take the request (writes also
their JSON body); ``satchel.server.ui.mount`` turns the UI's path parameters, query and body
into the parameters the authorizer reads (``experiment_ids``, ``experiment_id``, ``run_id``,
``run_ids``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from satchel.server.api import artifacts, experiments, meta, registry, runs, satchel
from satchel.server.api import logged_models as logged

__all__ = ["API_ROUTES", "ROUTES", "UI_KINDS", "UI_ROUTES", "Permission", "RouteEntry"]

UI_KINDS = frozenset({"page", "data", "write", "static"})


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
    handler: Callable[..., Any] | str  # a string: a UI handler, "module.function"
    permission: Permission
    # what the permission is checked on: "experiment" (experiment_id), "experiment_name",
    # "experiments" (experiment_ids), "run" (run_id / run_uuid), "runs" (run_ids),
    # "artifact" (the proxy path <exp>/<run>/... or <exp>/models/<model id>/...),
    # "logged_model" (model_id: its experiment), "registered_model" (name), "server"
    # (nothing in particular: server-wide; what it lists is filtered); "runs,experiment":
    # both, the same level
    resource: str
    kind: str = "json"
    # what a "server"-wide read lists, so the authorizer keeps only what the caller may
    # read: "experiments" (result["experiments"]), "runs" (result["runs"], by run_id),
    # "run_ids" (result["run_ids"]), "registered_models", "model_versions", "events" (the
    # registry's, by registered model name); UI pages filter their own listings (ui.web.readable)
    listing: str = ""

    @property
    def is_ui(self) -> bool:
        return self.kind in UI_KINDS


_API = "/api/2.0/mlflow"
_OWN = "/api/2.0/satchel"
_PROXY = "/api/2.0/mlflow-artifacts/artifacts"
_LM = f"{_API}/logged-models/{{model_id}}"
_RM = f"{_API}/registered-models"
_MV = f"{_API}/model-versions"
R, E, M = Permission.READ, Permission.EDIT, Permission.MANAGE
GET, POST, BOTH = ("GET",), ("POST",), ("GET", "POST")
PATCH, DELETE = ("PATCH",), ("DELETE",)

API_ROUTES: list[RouteEntry] = [
    RouteEntry(GET, "/health", meta.health, Permission.PUBLIC, "server"),
    RouteEntry(GET, "/version", meta.version, Permission.PUBLIC, "server"),
    RouteEntry(GET, "/api/3.0/mlflow/server-info", meta.server_info, Permission.PUBLIC, "server"),
    # experiments
    RouteEntry(POST, f"{_API}/experiments/create", experiments.create, E, "server"),
    RouteEntry(GET, f"{_API}/experiments/get", experiments.get, R, "experiment"),
    RouteEntry(
        GET, f"{_API}/experiments/get-by-name", experiments.get_by_name, R, "experiment_name"
    ),
    RouteEntry(
        BOTH,
        f"{_API}/experiments/search",
        experiments.search,
        R,
        "server",
        listing="experiments",
    ),
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
    # logged models (MLflow 3: every log_model creates one) and a run's model outputs
    RouteEntry(POST, f"{_API}/logged-models", logged.create, E, "experiment"),
    RouteEntry(POST, f"{_API}/logged-models/search", logged.search, R, "experiments"),
    RouteEntry(GET, f"{_LM}", logged.get, R, "logged_model"),
    RouteEntry(PATCH, f"{_LM}", logged.finalize, E, "logged_model"),
    RouteEntry(DELETE, f"{_LM}", logged.delete, M, "logged_model"),
    RouteEntry(PATCH, f"{_LM}/tags", logged.set_tags, E, "logged_model"),
    RouteEntry(DELETE, f"{_LM}/tags/{{tag_key:path}}", logged.delete_tag, E, "logged_model"),
    RouteEntry(POST, f"{_LM}/params", logged.log_params, E, "logged_model"),
    RouteEntry(GET, f"{_LM}/artifacts/directories", logged.list_artifacts, R, "logged_model"),
    RouteEntry(POST, f"{_API}/runs/outputs", logged.log_outputs, E, "run"),
    # the model registry: permissions per registered model (its ``name``)
    RouteEntry(POST, f"{_RM}/create", registry.create_model, E, "server"),
    RouteEntry(GET, f"{_RM}/get", registry.get_model, R, "registered_model"),
    RouteEntry(
        GET, f"{_RM}/search", registry.search_models, R, "server", listing="registered_models"
    ),
    RouteEntry(POST, f"{_RM}/rename", registry.rename_model, M, "registered_model"),
    RouteEntry(PATCH, f"{_RM}/update", registry.update_model, E, "registered_model"),
    RouteEntry(DELETE, f"{_RM}/delete", registry.delete_model, M, "registered_model"),
    RouteEntry(POST, f"{_RM}/set-tag", registry.set_model_tag, E, "registered_model"),
    RouteEntry(DELETE, f"{_RM}/delete-tag", registry.delete_model_tag, E, "registered_model"),
    RouteEntry(POST, f"{_RM}/alias", registry.set_alias, E, "registered_model"),
    RouteEntry(DELETE, f"{_RM}/alias", registry.delete_alias, E, "registered_model"),
    RouteEntry(GET, f"{_RM}/alias", registry.get_by_alias, R, "registered_model"),
    RouteEntry(BOTH, f"{_RM}/get-latest-versions", registry.latest_versions, R, "registered_model"),
    RouteEntry(POST, f"{_MV}/create", registry.create_version, E, "registered_model"),
    RouteEntry(GET, f"{_MV}/get", registry.get_version, R, "registered_model"),
    RouteEntry(
        GET, f"{_MV}/search", registry.search_versions, R, "server", listing="model_versions"
    ),
    RouteEntry(PATCH, f"{_MV}/update", registry.update_version, E, "registered_model"),
    RouteEntry(DELETE, f"{_MV}/delete", registry.delete_version, M, "registered_model"),
    RouteEntry(POST, f"{_MV}/set-tag", registry.set_version_tag, E, "registered_model"),
    RouteEntry(DELETE, f"{_MV}/delete-tag", registry.delete_version_tag, E, "registered_model"),
    RouteEntry(POST, f"{_MV}/transition-stage", registry.transition_stage, E, "registered_model"),
    RouteEntry(GET, f"{_MV}/get-download-uri", registry.download_uri, R, "registered_model"),
    RouteEntry(GET, f"{_OWN}/registry/history", registry.history, R, "server", listing="events"),
    # Satchel's own client: liveness, atomic end, run-id prefixes
    RouteEntry(POST, f"{_OWN}/runs/heartbeat", satchel.heartbeat, E, "run"),
    RouteEntry(
        GET, f"{_OWN}/runs/running-owners", satchel.running_owners, R, "server", listing="runs"
    ),
    RouteEntry(POST, f"{_OWN}/runs/terminate-if-running", satchel.terminate_if_running, E, "run"),
    RouteEntry(
        GET,
        f"{_OWN}/runs/ids-with-prefix",
        satchel.ids_with_prefix,
        R,
        "server",
        listing="run_ids",
    ),
    # the artifact proxy
    RouteEntry(GET, _PROXY, artifacts.list_proxy, R, "artifact"),
    RouteEntry(("PUT",), _PROXY + "/{path:path}", artifacts.upload, E, "artifact", "raw"),
    RouteEntry(GET, _PROXY + "/{path:path}", artifacts.download, R, "artifact", "raw"),
    RouteEntry(("DELETE",), _PROXY + "/{path:path}", artifacts.delete, M, "artifact", "raw"),
]

# The web UI. Moving runs needs MANAGE on their experiments and on the target (a move takes
# a run out of one experiment, like a delete, and into another).
P = Permission.PUBLIC
PAGE, DATA, WRITE, STATIC = "page", "data", "write", "static"
_UI_EXP, _UI_RUN = "/ui-api/experiments/{id}", "/ui-api/runs/{run_id}"
UI_ROUTES: list[RouteEntry] = [
    RouteEntry(GET, "/", "pages.home", R, "server", PAGE),
    RouteEntry(GET, "/experiments/{ids}", "pages.experiment_page", R, "experiments", PAGE),
    RouteEntry(GET, "/experiments/{ids}/runs.csv", "pages.runs_csv", R, "experiments", DATA),
    RouteEntry(GET, "/runs/{run_id}", "pages.run_page", R, "run", PAGE),
    RouteEntry(GET, "/runs/{run_id}/preview", "pages.preview_fragment", R, "run", PAGE),
    RouteEntry(GET, "/runs/{run_id}/artifact", "pages.artifact_raw", R, "run", DATA),
    RouteEntry(GET, "/compare", "pages.compare_page", R, "runs", PAGE),
    RouteEntry(GET, "/ui-static/{name}", "static.asset", P, "server", STATIC),
    RouteEntry(GET, "/favicon.ico", "static.favicon", P, "server", STATIC),
    RouteEntry(GET, "/ui-api/experiments", "api.experiments_json", R, "server", DATA),
    RouteEntry(GET, "/ui-api/experiments/{ids}/runs", "api.runs_json", R, "experiments", DATA),
    RouteEntry(GET, "/ui-api/experiments/{ids}/keys", "api.keys_json", R, "experiments", DATA),
    RouteEntry(GET, "/ui-api/runs/{run_id}", "api.run_json", R, "run", DATA),
    RouteEntry(GET, "/ui-api/runs/{run_id}/artifacts", "api.artifacts_json", R, "run", DATA),
    RouteEntry(GET, f"{_UI_RUN}/metric-ranges", "api.metric_ranges_json", R, "run", DATA),
    RouteEntry(GET, "/ui-api/runs/{run_id}/preview", "api.preview_json", R, "run", DATA),
    RouteEntry(GET, "/ui-api/metric-history", "api.metric_history_json", R, "runs", DATA),
    RouteEntry(GET, "/ui-api/compare", "api.compare_json", R, "runs", DATA),
    RouteEntry(POST, "/ui-api/experiments", "api.create_experiment", E, "server", WRITE),
    RouteEntry(POST, f"{_UI_EXP}/rename", "api.rename_experiment", M, "experiment", WRITE),
    RouteEntry(POST, f"{_UI_EXP}/delete", "api.delete_experiment", M, "experiment", WRITE),
    RouteEntry(POST, f"{_UI_EXP}/restore", "api.restore_experiment", M, "experiment", WRITE),
    RouteEntry(POST, "/ui-api/runs/delete", "api.delete_runs", M, "runs", WRITE),
    RouteEntry(POST, "/ui-api/runs/restore", "api.restore_runs", M, "runs", WRITE),
    RouteEntry(POST, "/ui-api/runs/move", "api.move_runs", M, "runs,experiment", WRITE),
    RouteEntry(POST, "/ui-api/runs/{run_id}/tags", "api.set_tag", E, "run", WRITE),
    RouteEntry(POST, "/ui-api/runs/{run_id}/tags/delete", "api.delete_tag", E, "run", WRITE),
    RouteEntry(POST, "/ui-api/runs/{run_id}/description", "api.set_description", E, "run", WRITE),
]

ROUTES: list[RouteEntry] = [*API_ROUTES, *UI_ROUTES]
