"""The server's authorizer (``create_app(authorizer=...)``): every route's declared permission
checked before its handler runs, so a refused request changes nothing; 401/403/429 answered
in MLflow's error JSON. After a handler: the creator of an experiment or a registered model
gets MANAGE on it, and listings (experiments, registered models, versions, registry history)
keep only what the caller may read.

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

# listings of the registry, kept to the registered models the caller may read
_MODEL_LISTINGS = ("registered_models", "model_versions", "events")


def _experiment_of_run(context: ServerContext) -> Any:
    def lookup(run_id: str) -> str | None:
        from satchel.errors import SatchelError

        try:
            return context.store.get_run(run_id).info.experiment_id
        except SatchelError:
            return None  # no such run: the handler answers 404

    return lookup


def _experiment_of_logged_model(context: ServerContext) -> Any:
    def lookup(model_id: str) -> str | None:
        from satchel.errors import SatchelError

        try:
            return context.store.get_logged_model(model_id).experiment_id
        except SatchelError:
            return None  # no such model: the handler answers 404

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
        self._registry_grants(principal, entry.path, params)
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
        if entry.listing in _MODEL_LISTINGS and entry.listing in result:
            items = result[entry.listing]
            names = self.policy.visible_models(principal, [str(i.get("name")) for i in items])
            return {**result, entry.listing: [i for i in items if str(i.get("name")) in names]}
        return result

    def _registry_grants(self, principal: Principal, path: str, params: Any) -> None:
        """The creator manages a new registered model; a rename moves its grants, a delete
        drops them (a new model of that name starts with none)."""
        auth = self.policy.auth
        if path.endswith("/registered-models/create") and not principal.is_admin:
            auth.grant_model("user:" + principal.username, str(params["name"]), Level.MANAGE)
        elif path.endswith("/registered-models/rename"):
            auth.rename_model_grants(str(params["name"]), str(params["new_name"]))
        elif path.endswith("/registered-models/delete"):
            auth.drop_model_grants(str(params["name"]))


def make_authorizer(context: ServerContext) -> Authorizer:
    auth = AuthStore(context.store)
    policy = Policy(
        auth,
        _experiment_of_run(context),
        _experiment_named(context),
        experiment_of_logged_model=_experiment_of_logged_model(context),
    )
    return Authorizer(context, policy)
