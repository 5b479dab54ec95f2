"""The read side every face shares (CLI, server, web UI): run-id prefixes, a run with its
artifacts, runs side by side, and reaping dead runs before anything is read.

Each function returns records or JSON-ready dicts (``satchel.tracking.serialize`` shapes),
never text: the faces only format. Standard library only.
"""

from __future__ import annotations

from satchel.errors import InvalidValueError, NotFoundError
from satchel.tracking.client import Client
from satchel.tracking.entities import Run

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

__all__ = [
    "MIN_PREFIX",
    "artifact_files",
    "compare_rows",
    "fresh_client",
    "resolve_run_id",
    "resolve_run_ids",
    "show_run",
]

RUN_ID_LENGTH = 32
MIN_PREFIX = 6  # shorter prefixes match too much to be worth typing
SHOWN_CANDIDATES = 5
_HEX = frozenset("0123456789abcdef")


def fresh_client(tracking_uri: str | None, read_only: bool = True) -> Client:
    """A client whose store exists (``read_only``: never created) and whose dead runs were
    reaped, so nothing read through it shows a run RUNNING whose process is gone."""
    client = Client(tracking_uri or None)
    if read_only:
        client.require_store()
    client.reap_dead_runs()
    return client


def resolve_run_id(client: Client, ref: str) -> str:
    """A full run id from ``ref``: a full id as is, or a unique prefix of >= 6 hex characters
    (like git's short hashes). One store query on the primary key, never a scan of runs."""
    prefix = ref.strip().lower()
    if len(prefix) >= RUN_ID_LENGTH or len(prefix) < MIN_PREFIX or not set(prefix) <= _HEX:
        return ref  # a full id (or not an id at all): the lookup itself says "not found"
    try:
        found = client.run_ids_with_prefix(prefix, SHOWN_CANDIDATES + 1)
    except NotImplementedError:
        return ref
    if not found:
        raise NotFoundError(
            f"no run with id or id prefix {ref!r}", hint="list runs with `satchel runs list --all`"
        )
    if len(found) > 1:
        shown = ", ".join(found[:SHOWN_CANDIDATES]) + (
            ", …" if len(found) > SHOWN_CANDIDATES else ""
        )
        raise InvalidValueError(
            f"run id prefix {ref!r} is ambiguous: it matches {shown}",
            hint="type more characters of the id",
        )
    return found[0]


def resolve_run_ids(client: Client, refs: Sequence[str]) -> list[str]:
    """Every ref resolved AND checked to exist before a caller changes anything."""
    run_ids = [resolve_run_id(client, ref) for ref in refs]
    for run_id in run_ids:
        client.get_run(run_id)  # NotFoundError names the unknown one
    return run_ids


def show_run(client: Client, ref: str) -> tuple[Run, list[dict[str, Any]]]:
    """The run named by ``ref`` (an id or a unique prefix) and every artifact file of it."""
    run = client.get_run(resolve_run_id(client, ref))
    return run, artifact_files(client, run.info.run_id)


def artifact_files(client: Client, run_id: str) -> list[dict[str, Any]]:
    """Every artifact file of the run (directories walked): path / is_dir / file_size."""
    rows: list[dict[str, Any]] = []
    pending: list[str | None] = [None]
    while pending:
        for info in client.list_artifacts(run_id, pending.pop()):
            if info.is_dir:
                pending.append(info.path)
            else:
                rows.append({"path": info.path, "is_dir": False, "file_size": info.file_size})
    return sorted(rows, key=lambda r: r["path"])


def compare_rows(found: Sequence[Run]) -> list[dict[str, Any]]:
    """One row per param and metric key across ``found``: ``{"kind", "key", "values" (one per
    run, None when missing), "differs"}``, params first, keys sorted."""
    rows = []
    for kind, attr in (("param", "params"), ("metric", "metrics")):
        keys = sorted({k for r in found for k in getattr(r.data, attr)})
        for key in keys:
            values = [getattr(r.data, attr).get(key) for r in found]
            differs = len({repr(v) for v in values}) > 1
            rows.append({"kind": kind, "key": key, "values": values, "differs": differs})
    return rows
