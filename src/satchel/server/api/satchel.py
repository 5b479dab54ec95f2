"""``/api/2.0/satchel/*``: what Satchel's own HTTP store needs beyond MLflow's API.

Liveness data (heartbeats with the owner ``host:pid``, the list of RUNNING owners the
reap rule judges), ending a run only if it is still running (atomic on the server), and
run-id prefixes for short ids on the command line.
"""

from __future__ import annotations

from typing import Any

from satchel.server.api.runs import run_status
from satchel.server.context import ServerContext
from satchel.server.params import Params, invalid

__all__ = ["heartbeat", "ids_with_prefix", "running_owners", "terminate_if_running"]


def heartbeat(ctx: ServerContext, p: Params) -> dict[str, Any]:
    ctx.store.heartbeat(p.run_id(), p.text("owner"))
    return {}


def running_owners(ctx: ServerContext, p: Params) -> dict[str, Any]:
    rows = ctx.store.running_owners()
    return {"runs": [{"run_id": r, "owner": o, "heartbeat_time": beat} for r, o, beat in rows]}


def terminate_if_running(ctx: ServerContext, p: Params) -> dict[str, Any]:
    status = run_status(p)
    if status is None:
        raise invalid("status", None, "a terminal status")
    end_time = p.integer("end_time", required=True)
    assert end_time is not None
    return {"changed": ctx.store.set_terminated_if_running(p.run_id(), status, end_time)}


def ids_with_prefix(ctx: ServerContext, p: Params) -> dict[str, Any]:
    limit = p.integer("limit", 10) or 10
    if not 1 <= limit <= 100:
        raise invalid("limit", limit, "an integer from 1 to 100")
    return {"run_ids": ctx.store.run_ids_with_prefix(p.text("prefix") or "", limit)}
