"""The record step: the experiment, the run with its system tags, params and source artifacts.

Nothing here runs before every input has been validated (``lifecycle.validate``), so a bad
input never leaves a run behind.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from satchel.errors import InvalidValueError, NotFoundError, UsageError
from satchel.tracking.client import Client
from satchel.tracking.entities import DEFAULT_EXPERIMENT_ID, Param, Run, RunStatus, RunTag
from satchel.tracking.liveness import current_user, hostname
from satchel.tracking.validation import MAX_TAG_VALUE_LENGTH

if TYPE_CHECKING:
    from satchel.envs.base import PreparedEnv
    from satchel.runner.plan import Plan
    from satchel.runner.request import RunRequest

__all__ = [
    "artifact_local_path",
    "console_log",
    "ended_on_error",
    "env_tags",
    "log_env_artifacts",
    "log_source",
    "parent_run_id",
    "record_run",
    "resolve_experiment",
    "run_tags",
]


def resolve_experiment(client: Client, request: RunRequest) -> str:
    """Explicit id > name (created if missing) > SATCHEL_EXPERIMENT_ID/NAME > "0"."""
    exp_id = request.experiment_id
    name = request.experiment_name
    if exp_id and name:
        raise UsageError("give only one of --experiment-name and --experiment-id")
    if not exp_id and not name:
        exp_id = os.environ.get("SATCHEL_EXPERIMENT_ID") or None
        name = None if exp_id else os.environ.get("SATCHEL_EXPERIMENT_NAME") or None
    if exp_id:
        try:
            return client.get_experiment(str(exp_id)).experiment_id
        except NotFoundError:
            raise NotFoundError(
                f"no experiment with id {exp_id!r}",
                hint="list them with `satchel experiments list`",
            ) from None
    if name:
        found = client.get_experiment_by_name(name)
        return found.experiment_id if found else client.create_experiment(name)
    return DEFAULT_EXPERIMENT_ID


def parent_run_id() -> str | None:
    """The run this process is part of: the fluent active run, else the one we were handed."""
    import sys

    fluent = sys.modules.get("satchel.tracking.fluent")  # only if the caller uses it already
    active = getattr(fluent, "active_run", None)
    run = active() if callable(active) else None
    if run is not None:
        return str(run.info.run_id)
    return os.environ.get("SATCHEL_RUN_ID") or None


def _clip(text: str, limit: int = MAX_TAG_VALUE_LENGTH) -> str:
    """A tag value that fits: a long (legal) param value must not make the run impossible."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run_tags(plan: Plan, parent: str | None) -> dict[str, str]:
    """MLflow's system tags plus Satchel's own facts; the env tags come later."""
    source = plan.fetched.source
    tags = {
        "mlflow.user": current_user(),
        "mlflow.source.name": source.name,
        "mlflow.source.type": "PROJECT",
        "mlflow.project.entryPoint": plan.entry_point.name,
        "mlflow.project.env": plan.env_manager,
        "mlflow.project.backend": plan.backend,
        "satchel.host": hostname(),
        "satchel.command": _clip(plan.masked_command),
    }
    optional = {
        "mlflow.source.git.commit": source.commit,
        "mlflow.source.git.branch": source.branch,
        "mlflow.source.git.repoURL": source.repo_url,
        "mlflow.parentRunId": parent,
        "satchel.rerun_of": plan.request.rerun_of,
    }
    tags.update({k: str(v) for k, v in optional.items() if v})
    if source.dirty is not None:
        tags["satchel.source.dirty"] = "true" if source.dirty else "false"
    tags["satchel.source.uri"] = source.uri  # with the rest: log_source has nothing left to add
    # where the project sat: a rerun moves `path` params that pointed inside it to the copy
    tags["satchel.source.root"] = str(plan.fetched.root)
    if plan.resolved.extra:  # which logged params the runner passed undeclared (a rerun does too)
        tags["satchel.params.extra"] = _clip(",".join(plan.resolved.extra))
    return tags


def record_run(client: Client, plan: Plan) -> Run:
    """Create the run (RUNNING) with its tags and log the typed params in one batch."""
    experiment_id = resolve_experiment(client, plan.request)
    tags = run_tags(plan, parent_run_id())
    run = client.create_run(experiment_id, tags=tags, run_name=plan.request.run_name)
    params = [Param(k, v) for k, v in plan.resolved.for_logging().items()]
    if params:
        with ended_on_error(client, run.info.run_id, "logging the params failed"):
            client.log_batch(run.info.run_id, params=params)
    return run


