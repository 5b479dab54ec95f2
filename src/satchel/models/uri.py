"""Model URIs → a local model directory, plus the manifest digest the store recorded.

    runs:/<run_id>/<path>          a model logged with a run
    models:/<name>/<version>       a registered version
    models:/<name>/<stage>         the newest version in Staging / Production / ...
    models:/<name>/latest          the newest version
    models:/<name>@<alias>         the version an alias points at
    /a/path, file:///a/path        a model directory on disk

Models in a tracking store are copied into a temporary directory first (``LocatedModel``
removes it on ``cleanup``), so what is verified is exactly what is loaded.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from satchel.errors import ModelError
from satchel.models.entities import STAGES, ModelVersion

if TYPE_CHECKING:
    from satchel.tracking.client import Client

__all__ = ["LocatedModel", "digest_tag", "locate", "model_version_for", "parse_runs_uri"]


class LocatedModel:
    def __init__(self, path: Path, digest: str | None, temp: Path | None = None) -> None:
        self.path = path
        self.digest = digest  # the manifest sha256 recorded in the store, if any
        self._temp = temp

    def cleanup(self) -> None:
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)


def digest_tag(artifact_path: str) -> str:
    """The run tag holding the manifest digest of the model logged at ``artifact_path``."""
    return f"satchel.model.sha256/{artifact_path.strip('/')}"


def parse_runs_uri(uri: str) -> tuple[str, str]:
    rest = uri[len("runs:/") :].strip("/")
    run_id, _, path = rest.partition("/")
    if not run_id or not path:
        raise ModelError(
            f"model URI {uri!r} needs a run id and a path", hint="e.g. runs:/<run_id>/model"
        )
    return run_id, path


def locate(uri: str, client: Client) -> LocatedModel:
    if uri.startswith("runs:/"):
        return _from_run(client, *parse_runs_uri(uri))
    if uri.startswith("models:/"):
        return _from_version(client, model_version_for(uri, client))
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        path = Path(unquote(parsed.path) if parsed.scheme else uri).expanduser()
        if not path.is_dir():
            raise ModelError(f"no model directory at {path}", hint="check the path")
        return LocatedModel(path.resolve(), None)
    if parsed.scheme in _REMOTE:
        return _download(uri, client)
    raise ModelError(
        f"unsupported model URI {uri!r}",
        hint="use runs:/<run_id>/<path>, models:/<name>/<version>, models:/<name>@<alias> "
        "or a local path",
    )


_REMOTE = ("mlflow-artifacts", "http", "https")


def _download(uri: str, client: Client) -> LocatedModel:
    """A model directory behind an artifact URI (e.g. ``mlflow-artifacts:/...`` on a
    server), copied into a temporary directory."""
    from satchel.tracking.artifacts import get_artifact_repository

    repo = get_artifact_repository(uri, client.tracking_uri)
    temp = Path(tempfile.mkdtemp(prefix="satchel-model-"))
    try:
        return LocatedModel(Path(repo.download_artifacts(None, temp)), None, temp)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


def _from_run(client: Client, run_id: str, path: str) -> LocatedModel:
    run = client.get_run(run_id)
    temp = Path(tempfile.mkdtemp(prefix="satchel-model-"))
    try:
        local = Path(client.download_artifacts(run_id, path, temp))
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return LocatedModel(local, run.data.tags.get(digest_tag(path)), temp)


def _from_version(client: Client, mv: ModelVersion) -> LocatedModel:
    source = mv.source
    if source.startswith("models:/m-"):  # an MLflow 3 logged model
        source = client.get_logged_model(source[len("models:/") :].strip("/")).artifact_location
    if source.startswith("runs:/"):
        return _from_run(client, *parse_runs_uri(source))
    if mv.run_id:
        base = client.get_run(mv.run_id).info.artifact_uri.rstrip("/") + "/"
        if source.startswith(base):
            return _from_run(client, mv.run_id, source[len(base) :])
    return locate(source, client)


def model_version_for(uri: str, client: Client) -> ModelVersion:
    """The registered version a ``models:/`` URI names."""
    rest = uri[len("models:/") :].strip("/")
    if "@" in rest and "/" not in rest:
        name, _, alias = rest.partition("@")
        return client.get_model_version_by_alias(name, alias)
    name, _, ref = rest.partition("/")
    if not name or not ref or "/" in ref:
        raise ModelError(
            f"model URI {uri!r} is not models:/<name>/<version|stage> or models:/<name>@<alias>",
            hint="e.g. models:/wine/3, models:/wine/Production, models:/wine@champion",
        )
    if ref.isdigit():
        return client.get_model_version(name, ref)
    if ref.lower() == "latest":
        versions = client.search_model_versions(
            f"name = '{_quote(name)}'", max_results=1, order_by=["version DESC"]
        )
        if not versions:
            raise ModelError(f"registered model {name!r} has no versions")
        return versions[0]
    stage = next((s for s in STAGES if s.lower() == ref.lower()), None)
    if stage is None:
        raise ModelError(
            f"model URI {uri!r}: {ref!r} is neither a version number nor a stage",
            hint=f"use a number, 'latest' or one of {', '.join(STAGES)}",
        )
    found = client.get_latest_versions(name, [stage])
    if not found:
        raise ModelError(
            f"registered model {name!r} has no version in stage {stage}",
            hint=f"move one there with 'satchel models stage {name} <version> {stage}'",
        )
    return found[0]


def _quote(text: str) -> str:
    return text.replace("'", "''")
