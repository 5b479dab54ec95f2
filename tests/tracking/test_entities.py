"""The tracking records behave like frozen dataclasses, without importing dataclasses."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

from satchel.tracking.entities import (
    Experiment,
    FrozenInstanceError,
    Metric,
    PagedList,
    Run,
    RunData,
    RunInfo,
    RunStatus,
)


def _run() -> Run:
    info = RunInfo("abc", "0", "name", "u", RunStatus.RUNNING, 1, None, "file:///a")
    return Run(info, RunData(metrics={"m": 1.0}, tags={"t": "v"}))


def test_construction_defaults_equality_hash_and_repr() -> None:
    metric = Metric(key="rmse", value=0.5, timestamp=7)
    assert metric == Metric("rmse", 0.5, 7, 0)
    assert metric != Metric("rmse", 0.5, 7, 1)
    assert hash(metric) == hash(Metric("rmse", 0.5, 7))
    assert repr(metric) == "Metric(key='rmse', value=0.5, timestamp=7, step=0)"
    assert Experiment("1", "e", "/a").tags == {}
    assert RunData().params == {}
    assert _run() == _run()
    assert _run().info.lifecycle_stage == "active"


def test_records_are_frozen() -> None:
    metric = Metric("rmse", 0.5, 7)
    with pytest.raises(FrozenInstanceError):
        metric.value = 1.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del metric.key  # type: ignore[misc]
    assert metric.value == 0.5


def test_a_subclass_is_not_equal_to_its_base_and_records_pickle() -> None:
    class Sub(Run):
        pass

    run = _run()
    assert Sub(run.info, run.data) != run
    assert pickle.loads(pickle.dumps(run)) == run


def test_paged_list_is_a_list_with_a_token() -> None:
    page = PagedList([1, 2], "next")
    assert page == [1, 2] and page.token == "next"
    assert PagedList[int] is not None  # usable as a generic at runtime


def test_importing_the_entities_skips_dataclasses_and_typing() -> None:
    code = (
        "import sys; before = set(sys.modules); import satchel; "
        "print(sorted({'dataclasses', 'typing', 'inspect'} & (set(sys.modules) - before)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
