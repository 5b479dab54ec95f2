"""The runs table: one page of runs as rows, from a query that fits in a URL.

A ``TableQuery`` is what the page's URL says (filter, order, chosen columns, offset, page
size, view, experiments), so every table a user sees is a link they can share. The store
filters, sorts and pages (never loading every run); this module only shapes the page:
fixed columns, the chosen param/metric/tag columns, and nested runs placed under their
parent when both are on the page. The HTML page, its JSON twin and the CSV download all
come from ``runs_page``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from satchel.errors import FilterSyntaxError
from satchel.server.ui.web import UserInputError
from satchel.tracking.client import Client
from satchel.tracking.entities import Experiment, Run, ViewType
from satchel.tracking.search import encode_page_token

__all__ = ["Column", "TableQuery", "filter_error", "parse_query", "runs_page"]

PARENT_TAG = "mlflow.parentRunId"
MAX_PAGE = 500
VIEWS = {"active": ViewType.ACTIVE_ONLY, "deleted": ViewType.DELETED_ONLY, "all": ViewType.ALL}
_KINDS = {"metrics": "metrics", "params": "params", "tags": "tags"}
# fixed columns: (key, label, order_by key or None when the store cannot sort by it)
FIXED = (
    ("name", "Run", "attributes.run_name"),
    ("status", "Status", "attributes.status"),
    ("start_time", "Started", "attributes.start_time"),
    ("duration", "Duration", None),
    ("user", "User", "attributes.user_id"),
    ("source", "Source", "tags.`mlflow.source.name`"),
)
_POSITION = re.compile(r"at position (\d+) near ('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")")


@dataclass(frozen=True)
class Column:
    kind: str  # metrics | params | tags
    key: str

    @property
    def name(self) -> str:
        return f"{self.kind}.{self.key}"

    @property
    def order_key(self) -> str:
        return f"{self.kind}.`{self.key}`"


@dataclass(frozen=True)
class TableQuery:
    experiment_ids: tuple[str, ...]
    filter: str = ""
    order: str = ""
    columns: tuple[Column, ...] = ()
    offset: int = 0
    size: int = 50
    view: str = "active"
    extra: Mapping[str, str] = field(default_factory=dict)

    def url_args(self, **changes: Any) -> str:
        """This query as a query string, with ``changes`` applied (a deep link)."""
        q = replace(self, **changes)
        pairs: list[tuple[str, str]] = []
        if q.filter:
            pairs.append(("filter", q.filter))
        if q.order:
            pairs.append(("order", q.order))
        pairs += [("col", c.name) for c in q.columns]
        if q.offset:
            pairs.append(("offset", str(q.offset)))
        if q.size != 50:
            pairs.append(("size", str(q.size)))
        if q.view != "active":
            pairs.append(("view", q.view))
        return urlencode(pairs)


def parse_column(text: str) -> Column:
    kind, _, key = text.partition(".")
    if kind not in _KINDS or not key:
        raise UserInputError(
            f"column {text!r} is not metrics.KEY, params.KEY or tags.KEY",
            hint="pick columns from the column picker",
        )
    return Column(kind, key)


def _int_arg(args: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = args.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise UserInputError(f"{name}={raw!r} is out of range", hint=f"use {lo} to {hi}")
    return int(raw)


def parse_query(experiment_ids: Sequence[str], args: Any) -> TableQuery:
    """``args``: the request's query parameters (a multi-dict with ``getlist``)."""
    view = args.get("view", "active")
    if view not in VIEWS:
        raise UserInputError(f"view={view!r} is unknown", hint="use active, deleted or all")
    return TableQuery(
        experiment_ids=tuple(experiment_ids),
        filter=args.get("filter", "").strip(),
        order=args.get("order", "").strip(),
        columns=tuple(parse_column(c) for c in args.getlist("col")),
        offset=_int_arg(args, "offset", 0, 0, 10**9),
        size=_int_arg(args, "size", 50, 1, MAX_PAGE),
        view=view,
    )


