"""``Client``: the tracking API by explicit ids, like MLflow's ``MlflowClient``.

    client = satchel.Client()                       # the current tracking URI
    exp_id = client.create_experiment("wine")
    run = client.create_run(exp_id, run_name="baseline")
    client.log_metric(run.info.run_id, "rmse", 0.71, step=3)
    client.set_terminated(run.info.run_id)

A thin layer over the ``Store`` interface: it stringifies values the way MLflow does, fills in
timestamps and users, and stages text/dict artifacts through a temporary file so every store
kind (SQLite now, HTTP later) sees plain files. The store is opened lazily on first use, so
creating a Client costs nothing. Standard library only: ``import satchel`` imports this module.
"""

from __future__ import annotations

import os
import time

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
from satchel.tracking.liveness import current_user
from satchel.tracking.registry_client import RegistryClient

TYPE_CHECKING = False  # importing typing costs ~10 ms; mypy reads this as True
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any

    from satchel.tracking.sampling import MetricRange, SampledHistory
    from satchel.tracking.store.base import Store

# json, tempfile and pathlib are imported where used: `import satchel` must stay fast.

__all__ = ["Client", "now_ms", "parse_status"]


def now_ms() -> int:
    return int(time.time() * 1000)


def parse_status(status: RunStatus | str) -> RunStatus:
    """``"finished"`` / ``RunStatus.FINISHED`` → RunStatus; a one-line error otherwise."""
    try:
        return RunStatus(str(status).upper())
    except ValueError:
        allowed = ", ".join(s.value for s in RunStatus)
        raise InvalidValueError(
            f"Invalid run status {status!r}", hint=f"use one of {allowed}"
        ) from None


_user = current_user


