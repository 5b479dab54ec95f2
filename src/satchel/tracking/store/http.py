"""The HTTP store: a ``satchel server`` (or MLflow's server) through its REST API.

``http(s)://host:port`` tracking URIs open this store. It speaks MLflow's REST routes (the
model registry's in ``http_registry``), plus
Satchel's own (``/api/2.0/satchel/...``) for liveness, atomic end and run-id prefixes, over
one kept-alive connection per thread (``http_conn``). Records travel in MLflow's JSON shapes
(``satchel.tracking.serialize``). Standard library only.
"""

from __future__ import annotations

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
from satchel.tracking.serialize import (
    experiment_from_dict,
    float_to_json,
    key_values,
    metric_from_dict,
    run_from_dict,
    run_info_from_dict,
)
from satchel.tracking.store.base import Store
from satchel.tracking.store.http_conn import Connection
from satchel.tracking.store.http_registry import HttpRegistry

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["HttpStore", "open_store"]

API = "/api/2.0/mlflow"
OWN = "/api/2.0/satchel"
HISTORY_PAGE = 25_000


def open_store(uri: str, create: bool, artifact_root: str | None) -> HttpStore:
    """The registry's entry point; a server store always exists (the server made it)."""
    return HttpStore(uri)


def _metric_json(m: Metric) -> dict[str, Any]:
    """Checked here as the SQLite store checks it, so a bad value fails the same way."""
    from satchel.tracking.validation import validate_metric

    validate_metric(m.key, m.value, m.timestamp, m.step)
    return {"key": m.key, "value": float_to_json(m.value), "timestamp": m.timestamp, "step": m.step}


