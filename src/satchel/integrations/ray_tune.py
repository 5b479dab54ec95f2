"""Ray Tune sweeps tracked as nested runs: the sweep is a parent run, every trial a child run.

    from satchel.integrations.ray_tune import SatchelLoggerCallback, setup_satchel

    tuner = tune.Tuner(
        train,
        param_space={"lr": tune.loguniform(1e-4, 1e-1)},
        run_config=tune.RunConfig(callbacks=[SatchelLoggerCallback(experiment_name="sweep")]),
    )

``SatchelLoggerCallback`` runs on the Tune driver. The parent run is the run the driver
already logs into (under ``satchel run``: ``SATCHEL_RUN_ID``), else a new run it creates and
ends. Each trial becomes a child run (``mlflow.parentRunId``, ``satchel.tune.trial_id``) with
its config as params (nested keys joined by ``/``) and its reported results as metrics, the
training iteration as step. Metrics are buffered and sent with ``log_batch`` (at most every
``flush_seconds``, at 1,000 points, and when the trial ends) — not one request per value as
Ray's ``MLflowLoggerCallback`` does. A trial that errors ends FAILED; trials still running
when the sweep stops (Ctrl-C, a stop) end KILLED.

``setup_satchel(config)``, called inside a trainable, makes the trial's child run the active
run there, so ``satchel.log_metric(...)`` in the trainable logs into it.

Ray is imported lazily: the module imports without it, and runs inside the user's Ray env.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from typing import Any

from satchel.tracking.client import Client, now_ms
from satchel.tracking.entities import Metric, Param, RunStatus

__all__ = ["SatchelLoggerCallback", "flatten", "setup_satchel"]  # noqa: F822  (__getattr__)

TRIAL_TAG = "satchel.tune.trial_id"
MAX_BATCH = 1000  # the server's log-batch limit for metrics
_NOT_METRICS = {"trial_id", "pid", "hostname", "node_ip", "date", "timestamp", "done"}
_NOT_METRICS |= {"should_checkpoint", "experiment_tag", "training_iteration"}


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a/b": 1}``."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}/"))
        else:
            out[name] = value
    return out


def _metrics(result: Mapping[str, Any], step: int, when: int) -> list[Metric]:
    found = []
    for key, value in flatten({k: v for k, v in result.items() if k != "config"}).items():
        if key in _NOT_METRICS or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        found.append(Metric(key, float(value), when, step))
    return found


class _Sweep:
    """The parent run, the trials' child runs and their buffered metrics (Ray-free)."""

    def __init__(
        self,
        client: Client,
        experiment_id: str,
        parent_run_id: str | None,
        run_name: str | None,
        flush_seconds: float,
    ) -> None:
        self.client = client
        self.experiment_id = experiment_id
        self.owns_parent = parent_run_id is None
        if parent_run_id is None:
            parent_run_id = client.create_run(experiment_id, run_name=run_name).info.run_id
        self.parent_run_id = parent_run_id
        self.flush_seconds = flush_seconds
        self.runs: dict[str, str] = {}  # trial id -> run id
        self._buffer: dict[str, list[Metric]] = {}
        self._flushed: dict[str, float] = {}
        self._lock = threading.Lock()

    def start_trial(self, trial_id: str, name: str, config: Mapping[str, Any]) -> str:
        if trial_id in self.runs:  # a trial resumed after a pause keeps its run
            return self.runs[trial_id]
        tags = {"mlflow.parentRunId": self.parent_run_id, TRIAL_TAG: trial_id}
        run = self.client.create_run(self.experiment_id, tags=tags, run_name=name)
        run_id = run.info.run_id
        params = [Param(k, str(v)[:6000]) for k, v in flatten(config).items()]
        for start in range(0, len(params), 100):  # the server's log-batch limit for params
            self.client.log_batch(run_id, params=params[start : start + 100])
        self.runs[trial_id] = run_id
        self._flushed[trial_id] = time.monotonic()
        return run_id

    def result(self, trial_id: str, result: Mapping[str, Any]) -> None:
        step = int(result.get("training_iteration") or 0)
        with self._lock:
            pending = self._buffer.setdefault(trial_id, [])
            pending.extend(_metrics(result, step, now_ms()))
            due = time.monotonic() - self._flushed.get(trial_id, 0.0) >= self.flush_seconds
        if len(pending) >= MAX_BATCH or due:
            self.flush(trial_id)

    def flush(self, trial_id: str) -> None:
        with self._lock:
            pending = self._buffer.pop(trial_id, [])
            self._flushed[trial_id] = time.monotonic()
        run_id = self.runs.get(trial_id)
        if run_id is None:
            return
        for start in range(0, len(pending), MAX_BATCH):
            self.client.log_batch(run_id, metrics=pending[start : start + MAX_BATCH])

    def end_trial(self, trial_id: str, status: RunStatus) -> None:
        self.flush(trial_id)
        run_id = self.runs.pop(trial_id, None)
        if run_id is not None:
            self.client.set_terminated(run_id, status)

    def end(self) -> None:
        """Trials still open when the sweep ends were stopped: KILLED (and so the parent)."""
        stopped = list(self.runs)
        for trial_id in stopped:
            self.end_trial(trial_id, RunStatus.KILLED)
        if self.owns_parent:
            status = RunStatus.KILLED if stopped else RunStatus.FINISHED
            self.client.set_terminated(self.parent_run_id, status)


