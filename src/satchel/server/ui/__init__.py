"""The web UI: server-rendered pages, a little JavaScript, and a JSON twin for every page.

Pages (all GET; READ on the experiments or runs they show):
    /                                   → the first experiment's runs
    /experiments/{ids}                  runs table; ids "1" or "1,2" (several together);
                                        ?filter=&order=&col=metrics.rmse&col=...&offset=&size=&view=
    /experiments/{ids}/runs.csv         the same table as CSV (every page of it)
    /runs/{run_id}                      run page; /runs/{run_id}/preview?path= (fragment)
    /runs/{run_id}/artifact?path=[&download=1]   the raw artifact, under a sandboxing CSP
    /compare?runs=ID,ID,...             compare page
    (run and compare pages: the chart's settings, ?metric=rmse&metric=mae&x=step|wall|relative
    &smoothing=0.6&log=1, kept in the URL as they change)
JSON twins (GET; READ likewise):
    /ui-api/experiments?q=&deleted=1    /ui-api/experiments/{ids}/runs?<same as the page>
    /ui-api/experiments/{ids}/keys      /ui-api/runs/{run_id}
    /ui-api/runs/{run_id}/artifacts     /ui-api/runs/{run_id}/preview?path=
    /ui-api/runs/{run_id}/metric-ranges (min, max, count of each metric: the run page's)
    /ui-api/metric-history?run=&key=&lo=&hi=&points=      /ui-api/compare?runs=ID,ID
Writes (POST, JSON body, X-Satchel-CSRF header; EDIT to create an experiment or change a
run's tags, MANAGE on what is renamed, deleted, restored or moved):
    /ui-api/experiments {"name"}        /ui-api/experiments/{id}/rename {"name"}
    /ui-api/experiments/{id}/delete     /ui-api/experiments/{id}/restore
    /ui-api/runs/delete|restore {"run_ids"}   /ui-api/runs/move {"run_ids", "experiment_id"}
    /ui-api/runs/{run_id}/tags {"key", "value"}   /ui-api/runs/{run_id}/tags/delete {"key"}
    /ui-api/runs/{run_id}/description {"text"}

The routes, with the permission each needs and what it acts on, are ``UI_ROUTES`` in the
server's one routes table (``satchel.server.routes``); ``mount`` serves them through the
same authorizer as the REST API; ``create_app`` serves them alone (``satchel ui``: one
person's store on loopback, no authorizer).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.routing import BaseRoute

    from satchel.server.routes import RouteEntry

__all__ = ["create_app", "mount"]


def mount(entries: Sequence[RouteEntry], authorizer: Any = None) -> list[BaseRoute]:
    """Starlette routes for the UI's entries of the routes table; with an ``authorizer``
    (``create_app(authorizer=...)``) every request passes it first, as API requests do."""
    import importlib

    from starlette.routing import Route

    from satchel.server.ui.web import guarded

    out: list[BaseRoute] = []
    for entry in entries:
        assert isinstance(entry.handler, str), entry.path
        module_name, _, function = entry.handler.partition(".")
        module = importlib.import_module(f"satchel.server.ui.{module_name}")
        handler = getattr(module, function)
        endpoint = handler if entry.kind == "static" else guarded(handler, entry, authorizer)
        out.append(Route(entry.path, endpoint, methods=list(entry.methods)))
    return out


def create_app(tracking_uri: str | None = None) -> Starlette:
    """The UI alone over one tracking store (``satchel ui``, tests)."""
    from starlette.applications import Starlette

    from satchel.server.routes import UI_ROUTES
    from satchel.tracking.client import Client

    app = Starlette(routes=mount(UI_ROUTES))
    app.state.client = Client(tracking_uri)
    return app
