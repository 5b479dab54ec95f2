"""``create_app``: the Starlette application serving the routes table.

Every request passes, in order: the Host/Origin check (DNS rebinding, cross-site POSTs), the
body size limit, the optional authorizer (the route's declared permission), then its
handler. Failures answer MLflow's error JSON; our own bugs answer a short 500 and log the
traceback on the server. The web UI (``satchel.server.ui.routes()``), when installed, is
mounted after the API routes.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from satchel.errors import SatchelError
from satchel.server.context import ServerContext
from satchel.server.errors import RestError, error_body, from_satchel_error, refusal
from satchel.server.params import Params
from satchel.server.routes import ROUTES, RouteEntry

__all__ = ["LOOPBACK_HOSTS", "USER_HINT", "Authorizer", "HostCheck", "create_app", "open_context"]

log = logging.getLogger("satchel.server")

MAX_JSON_BODY = 16 * 1024 * 1024  # log-batch's own limits keep real requests far below
MAX_UPLOAD = 4 * 1024**3  # one artifact file
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
# Satchel's client names its local user in registry writes (the history's "who"); a server
# with sign-in records the authenticated user instead
USER_HINT = "satchel_user"

# (request, route, params) -> None, or raises RestError (UNAUTHENTICATED, PERMISSION_DENIED)
Authorizer = Callable[[Request, RouteEntry, Params], None]


def open_context(
    backend_store_uri: str | None = None, artifacts_destination: str | None = None
) -> ServerContext:
    """The store and artifact root a server works on (the embedded default when None)."""
    from satchel.tracking.store import get_store
    from satchel.tracking.uri import resolve_tracking_uri

    uri = resolve_tracking_uri(backend_store_uri)
    root = os.path.abspath(artifacts_destination) if artifacts_destination else None
    store = get_store(uri, artifact_root=root)
    return ServerContext(store, root or store.artifact_root, uri)


def create_app(
    backend_store_uri: str | None = None,
    artifacts_destination: str | None = None,
    *,
    context: ServerContext | None = None,
    authorizer: Authorizer | None = None,
    allowed_hosts: Iterable[str] | None = LOOPBACK_HOSTS,
    routes: Sequence[RouteEntry] = ROUTES,
    extra_routes: Sequence[BaseRoute] = (),
    max_upload: int = MAX_UPLOAD,
    ui: bool = True,
) -> ASGIApp:
    """The server's ASGI app. ``allowed_hosts=None`` accepts any Host header (a server bound
    to a public interface, behind its own name); by default only loopback names pass. A
    browser's cross-site request (its Origin is not the Host) is refused either way.
    ``ui=False``: no web UI (the MLflow bridge's per-run endpoint)."""
    ctx = context or open_context(backend_store_uri, artifacts_destination)
    table: list[BaseRoute] = [
        Route(e.path, _endpoint(ctx, e, authorizer, max_upload), methods=list(e.methods))
        for e in routes
        if not e.is_ui
    ]
    table += extra_routes
    if ui:
        from satchel.server.ui import mount

        table += mount([e for e in routes if e.is_ui], authorizer)
    app = Starlette(
        routes=table,
        exception_handlers={404: _not_found, 405: _not_allowed},
    )
    app.state.context = ctx
    return HostCheck(app, None if allowed_hosts is None else frozenset(allowed_hosts))


def _endpoint(
    ctx: ServerContext, entry: RouteEntry, authorizer: Authorizer | None, max_upload: int
) -> Callable[[Request], Any]:
    handler = entry.handler
    assert callable(handler), entry.path  # API handlers are functions; UI ones are mounted

    async def endpoint(request: Request) -> Response:
        try:
            params = await _params(request)
            params.update(request.path_params)  # /logged-models/{model_id}: part of the path
            if entry.kind == "raw":
                path = request.path_params.get("path", "")
                params["path"] = path
                if authorizer is not None:
                    await run_in_threadpool(authorizer, request, entry, params)
                response: Response = await handler(ctx, request, path, max_upload)
                return response
            result = await run_in_threadpool(_call, ctx, entry, authorizer, request, params)
            return _json(result)
        except RestError as exc:
            return refusal(exc, _json(error_body(exc), exc.status))
        except SatchelError as exc:
            error = from_satchel_error(exc)
            return _json(error_body(error), error.status)
        except Exception:
            log.exception("error in %s %s", request.method, request.url.path)
            return _json({"error_code": "INTERNAL_ERROR", "message": "internal server error"}, 500)

    return endpoint


def _call(
    ctx: ServerContext,
    entry: RouteEntry,
    authorizer: Authorizer | None,
    request: Request,
    params: Params,
) -> dict[str, Any]:
    if authorizer is not None:
        authorizer(request, entry, params)
    assert callable(entry.handler)
    principal = getattr(request.state, "principal", None)
    hint = params.pop(USER_HINT, None)  # who the client says it is: only without sign-in
    params.caller = principal.username if principal is not None else str(hint or "")
    result: dict[str, Any] = entry.handler(ctx, params)
    after = getattr(authorizer, "after", None)  # e.g. the creator's grant, filtered listings
    if after is not None:
        result = after(request, entry, params, result)
    return result


async def _params(request: Request) -> Params:
    params = Params()
    for key, value in request.query_params.multi_items():
        if key in params:
            previous = params[key]
            params[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            params[key] = value
    if request.method in ("GET", "HEAD", "PUT"):
        return params  # PUT carries artifact bytes, not JSON
    body = await _read_body(request)
    if body.strip():
        try:
            data = json.loads(body)
        except ValueError:
            raise RestError("BAD_REQUEST", "request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise RestError("BAD_REQUEST", "request body must be a JSON object")
        params.update(data)
    return params


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_JSON_BODY:
        raise _too_large()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_JSON_BODY:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> RestError:
    return RestError(
        "INVALID_PARAMETER_VALUE", f"request body larger than {MAX_JSON_BODY} bytes", 413
    )


def _json(payload: Any, status: int = 200) -> Response:
    body = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    return Response(body, status_code=status, media_type="application/json")


async def _not_found(request: Request, exc: Exception) -> Response:
    path = request.url.path
    return _json({"error_code": "ENDPOINT_NOT_FOUND", "message": f"No endpoint {path}"}, 404)


async def _not_allowed(request: Request, exc: Exception) -> Response:
    message = f"{request.method} is not allowed on {request.url.path}"
    return _json({"error_code": "BAD_REQUEST", "message": message}, 405)


class HostCheck:
    """Refuse requests whose Host is not an allowed name (``allowed=None``: any), and
    browser requests from another site (an Origin header naming another host and port
    than the Host): a web page elsewhere cannot reach a server bound to loopback through
    DNS rebinding, nor post to a team server with the credentials its browser keeps."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str] | None) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            host = headers.get(b"host", b"").decode("latin-1")
            origin = headers.get(b"origin", b"").decode("latin-1")
            what = None
            if not self._ok(host):
                what = f"Host {host!r}"
            elif origin and _origin_host(origin).lower() != host.lower():
                what = f"Origin {origin!r}"
            if what is not None:
                response = _json(
                    {"error_code": "PERMISSION_DENIED", "message": f"{what} is not allowed"}, 403
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _ok(self, host: str) -> bool:
        if self.allowed is None:
            return True
        name = host.rpartition(":")[0] if host.count(":") == 1 or "]:" in host else host
        return name.lower() in self.allowed


def _origin_host(origin: str) -> str:
    return origin.partition("://")[2].partition("/")[0]
