"""``/api/2.0/mlflow/runs/*`` and ``metrics/get-history``: create, get, update, delete,
restore, search, log-metric, log-parameter, set-tag, delete-tag, log-batch, log-inputs.

Writes are idempotent, because MLflow's client replays a request after a 5xx: a replayed
metric is stored once (the store's unique key), a param logged again with the same value
is a no-op, tags and inputs are upserts.
"""

from __future__ import annotations

from typing import Any

from satchel.errors import InvalidValueError
from satchel.server.api.experiments import view_type
from satchel.server.context import ServerContext
from satchel.server.errors import RestError
from satchel.server.params import Params, invalid
from satchel.tracking.client import now_ms
from satchel.tracking.entities import Metric, Param, RunStatus, RunTag
from satchel.tracking.serialize import metric_to_dict, run_info_to_dict, run_to_dict
from satchel.tracking.validation import refuse_reserved_tags

__all__ = [
    "create",
    "delete",
    "delete_tag",
    "get",
    "log_batch",
    "log_inputs",
    "log_metric",
    "log_param",
    "metric_history",
    "restore",
    "run_status",
    "search",
    "set_tag",
    "update",
]

MAX_SEARCH_RESULTS = 50_000
MAX_HISTORY_PAGE = 25_000
# MLflow's log-batch limits (mlflow/utils/validation.py)
MAX_BATCH_METRICS = 1000
MAX_BATCH_PARAMS_TAGS = 100
MAX_BATCH_ENTITIES = 1000


def _run_json(ctx: ServerContext, run: Any, with_inputs: bool = False) -> dict[str, Any]:
    out = run_to_dict(run, ctx.public_uri)
    if with_inputs:
        from satchel.server.api.logged_models import run_outputs

        inputs = ctx.store.get_run_inputs(run.info.run_id)
        if inputs:
            out["inputs"] = {"dataset_inputs": inputs}
        outputs = run_outputs(ctx, run.info.run_id, run.info.experiment_id)
        if outputs["model_outputs"]:
            out["outputs"] = outputs
    return out


def _key_values(p: Params, name: str) -> list[tuple[str, str]]:
    out = []
    for item in p.items_list(name):
        if not isinstance(item, dict) or "key" not in item:
            raise invalid(name, item, '{"key": ..., "value": ...} objects')
        value = item.get("value")
        out.append((str(item["key"]), "" if value is None else str(value)))
    return out


def run_status(p: Params) -> RunStatus | None:
    value = p.get("status")
    if value in (None, ""):
        return None
    try:
        return RunStatus(str(value))
    except ValueError:
        allowed = ", ".join(s.value for s in RunStatus)
        raise invalid("status", value, f"one of {allowed}") from None


def create(ctx: ServerContext, p: Params) -> dict[str, Any]:
    tags = [RunTag(k, v) for k, v in _key_values(p, "tags")]
    refuse_reserved_tags(t.key for t in tags)
    run = ctx.store.create_run(
        experiment_id=p.text("experiment_id") or "0",
        user_id=p.text("user_id") or "",
        start_time=p.integer("start_time") or now_ms(),
        tags=tags,
        run_name=p.text("run_name"),
    )
    return {"run": _run_json(ctx, run)}


def get(ctx: ServerContext, p: Params) -> dict[str, Any]:
    return {"run": _run_json(ctx, ctx.store.get_run(p.run_id()), with_inputs=True)}


def update(ctx: ServerContext, p: Params) -> dict[str, Any]:
    info = ctx.store.update_run_info(
        p.run_id(),
        status=run_status(p),
        end_time=p.integer("end_time"),
        run_name=p.text("run_name"),
    )
    return {"run_info": run_info_to_dict(info, ctx.public_uri)}


def delete(ctx: ServerContext, p: Params) -> dict[str, Any]:
    ctx.store.delete_run(p.run_id())
    return {}


def restore(ctx: ServerContext, p: Params) -> dict[str, Any]:
    ctx.store.restore_run(p.run_id())
    return {}


