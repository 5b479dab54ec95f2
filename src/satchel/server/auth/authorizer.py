"""The server's authorizer (``create_app(authorizer=...)``): every route's declared permission
checked before its handler runs, so a refused request changes nothing; 401/403/429 answered
in MLflow's error JSON. After a handler: the creator of an experiment gets MANAGE on it, and
experiment listings keep only what the caller may read.

What the caller sent is never put in a message or a log line: refusals say what was wrong
(missing, invalid, not allowed), not what was presented.
"""

from __future__ import annotations

from typing import Any

from satchel.server.auth.policy import AuthError, Policy
from satchel.server.auth.store import AuthStore, Level, Principal
from satchel.server.context import ServerContext
from satchel.server.errors import RestError

__all__ = ["Authorizer", "make_authorizer"]


def _experiment_of_run(context: ServerContext) -> Any:
    def lookup(run_id: str) -> str | None:
        from satchel.errors import SatchelError

        try:
            return context.store.get_run(run_id).info.experiment_id
        except SatchelError:
            return None  # no such run: the handler answers 404

    return lookup


def _experiment_named(context: ServerContext) -> Any:
    def lookup(name: str) -> str | None:
        found = context.store.get_experiment_by_name(name)
        return found.experiment_id if found else None

    return lookup


class Authorizer:
    """Decides every route of the routes table (the REST API and the web UI alike)."""

    def __init__(self, context: ServerContext, policy: Policy) -> None:
        self.context = context
        self.policy = policy

    def __call__(self, request: Any, entry: Any, params: Any) -> None:
        if entry.permission.value == "PUBLIC":
            return
        address = request.client.host if request.client else ""
        try:
            principal = self.policy.authenticate(request.headers.get("authorization"), address)
            self.policy.authorize(principal, entry.permission.value, entry.resource, params)
        except AuthError as exc:
            raise RestError(exc.error_code, exc.message) from None
        request.state.principal = principal

    # -- after the handler: what both faces share ------------------------------------------
    def readable(self, request: Any, experiment_ids: list[str]) -> set[str]:
        """The experiments among ``experiment_ids`` the request's caller may read."""
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is None:
            return set()  # never authorized: nothing is readable
        return self.policy.visible(principal, experiment_ids)

    def created(self, request: Any, experiment_id: str) -> None:
        """The creator of an experiment manages it."""
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is not None and not principal.is_admin:
            self.policy.auth.grant("user:" + principal.username, int(experiment_id), Level.MANAGE)

    def after(self, request: Any, entry: Any, params: Any, result: dict[str, Any]) -> dict:
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is None:
            return result
        if entry.path.endswith("/experiments/create"):
            self.created(request, str(result["experiment_id"]))
        if entry.listing == "experiments" and "experiments" in result:
            items = result["experiments"]
            visible = self.readable(request, [str(e.get("experiment_id")) for e in items])
            return {**result, "experiments": [
                e for e in items if str(e.get("experiment_id")) in visible
            ]}  # fmt: skip
        if entry.listing == "runs" and "runs" in result:
            items = result["runs"]
            runs = self.policy.readable_runs(principal, [str(r.get("run_id")) for r in items])
            return {**result, "runs": [r for r in items if str(r.get("run_id")) in runs]}
        if entry.listing == "run_ids" and "run_ids" in result:
            runs = self.policy.readable_runs(principal, [str(r) for r in result["run_ids"]])
            return {**result, "run_ids": [r for r in result["run_ids"] if r in runs]}
        return result


def make_authorizer(context: ServerContext) -> Authorizer:
    auth = AuthStore(context.store)
    return Authorizer(
        context, Policy(auth, _experiment_of_run(context), _experiment_named(context))
    )
