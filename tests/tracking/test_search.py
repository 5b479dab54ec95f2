"""Search: MLflow's filter syntax, order_by and paging, executed by a real SQLite store."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from satchel.errors import FilterSyntaxError, InvalidValueError
from satchel.tracking.entities import Metric, Param, RunStatus, RunTag, ViewType
from satchel.tracking.search import (
    decode_page_token,
    encode_page_token,
    parse_filter,
    parse_order_by,
)
from satchel.tracking.store.sqlite import SqliteStore
from satchel.tracking.store.sqlite_search import like_to_glob

# name, start, status, metrics, params, tags
RUNS = [
    ("resnet-a", 1, "FINISHED", {"rmse": 0.3, "val acc": 0.95}, {"alpha": "0.3"}, {"team": "x"}),
    ("resnet-b", 2, "FINISHED", {"rmse": 0.7, "val acc": 0.80}, {"alpha": "0.5"}, {"team": "y"}),
    ("ConvNet-c", 3, "FAILED", {"rmse": 0.1}, {"alpha": "0.3"}, {"team": "X"}),
    ("linear-d", 4, "RUNNING", {"rmse": float("nan")}, {}, {}),
    ("tree-e", 5, "FINISHED", {}, {"alpha": "1.0"}, {"team": "x"}),
]


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> tuple[SqliteStore, str, dict]:
    root = tmp_path_factory.mktemp("search")
    store = SqliteStore(str(root / "s.db"), str(root / "artifacts"))
    exp = store.create_experiment("search")
    ids = {}
    for name, start, status, metrics, params, tags in RUNS:
        run_id = store.create_run(exp, "u", start, run_name=name).info.run_id
        store.log_batch(
            run_id,
            metrics=[Metric(k, val, 1, 0) for k, val in metrics.items()],
            params=[Param(k, val) for k, val in params.items()],
            tags=[RunTag(k, val) for k, val in tags.items()],
        )
        store.update_run_info(run_id, status=RunStatus(status))
        ids[name] = run_id
    return store, exp, ids


def names(
    store: SqliteStore,
    exp: str,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
    **kw: object,
) -> list[str]:
    return [
        r.info.run_name for r in store.search_runs([exp], filter_string, order_by=order_by, **kw)
    ]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        (None, ["tree-e", "linear-d", "ConvNet-c", "resnet-b", "resnet-a"]),
        ("metrics.rmse < 0.5", ["ConvNet-c", "resnet-a"]),
        ("metrics.rmse < 0.5 and params.alpha = '0.3' and tags.team = 'x'", ["resnet-a"]),
        ("metric.rmse >= 0.3", ["resnet-b", "resnet-a"]),
        ("metrics.rmse != 0.3", ["ConvNet-c", "resnet-b"]),
        ("metrics.`val acc` > 0.9", ["resnet-a"]),
        ('metrics."val acc" > 0.9', ["resnet-a"]),
        ("params.alpha != '0.3'", ["tree-e", "resnet-b"]),
        ("param.alpha IN ('0.5', '1.0')", ["tree-e", "resnet-b"]),
        ("params.alpha NOT IN ('0.5', '1.0')", ["ConvNet-c", "resnet-a"]),
        ("tags.team = 'x'", ["tree-e", "resnet-a"]),
        ("tags.team ILIKE 'x'", ["tree-e", "ConvNet-c", "resnet-a"]),
        ("tag.team LIKE 'X'", ["ConvNet-c"]),
        ("attributes.status = 'FINISHED'", ["tree-e", "resnet-b", "resnet-a"]),
        ("status IN ('FAILED', 'RUNNING')", ["linear-d", "ConvNet-c"]),
        ("attributes.run_name LIKE '%net%'", ["resnet-b", "resnet-a"]),
        ("attr.run_name ILIKE '%net%'", ["ConvNet-c", "resnet-b", "resnet-a"]),
        ("run_name LIKE 'resnet-_'", ["resnet-b", "resnet-a"]),
        ("run_name NOT LIKE 'resnet%'", ["tree-e", "linear-d", "ConvNet-c"]),
        ("attributes.start_time > 3", ["tree-e", "linear-d"]),
        ("start_time <= 2 AND status = 'FINISHED'", ["resnet-b", "resnet-a"]),
        ("params.alpha = '0.3' and attributes.status != 'FAILED'", ["resnet-a"]),
        ("metrics.missing > 0", []),
    ],
)
def test_filters(populated: tuple, filter_string: str | None, expected: list[str]) -> None:
    store, exp, _ = populated
    assert names(store, exp, filter_string) == expected


def test_filter_by_run_id(populated: tuple) -> None:
    store, exp, ids = populated
    wanted = [ids["resnet-a"], ids["tree-e"]]
    found = store.search_runs([exp], f"attributes.run_id IN ('{wanted[0]}', '{wanted[1]}')")
    assert sorted(r.info.run_id for r in found) == sorted(wanted)


def test_like_metacharacters_are_literal_in_glob() -> None:
    assert like_to_glob("a*b?c[d%e_") == "a[*]b[?]c[[]d*e?"


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (["metrics.rmse ASC"], ["ConvNet-c", "resnet-a", "resnet-b", "linear-d", "tree-e"]),
        (["metrics.rmse DESC"], ["resnet-b", "resnet-a", "ConvNet-c", "linear-d", "tree-e"]),
        (["params.alpha DESC"], ["tree-e", "resnet-b", "ConvNet-c", "resnet-a", "linear-d"]),
        (["params.alpha"], ["ConvNet-c", "resnet-a", "resnet-b", "tree-e", "linear-d"]),
        (
            ["tags.team ASC", "attributes.run_name DESC"],
            ["ConvNet-c", "tree-e", "resnet-a", "resnet-b", "linear-d"],
        ),
        (
            ["attributes.start_time ASC"],
            ["resnet-a", "resnet-b", "ConvNet-c", "linear-d", "tree-e"],
        ),
        (["run_name"], ["ConvNet-c", "linear-d", "resnet-a", "resnet-b", "tree-e"]),
        (["metrics.`val acc` DESC"], ["resnet-a", "resnet-b", "tree-e", "linear-d", "ConvNet-c"]),
    ],
)
def test_order_by_missing_last(populated: tuple, order_by: list[str], expected: list[str]) -> None:
    store, exp, _ = populated
    assert names(store, exp, order_by=order_by) == expected


def test_paging(populated: tuple) -> None:
    store, exp, _ = populated
    seen, token, pages = [], None, 0
    while True:
        page = store.search_runs([exp], None, max_results=2, page_token=token)
        seen += [r.info.run_name for r in page]
        pages += 1
        token = page.token
        if token is None:
            break
    assert pages == 3 and seen == names(store, exp)
    with pytest.raises(InvalidValueError, match="page token"):
        store.search_runs([exp], None, page_token="garbage!")
    with pytest.raises(InvalidValueError, match="max_results"):
        store.search_runs([exp], None, max_results=0)
    huge = encode_page_token(10**30)  # beyond SQLite's 64-bit integers: not an OverflowError
    with pytest.raises(InvalidValueError, match="page token"):
        store.search_runs([exp], None, page_token=huge)


def test_search_returns_full_runs(populated: tuple) -> None:
    store, exp, ids = populated
    (run,) = store.search_runs([exp], "attributes.run_name = 'resnet-a'")
    assert run == store.get_run(ids["resnet-a"])
    (nan_run,) = store.search_runs([exp], "run_name = 'linear-d'")
    assert math.isnan(nan_run.data.metrics["rmse"])


def test_view_types_and_experiments(populated: tuple) -> None:
    store, exp, ids = populated
    other = store.create_experiment("other-search")
    store.create_run(other, "u", 9, run_name="elsewhere")
    assert names(store, other) == ["elsewhere"]
    assert len(store.search_runs([exp, other])) == 6
    assert store.search_runs(["999", "not-a-number"]) == []
    assert store.search_runs([]) == []
    store.delete_run(ids["tree-e"])
    try:
        assert "tree-e" not in names(store, exp)
        deleted = store.search_runs([exp], None, run_view_type=ViewType.DELETED_ONLY)
        assert [r.info.run_name for r in deleted] == ["tree-e"]
        assert len(store.search_runs([exp], None, run_view_type=ViewType.ALL)) == 5
    finally:
        store.restore_run(ids["tree-e"])


def test_user_text_is_never_sql(populated: tuple) -> None:
    store, exp, _ = populated
    assert names(store, exp, "params.alpha = '0.3'' OR 1=1 --'") == []
    assert names(store, exp, "tags.`team'; DROP TABLE runs; --` = 'x'") == []
    assert len(names(store, exp)) == 5


@pytest.mark.parametrize(
    ("bad", "token"),
    [
        ("metrics.rmse <", None),
        ("metrics.rmse < 'a'", "'a'"),
        ("params.alpha = 0.3", "0.3"),
        ("params.alpha < '0.3'", "params.alpha"),
        ("metrics.rmse LIKE '%'", "metrics.rmse"),
        ("metrics.rmse < 0.5 or params.a = 'b'", "or"),
        ("metrics.rmse < 0.5 params.a = 'b'", "params.a"),
        ("foo.rmse < 1", "foo.rmse"),
        ("attributes.colour = 'red'", "attributes.colour"),
        ("bogus = 'x'", "bogus"),
        ("metrics.rmse ~ 1", "~"),
        ("params.a IN '0.3'", "'0.3'"),
        ("params.a IN ('0.3' '0.4')", "'0.4'"),
        ('params.a = "x"', '"x"'),
        ("= 3", "="),
        ("metrics. < 3", "."),
    ],
)
def test_bad_filters_point_at_the_token(populated: tuple, bad: str, token: str | None) -> None:
    store, exp, _ = populated
    with pytest.raises(FilterSyntaxError) as err:
        store.search_runs([exp], bad)
    message = str(err.value)
    assert "\n" not in message
    if token is None:
        assert "at the end" in message
        return
    assert f"near {token!r}" in message, message
    pos = int(re.search(r"position (\d+)", message).group(1))
    assert bad[pos:].startswith(token), message


@pytest.mark.parametrize("bad", ["metrics.rmse UP", "datasets.x", "1", "metrics.a DESC x"])
def test_bad_order_by(populated: tuple, bad: str) -> None:
    store, exp, _ = populated
    with pytest.raises(FilterSyntaxError, match="order_by"):
        store.search_runs([exp], None, order_by=[bad])


def test_parser_ast() -> None:
    (cmp,) = parse_filter("metrics.`val acc` >= -1.5e2")
    assert (cmp.entity, cmp.key, cmp.op, cmp.value) == ("metric", "val acc", ">=", -150.0)
    (cmp,) = parse_filter("params.`it's` IN ('a', 'b''c')")
    assert (cmp.key, cmp.op, cmp.value) == ("it's", "IN", ("a", "b'c"))
    (cmp,) = parse_filter("status <> 'RUNNING'")
    assert (cmp.entity, cmp.key, cmp.op) == (None, "status", "!=")
    assert parse_filter("  ") == []
    (order,) = parse_order_by(["metrics.`val acc` desc"])
    assert (order.entity, order.key, order.ascending) == ("metric", "val acc", False)


def test_page_token_round_trip() -> None:
    assert decode_page_token(encode_page_token(1234)) == 1234
    assert decode_page_token(None) == 0


def test_search_experiments_bad_filter(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "e.db"), str(tmp_path / "a"))
    with pytest.raises(FilterSyntaxError, match="metrics"):
        store.search_experiments(filter_string="metrics.a < 1")
    assert [e.name for e in store.search_experiments(filter_string="name = 'Default'")] == [
        "Default"
    ]


@pytest.mark.parametrize(
    "bad, token",
    [
        ("attributes.status = 'DONE'", "'DONE'"),
        ("status != 'finished'", "'finished'"),
        ("attributes.status IN ('FAILED', 'OK')", "('FAILED', 'OK')"),
    ],
)
def test_unknown_status_lists_the_valid_ones(populated: tuple, bad: str, token: str) -> None:
    store, exp, _ = populated
    with pytest.raises(FilterSyntaxError) as err:
        store.search_runs([exp], bad)
    message = str(err.value)
    assert "unknown run status" in message and "\n" not in message
    assert "RUNNING, SCHEDULED, FINISHED, FAILED, KILLED" in message
    assert bad[int(re.search(r"position (\d+)", message).group(1)) :].startswith(token[:3])


def test_status_like_and_valid_statuses_still_work(populated: tuple) -> None:
    store, exp, _ = populated
    assert names(store, exp, "attributes.status = 'FAILED'") == ["ConvNet-c"]
    assert len(names(store, exp, "attributes.status LIKE 'FIN%'")) == 3
