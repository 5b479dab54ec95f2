"""``/api/2.0/mlflow/registered-models/*`` and ``model-versions/*``: MLflow's model registry,
plus ``/api/2.0/satchel/registry/history`` (who changed what, which MLflow does not keep).

Every change is recorded with its author (``Params.caller``). A version's ``source`` is
stored as the server sees it (``ServerContext.stored_source``: never a path outside the
artifact root) and shown as clients see it (``mlflow-artifacts:/...``).
"""

from __future__ import annotations

from typing import Any

from satchel.server.context import ServerContext
from satchel.server.params import Params, invalid
from satchel.tracking.serialize import (
    model_version_to_dict,
    registered_model_to_dict,
    registry_event_to_dict,
)

__all__ = [
    "create_model",
    "create_version",
    "delete_alias",
    "delete_model",
    "delete_model_tag",
    "delete_version",
    "delete_version_tag",
    "download_uri",
    "get_by_alias",
    "get_model",
    "get_version",
    "history",
    "latest_versions",
    "rename_model",
    "search_models",
    "search_versions",
    "set_alias",
    "set_model_tag",
    "set_version_tag",
    "transition_stage",
    "update_model",
    "update_version",
]

MAX_MODELS = 1000  # MLflow's search thresholds
MAX_VERSIONS = 200_000


def _model(ctx: ServerContext, rm: Any) -> dict[str, Any]:
    return {"registered_model": registered_model_to_dict(rm, ctx.public_uri)}


def _version(ctx: ServerContext, mv: Any) -> dict[str, Any]:
    return {"model_version": model_version_to_dict(mv, ctx.public_uri)}


def _max_results(p: Params, default: int, limit: int) -> int:
    value = p.integer("max_results", default)
    assert value is not None
    if not 1 <= value <= limit:
        raise invalid("max_results", value, f"an integer from 1 to {limit}")
    return value


# -- registered models ---------------------------------------------------------------------
def create_model(ctx: ServerContext, p: Params) -> dict[str, Any]:
    rm = ctx.store.create_registered_model(
        p.need("name"), p.tags(), p.text("description"), p.caller
    )
    return _model(ctx, rm)


def get_model(ctx: ServerContext, p: Params) -> dict[str, Any]:
    return _model(ctx, ctx.store.get_registered_model(p.need("name")))


def search_models(ctx: ServerContext, p: Params) -> dict[str, Any]:
    page = ctx.store.search_registered_models(
        p.text("filter"),
        _max_results(p, 100, MAX_MODELS),
        p.strings("order_by") or None,
        p.text("page_token"),
    )
    out: dict[str, Any] = {
        "registered_models": [registered_model_to_dict(rm, ctx.public_uri) for rm in page]
    }
    if page.token:
        out["next_page_token"] = page.token
    return out


def rename_model(ctx: ServerContext, p: Params) -> dict[str, Any]:
    return _model(
        ctx, ctx.store.rename_registered_model(p.need("name"), p.need("new_name"), p.caller)
    )


def update_model(ctx: ServerContext, p: Params) -> dict[str, Any]:
    description = p.text("description") or ""
    return _model(ctx, ctx.store.update_registered_model(p.need("name"), description, p.caller))


def delete_model(ctx: ServerContext, p: Params) -> dict[str, Any]:
    ctx.store.delete_registered_model(p.need("name"), p.caller)
    return {}


def set_model_tag(ctx: ServerContext, p: Params) -> dict[str, Any]:
    value = p.text("value") or ""
    ctx.store.set_registered_model_tag(p.need("name"), p.need("key"), value, p.caller)
    return {}


def delete_model_tag(ctx: ServerContext, p: Params) -> dict[str, Any]:
    ctx.store.delete_registered_model_tag(p.need("name"), p.need("key"), p.caller)
    return {}


# -- aliases and stages ----------------------------------------------------------------------
def set_alias(ctx: ServerContext, p: Params) -> dict[str, Any]:
    ctx.store.set_registered_model_alias(
        p.need("name"), p.need("alias"), p.need("version"), p.caller
    )
    return {}


def delete_alias(ctx: ServerContext, p: Params) -> dict[str, Any]:
    ctx.store.delete_registered_model_alias(p.need("name"), p.need("alias"), p.caller)
    return {}


