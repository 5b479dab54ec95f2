"""An authorizer that confines a server to one run: the MLflow bridge's per-run endpoint.

Every request must carry the run's token (``Authorization: Bearer``, which MLflow's client
sends from ``MLFLOW_TRACKING_TOKEN``); it may read the run and its experiment, write to the
run, its artifacts and the models it logs (MLflow 3's logged models), and register models
(``log_model(registered_model_name=...)``); nothing else: no other run, no new run, no
experiment listing, no delete.
The runner owns the run's status, so the project's own ``end_run`` (or a failure it reports)
does not end it early: status and end time in its updates are dropped, and the runner sets
them from the process's exit.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from starlette.requests import Request

from satchel.server.errors import RestError
from satchel.server.params import Params
from satchel.server.routes import Permission, RouteEntry

__all__ = ["RunScope"]

_REGISTRY_WIDE = (
    "/registered-models/create",
    "/registered-models/search",
    "/model-versions/search",
)


class RunScope:
    def __init__(
        self,
        run_id: str,
        experiment_id: str,
        experiment_name: str,
        token: str,
        model_source: Callable[[str], str | None] = lambda model_id: None,
    ) -> None:
        self.run_id = run_id
        self.experiment_id = experiment_id
        self.experiment_name = experiment_name
        self._expected = f"Bearer {token}".encode()
        self._model_source = model_source  # a logged model id -> the run that logged it

    def __call__(self, request: Request, route: RouteEntry, params: Params) -> None:
        sent = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(sent, self._expected):
            raise RestError("UNAUTHENTICATED", "this endpoint needs the run's token")
        if route.permission is Permission.PUBLIC:
            return
        if not self._allowed(route, params):
            raise RestError(
                "PERMISSION_DENIED",
                f"this endpoint serves run {self.run_id} only "
                f"({' '.join(route.methods)} {route.path} is not allowed)",
            )
        if route.path.endswith("/runs/update"):
            params.pop("status", None)  # the runner ends the run it launched
            params.pop("end_time", None)

    def _allowed(self, route: RouteEntry, params: Params) -> bool:
        read = route.permission is Permission.READ
        if route.permission is Permission.MANAGE:
            return False  # no deletes, renames or restores through a run's endpoint
        if route.path.endswith("/logged-models"):  # log_model: a model of this run
            return (
                str(params.get("experiment_id")) == self.experiment_id
                and params.get("source_run_id") == self.run_id
            )
        if route.resource == "logged_model":
            return self._ours(str(params.get("model_id", "")))
        if route.resource == "registered_model" or route.path.endswith(_REGISTRY_WIDE):
            return True  # log_model(registered_model_name=...), models:/ URIs
        if route.resource == "run":
            return (params.get("run_id") or params.get("run_uuid")) == self.run_id and (
                route.permission is not Permission.MANAGE
            )
        if route.resource == "experiment":
            return read and str(params.get("experiment_id")) == self.experiment_id
        if route.resource == "experiment_name":
            return read and params.get("experiment_name") == self.experiment_name
        if route.resource == "experiments":
            ids = params.get("experiment_ids")
            ids = [ids] if isinstance(ids, str) else ids
            return read and [str(i) for i in ids or ()] == [self.experiment_id]
        if route.resource == "artifact":
            parts = str(params.get("path", "")).split("/")
            if parts[:2] == [self.experiment_id, "models"] and len(parts) > 2:
                return self._ours(parts[2])  # a logged model's files
            return parts[:2] == [self.experiment_id, self.run_id]
        return False

    def _ours(self, model_id: str) -> bool:
        return bool(model_id) and self._model_source(model_id) == self.run_id
