"""The two SQL forms of a metric/param/tag filter (IN for few candidates, EXISTS for many)
return the same runs, in the same order, across pages; and the store picks each one."""

from __future__ import annotations

from typing import Any

import pytest

from satchel.tracking.entities import Metric, Param, RunTag, ViewType
from satchel.tracking.store import sqlite_reads as reads
from satchel.tracking.store.sqlite import SqliteStore
from satchel.tracking.store.sqlite_search import page_rows, runs_query

FILTERS = [
    "metrics.rmse < 0.5",
    "metrics.rmse >= 0.9",
    "params.alpha = '3'",
    "params.alpha != '3' and tags.team LIKE 'a%'",
    "metrics.rmse < 0.5 and tags.team = 'b'",
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[SqliteStore, str]:
    root = tmp_path_factory.mktemp("plans")
    store = SqliteStore(str(root / "p.db"), str(root / "artifacts"))
    exp = store.create_experiment("plans")
    other = store.create_experiment("other")  # candidates outside the searched experiment
    for i in range(120):
        for exp_id in (exp, other) if i % 3 == 0 else (exp,):
            run_id = store.create_run(exp_id, "u", 1000 + i % 40).info.run_id
            store.log_batch(
                run_id,
                metrics=[Metric("rmse", (i % 10) / 10, 1, 0)],
                params=[Param("alpha", str(i % 7))],
                tags=[RunTag("team", "ab"[i % 2])],
            )
    return store, exp


def _all_pages(store: SqliteStore, exp: str, filt: str, size: int, few: object) -> list[str]:
    found, token = [], None
    while True:
        query = runs_query([exp], filt, ViewType.ACTIVE_ONLY, size, None, token, few)  # type: ignore[arg-type]
        page = store.db.read(lambda conn, q=query: reads.run_page(conn, q))
        found += [run.info.run_id for run in page]
        token = page.token
        if token is None:
            return found


@pytest.mark.parametrize("filt", FILTERS)
def test_in_and_exists_forms_agree(store: tuple[SqliteStore, str], filt: str) -> None:
    db, exp = store
    forced_in = _all_pages(db, exp, filt, 7, lambda sql, args, cap: True)
    forced_exists = _all_pages(db, exp, filt, 7, None)
    chosen = [r.info.run_id for r in db.search_runs([exp], filt, max_results=1000)]
    assert forced_in == forced_exists == chosen
    assert chosen, filt


def test_the_store_picks_exists_for_broad_and_in_for_narrow_filters(
    store: tuple[SqliteStore, str],
) -> None:
    db, exp = store
    forms = {}
    for filt, size in (("metrics.rmse < 0.5", 5), ("metrics.rmse < 0.5", 1000)):
        conn = db.db.conn()

        def few(sql: str, args: object, cap: int) -> bool:
            count = conn.execute(f"SELECT count(*) FROM ({sql} LIMIT ?)", (*args, cap))  # type: ignore[misc]
            return int(count.fetchone()[0]) < cap

        forms[size] = runs_query([exp], filt, ViewType.ACTIVE_ONLY, size, None, None, few).sql
    assert "EXISTS" in forms[5] and " IN (SELECT" not in forms[5]
    assert "EXISTS" not in forms[1000] and "r.run_uuid IN (SELECT" in forms[1000]


# -- ordered pages: the index walk (present_first) and the full sort give the same pages --
ORDERS = [
    ["metrics.loss"],
    ["metrics.loss DESC"],
    ["params.p DESC", "metrics.loss"],
    ["tags.team"],
    ["attributes.start_time ASC"],
    ["attributes.run_name DESC"],
    ["status"],
]
ORDERED_FILTERS = [None, "metrics.loss < 0.6", "params.p = 'b'", "attributes.run_name = 'run-3'"]


@pytest.fixture(scope="module")
def sparse(tmp_path_factory: pytest.TempPathFactory) -> tuple[SqliteStore, str]:
    """Runs where keys are missing, NaN, tied, and start times repeat."""
    root = tmp_path_factory.mktemp("sparse")
    store = SqliteStore(str(root / "s.db"), str(root / "artifacts"))
    exp = store.create_experiment("sparse")
    for i in range(90):
        run_id = store.create_run(exp, "u", 100 + i % 30, run_name=f"run-{i}").info.run_id
        loss = [float("nan"), 0.5, i / 90][i % 3] if i % 5 else None
        metrics = [] if loss is None else [Metric("loss", loss, 1, 0)]
        params = [Param("p", "abc"[i % 3])] if i % 4 else []
        tags = [RunTag("team", "xy"[i % 2])] if i % 7 else []
        store.log_batch(run_id, metrics, params, tags)
    return store, exp


def _full_sort_pages(store: SqliteStore, exp: str, filt: str | None, order: list[str]) -> list:
    found, token = [], None
    while True:
        query = runs_query([exp], filt, ViewType.ACTIVE_ONLY, 7, order, token)
        page = store.db.read(lambda conn, q=query: reads.run_page(conn, q))
        found += [run.info.run_name for run in page]
        token = page.token
        if token is None:
            return found


def _store_pages(store: SqliteStore, exp: str, filt: str | None, order: list[str]) -> list:
    found, token = [], None
    while True:
        page = store.search_runs([exp], filt, max_results=7, order_by=order, page_token=token)
        found += [run.info.run_name for run in page]
        token = page.token
        if token is None:
            return found


@pytest.mark.parametrize("order", ORDERS, ids=",".join)
@pytest.mark.parametrize("filt", ORDERED_FILTERS)
def test_index_walk_pages_equal_the_full_sort(
    sparse: tuple[SqliteStore, str], filt: str | None, order: list[str]
) -> None:
    db, exp = sparse
    expected = _full_sort_pages(db, exp, filt, order)
    assert _store_pages(db, exp, filt, order) == expected
    assert expected or filt == "attributes.run_name = 'run-3'"


def _plan(store: SqliteStore, query: object) -> str:
    conn = store.db.conn()
    rows = conn.execute("EXPLAIN QUERY PLAN " + query.sql, query.args)  # type: ignore[attr-defined]
    return " | ".join(row[3] for row in rows)


@pytest.mark.parametrize(
    ("order", "index"),
    [
        ([], "runs_by_experiment"),
        (["attributes.start_time ASC"], "runs_by_experiment"),
        (["attributes.run_name DESC"], "runs_by_name"),
        (["attributes.status"], "runs_by_status"),
        (["attributes.user_id"], "runs_by_user_id"),
        (["metrics.loss"], "latest_metrics_by_value"),
        (["params.p DESC"], "params_by_value"),
        (["tags.team"], "tags_by_value"),
    ],
)
def test_an_ordered_page_walks_an_index_instead_of_sorting_every_run(
    sparse: tuple[SqliteStore, str], order: list[str], index: str
) -> None:
    """The plan of a page over a broad filter: read in index order (at most ties sorted,
    "RIGHT PART"), so the walk stops at the page's end at 100,000 runs as at 90."""
    db, exp = sparse
    present_first = bool(order) and not order[0].startswith("attributes.")
    query = runs_query(
        [exp], "metrics.loss < 2", ViewType.ACTIVE_ONLY, 50, order, None,
        present_first=present_first,
    )  # fmt: skip
    plan = _plan(db, query)
    assert index in plan, plan
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan


def test_a_narrow_filter_sorts_its_few_candidates_instead_of_walking(
    sparse: tuple[SqliteStore, str],
) -> None:
    db, exp = sparse
    conn = db.db.conn()

    def few(sql: str, args: object, cap: int) -> bool:
        count = conn.execute(f"SELECT count(*) FROM ({sql} LIMIT ?)", (*args, cap))  # type: ignore[misc]
        return int(count.fetchone()[0]) < cap

    narrow = runs_query(
        [exp], "params.p = 'b'", ViewType.ACTIVE_ONLY, 50, ["metrics.loss"], None, few,
        present_first=True,
    )  # fmt: skip
    assert "r.run_uuid IN (SELECT" in narrow.sql and "LEFT JOIN latest_metrics" in narrow.sql


@pytest.mark.parametrize("max_walk", [None, 0, 10, 30])
def test_pages_past_max_walk_sort_and_still_equal_the_full_sort(
    sparse: tuple[SqliteStore, str], max_walk: int | None
) -> None:
    db, exp = sparse
    order = ["metrics.loss DESC"]
    conn = db.db.conn()
    found, token, walked = [], None, []
    while True:

        def build(present_first: bool, token: str | None = token) -> Any:
            view = ViewType.ACTIVE_ONLY
            return runs_query([exp], None, view, 7, order, token, present_first=present_first)

        def fetch(query: Any) -> list[tuple]:
            return conn.execute(query.sql, query.args).fetchall()

        def walk(query: Any) -> list[tuple]:
            walked.append(query.offset)
            return fetch(query)

        query, rows = page_rows(build, fetch, order, walk, max_walk)
        page = reads.page_of(conn, query, rows)
        found += [run.info.run_name for run in page]
        token = page.token
        if token is None:
            break
    assert found == _full_sort_pages(db, exp, None, order)
    assert all(offset + 7 <= max_walk for offset in walked) if max_walk is not None else walked