def filter_error(exc: FilterSyntaxError, query: TableQuery) -> dict[str, Any]:
    """The error as the page shows it: which box (filter or order), where, which token."""
    found = _POSITION.search(exc.message)
    source = "order" if "order_by" in exc.message else "filter"
    text = query.order if source == "order" else query.filter
    position = int(found.group(1)) if found else len(text)
    token = found.group(2)[1:-1] if found else ""
    return {
        "message": exc.message,
        "hint": exc.hint,
        "source": source,
        "position": position,
        "token": token,
        "before": text[:position],
        "at": text[position : position + max(len(token), 1)],
        "after": text[position + max(len(token), 1) :],
    }


def runs_page(client: Client, query: TableQuery) -> dict[str, Any]:
    """One page of the table: ``{"rows", "columns", "offset", "next_offset", ...}``.
    FilterSyntaxError escapes to the caller, which shows it next to the box."""
    token = encode_page_token(query.offset) if query.offset else None
    page = client.search_runs(
        list(query.experiment_ids),
        filter_string=query.filter,
        run_view_type=VIEWS[query.view],
        max_results=query.size,
        order_by=[query.order] if query.order else None,
        page_token=token,
    )
    rows = nest([run_row(run, query.columns) for run in page])
    return {
        "experiment_ids": list(query.experiment_ids),
        "filter": query.filter,
        "order": query.order,
        "view": query.view,
        "columns": [c.name for c in query.columns],
        "offset": query.offset,
        "size": query.size,
        "next_offset": query.offset + query.size if page.token else None,
        "rows": rows,
    }


def run_row(run: Run, columns: Sequence[Column]) -> dict[str, Any]:
    info, data = run.info, run.data
    tags = data.tags
    values: dict[str, Any] = {}
    for col in columns:
        values[col.name] = getattr(data, col.kind).get(col.key)
    end = info.end_time
    return {
        "run_id": info.run_id,
        "name": info.run_name,
        "experiment_id": info.experiment_id,
        "status": info.status.value,
        "lifecycle_stage": info.lifecycle_stage.value,
        "start_time": info.start_time,
        "end_time": end,
        "duration_ms": end - info.start_time if end is not None else None,
        "user": info.user_id,
        "source": source_of(tags),
        "parent_run_id": tags.get(PARENT_TAG),
        "values": values,
        "depth": 0,
    }


def source_of(tags: Mapping[str, str]) -> dict[str, Any]:
    return {
        "name": tags.get("mlflow.source.name", ""),
        "type": tags.get("mlflow.source.type", ""),
        "commit": tags.get("mlflow.source.git.commit", ""),
        "branch": tags.get("mlflow.source.git.branch", ""),
        "repo_url": tags.get("mlflow.source.git.repoURL", ""),
        "dirty": tags.get("satchel.source.dirty", "").lower() in ("true", "1", "yes"),
    }


def nest(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Children right after their parent (depth + 1) when the parent is on the page; the
    page keeps its order otherwise."""
    on_page = {r["run_id"] for r in rows}
    children: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        parent = row["parent_run_id"]
        if parent in on_page and parent != row["run_id"]:
            children.setdefault(parent, []).append(row)
    placed: list[dict[str, Any]] = []
    seen: set[str] = set()

    def place(row: dict[str, Any], depth: int) -> None:
        if row["run_id"] in seen:
            return
        seen.add(row["run_id"])
        placed.append({**row, "depth": depth, "children": len(children.get(row["run_id"], []))})
        for child in children.get(row["run_id"], []):
            place(child, depth + 1)

    for row in rows:
        if not (row["parent_run_id"] in on_page and row["parent_run_id"] != row["run_id"]):
            place(row, 0)
    for row in rows:  # cycles (a parent tag loop) are shown flat, never dropped
        place(row, 0)
    return placed


def experiment_names(client: Client, ids: Sequence[str]) -> list[Experiment]:
    return [client.get_experiment(i) for i in ids]
