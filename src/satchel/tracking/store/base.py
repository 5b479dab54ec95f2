"""The interface every tracking store implements (SQLite, HTTP; PostgreSQL next).

The Client talks only to this interface, so a new store is one module plus one line in
``satchel.tracking.store.STORES``; every store passes the contract suite in
``tests/tracking/test_store_contract.py``. Standard library only.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

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
from satchel.tracking.store.registry_base import RegistryStore

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