@contextlib.contextmanager
def ended_on_error(client: Client, run_id: str, what: str) -> Iterator[None]:
    """Whatever escapes ends the run, unless it has ended already: KILLED for Ctrl-C /
    SIGTERM, FAILED with ``what`` and the error otherwise. Re-raises."""
    try:
        yield
    except BaseException as exc:
        from satchel.tracking.client import now_ms

        stopped = isinstance(exc, KeyboardInterrupt)
        status = RunStatus.KILLED if stopped else RunStatus.FAILED
        reason = "stopped by a signal" if stopped else f"{what}: {exc}"
        with contextlib.suppress(Exception):  # the original error matters more
            if client.set_terminated_if_running(run_id, status, now_ms()):
                client.set_tag(run_id, "satchel.failure.reason", _clip(reason))
        raise


def artifact_local_path(run: Run, artifact_path: str) -> Path | None:
    """Where an artifact lives on this machine, if the store keeps artifacts locally."""
    from satchel.tracking.artifacts import get_artifact_repository

    try:
        repo = get_artifact_repository(run.info.artifact_uri)
    except InvalidValueError:  # artifacts on a tracking server: uploaded, not written here
        return None
    local = getattr(repo, "local_path", None)
    if local is None:
        return None
    path = Path(local(artifact_path))
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def console_log(client: Client, run: Run) -> Iterator[Path]:
    """The file the console output streams into: the run's ``logs/console.log`` itself when
    artifacts are local, else a staged copy uploaded when the block ends (however it ends)."""
    local = artifact_local_path(run, "logs/console.log")
    if local is not None:
        yield local
        return
    import tempfile

    with tempfile.TemporaryDirectory(prefix="satchel-console-") as tmp:
        staged = Path(tmp, "console.log")
        staged.touch()
        try:
            yield staged
        finally:
            with contextlib.suppress(Exception):  # the run's outcome matters more
                client.log_artifact(run.info.run_id, staged, "logs")


def log_source(client: Client, plan: Plan, run: Run) -> None:
    """Snapshot + diff.patch + untracked.txt under the run's ``source/`` artifact dir."""
    from satchel.projects.source import capture_source

    dest = artifact_local_path(run, "source")
    if dest is not None:
        dest.mkdir(parents=True, exist_ok=True)
        captured = capture_source(plan.fetched, dest, plan.source_files)
    else:  # a remote artifact store: stage in a temp dir, then upload
        import tempfile

        with tempfile.TemporaryDirectory(prefix="satchel-source-") as tmp:
            captured = capture_source(plan.fetched, Path(tmp), plan.source_files)
            client.log_artifacts(run.info.run_id, tmp, "source")
    tags = captured.tags
    # Only what the run does not already carry (run_tags sets the same facts at creation):
    # usually nothing, which saves a write transaction on every run.
    known = run.data.tags
    tags = {k: v for k, v in tags.items() if known.get(k) != v}
    if tags:
        client.log_batch(run.info.run_id, tags=[RunTag(k, v) for k, v in tags.items()])


def env_tags(prepared: PreparedEnv) -> dict[str, str]:
    tags: dict[str, Any] = {"mlflow.project.env": prepared.manager}
    if prepared.key:
        tags["satchel.env.key"] = prepared.key
        tags["satchel.env.cache"] = "hit" if prepared.cache_hit else "miss"
        tags["satchel.env.build_seconds"] = f"{prepared.build_seconds:.3f}"
    if prepared.image:
        tags["mlflow.docker.image.uri"] = prepared.image
    if prepared.image_id:
        tags["mlflow.docker.image.id"] = prepared.image_id
    tags.update(prepared.extra_tags)
    return {k: str(v) for k, v in tags.items()}


def log_file_artifact(client: Client, run: Run, local: Path | None, artifact: str) -> None:
    """Copy ``local`` to the artifact path ``artifact`` (e.g. ``env/build.log``)."""
    if local is None or not Path(local).is_file():
        return
    folder, _, name = artifact.rpartition("/")
    dest = artifact_local_path(run, artifact)
    if dest is not None:
        _copy_file(Path(local), dest)
        return
    import tempfile

    with tempfile.TemporaryDirectory(prefix="satchel-artifact-") as tmp:
        staged = Path(tmp, name)
        _copy_file(Path(local), staged)
        client.log_artifact(run.info.run_id, staged, folder or None)


def _copy_file(src: Path, dest: Path) -> None:
    """shutil.copyfile without importing shutil (and its bz2/lzma, ~3 ms) on every run."""
    with src.open("rb") as reader, dest.open("wb") as writer:
        while True:
            chunk = reader.read(1 << 20)
            if not chunk:
                break
            writer.write(chunk)


def log_env_artifacts(
    client: Client, run: Run, lock_file: Path | None, build_log: Path | None
) -> None:
    log_file_artifact(client, run, lock_file, "env/requirements.lock")
    log_file_artifact(client, run, build_log, "env/build.log")
