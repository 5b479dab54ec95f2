"""Static assets: the UI's own app.js / app.css (in this package) and plotly.min.js, served
from the installed ``plotly`` wheel (a declared dependency): no CDN, no copy in the repo."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

__all__ = ["asset", "favicon"]

_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@lru_cache(maxsize=1)
def _assets() -> dict[str, Path]:
    own = resources.files("satchel.server.ui") / "static"
    found = {p.name: Path(str(p)) for p in own.iterdir() if p.name.endswith((".js", ".css"))}
    plotly = resources.files("plotly") / "package_data" / "plotly.min.js"
    found["plotly.min.js"] = Path(str(plotly))
    return found


async def asset(request: Request) -> Response:
    path = _assets().get(request.path_params["name"])
    if path is None:
        return PlainTextResponse("not found", status_code=404)
    return FileResponse(
        path,
        media_type=_TYPES[path.suffix],
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


async def favicon(request: Request) -> Response:
    """No icon, but no 404 either: a raw artifact opened as a page asks for one."""
    return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})
