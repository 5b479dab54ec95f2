"""Filter AST → one parameterised SELECT over the SQLite schema (never a Python-side scan).

Each metric/param/tag comparison is either ``IN (SELECT run_uuid ...)`` over the covering
(key, value, run_uuid) index, evaluated once, when few rows match, or a correlated ``EXISTS``
on the (run_uuid, key) primary key when many do, so a broad filter walks runs in page order
and stops at the page's end; ordering joins the latest value. Sorting follows
MLflow: missing values last (and NaN metrics after numbers) in either direction, then
``start_time DESC, run_uuid``. User text only ever travels as SQL parameters.
Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from satchel.errors import InvalidValueError
from satchel.tracking.entities import RunStatus, ViewType
from satchel.tracking.search import (
    FILTER_HINT,
    ORDER_HINT,
    Comparison,
    OrderKey,
    Token,
    decode_page_token,
    parse_filter,
    parse_order_by,
    syntax_error,
)
from satchel.tracking.store.sqlite_reads import EXPERIMENT_COLUMNS, RUN_COLUMNS, SqlQuery

__all__ = [
    "SQLITE",
    "Dialect",
    "experiments_query",
    "first_key_segment",
    "page_rows",
    "runs_query",
]

MAX_RESULTS = 50000
NUMERIC_OPS = {"=", "!=", "<", "<=", ">", ">="}
STRING_OPS = {"=", "!=", "LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE", "IN", "NOT IN"}

# attribute name (and MLflow's aliases) -> (column, numeric?)
RUN_ATTRIBUTES = {
    "run_id": ("r.run_uuid", False),
    "run_uuid": ("r.run_uuid", False),
    "run_name": ("r.name", False),
    "runname": ("r.name", False),
    "name": ("r.name", False),
    "status": ("r.status", False),
    "user_id": ("r.user_id", False),
    "artifact_uri": ("r.artifact_uri", False),
    "lifecycle_stage": ("r.lifecycle_stage", False),
    "start_time": ("r.start_time", True),
    "created": ("r.start_time", True),
    "end_time": ("r.end_time", True),
    "experiment_id": ("r.experiment_id", True),
}
EXPERIMENT_ATTRIBUTES = {
    "name": ("e.name", False),
    "experiment_id": ("e.experiment_id", True),
    "creation_time": ("e.creation_time", True),
    "last_update_time": ("e.last_update_time", True),
    "lifecycle_stage": ("e.lifecycle_stage", False),
    "artifact_location": ("e.artifact_location", False),
}
# Columns declared NOT NULL: ordering by them needs no "missing values last" term, so an
# index on (experiment_id, column, ...) serves the ORDER BY as it stands.
_NOT_NULL = {
    "r.run_uuid",
    "r.name",
    "r.status",
    "r.user_id",
    "r.artifact_uri",
    "r.lifecycle_stage",
    "r.start_time",
    "r.experiment_id",
}
_RUN_TABLES = {"metric": "latest_metrics", "param": "params", "tag": "tags"}
_STAGES = {
    ViewType.ACTIVE_ONLY: ("active",),
    ViewType.DELETED_ONLY: ("deleted",),
    ViewType.ALL: ("active", "deleted"),
}


def like_to_glob(pattern: str) -> str:
    """SQL LIKE (case-sensitive, as in MLflow) as a GLOB pattern: SQLite's LIKE ignores case."""
    special = {"%": "*", "_": "?", "*": "[*]", "?": "[?]", "[": "[[]"}
    return "".join(special.get(ch, ch) for ch in pattern)


class Dialect:
    """What differs between the databases this compiler writes for: only pattern matching.
    (The SQL uses ``?`` placeholders; a dialect with another style converts the finished
    text, which holds no user text and no other ``?``.)"""

    def like(self, column: str, op: str, pattern: str, args: list[object]) -> str:
        if op.endswith("ILIKE"):  # SQLite's LIKE is case-insensitive (ASCII)
            args.append(pattern)
            return f"{column} {op[:-5]}LIKE ?"
        args.append(like_to_glob(pattern))  # and GLOB is its case-sensitive LIKE
        return f"{column} {op[:-4]}GLOB ?"


SQLITE = Dialect()


