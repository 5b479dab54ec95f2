"""The web UI: server-rendered pages, a little JavaScript, and a JSON twin for every page.

Pages (all GET; READ permission):
    /                                   → the first experiment's runs
    /experiments/{ids}                  runs table; ids "1" or "1,2" (several together);
                                        ?filter=&order=&col=metrics.rmse&col=...&offset=&size=&view=
    /experiments/{ids}/runs.csv         the same table as CSV (every page of it)
    /runs/{run_id}                      run page; /runs/{run_id}/preview?path= (fragment)
    /runs/{run_id}/artifact?path=[&download=1]   the raw artifact, under a sandboxing CSP
    /compare?runs=ID,ID,...             compare page
    (run and compare pages: the chart's settings, ?metric=rmse&metric=mae&x=step|wall|relative
    &smoothing=0.6&log=1, kept in the URL as they change)
JSON twins (GET; READ):
    /ui-api/experiments?q=&deleted=1    /ui-api/experiments/{ids}/runs?<same as the page>
    /ui-api/experiments/{ids}/keys      /ui-api/runs/{run_id}
    /ui-api/runs/{run_id}/artifacts     /ui-api/runs/{run_id}/preview?path=
    /ui-api/runs/{run_id}/metric-ranges (min, max, count of each metric: the run page's)
    /ui-api/metric-history?run=&key=&lo=&hi=&points=      /ui-api/compare?runs=ID,ID
Writes (POST, JSON body, X-Satchel-CSRF header; EDIT permission):
    /ui-api/experiments {"name"}        /ui-api/experiments/{id}/rename {"name"}
    /ui-api/experiments/{id}/delete     /ui-api/experiments/{id}/restore
    /ui-api/runs/delete|restore {"run_ids"}   /ui-api/runs/move {"run_ids", "experiment_id"}
    /ui-api/runs/{run_id}/tags {"key", "value"}   /ui-api/runs/{run_id}/tags/delete {"key"}
    /ui-api/runs/{run_id}/description {"text"}

``routes()`` is the table the server mounts at ``/``; ``create_app`` serves it alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.routing import BaseRoute

__all__ = ["ROUTES", "UiRoute", "create_app", "routes"]

READ, EDIT = "READ", "EDIT"


class UiRoute(NamedTuple):
    method: str
    path: str
    handler: str  # "module.function" under satchel.server.ui
    permission: str  # READ or EDIT
    kind: str  # page | json | write | static


ROUTES: tuple[UiRoute, ...] = (
    UiRoute("GET", "/", "pages.home", READ, "page"),
    UiRoute("GET", "/experiments/{ids}", "pages.experiment_page", READ, "page"),
    UiRoute("GET", "/experiments/{ids}/runs.csv", "pages.runs_csv", READ, "json"),
    UiRoute("GET", "/runs/{run_id}", "pages.run_page", READ, "page"),
    UiRoute("GET", "/runs/{run_id}/preview", "pages.preview_fragment", READ, "page"),
    UiRoute("GET", "/runs/{run_id}/artifact", "pages.artifact_raw", READ, "json"),
    UiRoute("GET", "/compare", "pages.compare_page", READ, "page"),
    UiRoute("GET", "/ui-static/{name}", "static.asset", READ, "static"),
    UiRoute("GET", "/favicon.ico", "static.favicon", READ, "static"),
    UiRoute("GET", "/ui-api/experiments", "api.experiments_json", READ, "json"),
    UiRoute("GET", "/ui-api/experiments/{ids}/runs", "api.runs_json", READ, "json"),
    UiRoute("GET", "/ui-api/experiments/{ids}/keys", "api.keys_json", READ, "json"),
    UiRoute("GET", "/ui-api/runs/{run_id}", "api.run_json", READ, "json"),
    UiRoute("GET", "/ui-api/runs/{run_id}/artifacts", "api.artifacts_json", READ, "json"),
    UiRoute("GET", "/ui-api/runs/{run_id}/metric-ranges", "api.metric_ranges_json", READ, "json"),
    UiRoute("GET", "/ui-api/runs/{run_id}/preview", "api.preview_json", READ, "json"),
    UiRoute("GET", "/ui-api/metric-history", "api.metric_history_json", READ, "json"),
    UiRoute("GET", "/ui-api/compare", "api.compare_json", READ, "json"),
    UiRoute("POST", "/ui-api/experiments", "api.create_experiment", EDIT, "write"),
    UiRoute("POST", "/ui-api/experiments/{id}/rename", "api.rename_experiment", EDIT, "write"),
    UiRoute("POST", "/ui-api/experiments/{id}/delete", "api.delete_experiment", EDIT, "write"),
    UiRoute("POST", "/ui-api/experiments/{id}/restore", "api.restore_experiment", EDIT, "write"),
    UiRoute("POST", "/ui-api/runs/delete", "api.delete_runs", EDIT, "write"),
    UiRoute("POST", "/ui-api/runs/restore", "api.restore_runs", EDIT, "write"),
    UiRoute("POST", "/ui-api/runs/move", "api.move_runs", EDIT, "write"),
    UiRoute("POST", "/ui-api/runs/{run_id}/tags", "api.set_tag", EDIT, "write"),
    UiRoute("POST", "/ui-api/runs/{run_id}/tags/delete", "api.delete_tag", EDIT, "write"),
    UiRoute("POST", "/ui-api/runs/{run_id}/description", "api.set_description", EDIT, "write"),
)


def routes() -> list[BaseRoute]:
    """Starlette routes for ``ROUTES``; each carries its ``permission`` attribute."""
    import importlib

    from starlette.routing import Route

    from satchel.server.ui.web import guarded

    out: list[BaseRoute] = []
    for spec in ROUTES:
        module_name, _, function = spec.handler.partition(".")
        module = importlib.import_module(f"satchel.server.ui.{module_name}")
        handler = getattr(module, function)
        endpoint = (
            handler
            if spec.kind == "static"
            else guarded(handler, write=spec.kind == "write", page=spec.kind == "page")
        )
        route = Route(spec.path, endpoint, methods=[spec.method])
        route.permission = spec.permission  # type: ignore[attr-defined]
        out.append(route)
    return out


def create_app(tracking_uri: str | None = None) -> Starlette:
    """The UI alone over one tracking store (``satchel ui``, tests)."""
    from starlette.applications import Starlette

    from satchel.tracking.client import Client

    app = Starlette(routes=routes())
    app.state.client = Client(tracking_uri)
    return app
