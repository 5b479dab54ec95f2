"""What every UI handler shares: the client, templates, JSON, CSRF, headers, errors.

- Templates are Jinja2 with autoescape on for every file: user text is escaped unless a
  handler marks it safe (only the Markdown renderer and preview builders do, after escaping).
- Pages carry a Content-Security-Policy without inline scripts, so even a missed escape
  cannot run script; configuration reaches app.js as escaped JSON in a data block.
- CSRF: a random token in a SameSite=Strict cookie, echoed by app.js in the
  ``X-Satchel-CSRF`` header of every write (JSON bodies only); a cross-site page can neither
  read the cookie nor set the header, and a foreign Origin is refused outright.
- Auth (``satchel server`` with auth on): every route passes the server's authorizer with
  the permission the routes table declares, on the experiments and runs named by its path,
  query and body (``authorization_params``); a signed-out browser gets a 401 with a Basic
  challenge (the browser asks for a user and a password or token), a refusal 403; listings
  keep only what the caller may read (``readable``).
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from satchel.cli._output import json_safe
from satchel.errors import AlreadyExistsError, NotFoundError, SatchelError
from satchel.server.errors import RestError, refusal
from satchel.server.params import Params
from satchel.tracking.client import Client
from satchel.tracking.entities import Experiment

__all__ = [
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "PAGE_CSP",
    "UserInputError",
    "authorization_params",
    "client_of",
    "created",
    "guarded",
    "json_body",
    "json_response",
    "readable",
    "render",
]

CSRF_COOKIE = "satchel_csrf"
CSRF_HEADER = "x-satchel-csrf"
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; frame-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'self'"
)
_SECURITY_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class UserInputError(SatchelError):
    """A bad query parameter or body field sent to the UI."""


def client_of(request: Request) -> Client:
    """The tracking client of the app serving this request: the server's context when the
    UI is mounted in ``satchel server``, else the one ``create_app`` set."""
    state = request.app.state
    context = getattr(state, "context", None)
    client: Client = context.client if context is not None else state.client
    return client


@lru_cache(maxsize=1)
def _templates() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("satchel.server.ui", "templates"),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    from satchel.server.ui import formatting

    env.filters.update(formatting.FILTERS)
    return env


def csrf_token(request: Request) -> tuple[str, bool]:
    """(token, is_new): the cookie's token, or a fresh one to set."""
    token = request.cookies.get(CSRF_COOKIE, "")
    if len(token) == 43:
        return token, False
    return secrets.token_urlsafe(32), True


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    token, new = csrf_token(request)
    html = (
        _templates()
        .get_template(template)
        .render(
            request=request, csrf=token, page_data=json_safe(context.pop("page", {})), **context
        )
    )
    response = HTMLResponse(html, status_code=status, headers=_SECURITY_HEADERS)
    if new:
        response.set_cookie(CSRF_COOKIE, token, httponly=False, samesite="strict", path="/")
    return response


def json_text(obj: Any) -> str:
    return json.dumps(json_safe(obj), ensure_ascii=False, allow_nan=False)


def json_response(obj: Any, status: int = 200) -> Response:
    return Response(
        json_text(obj),
        status_code=status,
        media_type="application/json",
        headers={"X-Content-Type-Options": "nosniff"},
    )


def check_csrf(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin is not None and origin.rstrip("/") != f"{request.url.scheme}://{request.url.netloc}":
        raise PermissionError("cross-origin write refused")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if not cookie or not hmac.compare_digest(cookie, header):
        raise PermissionError("missing or wrong CSRF token: reload the page and try again")


async def json_body(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise UserInputError("writes take a JSON body", hint="send Content-Type: application/json")
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise UserInputError("the body is not valid JSON", hint="send a JSON object") from None
    if not isinstance(body, dict):
        raise UserInputError("the body must be a JSON object", hint='e.g. {"name": "x"}')
    return body


def _ids(value: Any) -> list[str]:
    return [str(i) for i in value] if isinstance(value, list) else []


def authorization_params(request: Request, body: dict[str, Any] | None) -> Params:
    """What the authorizer checks: every experiment and run the UI handlers read from this
    request's path, query and body (a superset: nothing a handler acts on goes unchecked)."""
    path, query = request.path_params, request.query_params
    runs = [*query.get("runs", "").split(","), *query.getlist("run")]
    runs += _ids((body or {}).get("run_ids"))
    params = Params(
        experiment_ids=[i for i in str(path.get("ids", "")).split(",") if i],
        run_ids=[r for r in runs if r],
    )
    if "run_id" in path:
        params["run_id"] = path["run_id"]
    target = path.get("id", (body or {}).get("experiment_id"))
    if target is not None:
        params["experiment_id"] = str(target)
    return params


def readable(request: Request, experiments: list[Experiment]) -> list[Experiment]:
    """The experiments the caller may read (all of them when the server has no auth)."""
    authorizer = getattr(request.state, "authorizer", None)
    if authorizer is None:
        return experiments
    keep = authorizer.readable(request, [e.experiment_id for e in experiments])
    return [e for e in experiments if e.experiment_id in keep]


def created(request: Request, experiment_id: str) -> None:
    """The caller created this experiment (with auth: they now manage it)."""
    authorizer = getattr(request.state, "authorizer", None)
    if authorizer is not None:
        authorizer.created(request, experiment_id)


ReadHandler = Callable[[Request], Response]
WriteHandler = Callable[[Request, dict[str, Any]], Response]


def guarded(
    handler: ReadHandler | WriteHandler, entry: Any, authorizer: Any = None
) -> Callable[[Request], Awaitable[Response]]:
    """An ASGI endpoint around a plain handler, run in a worker thread (store calls block):
    writes get the CSRF check and their JSON body, then the authorizer decides (the routes
    table's ``entry`` says what is needed); refusals and user errors become 400/401/403/404/409,
    as JSON or, for pages, as the error page."""
    write, page = entry.kind == "write", entry.kind == "page"

    async def endpoint(request: Request) -> Response:
        try:
            body = None
            if write:
                check_csrf(request)
                body = await json_body(request)
            if authorizer is not None:
                request.state.authorizer = authorizer
                params = authorization_params(request, body)
                await run_in_threadpool(authorizer, request, entry, params)
            if write:
                return await run_in_threadpool(handler, request, body)  # type: ignore[arg-type]
            return await run_in_threadpool(handler, request)  # type: ignore[arg-type]
        except RestError as exc:  # the authorizer's refusal: 401, 403 or 429
            return refusal(exc, _error(request, exc.status, exc.message, None, page))
        except PermissionError as exc:
            return _error(request, 403, str(exc), None, page)
        except NotFoundError as exc:
            return _error(request, 404, exc.message, exc.hint, page)
        except AlreadyExistsError as exc:
            return _error(request, 409, exc.message, exc.hint, page)
        except SatchelError as exc:
            return _error(request, 400, exc.message, exc.hint, page)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


def _error(request: Request, status: int, message: str, hint: str | None, page: bool) -> Response:
    if page:
        return render(request, "error.html", status=status, message=message, hint=hint)
    return json_response({"error": {"message": message, "hint": hint}}, status)
