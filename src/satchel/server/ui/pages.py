"""HTML pages (server-rendered) and the downloads: the runs table, a run, a comparison, an
artifact preview fragment, the raw artifact, and the table as CSV. Each page's data comes
from the same function as its JSON twin in ``api``."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse

from satchel.cli._output import cell
from satchel.errors import FilterSyntaxError
from satchel.server.ui import charts, previews, tables
from satchel.server.ui.compare import compare_runs
from satchel.server.ui.runview import run_detail
from satchel.server.ui.sidebar import experiments_list
from satchel.server.ui.web import UserInputError, client_of, readable, render

__all__ = [
    "artifact_raw",
    "compare_page",
    "experiment_page",
    "home",
    "preview_fragment",
    "run_page",
    "runs_csv",
]

CSV_LIMIT = 100_000
CSV_FIXED = ("run_id", "name", "experiment_id", "status", "start_time", "end_time", "user",
             "source", "git_commit", "parent_run_id")  # fmt: skip


def experiment_ids(request: Request) -> list[str]:
    ids = [i for i in str(request.path_params["ids"]).split(",") if i]
    if not ids or not all(i.isdigit() for i in ids):
        raise UserInputError(
            f"experiment ids {request.path_params['ids']!r} are not numbers",
            hint="e.g. /experiments/1 or /experiments/1,2",
        )
    return list(dict.fromkeys(ids))


def sidebar(request: Request) -> dict[str, Any]:
    client = client_of(request)
    search = request.query_params.get("q", "")
    deleted = request.query_params.get("deleted") == "1"
    return {
        "sidebar_experiments": readable(request, experiments_list(client, search, deleted)),
        "sidebar_search": search,
        "sidebar_deleted": deleted,
    }


def home(request: Request) -> Response:
    found = readable(request, experiments_list(client_of(request)))
    target = found[0].experiment_id if found else "0"
    return RedirectResponse(f"/experiments/{target}", status_code=302)


def experiment_page(request: Request) -> Response:
    client = client_of(request)
    ids = experiment_ids(request)
    experiments = [client.get_experiment(i) for i in ids]
    query = tables.parse_query(ids, request.query_params)
    keys = client.run_keys(ids)
    error = None
    page: dict[str, Any] = {"rows": [], "next_offset": None}
    try:
        page = tables.runs_page(client, query)
    except FilterSyntaxError as exc:
        error = tables.filter_error(exc, query)
    return render(
        request,
        "experiment.html",
        experiments=experiments,
        query=query,
        table=page,
        keys=keys,
        error=error,
        fixed=tables.FIXED,
        all_experiments=readable(request, experiments_list(client)),
        page={
            "kind": "experiment",
            "experiment_ids": ids,
            "columns": [c.name for c in query.columns],
            "has_cols": bool(request.query_params.getlist("col")),
        },
        **sidebar(request),
    )


def runs_csv(request: Request) -> Response:
    client = client_of(request)
    query = tables.parse_query(experiment_ids(request), request.query_params)
    first = tables.runs_page(client, replace(query, size=1))
    del first  # a bad filter fails here, as a 400, before the download starts

    def lines() -> Any:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        names = [c.name for c in query.columns]
        writer.writerow([*CSV_FIXED, *names])
        offset, size = query.offset, tables.MAX_PAGE
        while offset < query.offset + CSV_LIMIT:
            page = tables.runs_page(client, replace(query, offset=offset, size=size))
            for r in page["rows"]:
                source = r["source"]
                fixed = [r[k] for k in CSV_FIXED[:7]]
                extra = [source["name"], source["commit"], r["parent_run_id"] or ""]
                writer.writerow([*fixed, *extra, *(cell(r["values"][n]) for n in names)])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if page["next_offset"] is None:
                break
            offset = page["next_offset"]

    name = "runs-" + "-".join(query.experiment_ids) + ".csv"
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def run_page(request: Request) -> Response:
    client = client_of(request)
    detail = run_detail(client, request.path_params["run_id"], ranges=False)
    texts = {}
    for name in ("diff", "untracked", "lock", "build_log", "console"):
        path = detail["files"][name]
        texts[name] = previews.preview(client, detail["info"]["run_id"], path) if path else None
    chart = charts.chart_view(request.query_params, [m["key"] for m in detail["metric_summaries"]])
    first_chart = None
    if chart.metrics:
        first_chart = charts.history_url([detail["info"]["run_id"]], list(chart.metrics))
    return render(
        request,
        "run.html",
        run=detail,
        chart=chart,
        first_chart=first_chart,
        texts=texts,
        tree=previews.artifact_tree(client, detail["info"]["run_id"]),
        page={
            "kind": "run",
            "run_id": detail["info"]["run_id"],
            "metrics": [m["key"] for m in detail["metric_summaries"]],
            "points": charts.DEFAULT_POINTS,
        },
        **sidebar(request),
    )


def preview_fragment(request: Request) -> Response:
    run_id = request.path_params["run_id"]
    found = previews.preview(client_of(request), run_id, request.query_params.get("path", ""))
    return render(request, "preview.html", run_id=run_id, preview=found)


def artifact_raw(request: Request) -> Response:
    client = client_of(request)
    run_id, path = request.path_params["run_id"], request.query_params.get("path", "")
    with previews.local_artifact(client, run_id, path) as local:
        data = local.read_bytes() if not client_is_local(client, run_id) else None
        headers = {
            "Content-Security-Policy": previews.RAW_CSP,
            "X-Content-Type-Options": "nosniff",
            "Cross-Origin-Resource-Policy": "same-origin",
        }
        name = path.rpartition("/")[2]
        if request.query_params.get("download") == "1":
            headers["Content-Disposition"] = _attachment(name)
        if data is not None:
            return Response(data, media_type=previews.media_type(path), headers=headers)
        return FileResponse(local, media_type=previews.media_type(path), headers=headers)


def client_is_local(client: Any, run_id: str) -> bool:
    return getattr(client._repo(run_id), "local_path", None) is not None


def _attachment(name: str) -> str:
    from urllib.parse import quote

    ascii_name = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name) or "artifact"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def compare_page(request: Request) -> Response:
    ids = [i for i in request.query_params.get("runs", "").split(",") if i]
    data = compare_runs(client_of(request), ids)
    return render(
        request,
        "compare.html",
        compare=data,
        chart=charts.chart_view(request.query_params, data["metrics"]),
        page={
            "kind": "compare",
            "run_ids": [r["run_id"] for r in data["runs"]],
            "compare": data,
            "points": charts.DEFAULT_POINTS,
        },
        **sidebar(request),
    )