def get_by_alias(ctx: ServerContext, p: Params) -> dict[str, Any]:
    """A missing alias is 400 INVALID_PARAMETER_VALUE, as MLflow answers (not 404)."""
    return _version(ctx, ctx.store.get_model_version_by_alias(p.need("name"), p.need("alias")))


def latest_versions(ctx: ServerContext, p: Params) -> dict[str, Any]:
    found = ctx.store.get_latest_versions(p.need("name"), p.strings("stages") or None)
    return {"model_versions": [model_version_to_dict(mv, ctx.public_uri) for mv in found]}


def transition_stage(ctx: ServerContext, p: Params) -> dict[str, Any]:
    mv = ctx.store.transition_model_version_stage(
        p.need("name"),
        p.need("version"),
        p.need("stage"),
        p.boolean("archive_existing_versions"),
        p.caller,
    )
    return _version(ctx, mv)


# -- versions --------------------------------------------------------------------------------
def create_version(ctx: ServerContext, p: Params) -> dict[str, Any]:
    """A version of a logged model (``models:/m-...``) knows the run that logged it even
    when the client leaves ``run_id`` out (MLflow 3's ``log_model(registered_model_name=)``)."""
    source = ctx.stored_source(p.need("source"))
    run_id, model_id = p.text("run_id"), p.text("model_id")
    if not model_id and source.startswith("models:/m-"):
        model_id = source[len("models:/") :].strip("/")
    if model_id and not run_id:
        run_id = ctx.store.get_logged_model(model_id).source_run_id
    mv = ctx.store.create_model_version(
        p.need("name"),
        source,
        run_id,
        p.tags(),
        p.text("run_link"),
        p.text("description"),
        model_id,
        p.caller,
    )
    return _version(ctx, mv)


def get_version(ctx: ServerContext, p: Params) -> dict[str, Any]:
    return _version(ctx, ctx.store.get_model_version(p.need("name"), p.need("version")))


def search_versions(ctx: ServerContext, p: Params) -> dict[str, Any]:
    page = ctx.store.search_model_versions(
        p.text("filter"),
        _max_results(p, 10_000, MAX_VERSIONS),
        p.strings("order_by") or None,
        p.text("page_token"),
    )
    out: dict[str, Any] = {
        "model_versions": [model_version_to_dict(mv, ctx.public_uri) for mv in page]
    }
    if page.token:
        out["next_page_token"] = page.token
    return out


def update_version(ctx: ServerContext, p: Params) -> dict[str, Any]:
    description = p.text("description") or ""
    mv = ctx.store.update_model_version(p.need("name"), p.need("version"), description, p.caller)
    return _version(ctx, mv)


def delete_version(ctx: ServerContext, p: Params) -> dict[str, Any]:
    ctx.store.delete_model_version(p.need("name"), p.need("version"), p.caller)
    return {}


def set_version_tag(ctx: ServerContext, p: Params) -> dict[str, Any]:
    ctx.store.set_model_version_tag(
        p.need("name"), p.need("version"), p.need("key"), p.text("value") or "", p.caller
    )
    return {}


def delete_version_tag(ctx: ServerContext, p: Params) -> dict[str, Any]:
    ctx.store.delete_model_version_tag(p.need("name"), p.need("version"), p.need("key"), p.caller)
    return {}


def download_uri(ctx: ServerContext, p: Params) -> dict[str, Any]:
    """Where the version's files are, as the client reaches them: a logged model's or a
    run's artifacts through the proxy."""
    mv = ctx.store.get_model_version(p.need("name"), p.need("version"))
    source = mv.source
    if source.startswith("models:/"):
        source = ctx.store.get_logged_model(source[len("models:/") :].strip("/")).artifact_location
    elif source.startswith("runs:/"):
        from satchel.models.uri import parse_runs_uri

        run_id, path = parse_runs_uri(source)
        source = f"{ctx.store.get_run(run_id).info.artifact_uri.rstrip('/')}/{path}"
    return {"artifact_uri": ctx.public_uri(source)}


def history(ctx: ServerContext, p: Params) -> dict[str, Any]:
    events = ctx.store.get_registry_history(p.text("name"), _max_results(p, 1000, 100_000))
    return {"events": [registry_event_to_dict(e) for e in events]}
