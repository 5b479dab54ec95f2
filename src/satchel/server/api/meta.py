"""Health, version, server info, and the logged-model routes that are not served yet.

MLflow 3's ``log_model`` starts with ``POST logged-models``; until Satchel serves models
that route answers 501 with one clear line (the client does not retry a 501), so
``mlflow.<flavor>.log_model`` fails at once instead of hanging or half-writing.
"""

from __future__ import annotations

from typing import Any

from satchel.server.context import ServerContext
from satchel.server.errors import RestError
from satchel.server.params import Params

__all__ = ["health", "logged_models_missing", "logged_models_search", "server_info", "version"]

LOG_MODEL_MESSAGE = (
    "Logging models (mlflow.<flavor>.log_model) is not supported by this Satchel server yet; "
    "save the model with mlflow.<flavor>.save_model and log the directory with "
    "mlflow.log_artifacts instead"
)


def health(ctx: ServerContext, p: Params) -> dict[str, Any]:
    return {"status": "OK"}


def version(ctx: ServerContext, p: Params) -> dict[str, Any]:
    from importlib.metadata import version as installed

    return {"version": installed("satchel")}


def server_info(ctx: ServerContext, p: Params) -> dict[str, Any]:
    return {"store_type": "satchel", "multipart_uploads_enabled": False}


def logged_models_search(ctx: ServerContext, p: Params) -> dict[str, Any]:
    return {}  # no logged models exist on this server yet


def logged_models_missing(ctx: ServerContext, p: Params) -> dict[str, Any]:
    raise RestError("NOT_IMPLEMENTED", LOG_MODEL_MESSAGE)
