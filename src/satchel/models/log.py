"""``log_model``: save a model into the active run's artifacts, record it, optionally register.

    info = log_model(sklearn_flavor.save(est), name="model", input_example=X)
    info.model_uri   # runs:/<run_id>/model

The run gets two tags: MLflow's ``mlflow.log-model.history`` (the UI lists models from it)
and ``satchel.model.sha256/<name>``, the digest of the model's checksum manifest, which
loading through ``runs:/`` or ``models:/`` checks.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from satchel.models.entities import ModelVersion
from satchel.models.requirements import run_lock
from satchel.models.save import FlavorFiles, save_model_dir
from satchel.models.uri import digest_tag

__all__ = ["ModelInfo", "log_model", "register_model"]

HISTORY_TAG = "mlflow.log-model.history"


class ModelInfo:
    """What ``log_model`` returns (MLflow's ``ModelInfo`` fields that matter)."""

    def __init__(
        self,
        run_id: str,
        artifact_path: str,
        flavors: list[str],
        registered_model_version: str | None = None,
    ) -> None:
        self.run_id = run_id
        self.artifact_path = artifact_path
        self.model_uri = f"runs:/{run_id}/{artifact_path}"
        self.flavors = flavors
        self.registered_model_version = registered_model_version

    def __repr__(self) -> str:
        return f"ModelInfo(model_uri={self.model_uri!r})"


def log_model(
    write_flavor: Callable[[Path], FlavorFiles],
    name: str,
    *,
    input_example: Any = None,
    registered_model_name: str | None = None,
    pip_requirements: list[str] | None = None,
    extra_pip_requirements: list[str] | None = None,
) -> ModelInfo:
    from satchel.tracking import fluent

    frame = fluent._frame()  # the active run, started implicitly like every log_* call
    client, run_id = frame.client, frame.run_id
    requirements = pip_requirements or run_lock(client, run_id)
    flavors: list[str] = []

    def recording(tmp: Path) -> FlavorFiles:
        files = write_flavor(tmp)
        flavors.extend(files.flavors)
        return files

    with tempfile.TemporaryDirectory(prefix="satchel-log-model-") as tmp:
        local = Path(tmp, name.strip("/").replace("/", "_"))
        digest = save_model_dir(
            local,
            recording,
            input_example=input_example,
            requirements=requirements,
            extra_pip_requirements=extra_pip_requirements,
            run_id=run_id,
            artifact_path=name,
        )
        client.log_artifacts(run_id, local, name)
    _record(client, run_id, name, digest, flavors)
    version = None
    if registered_model_name:
        version = register_model(f"runs:/{run_id}/{name}", registered_model_name).version
    return ModelInfo(run_id, name, flavors, version)


def _record(client: Any, run_id: str, name: str, digest: str, flavors: list[str]) -> None:
    history = client.get_run(run_id).data.tags.get(HISTORY_TAG)
    entries = json.loads(history) if history else []
    entries.append(
        {
            "run_id": run_id,
            "artifact_path": name,
            "utc_time_created": time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime()),
            "flavors": {f: {} for f in flavors},
        }
    )
    client.set_tag(run_id, HISTORY_TAG, json.dumps(entries[-10:]))  # tag values are capped
    client.set_tag(run_id, digest_tag(name), digest)


def register_model(
    model_uri: str, name: str, tags: dict[str, Any] | None = None, client: Any = None
) -> ModelVersion:
    """Register ``model_uri`` (``runs:/...`` or a path) as a new version of ``name``,
    creating the registered model on first use."""
    from satchel.errors import AlreadyExistsError
    from satchel.models.uri import parse_runs_uri
    from satchel.tracking.client import Client

    client = client or Client()
    with contextlib.suppress(AlreadyExistsError):  # register_model into an existing name
        client.create_registered_model(name)
    run_id = None
    source = model_uri
    if model_uri.startswith("runs:/"):
        run_id, path = parse_runs_uri(model_uri)
        source = f"{client.get_run(run_id).info.artifact_uri.rstrip('/')}/{path}"
    return client.create_model_version(name, source, run_id=run_id, tags=tags)
