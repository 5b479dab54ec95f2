"""An authorizer that confines a server to one run: the MLflow bridge's per-run endpoint.

Every request must carry the run's token (``Authorization: Bearer``, which MLflow's client
sends from ``MLFLOW_TRACKING_TOKEN``); it may read the run and its experiment and write to
the run and its artifacts, nothing else: no other run, no new run, no server-wide listing.
The runner owns the run's status, so the project's own ``end_run`` (or a failure it reports)
does not end it early: status and end time in its updates are dropped, and the runner sets
them from the process's exit.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request

from satchel.server.errors import RestError
from satchel.server.params import Params
from satchel.server.routes import Permission, RouteEntry

__all__ = ["RunScope"]


class RunScope:
    def __init__(self, run_id: str, experiment_id: str, experiment_name: str, token: str) -> None:
        self.run_id = run_id
        self.experiment_id = experiment_id
        self.experiment_name = experiment_name
        self._expected = f"Bearer {token}".encode()

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
            return parts[:2] == [self.experiment_id, self.run_id] and (
                route.permission is not Permission.MANAGE
            )
        return False