def search(ctx: ServerContext, p: Params) -> dict[str, Any]:
    max_results = p.integer("max_results", 1000)
    assert max_results is not None
    if not 1 <= max_results <= MAX_SEARCH_RESULTS:
        raise invalid("max_results", max_results, f"an integer from 1 to {MAX_SEARCH_RESULTS}")
    page = ctx.store.search_runs(
        p.strings("experiment_ids"),
        p.text("filter"),
        view_type(p, "run_view_type"),
        max_results,
        p.strings("order_by") or None,
        p.text("page_token"),
    )
    out: dict[str, Any] = {"runs": [_run_json(ctx, r) for r in page]}
    if page.token:
        out["next_page_token"] = page.token
    return out


def _metric(p: Params) -> Metric:
    return Metric(
        p.need("key"),
        p.number("value"),
        p.integer("timestamp") or now_ms(),
        p.integer("step", 0) or 0,
    )


def log_metric(ctx: ServerContext, p: Params) -> dict[str, Any]:
    ctx.store.log_metric(p.run_id(), _metric(p))
    return {}


def log_param(ctx: ServerContext, p: Params) -> dict[str, Any]:
    value = p.get("value")
    ctx.store.log_batch(
        p.run_id(), params=[Param(p.need("key"), "" if value is None else str(value))]
    )
    return {}


def set_tag(ctx: ServerContext, p: Params) -> dict[str, Any]:
    value = p.get("value")
    key = p.need("key")
    refuse_reserved_tags([key])
    ctx.store.log_batch(p.run_id(), tags=[RunTag(key, "" if value is None else str(value))])
    return {}


def delete_tag(ctx: ServerContext, p: Params) -> dict[str, Any]:
    ctx.store.delete_tag(p.run_id(), p.need("key"))
    return {}


def log_batch(ctx: ServerContext, p: Params) -> dict[str, Any]:
    raw_metrics = p.items_list("metrics")
    params = [Param(k, v) for k, v in _key_values(p, "params")]
    tags = [RunTag(k, v) for k, v in _key_values(p, "tags")]
    refuse_reserved_tags(t.key for t in tags)
    _check_batch_size(len(raw_metrics), len(params) + len(tags))
    metrics = []
    for item in raw_metrics:
        if not isinstance(item, dict):
            raise invalid("metrics", item, "metric objects")
        metrics.append(_metric(Params(item)))
    ctx.store.log_batch(p.run_id(), metrics, params, tags)
    return {}


def _check_batch_size(n_metrics: int, n_params_tags: int) -> None:
    if (
        n_metrics > MAX_BATCH_METRICS
        or n_params_tags > MAX_BATCH_PARAMS_TAGS
        or (n_metrics + n_params_tags > MAX_BATCH_ENTITIES)
    ):
        raise RestError(
            "INVALID_PARAMETER_VALUE",
            f"A batch logging request can contain at most {MAX_BATCH_METRICS} metrics, "
            f"{MAX_BATCH_PARAMS_TAGS} params and tags, and {MAX_BATCH_ENTITIES} entities in "
            f"total; got {n_metrics} metrics and {n_params_tags} params and tags",
        )


def log_inputs(ctx: ServerContext, p: Params) -> dict[str, Any]:
    datasets = p.items_list("datasets")
    if p.items_list("models"):  # a model another run logged, used as this run's input
        raise RestError(
            "NOT_IMPLEMENTED", "logging models as run inputs is not supported by this server"
        )
    ctx.store.log_inputs(p.run_id(), datasets)
    return {}


def metric_history(ctx: ServerContext, p: Params) -> dict[str, Any]:
    max_results = p.integer("max_results", MAX_HISTORY_PAGE)
    assert max_results is not None
    if not 1 <= max_results <= MAX_HISTORY_PAGE:
        raise invalid("max_results", max_results, f"an integer from 1 to {MAX_HISTORY_PAGE}")
    from satchel.tracking.search import decode_page_token, encode_page_token

    try:
        offset = decode_page_token(p.text("page_token"))
    except InvalidValueError:
        raise invalid("page_token", p.get("page_token"), "a token from a previous page") from None
    history = ctx.store.get_metric_history(p.run_id(), p.need("metric_key"))
    page = history[offset : offset + max_results]
    out: dict[str, Any] = {"metrics": [metric_to_dict(m) for m in page]}
    if offset + max_results < len(history):
        out["next_page_token"] = encode_page_token(offset + max_results)
    return out
