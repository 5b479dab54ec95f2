"""``--skip-if-done``: reuse a FINISHED run with the same run key instead of running again.

Checked after validation and before the run record exists, so a hit costs a key (hashing
the project's files and ``path`` inputs) and one search. The key needs the env's content key
without building anything: a kind that cannot tell cheaply (docker; an env not built yet)
makes it a miss, and the run records its key once its env is ready.

Inside a workflow (a parent run), a hit is linked to it: a FINISHED child run tagged
``satchel.reused_run`` names the run that did the work, so the workflow's tree shows every
step, run or reused. The caller gets the reused run's id: its artifacts are the step's output.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from satchel.runner.request import Outcome
from satchel.tracking.client import Client
from satchel.tracking.entities import Run, RunStatus

if TYPE_CHECKING:
    from satchel.runner.plan import Plan

__all__ = ["REUSED_NOTE", "REUSED_TAG", "find_done", "reuse_if_done"]

REUSED_TAG = "satchel.reused_run"
REUSED_NOTE = "reused, nothing ran"  # ends the report line; a delegating caller looks for it


def find_done(plan: Plan, client: Client, experiment_id: str) -> tuple[str | None, Run | None]:
    """(the run key when it can be known now, the newest FINISHED run carrying it)."""
    from satchel.runner.runkey import RUN_KEY_TAG, cached_env_key, run_key_for_env

    env_key = cached_env_key(plan)
    if env_key is None:
        return None, None
    key = run_key_for_env(plan, env_key)
    found = client.search_runs(
        [experiment_id],
        f"tags.`{RUN_KEY_TAG}` = '{key}' and attributes.status = 'FINISHED'",
        max_results=1,
        order_by=["attributes.start_time DESC"],
    )
    return key, (found[0] if found else None)


def reuse_if_done(plan: Plan, client: Client, report: Callable[[str], None]) -> Outcome | None:
    """The outcome of reusing a finished run, or None when this run must run."""
    from satchel.runner.record import parent_run_id, resolve_experiment

    experiment_id = resolve_experiment(client, plan.request)
    key, done = find_done(plan, client, experiment_id)
    if done is None:
        why = "its environment is not built yet" if key is None else f"run key {key[:12]}"
        report(f"no finished run to reuse ({why}): running")
        return None
    run_id = done.info.run_id
    parent = parent_run_id()
    if parent:
        _link(client, plan, experiment_id, parent, run_id)
    report(f"run {run_id} already did this (run key {str(key)[:12]}): {REUSED_NOTE}")
    return Outcome(run_id, RunStatus.FINISHED, 0, 0.0, None, reused=True)


def _link(client: Client, plan: Plan, experiment_id: str, parent: str, reused: str) -> None:
    from satchel.tracking.client import current_user, now_ms

    tags = {
        "mlflow.parentRunId": parent,
        "mlflow.user": current_user(),
        "mlflow.source.name": plan.fetched.source.name,
        "mlflow.source.type": "PROJECT",
        "mlflow.project.entryPoint": plan.entry_point.name,
        REUSED_TAG: reused,
    }
    name = plan.request.run_name or f"{plan.entry_point.name} (reused)"
    marker = client.create_run(experiment_id, tags=tags, run_name=name)
    client.set_terminated_if_running(marker.info.run_id, RunStatus.FINISHED, now_ms())