class Client(RegistryClient):
    """Tracking operations by id. ``tracking_uri=None`` means the current one
    (``satchel.set_tracking_uri``, else ``SATCHEL_TRACKING_URI``, else ``./satchel/``)."""

    def __init__(self, tracking_uri: str | None = None) -> None:
        from satchel.tracking.uri import get_tracking_uri

        self._tracking_uri = tracking_uri or get_tracking_uri()
        self._opened: Store | None = None

    @property
    def tracking_uri(self) -> str:
        return self._tracking_uri

    @property
    def _store(self) -> Store:
        if self._opened is None:
            from satchel.tracking.store import get_store

            self._opened = get_store(self._tracking_uri)
        return self._opened

    def require_store(self) -> None:
        """StoreUnavailableError ("no tracking store at X") unless the store exists already:
        reading commands never create an empty one."""
        if self._opened is None:
            from satchel.tracking.store import get_store

            self._opened = get_store(self._tracking_uri, create=False)

    def close(self) -> None:
        """Release this process's connection to the store (reopened on next use)."""
        if self._opened is not None:
            self._opened.close()

    # -- experiments -------------------------------------------------------------------
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> str:
        str_tags = {k: str(v) for k, v in (tags or {}).items()}
        _refuse_reserved_tags(str_tags)
        return self._store.create_experiment(name, artifact_location, str_tags)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self._store.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self._store.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        return self._store.search_experiments(
            view_type, max_results, filter_string or None, order_by, page_token
        )

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._store.rename_experiment(str(experiment_id), new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        self._store.delete_experiment(str(experiment_id))

    def restore_experiment(self, experiment_id: str) -> None:
        self._store.restore_experiment(str(experiment_id))

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        _refuse_reserved_tags([key])
        self._store.set_experiment_tag(str(experiment_id), key, str(value))

    # -- runs --------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: Mapping[str, Any] | None = None,
        run_name: str | None = None,
    ) -> Run:
        run_tags = [RunTag(k, str(v)) for k, v in (tags or {}).items()]
        _refuse_reserved_tags(t.key for t in run_tags)
        return self._store.create_run(
            experiment_id=str(experiment_id),
            user_id=_user(),
            start_time=start_time if start_time is not None else now_ms(),
            tags=run_tags,
            run_name=run_name,
        )

    def get_run(self, run_id: str) -> Run:
        return self._store.get_run(run_id)

    def update_run(
        self, run_id: str, status: RunStatus | str | None = None, name: str | None = None
    ) -> RunInfo:
        new_status = parse_status(status) if status is not None else None
        return self._store.update_run_info(run_id, status=new_status, run_name=name)

    def set_terminated(
        self, run_id: str, status: RunStatus | str = "FINISHED", end_time: int | None = None
    ) -> RunInfo:
        return self._store.update_run_info(
            run_id,
            status=parse_status(status),
            end_time=end_time if end_time is not None else now_ms(),
        )

    def set_terminated_if_running(
        self, run_id: str, status: RunStatus | str, end_time: int | None = None
    ) -> bool:
        """End the run unless it already ended (atomically); True if this call ended it."""
        return self._store.set_terminated_if_running(
            run_id, parse_status(status), end_time if end_time is not None else now_ms()
        )

    def delete_run(self, run_id: str) -> None:
        self._store.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self._store.restore_run(run_id)

    def search_runs(
        self,
        experiment_ids: str | Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        ids = [experiment_ids] if isinstance(experiment_ids, str) else list(experiment_ids)
        return self._store.search_runs(
            [str(i) for i in ids],
            filter_string or None,
            run_view_type,
            max_results,
            order_by,
            page_token,
        )

    def run_ids_with_prefix(self, prefix: str, limit: int = 10) -> list[str]:
        """Up to ``limit`` run ids starting with ``prefix`` (NotImplementedError when the
        store cannot search by prefix)."""
        return self._store.run_ids_with_prefix(prefix, limit)

    # -- liveness ------------------------------------------------------------------------
    def heartbeat(self, run_id: str, owner: str | None = None) -> None:
        """Record that ``owner`` ("host:pid"; unchanged when None) still runs ``run_id``."""
        self._store.heartbeat(run_id, owner)

    def reap_dead_runs(self, stale_after_ms: int | None = None) -> list[str]:
        """Mark FAILED the RUNNING runs whose owner is gone (``tracking.liveness``)."""
        from satchel.tracking import liveness

        stale = liveness.STALE_AFTER_MS if stale_after_ms is None else stale_after_ms
        return liveness.reap_dead_runs(self._store, stale)

    def move_run(self, run_id: str, experiment_id: str) -> None:
        """Move an active run into another active experiment (its artifacts stay put)."""
        self._store.move_run(run_id, str(experiment_id))

    # -- reads for charts and pickers (see tracking.sampling) ----------------------------
    def sampled_metric_history(
        self,
        run_id: str,
        key: str,
        lo: int | None = None,
        hi: int | None = None,
        buckets: int = 300,
    ) -> SampledHistory:
        """The history of ``key`` in steps [lo, hi], at most about 3 * buckets points: each
        bucket's lowest, highest and last point, so no spike is lost."""
        return self._store.sampled_metric_history(run_id, key, lo, hi, buckets)

    def metric_ranges(self, run_id: str) -> list[MetricRange]:
        """Min, max and number of points of each metric of the run."""
        return self._store.metric_ranges(run_id)

    def run_keys(self, experiment_ids: Sequence[str], newest: int = 2000) -> dict[str, list[str]]:
        """Metric, param and tag keys of the experiments' newest runs (a column picker)."""
        return self._store.run_keys([str(e) for e in experiment_ids], newest)

    # -- params, metrics, tags ---------------------------------------------------------
    def log_param(self, run_id: str, key: str, value: Any) -> Any:
        self._store.log_batch(run_id, params=[Param(key, str(value))])
        return value

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: Any,
        timestamp: int | None = None,
        step: int | None = None,
    ) -> None:
        self._store.log_metric(run_id, make_metric(key, value, timestamp, step))

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        _refuse_reserved_tags([key])
        self._store.log_batch(run_id, tags=[RunTag(key, str(value))])

    def delete_tag(self, run_id: str, key: str) -> None:
        self._store.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Iterable[Metric] = (),
        params: Iterable[Param] = (),
        tags: Iterable[RunTag] = (),
    ) -> None:
        tags = list(tags)
        _refuse_reserved_tags(t.key for t in tags)
        self._store.log_batch(run_id, list(metrics), list(params), tags)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        return self._store.get_metric_history(run_id, key)

    # -- artifacts ---------------------------------------------------------------------
    def _repo(self, run_id: str) -> Any:
        from satchel.tracking.artifacts import get_artifact_repository

        return get_artifact_repository(self.get_run(run_id).info.artifact_uri, self._tracking_uri)

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        if not os.path.isfile(local_path):
            raise InvalidValueError(
                f"Cannot log artifact {os.fspath(local_path)!r}: no such file",
                hint="pass an existing file, or use log_artifacts for a directory",
            )
        self._repo(run_id).log_artifact(os.fspath(local_path), artifact_path)

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        if not os.path.isdir(local_dir):
            raise InvalidValueError(
                f"Cannot log artifacts from {os.fspath(local_dir)!r}: no such directory",
                hint="pass an existing directory, or use log_artifact for a file",
            )
        self._repo(run_id).log_artifacts(os.fspath(local_dir), artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """Store ``text`` as the artifact ``artifact_file`` (e.g. ``notes/readme.txt``)."""
        self._log_content(run_id, text, artifact_file)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        """Store ``dictionary`` as JSON (or YAML for ``.yaml``/``.yml``, if PyYAML is there)."""
        self._log_content(run_id, _serialize(dictionary, artifact_file), artifact_file)

    def _log_content(self, run_id: str, text: str, artifact_file: str) -> None:
        parent, _, name = artifact_file.replace("\\", "/").rpartition("/")
        if not name:
            raise InvalidValueError(
                f"Invalid artifact file {artifact_file!r}: it names a directory",
                hint="give a file name such as 'notes/readme.txt'",
            )
        import tempfile

        with tempfile.TemporaryDirectory(prefix="satchel-artifact-") as tmp:
            local = os.path.join(tmp, name)
            with open(local, "w", encoding="utf-8") as fh:
                fh.write(text)
            self._repo(run_id).log_artifact(local, parent or None)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[Any]:
        return list(self._repo(run_id).list_artifacts(path))

    def download_artifacts(
        self, run_id: str, path: str = "", dst_path: str | os.PathLike[str] | None = None
    ) -> str:
        """Copy the artifact ``path`` (a file or directory; "" = all) into ``dst_path`` (a new
        temporary directory when None) and return the local path of the copy."""
        if dst_path is not None:
            return str(self._repo(run_id).download_artifacts(path or None, dst_path))
        import shutil
        import tempfile

        made = tempfile.mkdtemp(prefix="satchel-artifacts-")
        try:
            return str(self._repo(run_id).download_artifacts(path or None, made))
        except BaseException:  # a bad path or run must not leave an empty temp dir behind
            shutil.rmtree(made, ignore_errors=True)
            raise


def make_metric(
    key: str, value: Any, timestamp: int | None = None, step: int | None = None
) -> Metric:
    """A Metric record with MLflow's defaults (now, step 0); the value must be a number.

    The store validates keys on write; here only what the record itself needs (a float
    value, int step and timestamp) is checked, on a fast path for the common plain types."""
    timestamp = int(_time() * 1000) if timestamp is None else timestamp
    step = 0 if step is None else step
    if type(value) in _PLAIN_NUMBERS and type(step) is int and type(timestamp) is int:
        return Metric(key, float(value), timestamp, step)
    from satchel.tracking.validation import validate_metric

    return Metric(*validate_metric(key, value, timestamp, step))


_PLAIN_NUMBERS = (float, int)
_time = time.time


def _serialize(dictionary: Any, artifact_file: str) -> str:
    import json

    if artifact_file.endswith((".yaml", ".yml")):
        try:
            import yaml  # optional: project environments may not have it
        except ImportError:
            raise InvalidValueError(
                f"Cannot write {artifact_file!r} as YAML: PyYAML is not installed",
                hint="install PyYAML or use a .json file name",
            ) from None
        return str(yaml.safe_dump(dictionary, sort_keys=False))
    return json.dumps(dictionary, indent=2, default=str)


def _refuse_reserved_tags(keys: Iterable[str]) -> None:
    """A user's write of a tag reserved for the runner is refused (tracking.validation)."""
    from satchel.tracking.validation import refuse_reserved_tags

    refuse_reserved_tags(keys)