def _experiment_id(client: Client, name: str | None, experiment_id: str | None) -> str:
    if experiment_id:
        return str(experiment_id)
    if name:
        found = client.get_experiment_by_name(name)
        return found.experiment_id if found else client.create_experiment(name)
    return os.environ.get("SATCHEL_EXPERIMENT_ID") or "0"


def _callback_class() -> type:
    from ray.tune.logger import LoggerCallback

    class SatchelLoggerCallback(LoggerCallback):
        """Tracks a Tune sweep: a parent run, one child run per trial (see the module)."""

        def __init__(
            self,
            tracking_uri: str | None = None,
            experiment_name: str | None = None,
            experiment_id: str | None = None,
            parent_run_id: str | None = None,
            run_name: str | None = None,
            flush_seconds: float = 5.0,
        ) -> None:
            self._args = (tracking_uri, experiment_name, experiment_id, parent_run_id, run_name)
            self._flush_seconds = flush_seconds
            self.sweep: _Sweep | None = None

        def setup(self, *args: Any, **kwargs: Any) -> None:
            tracking_uri, name, exp_id, parent, run_name = self._args
            client = Client(tracking_uri)
            parent = parent or os.environ.get("SATCHEL_RUN_ID") or None
            if exp_id is None and name is None and parent is not None:
                exp_id = client.get_run(parent).info.experiment_id
            self.sweep = _Sweep(
                client, _experiment_id(client, name, exp_id), parent, run_name, self._flush_seconds
            )

        def _ready(self) -> _Sweep:
            if self.sweep is None:
                self.setup()
            assert self.sweep is not None
            return self.sweep

        def log_trial_start(self, trial: Any) -> None:
            self._ready().start_trial(trial.trial_id, str(trial), trial.config or {})

        def log_trial_result(self, iteration: int, trial: Any, result: dict[str, Any]) -> None:
            sweep = self._ready()
            if trial.trial_id not in sweep.runs:
                self.log_trial_start(trial)
            sweep.result(trial.trial_id, result)

        def log_trial_end(self, trial: Any, failed: bool = False) -> None:
            status = RunStatus.FAILED if failed else RunStatus.FINISHED
            self._ready().end_trial(trial.trial_id, status)

        def on_experiment_end(self, trials: list[Any], **info: Any) -> None:
            if self.sweep is not None:
                self.sweep.end()

    return SatchelLoggerCallback


_classes: dict[str, type] = {}


def __getattr__(name: str) -> Any:
    """``SatchelLoggerCallback`` is built on first use: its base class is Ray's."""
    if name == "SatchelLoggerCallback":
        if name not in _classes:
            _classes[name] = _callback_class()
        return _classes[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def setup_satchel(
    config: Mapping[str, Any] | None = None,
    tracking_uri: str | None = None,
    experiment_name: str | None = None,
    experiment_id: str | None = None,
    wait_seconds: float = 60.0,
) -> Any:
    """Inside a trainable: make this trial's child run (created by ``SatchelLoggerCallback``
    on the driver) the active run, so ``satchel.log_*`` log into it; returns the module
    ``satchel``. Without the callback (nothing found after ``wait_seconds``), the trial's run
    is created here, under ``SATCHEL_RUN_ID`` when set, with ``config`` as params."""
    from ray import tune

    import satchel

    trial_id = tune.get_context().get_trial_id()
    client = Client(tracking_uri)
    exp_id = _experiment_id(client, experiment_name, experiment_id)
    run_id = _find_trial_run(client, exp_id, trial_id, wait_seconds)
    if tracking_uri:
        satchel.set_tracking_uri(tracking_uri)
    while satchel.active_run() is not None:  # an actor reused from an earlier trial
        satchel.end_run()
    if run_id is None:  # no callback: this process creates the trial's run and ends it
        parent = os.environ.pop("SATCHEL_RUN_ID", None)
        tags = {TRIAL_TAG: trial_id, **({"mlflow.parentRunId": parent} if parent else {})}
        name = tune.get_context().get_trial_name()
        run_id = client.create_run(exp_id, tags=tags, run_name=name).info.run_id
        if config:
            client.log_batch(run_id, params=[Param(k, str(v)) for k, v in flatten(config).items()])
        satchel.start_run(run_id=run_id)
        return satchel
    # the callback's run: handed over like a runner's run, so the callback alone ends it
    from satchel.tracking import run_stack

    os.environ["SATCHEL_RUN_ID"] = run_id
    run_stack._state.env_run_consumed = False
    satchel.start_run()
    return satchel


def _find_trial_run(client: Client, exp_id: str, trial_id: str, wait_seconds: float) -> str | None:
    deadline = time.monotonic() + wait_seconds
    query = f"tags.`{TRIAL_TAG}` = '{trial_id}'"
    while True:
        found = client.search_runs([exp_id], query, max_results=1)
        if found:
            return str(found[0].info.run_id)
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.2)