class HttpStore(HttpRegistry, Store):
    def __init__(self, uri: str) -> None:
        self.uri = uri.rstrip("/")
        self.conn = Connection(self.uri)

    def __repr__(self) -> str:
        return f"HttpStore({self.uri!r})"

    def close(self) -> None:
        self.conn.close()

    def _get(self, path: str, query: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.conn.json("GET", path, query or {})

    def _post(self, path: str, body: dict[str, Any], idempotent: bool = True) -> dict[str, Any]:
        return self.conn.json("POST", path, body, idempotent)

    # -- experiments -------------------------------------------------------------------
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, str] | None = None
    ) -> str:
        body: dict[str, Any] = {"name": name, "tags": key_values(tags or {})}
        if artifact_location:
            body["artifact_location"] = artifact_location
        return str(self._post(f"{API}/experiments/create", body, False)["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        if not experiment_id:  # the server would call the empty id a missing parameter
            from satchel.errors import NotFoundError

            raise NotFoundError(
                "experiment id '' not found",
                hint="list experiments with 'satchel experiments list'",
            )
        answer = self._get(f"{API}/experiments/get", {"experiment_id": experiment_id})
        return experiment_from_dict(answer["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        from satchel.errors import NotFoundError

        try:
            answer = self._get(f"{API}/experiments/get-by-name", {"experiment_name": name})
        except NotFoundError:
            return None
        return experiment_from_dict(answer["experiment"])

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        body: dict[str, Any] = {"view_type": view_type.name, "max_results": max_results}
        for key, value in (("filter", filter_string), ("page_token", page_token)):
            if value:
                body[key] = value
        if order_by:
            body["order_by"] = list(order_by)
        answer = self._post(f"{API}/experiments/search", body)
        found = [experiment_from_dict(e) for e in answer.get("experiments", ())]
        return PagedList(found, answer.get("next_page_token") or None)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        body = {"experiment_id": experiment_id, "new_name": new_name}
        self._post(f"{API}/experiments/update", body)

    def delete_experiment(self, experiment_id: str) -> None:
        self._post(f"{API}/experiments/delete", {"experiment_id": experiment_id})

    def restore_experiment(self, experiment_id: str) -> None:
        self._post(f"{API}/experiments/restore", {"experiment_id": experiment_id})

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        body = {"experiment_id": experiment_id, "key": key, "value": value}
        self._post(f"{API}/experiments/set-experiment-tag", body)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        body = {"experiment_id": experiment_id, "key": key}
        self._post(f"{API}/experiments/delete-experiment-tag", body)

    # -- runs --------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
        status: RunStatus = RunStatus.RUNNING,
    ) -> Run:
        body: dict[str, Any] = {
            "experiment_id": experiment_id,
            "user_id": user_id,
            "start_time": start_time,
            "tags": [{"key": t.key, "value": t.value} for t in tags],
        }
        if run_name:
            body["run_name"] = run_name
        run = run_from_dict(self._post(f"{API}/runs/create", body, False)["run"])
        if RunStatus(status) is not RunStatus.RUNNING:
            self.update_run_info(run.info.run_id, status=status)
        return run

    def get_run(self, run_id: str) -> Run:
        return run_from_dict(self._get(f"{API}/runs/get", {"run_id": run_id})["run"])

    def update_run_info(
        self,
        run_id: str,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        body: dict[str, Any] = {"run_id": run_id}
        if status is not None:
            body["status"] = RunStatus(status).value
        if end_time is not None:
            body["end_time"] = end_time
        if run_name is not None:
            body["run_name"] = run_name
        return run_info_from_dict(self._post(f"{API}/runs/update", body)["run_info"])

    def set_terminated_if_running(self, run_id: str, status: RunStatus, end_time: int) -> bool:
        body = {"run_id": run_id, "status": RunStatus(status).value, "end_time": end_time}
        return bool(self._post(f"{OWN}/runs/terminate-if-running", body).get("changed"))

    def delete_run(self, run_id: str) -> None:
        self._post(f"{API}/runs/delete", {"run_id": run_id})

    def restore_run(self, run_id: str) -> None:
        self._post(f"{API}/runs/restore", {"run_id": run_id})

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        # The server's per-request limits (1,000 entities, 100 params and tags): a large
        # batch goes in slices, the first holding params and tags when they fit. (A failed
        # slice leaves the earlier ones written; MLflow's client slices the same way.)
        pairs: list[tuple[str, Param | RunTag]] = [("params", p) for p in params]
        pairs += [("tags", t) for t in tags]
        metric_items = [_metric_json(m) for m in metrics]
        first = 1000 - len(pairs) if len(pairs) <= 100 else 1000
        body: dict[str, Any] = {"run_id": run_id, "metrics": metric_items[:first]}
        if len(pairs) <= 100:
            for kind, item in pairs:
                body.setdefault(kind, []).append({"key": item.key, "value": item.value})
            pairs = []
        self._post(f"{API}/runs/log-batch", body)
        for start in range(0, len(pairs), 100):
            more: dict[str, Any] = {"run_id": run_id}
            for kind, item in pairs[start : start + 100]:
                more.setdefault(kind, []).append({"key": item.key, "value": item.value})
            self._post(f"{API}/runs/log-batch", more)
        for start in range(first, len(metric_items), 1000):
            chunk = metric_items[start : start + 1000]
            self._post(f"{API}/runs/log-batch", {"run_id": run_id, "metrics": chunk})

    def log_metric(self, run_id: str, metric: Metric) -> None:
        self._post(f"{API}/runs/log-metric", {"run_id": run_id, **_metric_json(metric)})

    def delete_tag(self, run_id: str, key: str) -> None:
        self._post(f"{API}/runs/delete-tag", {"run_id": run_id, "key": key})

    def log_inputs(self, run_id: str, datasets: Sequence[dict[str, Any]]) -> None:
        self._post(f"{API}/runs/log-inputs", {"run_id": run_id, "datasets": list(datasets)})

    def get_run_inputs(self, run_id: str) -> list[dict[str, Any]]:
        answer = self._get(f"{API}/runs/get", {"run_id": run_id})["run"]
        return list((answer.get("inputs") or {}).get("dataset_inputs", ()))

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        out: list[Metric] = []
        token = None
        while True:
            query = {"run_id": run_id, "metric_key": key, "max_results": HISTORY_PAGE}
            if token:
                query["page_token"] = token
            answer = self._get(f"{API}/metrics/get-history", query)
            out += [metric_from_dict(m) for m in answer.get("metrics", ())]
            token = answer.get("next_page_token")
            if not token:
                return out

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        body: dict[str, Any] = {
            "experiment_ids": list(experiment_ids),
            "run_view_type": run_view_type.name,
            "max_results": max_results,
        }
        if filter_string:
            body["filter"] = filter_string
        if order_by:
            body["order_by"] = list(order_by)
        if page_token:
            body["page_token"] = page_token
        answer = self._post(f"{API}/runs/search", body)
        found = [run_from_dict(r) for r in answer.get("runs", ())]
        return PagedList(found, answer.get("next_page_token") or None)

    def run_ids_with_prefix(self, prefix: str, limit: int = 10) -> list[str]:
        answer = self._get(f"{OWN}/runs/ids-with-prefix", {"prefix": prefix, "limit": limit})
        return list(answer.get("run_ids", ()))

    # -- liveness ----------------------------------------------------------------------
    def heartbeat(self, run_id: str, owner: str | None = None) -> None:
        body = {"run_id": run_id, **({"owner": owner} if owner else {})}
        self._post(f"{OWN}/runs/heartbeat", body)

    def running_owners(self) -> list[tuple[str, str, int | None]]:
        rows = self._get(f"{OWN}/runs/running-owners").get("runs", ())
        return [(r["run_id"], r["owner"], r.get("heartbeat_time")) for r in rows]
