"""Rules every SQL store applies the same way, whatever its database: experiment ids, run
names, artifact URIs and the not-found errors. Standard library only."""

from __future__ import annotations

from collections.abc import Sequence

from satchel.errors import InvalidValueError, NotFoundError
from satchel.tracking import validation as v
from satchel.tracking.entities import RunTag
from satchel.tracking.store.names import new_run_name

__all__ = [
    "RUN_NAME_TAG",
    "experiment_int_id",
    "experiment_not_found",
    "run_artifact_uri",
    "run_name_and_tags",
    "run_not_found",
]

RUN_NAME_TAG = "mlflow.runName"


def experiment_not_found(experiment_id: object) -> NotFoundError:
    return NotFoundError(
        f"experiment id {str(experiment_id)!r} not found",
        hint="list experiments with 'satchel experiments list'",
    )


def run_not_found(run_id: str) -> NotFoundError:
    return NotFoundError(f"run {run_id!r} not found", hint="list runs with 'satchel runs list'")


def experiment_int_id(experiment_id: object) -> int:
    """Experiment ids are decimal strings; anything else cannot exist."""
    text = str(experiment_id)
    if not text.isdigit():
        raise experiment_not_found(experiment_id)
    return int(text)


def run_name_and_tags(tags: Sequence[RunTag], run_name: str | None) -> tuple[str, dict[str, str]]:
    """The run's name (given, tagged, or generated) and its validated tags, name included."""
    tag_map = dict(v.validate_tag(t.key, t.value) for t in tags)
    tagged_name = tag_map.get(RUN_NAME_TAG)
    if run_name and tagged_name and run_name != tagged_name:
        raise InvalidValueError(
            f"run name {run_name!r} differs from tag {RUN_NAME_TAG}={tagged_name!r}",
            hint="pass only one",
        )
    name = run_name or tagged_name or new_run_name()
    tag_map[RUN_NAME_TAG] = name
    return name, tag_map


def run_artifact_uri(experiment_location: str, run_id: str) -> str:
    """``<experiment location>/<run id>/artifacts``, a URI even for a plain path."""
    base = experiment_location if "://" in experiment_location else "file://" + experiment_location
    return f"{base.rstrip('/')}/{run_id}/artifacts"
