"""The search DSL gives the same runs in the same order on SQLite and on PostgreSQL.

One generated data set (odd keys and values included: LIKE metacharacters, backslashes,
case, non-ASCII, NaN, missing keys) is written into a real SQLite file and a real PostgreSQL
database; every filter and order_by below must page through the same run names on both.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from conftest import drop_postgres_database, new_postgres_database
from satchel.tracking.entities import Metric, Param, RunStatus, RunTag, ViewType
from satchel.tracking.store.base import Store
from satchel.tracking.store.postgres import PostgresStore
from satchel.tracking.store.sqlite import SqliteStore

VALUES = ["a", "A", "b%c", "b_c", "bXc", "back\\slash", "ünï", "Z", "0.3", "0.5", "10", "9"]
STATUSES = ["FINISHED", "FAILED", "RUNNING", "KILLED"]

FILTERS = [
    None,
    "metrics.loss < 0.5",
    "metrics.loss >= 0.5 and params.p = 'a'",
    "metrics.loss != 0.25",
    "metrics.`val acc` > 0.1",
    "params.p = 'A'",
    "params.p != 'a'",
    "params.p IN ('a', 'Z', '10')",
    "params.p NOT IN ('a', 'Z')",
    "params.p LIKE 'b%'",
    "params.p LIKE 'b_c'",
    "params.p LIKE 'b\\%'",
    "params.p ILIKE 'A'",
    "params.p ILIKE '%C'",
    "params.p NOT LIKE '%a%'",
    "params.p NOT ILIKE '%a%'",
    "params.p LIKE '%\\%'",
    "tags.team = 'x' and metrics.loss < 0.9",
    "tags.team ILIKE 'X'",
    "attributes.status = 'FINISHED'",
    "status IN ('FAILED', 'KILLED')",
    "run_name LIKE 'run-1%'",
    "attributes.start_time > 150 and attributes.start_time <= 230",
    "attributes.end_time > 0",
    "metrics.missing > 0",
]
ORDERS = [
    [],
    ["metrics.loss"],
    ["metrics.loss DESC"],
    ["metrics.`val acc` DESC", "params.p"],
    ["params.p DESC"],
    ["tags.team", "metrics.loss DESC"],
    ["attributes.run_name DESC"],
    ["attributes.end_time ASC"],
    ["status", "start_time ASC"],
]


def _populate(store: Store, rng: random.Random) -> str:
    exp = store.create_experiment("parity")
    for n in range(240):
        run_id = store.create_run(exp, "u", 1 + n, run_name=f"run-{n}").info.run_id
        metrics = []
        if rng.random() < 0.85:
            loss = rng.choice([float("nan"), 0.25, 0.5, rng.random()])
            metrics.append(Metric("loss", loss, 1, 0))
        if rng.random() < 0.5:
            metrics.append(Metric("val acc", round(rng.random(), 2), 1, 0))
        params = [Param("p", rng.choice(VALUES))] if rng.random() < 0.8 else []
        tags = [RunTag("team", rng.choice(["x", "X", "y"]))] if rng.random() < 0.7 else []
        store.log_batch(run_id, metrics, params, tags)
        status = rng.choice(STATUSES)
        end = 1000 + n if status != "RUNNING" and rng.random() < 0.7 else None
        store.update_run_info(run_id, status=RunStatus(status), end_time=end)
        if rng.random() < 0.05:
            store.delete_run(run_id)
    return exp


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("parity")
    uri = new_postgres_database()
    sqlite = SqliteStore(str(root / "s.db"), str(root / "artifacts"))
    postgres = PostgresStore(uri, str(root / "pg-artifacts"))
    exps = [_populate(store, random.Random(7)) for store in (sqlite, postgres)]
    yield (sqlite, exps[0]), (postgres, exps[1])
    sqlite.close()
    postgres.close()
    drop_postgres_database(uri)


def _pages(store: Store, exp: str, filt: str | None, order: list[str], view: ViewType) -> list:
    names, token = [], None
    while True:
        page = store.search_runs(
            [exp], filt, view, max_results=37, order_by=order, page_token=token
        )
        names += [r.info.run_name for r in page]
        token = page.token
        if not token:
            return names


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: ",".join(o) or "default")
@pytest.mark.parametrize("filt", FILTERS, ids=lambda f: f or "none")
def test_same_runs_in_the_same_order(stores: tuple, filt: str | None, order: list[str]) -> None:
    (sqlite, sqlite_exp), (postgres, pg_exp) = stores
    expected = _pages(sqlite, sqlite_exp, filt, order, ViewType.ACTIVE_ONLY)
    assert _pages(postgres, pg_exp, filt, order, ViewType.ACTIVE_ONLY) == expected


@pytest.mark.parametrize("view", list(ViewType))
def test_view_types_agree(stores: tuple, view: ViewType) -> None:
    (sqlite, sqlite_exp), (postgres, pg_exp) = stores
    expected = _pages(sqlite, sqlite_exp, None, ["metrics.loss"], view)
    assert _pages(postgres, pg_exp, None, ["metrics.loss"], view) == expected


def test_run_records_agree(stores: tuple) -> None:
    (sqlite, sqlite_exp), (postgres, pg_exp) = stores

    def shape(store: Store, exp: str) -> list:
        runs = store.search_runs([exp], None, ViewType.ALL, max_results=1000)
        out = []
        for r in runs:  # lists: the order of keys must agree too
            metrics = [(k, repr(val)) for k, val in r.data.metrics.items()]  # nan == nan
            info = (r.info.run_name, r.info.status, r.info.end_time, r.info.lifecycle_stage)
            out.append((info, metrics, list(r.data.params.items()), list(r.data.tags.items())))
        return out

    assert shape(postgres, pg_exp) == shape(sqlite, sqlite_exp)


def test_experiment_search_agrees(stores: tuple, tmp_path: Path) -> None:
    (sqlite, _), (postgres, _) = stores
    for store in (sqlite, postgres):
        for name in ("Alpha", "alpha_2", "beta%", "Ünï"):
            if store.get_experiment_by_name(name) is None:
                store.create_experiment(name, tags={"k": name.lower()})
    for filt in (None, "name LIKE 'alpha%'", "name ILIKE 'ALPHA%'", "tags.k LIKE 'beta%'"):
        for order in (["name"], ["name DESC"]):
            got = [
                [e.name for e in store.search_experiments(filter_string=filt, order_by=order)]
                for store in (sqlite, postgres)
            ]
            assert got[1] == got[0], (filt, order)


def test_an_ordered_search_leaves_the_connection_settings_alone(stores: tuple) -> None:
    """The index walk turns parallel workers off for itself only (SET LOCAL), never for
    the pooled connection's later work."""
    _, (postgres, exp) = stores

    def setting() -> str:
        return postgres.db.read(
            lambda conn: conn.execute("SHOW max_parallel_workers_per_gather").fetchone()[0]
        )

    before = setting()
    assert postgres.search_runs([exp], None, max_results=5, order_by=["metrics.loss"])
    assert setting() == before
