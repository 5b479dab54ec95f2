"""MLflow's error JSON: ``{"error_code", "message"}`` with the status MLflow gives each code.

Handlers raise ``RestError`` (or a ``SatchelError``, mapped here by kind); anything else is
our bug and answers 500 ``INTERNAL_ERROR`` with a short message (the traceback goes to the
server's log, never to the client).
"""

from __future__ import annotations

from starlette.responses import Response

from satchel.errors import (
    AlreadyExistsError,
    InvalidValueError,
    NotFoundError,
    SatchelError,
    StoreUnavailableError,
)

__all__ = ["STATUS", "RestError", "error_body", "from_satchel_error", "refusal"]

# error_code -> HTTP status (mlflow/exceptions.py ERROR_CODE_TO_HTTP_STATUS)
STATUS = {
    "INVALID_PARAMETER_VALUE": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "BAD_REQUEST": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "RESOURCE_CONFLICT": 409,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "INTERNAL_ERROR": 500,
    "NOT_IMPLEMENTED": 501,
    "TEMPORARILY_UNAVAILABLE": 503,
}


class RestError(Exception):
    """An answer in MLflow's error shape; ``status`` overrides the code's usual one (413)."""

    def __init__(self, error_code: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.status = status or STATUS.get(error_code, 500)


def from_satchel_error(exc: SatchelError) -> RestError:
    message = str(exc)  # one line, hint included
    if isinstance(exc, NotFoundError):
        return RestError("RESOURCE_DOES_NOT_EXIST", message)
    if isinstance(exc, AlreadyExistsError):
        return RestError("RESOURCE_ALREADY_EXISTS", message)
    if isinstance(exc, StoreUnavailableError):
        return RestError("TEMPORARILY_UNAVAILABLE", message)
    if isinstance(exc, InvalidValueError):
        return RestError("INVALID_PARAMETER_VALUE", message)
    return RestError("BAD_REQUEST", message)


def refusal(error: RestError, response: Response) -> Response:
    """A 401 says how to sign in (RFC 9110): a browser then asks for a user and a password
    (or a token as the password); API clients send a Bearer token or Basic anyway."""
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="Satchel", charset="UTF-8"'
    return response


def error_body(error: RestError) -> dict[str, str]:
    return {"error_code": error.error_code, "message": error.message}
