"""The two SQL forms of a metric/param/tag filter (IN for few candidates, EXISTS for many)
return the same runs, in the same order, across pages; and the store picks each one."""

from __future__ import annotations

import pytest

from satchel.tracking.entities import Metric, Param, RunTag, ViewType
from satchel.tracking.store import sqlite_reads as reads
from satchel.tracking.store.sqlite import SqliteStore
from satchel.tracking.store.sqlite_search import runs_query

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