def _condition(
    column: str, cmp: Comparison, numeric: bool, args: list[object], dialect: Dialect = SQLITE
) -> str:
    """``column <op> ?`` for one comparison, checking the operator and value types."""
    token = Token("ident", cmp.token, cmp.pos)
    allowed = NUMERIC_OPS if numeric else STRING_OPS
    if cmp.op not in allowed:
        kind = "numeric" if numeric else "string"
        raise syntax_error(
            "filter",
            f"operator {cmp.op} does not apply to {kind} key {cmp.key!r}",
            token,
            f"use one of {', '.join(sorted(allowed))}",
        )
    value_token = Token("value", cmp.value_token, cmp.value_pos)
    if numeric and not isinstance(cmp.value, float):
        raise syntax_error(
            "filter",
            f"{cmp.key!r} compares with a number, not a string",
            value_token,
            "write e.g. metrics.rmse < 0.5",
        )
    if not numeric and isinstance(cmp.value, float):
        raise syntax_error(
            "filter",
            f"{cmp.key!r} compares with a 'quoted string', not a number",
            value_token,
            "write e.g. params.alpha = '0.5'",
        )
    if cmp.op in ("IN", "NOT IN"):
        values: tuple[object, ...] = tuple(cmp.value)  # type: ignore[arg-type]
        args.extend(values)
        return f"{column} {cmp.op} ({','.join('?' * len(values))})"
    if cmp.op.endswith("LIKE"):
        return dialect.like(column, cmp.op, str(cmp.value), args)
    args.append(cmp.value)
    return f"{column} {cmp.op} ?"


def _attribute(
    attributes: dict[str, tuple[str, bool]], key: str, pos: int, text: str, source: str
) -> tuple[str, bool]:
    found = attributes.get(key.lower().replace(" ", "_"))
    if found is None:
        raise syntax_error(
            source,
            f"unknown attribute {key!r}",
            Token("ident", text, pos),
            f"searchable attributes: {', '.join(sorted(attributes))}",
        )
    return found


_STATUSES = tuple(s.value for s in RunStatus)


def _check_statuses(cmp: Comparison) -> None:
    """``status = 'DONE'`` can never match: say so instead of returning no runs. (LIKE
    patterns are left alone.)"""
    if cmp.op not in ("=", "!=", "IN", "NOT IN") or isinstance(cmp.value, float):
        return
    values = cmp.value if isinstance(cmp.value, tuple) else (cmp.value,)
    for value in values:
        if value not in _STATUSES:
            raise syntax_error(
                "filter",
                f"unknown run status {value!r}",
                Token("value", cmp.value_token, cmp.value_pos),
                f"statuses are {', '.join(_STATUSES)}",
            )


def _run_condition(
    cmp: Comparison,
    args: list[object],
    few: tuple[Callable[[str, Sequence[object], int], bool], int] | None,
    dialect: Dialect,
) -> str:
    """One filter term; ``few`` is (the store's capped row counter, the cap), see runs_query."""
    if cmp.entity in (None, "attribute"):
        column, numeric = _attribute(RUN_ATTRIBUTES, cmp.key, cmp.pos, cmp.token, "filter")
        if column == "r.status":
            _check_statuses(cmp)
        return _condition(column, cmp, numeric, args, dialect)
    if cmp.entity not in _RUN_TABLES:
        raise syntax_error(
            "filter",
            f"cannot filter runs on {cmp.entity}s",
            Token("ident", cmp.token, cmp.pos),
            FILTER_HINT,
        )
    table = _RUN_TABLES[cmp.entity]
    inner_args: list[object] = [cmp.key]
    inner = _condition("x.value", cmp, cmp.entity == "metric", inner_args, dialect)
    args.extend(inner_args)
    # table comes from _RUN_TABLES and inner holds only '?' placeholders: no user text.
    # Few matching rows: collect them once (IN). Many: check each run walked in page order
    # (EXISTS on the (run_uuid, key) primary key) and stop at the page's end, instead of
    # collecting thousands of candidates to keep a few hundred.
    candidates = f"SELECT x.run_uuid FROM {table} x WHERE x.key = ? AND {inner}"  # noqa: S608
    if few is not None and few[0](candidates, inner_args, few[1]):
        return f"r.run_uuid IN ({candidates})"
    return f"EXISTS ({candidates} AND x.run_uuid = r.run_uuid)"


