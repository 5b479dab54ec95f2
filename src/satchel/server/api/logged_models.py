"""``/api/2.0/mlflow/logged-models...`` and ``runs/outputs``: MLflow 3's logged models.

``mlflow.<flavor>.log_model`` creates a logged model (PENDING), records it as an output of
the run, uploads its files through the artifact proxy under ``<experiment>/models/<model
id>/artifacts/``, then marks it READY; ``register_model`` finds it again by name and source
run. A run's outputs are its logged models (their ``source_run_id``), so ``runs/get``
answers them without another table.
"""

from __future__ import annotations

from typing import Any

from satchel.server.context import ServerContext
from satchel.server.errors import RestError
from satchel.server.params import Params, invalid
from satchel.tracking.serialize import file_info_to_dict, logged_model_to_dict

__all__ = [
    "create",
    "delete",
    "delete_tag",
    "finalize",
    "get",
    "list_artifacts",
    "log_outputs",
    "log_params",
    "run_outputs",
    "search",
    "set_tags",
]

MAX_SEARCH_RESULTS = 1000
_STATUS_NUMBERS = {
    1: "LOGGED_MODEL_PENDING",
    2: "LOGGED_MODEL_READY",
    3: "LOGGED_MODEL_UPLOAD_FAILED",
}


def _model(ctx: ServerContext, model: Any) -> dict[str, Any]:
    return {"model": logged_model_to_dict(model, ctx.public_uri)}


def create(ctx: ServerContext, p: Params) -> dict[str, Any]:
    source_run_id = p.text("source_run_id")
    experiment_id = p.need("experiment_id")
    if source_run_id and ctx.store.get_run(source_run_id).info.experiment_id != experiment_id:
        raise RestError(
            "INVALID_PARAMETER_VALUE",
            f"run {source_run_id} is not in experiment {experiment_id}",
        )
    model = ctx.store.create_logged_model(
        experiment_id,
        p.text("name") or "model",
        source_run_id,
        p.tags(),
        p.tags("params"),
        p.text("model_type"),
    )
    return _model(ctx, model)


def get(ctx: ServerContext, p: Params) -> dict[str, Any]:
    return _model(ctx, ctx.store.get_logged_model(p.need("model_id")))


def finalize(ctx: ServerContext, p: Params) -> dict[str, Any]:
    status = p.get("status")
    if isinstance(status, int) and not isinstance(status, bool):  # the enum's number
        status = _STATUS_NUMBERS.get(status)
    if not isinstance(status, str) or not status:
        raise invalid("status", status, "a logged model status, e.g. LOGGED_MODEL_READY")
    return _model(ctx, ctx.store.finalize_logged_model(p.need("model_id"), status))


def delete(ctx: ServerContext, p: Params) -> dict[str, Any]:
    ctx.store.delete_logged_model(p.need("model_id"))
    return {}


def set_tags(ctx: ServerContext, p: Params) -> dict[str, Any]:
    ctx.store.set_logged_model_tags(p.need("model_id"), p.tags())
    return {}


def delete_tag(ctx: ServerContext, p: Params) -> dict[str, Any]:
    model_id = p.need("model_id")
    ctx.store.get_logged_model(model_id)  # a missing model is 404, a missing tag a no-op
    ctx.store.delete_logged_model_tag(model_id, p.need("tag_key"))
    return {}


def log_params(ctx: ServerContext, p: Params) -> dict[str, Any]:
    ctx.store.log_logged_model_params(p.need("model_id"), p.tags("params"))
    return {}


def search(ctx: ServerContext, p: Params) -> dict[str, Any]:
    max_results = p.integer("max_results", 100)
    assert max_results is not None
    if not 1 <= max_results <= MAX_SEARCH_RESULTS:
        raise invalid("max_results", max_results, f"an integer from 1 to {MAX_SEARCH_RESULTS}")
    page = ctx.store.search_logged_models(
        p.strings("experiment_ids"), p.text("filter"), max_results, p.text("page_token")
    )
    out: dict[str, Any] = {"models": [logged_model_to_dict(m, ctx.public_uri) for m in page]}
    if page.token:
        out["next_page_token"] = page.token
    return out


def list_artifacts(ctx: ServerContext, p: Params) -> dict[str, Any]:
    from satchel.server.context import safe_path_parts

    model_id = p.need("model_id")
    model = ctx.store.get_logged_model(model_id)
    rest = "/".join(safe_path_parts(p.text("artifact_directory_path") or ""))
    files = ctx.logged_model_repository(model_id).list_artifacts(rest or None)
    out: dict[str, Any] = {"root_uri": ctx.public_uri(model.artifact_location)}
    if files:
        out["files"] = [file_info_to_dict(f) for f in files]
    return out


def log_outputs(ctx: ServerContext, p: Params) -> dict[str, Any]:
    """Each model must exist and come from this run (MLflow's client only ever sends those:
    ``log_model`` names the run as the model's source)."""
    run_id = p.run_id()
    ctx.store.get_run(run_id)
    for item in p.items_list("models"):
        if not isinstance(item, dict) or not item.get("model_id"):
            raise invalid("models", item, '{"model_id": ..., "step": ...} objects')
        model = ctx.store.get_logged_model(str(item["model_id"]))
        if model.source_run_id != run_id:
            raise RestError(
                "INVALID_PARAMETER_VALUE",
                f"logged model {model.model_id} was not logged by run {run_id}",
            )
    return {}


def run_outputs(ctx: ServerContext, run_id: str, experiment_id: str) -> dict[str, Any]:
    """``{"model_outputs": [...]}`` for ``runs/get``: the run's logged models."""
    page = ctx.store.search_logged_models(
        [experiment_id], f"source_run_id = '{run_id}'", MAX_SEARCH_RESULTS
    )
    return {"model_outputs": [{"model_id": m.model_id, "step": 0} for m in page]}
