"""The interface every tracking store implements (SQLite, HTTP; PostgreSQL next).

The Client talks only to this interface, so a new store is one module plus one line in
``satchel.tracking.store.STORES``; every store passes the contract suite in
``tests/tracking/test_store_contract.py``. Standard library only.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from satchel.errors import InvalidValueError
from satchel.tracking.entities import (
    Experiment,
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from satchel.tracking.sampling import MetricRange, SampledHistory, downsample
from satchel.tracking.store.registry_base import RegistryStore

TYPE_CHECKING = False  # `typing` costs ~5 ms on every project's first log call
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Store"]


class Store(RegistryStore, abc.ABC):
    """A tracking store. Every method is one short unit of work, safe across processes."""

    # -- experiments -------------------------------------------------------------------
    @abc.abstractmethod
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, str] | None = None
    ) -> str:
        """Create an experiment and return its id. AlreadyExistsError on a taken name."""

    @abc.abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment:
        """NotFoundError when unknown."""

    @abc.abstractmethod
    def get_experiment_by_name(self, name: str) -> Experiment | None: ...

    @abc.abstractmethod
    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]: ...

    @abc.abstractmethod
    def rename_experiment(self, experiment_id: str, new_name: str) -> None: ...

    @abc.abstractmethod
    def delete_experiment(self, experiment_id: str) -> None: ...

    @abc.abstractmethod
    def restore_experiment(self, experiment_id: str) -> None: ...

    @abc.abstractmethod
    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None: ...

    # -- runs --------------------------------------------------------------------------
    @abc.abstractmethod
    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
        status: RunStatus = RunStatus.RUNNING,
    ) -> Run:
        """Create a run. A missing run_name gets a generated one (also set as mlflow.runName)."""

    @abc.abstractmethod
    def get_run(self, run_id: str) -> Run:
        """NotFoundError when unknown. Data holds the latest value of each metric."""

    @abc.abstractmethod
    def update_run_info(
        self,
        run_id: str,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo: ...

    @abc.abstractmethod
    def set_terminated_if_running(self, run_id: str, status: RunStatus, end_time: int) -> bool:
        """Atomically end the run unless it already has a terminal status; True if it did."""

    @abc.abstractmethod
    def delete_run(self, run_id: str) -> None: ...

    @abc.abstractmethod
    def restore_run(self, run_id: str) -> None: ...

    @abc.abstractmethod
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Write all of it in one transaction. Params are immutable: InvalidValueError naming
        the old and new value when a key is logged again with a different value."""

    def log_metric(self, run_id: str, metric: Metric) -> None:
        """One metric, committed when this returns. Stores may override with a leaner path."""
        self.log_batch(run_id, metrics=[metric])

    @abc.abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None: ...

    @abc.abstractmethod
    def delete_experiment_tag(self, experiment_id: str, key: str) -> None: ...

    @abc.abstractmethod
    def log_inputs(self, run_id: str, datasets: Sequence[dict[str, Any]]) -> None:
        """Record datasets used by the run: MLflow's DatasetInput JSON (``{"dataset": {name,
        digest, source_type, source, ...}, "tags": [...]}``); the same (name, digest) again
        replaces the earlier record."""

    @abc.abstractmethod
    def get_run_inputs(self, run_id: str) -> list[dict[str, Any]]:
        """The DatasetInput records of the run, in the order first logged."""

    @abc.abstractmethod
    def get_metric_history(self, run_id: str, key: str) -> list[Metric]: ...

    @abc.abstractmethod
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """MLflow's filter syntax, executed by the store (never by loading every run)."""

    def run_ids_with_prefix(self, prefix: str, limit: int = 10) -> list[str]:
        """Up to ``limit`` run ids (active or deleted) starting with ``prefix``, sorted; lets
        the CLI accept a short id. Optional: stores without it accept only full ids."""
        raise NotImplementedError

    def move_run(self, run_id: str, experiment_id: str) -> None:
        """Move an active run into another active experiment (its artifacts stay where they
        are: the run keeps its artifact URI). Optional: InvalidValueError where unsupported."""
        raise InvalidValueError(
            f"this tracking store ({type(self).__name__}) cannot move runs",
            hint="move runs on a store that supports it (the embedded SQLite store does)",
        )

    # -- reads for charts and pickers (tracking.sampling); stores override with queries ---
    def sampled_metric_history(
        self, run_id: str, key: str, lo: int | None, hi: int | None, buckets: int
    ) -> SampledHistory:
        """The history of ``key`` between steps lo and hi (None: open), at most about
        3 * buckets points: each bucket's min, max and last point (tracking.sampling)."""
        points, sampled = downsample(self.get_metric_history(run_id, key), lo, hi, buckets)
        return SampledHistory(run_id, key, points, sampled)

    def metric_ranges(self, run_id: str) -> list[MetricRange]:
        """Min, max and number of points of each metric of the run, over its whole history."""
        run = self.get_run(run_id)
        out = []
        for key in sorted(run.data.metrics):
            values = [m.value for m in self.get_metric_history(run_id, key)]
            numbers = [x for x in values if x == x]
            lo, hi = (min(numbers), max(numbers)) if numbers else (None, None)
            out.append(MetricRange(key, lo, hi, len(values)))
        return out

    def run_keys(self, experiment_ids: Sequence[str], newest: int = 2000) -> dict[str, list[str]]:
        """Metric, param and tag keys used by the ``newest`` active runs of the experiments:
        ``{"metrics": [...], "params": [...], "tags": [...]}``, each sorted."""
        keys: dict[str, set[str]] = {"metrics": set(), "params": set(), "tags": set()}
        for run in self.search_runs(experiment_ids, max_results=newest):
            keys["metrics"].update(run.data.metrics)
            keys["params"].update(run.data.params)
            keys["tags"].update(run.data.tags)
        return {kind: sorted(names) for kind, names in keys.items()}

    # -- liveness: runs whose owner died must not stay RUNNING ---------------------------
    @abc.abstractmethod
    def heartbeat(self, run_id: str, owner: str | None = None) -> None:
        """Record that the process owning the run (``owner`` = "host:pid") is alive now."""

    @abc.abstractmethod
    def running_owners(self) -> list[tuple[str, str, int | None]]:
        """(run_id, owner, heartbeat ms) of every RUNNING run that has an owner; the reap
        rule (``satchel.tracking.liveness``) judges them."""

    # -- where artifacts of new experiments go (None: not a local directory) --------------
    artifact_root: str = ""

    def close(self) -> None:  # an optional hook
        """Release resources (connections). Optional."""