def _run_order(
    keys: list[OrderKey], joins: list[str], join_args: list[object], present_first: bool = False
) -> list[str]:
    terms = []
    for n, order in enumerate(keys):
        direction = "ASC" if order.ascending else "DESC"
        if order.entity in (None, "attribute"):
            column, _ = _attribute(RUN_ATTRIBUTES, order.key, order.pos, order.token, "order_by")
            if column not in _NOT_NULL:
                terms.append(f"({column} IS NULL)")
            terms.append(f"{column} {direction}")
            continue
        if order.entity not in _RUN_TABLES:
            raise syntax_error(
                "order_by",
                f"cannot order runs by {order.entity}s",
                Token("ident", order.token, order.pos),
                ORDER_HINT,
            )
        alias = f"o{n}"
        join_args.append(order.key)
        if n == 0 and present_first:  # only runs with a value: see first_key_segment
            joins.append(
                f"JOIN {_RUN_TABLES[order.entity]} {alias} ON {alias}.run_uuid = r.run_uuid "
                f"AND {alias}.key = ? AND {alias}.value IS NOT NULL"
            )
            terms.append(f"{alias}.value {direction}")
            continue
        joins.append(
            f"LEFT JOIN {_RUN_TABLES[order.entity]} {alias} ON "
            f"{alias}.run_uuid = r.run_uuid AND {alias}.key = ?"
        )
        if order.entity == "metric":
            terms.append(
                f"CASE WHEN {alias}.run_uuid IS NULL THEN 2 WHEN {alias}.is_nan THEN 1 ELSE 0 END"
            )
        else:
            terms.append(f"({alias}.run_uuid IS NULL)")
        terms.append(f"{alias}.value {direction}")
    # MLflow's tie-break, without repeating a column already ordered (a repeated column
    # would keep SQLite from walking one index for the whole ORDER BY)
    ordered = {term.split(" ")[0] for term in terms}
    ties = (("r.start_time", "DESC"), ("r.run_uuid", "ASC"))
    return [*terms, *(f"{col} {way}" for col, way in ties if col not in ordered)]


def _limit(max_results: int) -> int:
    if (
        isinstance(max_results, bool)
        or not isinstance(max_results, int)
        or not (0 < max_results <= MAX_RESULTS)
    ):
        raise InvalidValueError(
            f"max_results {max_results!r} is out of range",
            hint=f"use 1 to {MAX_RESULTS} and page with page_token",
        )
    return max_results


def runs_query(
    experiment_ids: Sequence[str],
    filter_string: str | None,
    view_type: ViewType,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None,
    few_candidates: Callable[[str, Sequence[object], int], bool] | None = None,
    dialect: Dialect = SQLITE,
    present_first: bool = False,
) -> SqlQuery:
    """The page's SELECT. ``few_candidates(sql, args, cap)`` tells whether ``sql`` yields
    fewer than ``cap`` rows (the store's cheap capped count); it picks, per metric/param/tag
    comparison, the faster of two equivalent SQL forms. Without it, EXISTS is used.
    ``present_first``: the query of ``first_key_segment`` (only runs holding a value for the
    first order key)."""
    limit, offset = _limit(max_results), decode_page_token(page_token)
    comparisons = parse_filter(filter_string)
    # Below ~2 pages of candidates, collecting them beats probing each walked run.
    few = (few_candidates, 2 * (limit + offset + 1)) if few_candidates else None
    orders = parse_order_by(list(order_by or ()))
    exp_ids = [int(e) for e in experiment_ids if str(e).isdigit()]
    stages = _STAGES[ViewType(view_type)]
    where_args: list[object] = [*exp_ids, *stages]
    where = [
        f"r.experiment_id IN ({','.join('?' * len(exp_ids)) or 'NULL'})",
        f"r.lifecycle_stage IN ({','.join('?' * len(stages))})",
    ]
    where += [_run_condition(cmp, where_args, few, dialect) for cmp in comparisons]
    # A filter already narrowed to a few candidate runs sorts them faster than any walk:
    # then the present_first query is the full one.
    narrowed = any(term.startswith("r.run_uuid IN (") for term in where)
    joins: list[str] = []
    join_args: list[object] = []
    terms = _run_order(orders, joins, join_args, present_first and not narrowed)
    sql = (
        f"SELECT {RUN_COLUMNS} FROM runs r {' '.join(joins)} WHERE {' AND '.join(where)} "  # noqa: S608
        f"ORDER BY {', '.join(terms)} LIMIT ? OFFSET ?"
    )
    return SqlQuery(sql, (*join_args, *where_args, limit + 1, offset), offset, limit)


