"""The fluent API's process state: the tracking URI, the current experiment, one Client per
store. Used by ``satchel.tracking.run_stack`` (runs) and ``satchel.tracking.fluent`` (logging).

``SATCHEL_EXPERIMENT_ID`` / ``SATCHEL_EXPERIMENT_NAME`` pick the experiment of new runs when
``set_experiment`` was not called (a missing name is created). Standard library only.
"""

from __future__ import annotations

import os

from satchel.errors import AlreadyExistsError, InvalidValueError
from satchel.tracking.client import Client
from satchel.tracking.entities import DEFAULT_EXPERIMENT_ID, Experiment, LifecycleStage
from satchel.tracking.uri import get_tracking_uri, set_tracking_uri

__all__ = ["get_experiment_by_name", "get_tracking_uri", "set_experiment", "set_tracking_uri"]

ENV_EXPERIMENT_ID = "SATCHEL_EXPERIMENT_ID"
ENV_EXPERIMENT_NAME = "SATCHEL_EXPERIMENT_NAME"


class _State:
    def __init__(self) -> None:
        self.experiment_id: str | None = None  # set_experiment
        self.env_run_consumed = False
        self.last_run_id: str | None = None
        self.last_client: Client | None = None
        self.hooks_pid: int | None = None  # the process that installed atexit/excepthook
        self.heartbeat_pid: int | None = None  # the process running the heartbeat thread


_state = _State()
_clients: dict[str, Client] = {}


def _client() -> Client:
    uri = get_tracking_uri()
    client = _clients.get(uri)
    if client is None:
        client = _clients[uri] = Client(uri)
    return client


def set_experiment(
    experiment_name: str | None = None,
    experiment_id: str | None = None,
    *,
    name: str | None = None,
) -> Experiment:
    """Make this experiment the one new runs go to; created when the name is unknown."""
    experiment_name = experiment_name if experiment_name is not None else name
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidValueError(
            "set_experiment needs exactly one of experiment_name or experiment_id",
            hint="e.g. satchel.set_experiment('Wine Regression')",
        )
    client = _client()
    if experiment_id is not None:
        experiment = client.get_experiment(str(experiment_id))
    else:
        experiment = _get_or_create_experiment(client, str(experiment_name))
    _check_active(experiment)
    _state.experiment_id = experiment.experiment_id
    return experiment


def _get_or_create_experiment(client: Client, name: str) -> Experiment:
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment
    try:
        return client.get_experiment(client.create_experiment(name))
    except AlreadyExistsError:  # another process created it between our two calls
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return found


def _check_active(experiment: Experiment) -> None:
    if experiment.lifecycle_stage == LifecycleStage.DELETED:
        raise InvalidValueError(
            f"experiment {experiment.name!r} (id {experiment.experiment_id}) is deleted",
            hint=f"restore it with `satchel experiments restore {experiment.experiment_id}` "
            "or use another name",
        )


def _current_experiment_id(client: Client) -> str:
    if _state.experiment_id is not None:
        return _state.experiment_id
    env_id = os.environ.get(ENV_EXPERIMENT_ID)
    if env_id:
        experiment = client.get_experiment(env_id)
    elif os.environ.get(ENV_EXPERIMENT_NAME):
        experiment = _get_or_create_experiment(client, os.environ[ENV_EXPERIMENT_NAME])
    else:
        return DEFAULT_EXPERIMENT_ID
    _check_active(experiment)
    return experiment.experiment_id


def get_experiment_by_name(name: str) -> Experiment | None:
    return _client().get_experiment_by_name(name)
