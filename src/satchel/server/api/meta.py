"""Health, version and server info."""

from __future__ import annotations

from typing import Any

from satchel.server.context import ServerContext
from satchel.server.params import Params

__all__ = ["health", "server_info", "version"]


def health(ctx: ServerContext, p: Params) -> dict[str, Any]:
    return {"status": "OK"}


def version(ctx: ServerContext, p: Params) -> dict[str, Any]:
    from importlib.metadata import version as installed

    return {"version": installed("satchel")}


def server_info(ctx: ServerContext, p: Params) -> dict[str, Any]:
    return {"store_type": "satchel", "multipart_uploads_enabled": False}