def page_rows(
    build: Callable[[bool], SqlQuery],
    fetch: Callable[[SqlQuery], list[tuple]],
    order_by: Sequence[str] | None,
    fetch_walk: Callable[[SqlQuery], list[tuple]] | None = None,
    max_walk: int | None = None,
) -> tuple[SqlQuery, list[tuple]]:
    """The page's query and its rows (``limit + 1`` at most), for every SQL store.
    ``build(present_first)`` compiles the query (see ``runs_query``); ``fetch`` runs it
    (``fetch_walk``, when given, runs the present_first one). ``max_walk``: walk only for
    pages ending before that many rows (a walk re-reads every earlier page, and a page past
    the last match walks the whole index before the full query runs; a database without
    a cost-based plan for it, SQLite, sets one).
    When the first order key is a metric, param or tag, the present_first query runs first:
    if it fills the page, the page lies among runs holding the key and these are the full
    query's rows (found by walking the (key, value) index and stopping at the page's end,
    not by sorting every match); otherwise the full query runs."""
    if first_key_segment(order_by):
        segment = build(True)
        if max_walk is None or segment.offset + segment.limit <= max_walk:
            rows = (fetch_walk or fetch)(segment)
            if len(rows) > segment.limit:
                return segment, rows
    query = build(False)
    return query, fetch(query)


def first_key_segment(order_by: Sequence[str] | None) -> bool:
    """Whether the first order key is a metric, param or tag. Runs that hold a (non-NaN)
    value for it sort before all others, in the same order as in the full query; so when a
    page lies entirely among them, the ``present_first`` query (an inner join a database can
    walk in its (key, value) index order, stopping at the page's end) returns the very same
    rows as the full query, without sorting every match."""
    orders = parse_order_by(list(order_by or ()))
    return bool(orders) and orders[0].entity in _RUN_TABLES


def _experiment_condition(cmp: Comparison, args: list[object], dialect: Dialect) -> str:
    if cmp.entity == "tag":
        args.append(cmp.key)
        inner = _condition("value", cmp, False, args, dialect)
        sql = "e.experiment_id IN (SELECT experiment_id FROM experiment_tags WHERE key = ? AND "
        return f"{sql}{inner})"
    if cmp.entity not in (None, "attribute"):
        raise syntax_error(
            "filter",
            f"cannot filter experiments on {cmp.entity}s",
            Token("ident", cmp.token, cmp.pos),
            "use name, tags.<key> or attributes.creation_time",
        )
    column, numeric = _attribute(EXPERIMENT_ATTRIBUTES, cmp.key, cmp.pos, cmp.token, "filter")
    return _condition(column, cmp, numeric, args, dialect)


def experiments_query(
    view_type: ViewType,
    max_results: int,
    filter_string: str | None,
    order_by: Sequence[str] | None,
    page_token: str | None,
    dialect: Dialect = SQLITE,
) -> SqlQuery:
    limit, offset = _limit(max_results), decode_page_token(page_token)
    stages = _STAGES[ViewType(view_type)]
    args: list[object] = list(stages)
    where = [f"e.lifecycle_stage IN ({','.join('?' * len(stages))})"]
    where += [_experiment_condition(cmp, args, dialect) for cmp in parse_filter(filter_string)]
    terms = []
    for order in parse_order_by(list(order_by or ())):
        if order.entity not in (None, "attribute"):
            raise syntax_error(
                "order_by",
                "experiments sort by attributes only",
                Token("ident", order.token, order.pos),
                "e.g. name ASC or creation_time DESC",
            )
        column, _ = _attribute(EXPERIMENT_ATTRIBUTES, order.key, order.pos, order.token, "order_by")
        terms.append(f"{column} {'ASC' if order.ascending else 'DESC'}")
    terms += ["e.creation_time DESC", "e.experiment_id ASC"]
    sql = (
        f"SELECT {EXPERIMENT_COLUMNS} FROM experiments e WHERE {' AND '.join(where)} "  # noqa: S608
        f"ORDER BY {', '.join(terms)} LIMIT ? OFFSET ?"
    )
    return SqlQuery(sql, (*args, limit + 1, offset), offset, limit)
