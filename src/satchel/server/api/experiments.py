"""``/api/2.0/mlflow/experiments/*``: create, get, get-by-name, search, update, delete,
restore, set-experiment-tag, delete-experiment-tag."""

from __future__ import annotations

from typing import Any

from satchel.server.context import ServerContext
from satchel.server.errors import RestError
from satchel.server.params import Params, invalid
from satchel.tracking.entities import ViewType
from satchel.tracking.serialize import experiment_to_dict
from satchel.tracking.validation import refuse_reserved_tags

__all__ = [
    "create",
    "delete",
    "delete_tag",
    "get",
    "get_by_name",
    "restore",
    "search",
    "set_tag",
    "update",
]

MAX_SEARCH_RESULTS = 50_000
_VIEWS = {"ACTIVE_ONLY": ViewType.ACTIVE_ONLY, "DELETED_ONLY": ViewType.DELETED_ONLY}
_VIEWS["ALL"] = ViewType.ALL


def view_type(p: Params, name: str) -> ViewType:
    value = p.get(name) or "ACTIVE_ONLY"
    if isinstance(value, int) and not isinstance(value, bool):
        value = {1: "ACTIVE_ONLY", 2: "DELETED_ONLY", 3: "ALL"}.get(value, value)
    if value not in _VIEWS:
        raise invalid(name, value, "one of ACTIVE_ONLY, DELETED_ONLY, ALL")
    return _VIEWS[value]


def _tags(p: Params) -> dict[str, str]:
    tags = p.tags()
    refuse_reserved_tags(tags)
    return tags


def create(ctx: ServerContext, p: Params) -> dict[str, Any]:
    name = p.need("name")
    if p.get("artifact_location"):
        # never a client-chosen server path or URL (MLflow's SSRF / path traversal history)
        raise RestError(
            "INVALID_PARAMETER_VALUE",
            "artifact_location cannot be set through this server: it keeps every experiment's "
            "artifacts under its --artifacts-destination",
        )
    return {"experiment_id": ctx.store.create_experiment(name, None, _tags(p))}


def _shown(ctx: ServerContext, experiment: Any) -> dict[str, Any]:
    return experiment_to_dict(experiment, ctx.public_uri)


def get(ctx: ServerContext, p: Params) -> dict[str, Any]:
    return {"experiment": _shown(ctx, ctx.store.get_experiment(p.need("experiment_id")))}


def get_by_name(ctx: ServerContext, p: Params) -> dict[str, Any]:
    name = p.need("experiment_name")
    experiment = ctx.store.get_experiment_by_name(name)
    if experiment is None:
        raise RestError("RESOURCE_DOES_NOT_EXIST", f"Could not find experiment with name '{name}'")
    return {"experiment": _shown(ctx, experiment)}


def search(ctx: ServerContext, p: Params) -> dict[str, Any]:
    max_results = p.integer("max_results", 1000)
    assert max_results is not None
    if not 1 <= max_results <= MAX_SEARCH_RESULTS:
        raise invalid("max_results", max_results, f"an integer from 1 to {MAX_SEARCH_RESULTS}")
    page = ctx.store.search_experiments(
        view_type(p, "view_type"),
        max_results,
        p.text("filter"),
        p.strings("order_by") or None,
        p.text("page_token"),
    )
    out: dict[str, Any] = {"experiments": [_shown(ctx, e) for e in page]}
    if page.token:
        out["next_page_token"] = page.token
    return out


def update(ctx: ServerContext, p: Params) -> dict[str, Any]:
    new_name = p.text("new_name")
    if new_name:
        ctx.store.rename_experiment(p.need("experiment_id"), new_name)
    return {}


def delete(ctx: ServerContext, p: Params) -> dict[str, Any]:
    ctx.store.delete_experiment(p.need("experiment_id"))
    return {}


def restore(ctx: ServerContext, p: Params) -> dict[str, Any]:
    ctx.store.restore_experiment(p.need("experiment_id"))
    return {}


def set_tag(ctx: ServerContext, p: Params) -> dict[str, Any]:
    value, key = p.get("value"), p.need("key")
    refuse_reserved_tags([key])
    ctx.store.set_experiment_tag(p.need("experiment_id"), key, str(value or ""))
    return {}


def delete_tag(ctx: ServerContext, p: Params) -> dict[str, Any]:
    ctx.store.delete_experiment_tag(p.need("experiment_id"), p.need("key"))
    return {}
