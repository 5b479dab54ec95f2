"""Registry search (MLflow's filter syntax) → one parameterised SELECT over the registry tables.

    name LIKE 'wine%' and tags.team = 'ml'                     (registered models)
    name = 'wine' and run_id IN ('a1..', 'b2..')                (model versions)

Reuses the tracking filter parser and its per-comparison SQL; user text only travels as
parameters. Standard library only.
"""

from __future__ import annotations

from collections.abc import Sequence

from satchel.tracking.search import (
    Comparison,
    Token,
    decode_page_token,
    parse_filter,
    parse_order_by,
    syntax_error,
)
from satchel.tracking.store.sqlite_reads import SqlQuery
from satchel.tracking.store.sqlite_search import SQLITE, Dialect, _condition, _limit

__all__ = ["model_versions_query", "registered_models_query"]

MODEL_ATTRIBUTES = {
    "name": ("m.name", False),
    "creation_timestamp": ("m.creation_time", True),
    "last_updated_timestamp": ("m.last_update_time", True),
    "description": ("m.description", False),
}
VERSION_ATTRIBUTES = {
    "name": ("m.name", False),
    "version": ("v.version", True),
    "version_number": ("v.version", True),
    "run_id": ("v.run_id", False),
    "source": ("v.source", False),
    "source_path": ("v.source", False),
    "current_stage": ("v.current_stage", False),
    "status": ("v.status", False),
    "model_id": ("v.model_id", False),
    "creation_timestamp": ("v.creation_time", True),
    "last_updated_timestamp": ("v.last_update_time", True),
}


def _column(attributes: dict[str, tuple[str, bool]], cmp: Comparison) -> tuple[str, bool]:
    found = attributes.get(cmp.key.lower())
    if found is None or cmp.entity not in (None, "attribute"):
        raise syntax_error(
            "filter",
            f"cannot filter on {cmp.token!r}",
            Token("ident", cmp.token, cmp.pos),
            f"use {', '.join(sorted(attributes))} or tags.<key>",
        )
    return found


def _where(
    filter_string: str | None,
    attributes: dict[str, tuple[str, bool]],
    tag_sql: str,
    args: list[object],
    dialect: Dialect,
) -> list[str]:
    where = []
    for cmp in parse_filter(filter_string):
        if cmp.entity == "tag":
            args.append(cmp.key)
            if cmp.op == "!=":  # MLflow's meaning: no such tag, or another value
                same = Comparison(cmp.entity, cmp.key, "=", cmp.value, cmp.pos, cmp.token)
                inner = _condition("value", same, False, args, dialect)
                where.append(f"NOT {tag_sql} AND key = ? AND {inner})")
                continue
            where.append(
                f"{tag_sql} AND key = ? AND {_condition('value', cmp, False, args, dialect)})"
            )
            continue
        column, numeric = _column(attributes, cmp)
        if numeric and isinstance(cmp.value, str) and cmp.value.isdigit():  # version = '3'
            cmp = Comparison(cmp.entity, cmp.key, cmp.op, float(cmp.value), cmp.pos, cmp.token)
        where.append(_condition(column, cmp, numeric, args, dialect))
    return where or ["1 = 1"]


def _order(
    order_by: Sequence[str] | None, attributes: dict[str, tuple[str, bool]], default: list[str]
) -> list[str]:
    terms = []
    for order in parse_order_by(list(order_by or ())):
        found = attributes.get(order.key.lower())
        if found is None:
            raise syntax_error(
                "order_by",
                f"cannot sort by {order.token!r}",
                Token("ident", order.token, order.pos),
                f"use {', '.join(sorted(attributes))}",
            )
        terms.append(f"{found[0]} {'ASC' if order.ascending else 'DESC'}")
    return terms + default


def registered_models_query(
    filter_string: str | None,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None,
    dialect: Dialect = SQLITE,
) -> SqlQuery:
    limit, offset = _limit(max_results), decode_page_token(page_token)
    args: list[object] = []
    tag_sql = "m.model_key IN (SELECT model_key FROM registered_model_tags WHERE 1 = 1"
    where = _where(filter_string, MODEL_ATTRIBUTES, tag_sql, args, dialect)
    terms = _order(order_by, MODEL_ATTRIBUTES, ["m.name ASC"])
    sql = (
        f"SELECT m.name FROM registered_models m WHERE {' AND '.join(where)} "  # noqa: S608
        f"ORDER BY {', '.join(terms)} LIMIT ? OFFSET ?"
    )
    return SqlQuery(sql, (*args, limit + 1, offset), offset, limit)


def model_versions_query(
    filter_string: str | None,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None,
    dialect: Dialect = SQLITE,
) -> SqlQuery:
    limit, offset = _limit(max_results), decode_page_token(page_token)
    args: list[object] = []
    tag_sql = (
        "(v.model_key, v.version) IN (SELECT model_key, version FROM model_version_tags WHERE 1 = 1"
    )
    where = _where(filter_string, VERSION_ATTRIBUTES, tag_sql, args, dialect)
    terms = _order(order_by, VERSION_ATTRIBUTES, ["m.name ASC", "v.version DESC"])
    sql = (
        "SELECT m.name, v.version FROM model_versions v "  # noqa: S608
        "JOIN registered_models m ON m.model_key = v.model_key "
        f"WHERE {' AND '.join(where)} ORDER BY {', '.join(terms)} LIMIT ? OFFSET ?"
    )
    return SqlQuery(sql, (*args, limit + 1, offset), offset, limit)
