"""The search DSL compiled for PostgreSQL: the shared compiler (``sqlite_search``) with
PostgreSQL's pattern matching and ``%s`` placeholders.

Same filters, same order: the PostgreSQL schema keeps SQLite's columns (NaN metrics as NULL
plus ``is_nan``) and sorts text in the "C" collation, byte order as SQLite does, so the one
compiler's SQL means the same on both. LIKE is case-sensitive and ILIKE is not on both; the
pattern's only wildcards are ``%`` and ``_`` (``ESCAPE ''``: a backslash is a plain character,
as in SQLite's GLOB). Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from satchel.tracking.entities import ViewType
from satchel.tracking.store.sqlite_reads import SqlQuery
from satchel.tracking.store.sqlite_search import Dialect, experiments_query, runs_query

__all__ = ["POSTGRES", "pg_experiments_query", "pg_runs_query", "pg_sql"]


class _Postgres(Dialect):
    def like(self, column: str, op: str, pattern: str, args: list[object]) -> str:
        args.append(pattern)
        return f"{column} {op} ? ESCAPE ''"


POSTGRES = _Postgres()


def pg_sql(sql: str) -> str:
    """``?`` placeholders as psycopg's ``%s``. The compiler's text holds no user text (values
    travel as parameters) and no ``%`` or ``?`` of its own."""
    assert "%" not in sql, "compiled SQL must not contain '%'"
    return sql.replace("?", "%s")


def _converted(query: SqlQuery) -> SqlQuery:
    return SqlQuery(pg_sql(query.sql), query.args, query.offset, query.limit)


def pg_runs_query(
    experiment_ids: Sequence[str],
    filter_string: str | None,
    view_type: ViewType,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None,
    few_candidates: Callable[[str, Sequence[object], int], bool] | None = None,
    present_first: bool = False,
) -> SqlQuery:
    """``runs_query`` for PostgreSQL; ``few_candidates`` receives ``%s``-style SQL."""
    few = None
    if few_candidates is not None:
        probe = few_candidates

        def few(sql: str, args: Sequence[object], cap: int) -> bool:
            return probe(pg_sql(sql), args, cap)

    query = runs_query(
        experiment_ids,
        filter_string,
        view_type,
        max_results,
        order_by,
        page_token,
        few,
        POSTGRES,
        present_first,
    )
    return _converted(query)


def pg_experiments_query(
    view_type: ViewType,
    max_results: int,
    filter_string: str | None,
    order_by: Sequence[str] | None,
    page_token: str | None,
) -> SqlQuery:
    query = experiments_query(view_type, max_results, filter_string, order_by, page_token, POSTGRES)
    return _converted(query)
