"""The JSON twins of the pages (``/ui-api/...``) and the UI's writes.

Reads return exactly the data the matching page renders. Writes take a JSON body, need the
CSRF header (see ``web``), call one Client method per run or experiment, and answer
``{"ok": true, ...}``; a user mistake answers ``{"error": {"message", "hint"}}``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from satchel.errors import FilterSyntaxError
from satchel.server.ui import charts, previews, tables
from satchel.server.ui.compare import compare_runs
from satchel.server.ui.pages import experiment_ids
from satchel.server.ui.runview import DESCRIPTION_TAG, metric_ranges_dict, run_detail
from satchel.server.ui.sidebar import experiments_list
from satchel.server.ui.web import UserInputError, client_of, created, json_response, readable
from satchel.tracking.serialize import experiment_to_dict

MAX_BATCH = 1000


# -- reads ------------------------------------------------------------------------------
def experiments_json(request: Request) -> Response:
    args = request.query_params
    found = experiments_list(client_of(request), args.get("q", ""), args.get("deleted") == "1")
    found = readable(request, found)
    return json_response({"experiments": [experiment_to_dict(e) for e in found]})


def runs_json(request: Request) -> Response:
    query = tables.parse_query(experiment_ids(request), request.query_params)
    try:
        return json_response(tables.runs_page(client_of(request), query))
    except FilterSyntaxError as exc:
        return json_response({"error": tables.filter_error(exc, query)}, 400)


def keys_json(request: Request) -> Response:
    return json_response(client_of(request).run_keys(experiment_ids(request)))


def run_json(request: Request) -> Response:
    return json_response(run_detail(client_of(request), request.path_params["run_id"]))


def metric_ranges_json(request: Request) -> Response:
    run_id = request.path_params["run_id"]
    return json_response({"ranges": metric_ranges_dict(client_of(request), run_id)})


def artifacts_json(request: Request) -> Response:
    tree = previews.artifact_tree(client_of(request), request.path_params["run_id"])
    return json_response({"artifacts": tree})


def preview_json(request: Request) -> Response:
    run_id, path = request.path_params["run_id"], request.query_params.get("path", "")
    return json_response(previews.preview(client_of(request), run_id, path))


def metric_history_json(request: Request) -> Response:
    return json_response(charts.series(client_of(request), request.query_params))


def compare_json(request: Request) -> Response:
    ids = [i for i in request.query_params.get("runs", "").split(",") if i]
    return json_response(compare_runs(client_of(request), ids))


# -- writes -----------------------------------------------------------------------------
def _text(body: dict[str, Any], name: str, allow_empty: bool = False) -> str:
    value = body.get(name)
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise UserInputError(f"{name!r} must be a non-empty string", hint=f'send {{"{name}": ...}}')
    return value


def _run_ids(body: dict[str, Any]) -> list[str]:
    ids = body.get("run_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise UserInputError("'run_ids' must be a non-empty list", hint="select some runs")
    if len(ids) > MAX_BATCH:
        raise UserInputError(f"{len(ids)} runs in one request", hint=f"at most {MAX_BATCH}")
    return ids


def create_experiment(request: Request, body: dict[str, Any]) -> Response:
    exp_id = client_of(request).create_experiment(_text(body, "name").strip())
    created(request, exp_id)
    return json_response({"ok": True, "experiment_id": exp_id})


def rename_experiment(request: Request, body: dict[str, Any]) -> Response:
    client_of(request).rename_experiment(request.path_params["id"], _text(body, "name").strip())
    return json_response({"ok": True})


def delete_experiment(request: Request, body: dict[str, Any]) -> Response:
    client_of(request).delete_experiment(request.path_params["id"])
    return json_response({"ok": True})


def restore_experiment(request: Request, body: dict[str, Any]) -> Response:
    client_of(request).restore_experiment(request.path_params["id"])
    return json_response({"ok": True})


def delete_runs(request: Request, body: dict[str, Any]) -> Response:
    client = client_of(request)
    for run_id in _run_ids(body):
        client.delete_run(run_id)
    return json_response({"ok": True})


def restore_runs(request: Request, body: dict[str, Any]) -> Response:
    client = client_of(request)
    for run_id in _run_ids(body):
        client.restore_run(run_id)
    return json_response({"ok": True})


def move_runs(request: Request, body: dict[str, Any]) -> Response:
    client = client_of(request)
    target = _text(body, "experiment_id")
    client.get_experiment(target)  # a wrong target fails before any run moves
    for run_id in _run_ids(body):
        client.move_run(run_id, target)
    return json_response({"ok": True, "experiment_id": target})


def set_tag(request: Request, body: dict[str, Any]) -> Response:
    key = _text(body, "key").strip()
    value = _text(body, "value", allow_empty=True)
    client_of(request).set_tag(request.path_params["run_id"], key, value)
    return json_response({"ok": True})


def delete_tag(request: Request, body: dict[str, Any]) -> Response:
    client_of(request).delete_tag(request.path_params["run_id"], _text(body, "key"))
    return json_response({"ok": True})


def set_description(request: Request, body: dict[str, Any]) -> Response:
    text = _text(body, "text", allow_empty=True)
    client_of(request).set_tag(request.path_params["run_id"], DESCRIPTION_TAG, text)
    return json_response({"ok": True})
