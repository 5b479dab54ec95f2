"""``satchel runs rerun``: run a recorded run again, on the same code, env and parameters.

    rerun_request   the recorded run → a RunRequest (entry point, env manager, backend,
                    experiment) whose ``rerun_of`` names it; -P overrides travel as given
    restore_project the fetch step of such a request (``lifecycle.validate`` calls it):
                    the recorded code into a temp dir, the recorded params relocated

The code comes back from what ``projects.source`` captured: the recorded commit (through the
git cache for git URLs, else a clone of the recorded repository), the recorded diff and the
untracked files on top; or, without git, the recorded snapshot. The rerun's source facts are
the original's, so its ``source/`` artifacts are byte-identical. The environment follows
from the restored declaration (same declaration → same recorded lock → same env key).
Everything here runs before the new run exists: code that cannot come back is one line.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from satchel.errors import FetchError, SatchelError
from satchel.projects.fetched import Fetched, SourceInfo
from satchel.runner.request import RunRequest
from satchel.tracking.client import Client
from satchel.tracking.entities import Run

if TYPE_CHECKING:
    from satchel.runner.plan import Plan

__all__ = ["RERUN_TAG", "adopt_recorded_lock", "rerun_request", "restore_project"]

RERUN_TAG = "satchel.rerun_of"
_SOURCE_FACTS = {f.name for f in fields(SourceInfo)} - {"repo_root"}


def rerun_request(
    client: Client,
    run_id: str,
    *,
    parameters: dict[str, str] | None = None,
    env_manager: str | None = None,
    backend: str | None = None,
    run_name: str | None = None,
    tracking_uri: str | None = None,
) -> RunRequest:
    """The request that reruns ``run_id``; ``parameters`` override the recorded ones."""
    run = client.get_run(run_id)
    tags = run.data.tags
    if "satchel.source.uri" not in tags or "mlflow.project.entryPoint" not in tags:
        raise FetchError(
            f"run {run.info.run_id} was not launched by `satchel run`: "
            "it recorded no project to run again"
        )
    return RunRequest(
        uri=tags["satchel.source.uri"],
        entry_point=tags["mlflow.project.entryPoint"],
        parameters=dict(parameters or {}),
        experiment_id=run.info.experiment_id,
        run_name=run_name,
        env_manager=env_manager or tags.get("mlflow.project.env"),
        backend=backend or tags.get("mlflow.project.backend"),
        tracking_uri=tracking_uri,
        rerun_of=run.info.run_id,
    )


def restore_project(request: RunRequest, tracking_uri: str) -> tuple[Fetched, dict[str, str]]:
    """The recorded code of ``request.rerun_of`` as a fetched project, and the parameters
    to run it with: the recorded ones (``path`` values inside the old project moved into
    the restored one), overridden by ``request.parameters``."""
    assert request.rerun_of is not None
    client = Client(tracking_uri)
    run = client.get_run(request.rerun_of)
    tmp = Path(tempfile.mkdtemp(prefix="satchel-rerun-"))
    try:
        fetched = _restore(client, run, tmp)
        params = _recorded_params(run, fetched.root, request.entry_point)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return fetched, {**params, **request.parameters}


def _restore(client: Client, run: Run, tmp: Path) -> Fetched:
    from satchel.errors import NotFoundError

    run_id = run.info.run_id
    try:
        artifacts = Path(client.download_artifacts(run_id, "source", tmp / "recorded"))
        meta = json.loads((artifacts / "source.json").read_text())
    except (NotFoundError, OSError, ValueError):
        raise FetchError(
            f"cannot rerun {run_id}: it has no recorded source (source/source.json)"
        ) from None
    facts = {k: v for k, v in meta.items() if k in _SOURCE_FACTS}
    source = SourceInfo(**facts)
    cleanup = _cleanup(tmp)
    if source.type == "git" and source.commit and source.repo_url:
        fetched = _from_git_url(source, cleanup)
        if fetched is not None:
            return fetched
    elif source.commit:
        repo = _from_repository(run, source, artifacts, tmp / "code")
        if repo is not None:
            root = repo / source.subdir if source.subdir else repo
            return Fetched(root, _with_root(source, repo), cleanup)
    return Fetched(_from_snapshot(run_id, source, artifacts), _with_root(source, None), cleanup)


def _cleanup(tmp: Path) -> Any:
    return lambda: shutil.rmtree(tmp, ignore_errors=True)


def _with_root(source: SourceInfo, repo_root: Path | None) -> SourceInfo:
    from dataclasses import replace

    return replace(source, repo_root=repo_root)


def _from_git_url(source: SourceInfo, cleanup: Any) -> Fetched | None:
    """A git URL run: the recorded commit, through the same cached mirror as the first run."""
    from satchel.projects.fetch_git import fetch_remote

    assert source.repo_url is not None
    try:
        fetched = fetch_remote(source.uri, source.repo_url, source.subdir, source.commit, None)
    except SatchelError as exc:
        _warn(f"cannot check out {source.commit} again ({exc}); using the recorded snapshot")
        return None

    def both() -> None:
        fetched.cleanup()
        cleanup()

    restored = _with_root(source, fetched.source.repo_root)
    return Fetched(fetched.root, restored, both)


def _from_repository(run: Run, source: SourceInfo, artifacts: Path, dest: Path) -> Path | None:
    """A local git project: clone the recorded repository (its remote, else the work tree
    it ran in, if still there) at the commit, then the recorded diff and untracked files."""
    from satchel.projects.source import restore_source

    errors = []
    for origin in _repositories(run, source):
        try:
            restore_source(artifacts, origin, dest)
            return dest
        except FetchError as exc:
            shutil.rmtree(dest, ignore_errors=True)
            errors.append(str(exc))
    if errors:
        _warn(f"{errors[-1]}; using the recorded snapshot")
    return None


def _repositories(run: Run, source: SourceInfo) -> list[str]:
    found = [source.repo_url] if source.repo_url else []
    name = run.data.tags.get("mlflow.source.name", "")
    if name.startswith("file://"):  # the work tree it ran in: file://<repo root>#<subdir>
        work_tree = name.removeprefix("file://").partition("#")[0]
        if Path(work_tree, ".git").exists():
            found.append(work_tree)
    return found


def _from_snapshot(run_id: str, source: SourceInfo, artifacts: Path) -> Path:
    snapshot = artifacts / "snapshot"
    skipped = artifacts / "skipped.txt"
    where = f"repository {source.repo_url or source.name} is gone" if source.commit else "no git"
    if not snapshot.is_dir():
        raise FetchError(f"cannot restore the code of run {run_id}: {where} and no snapshot")
    if skipped.is_file() and skipped.read_text().strip():
        first = skipped.read_text().splitlines()[0].replace("\t", " (") + ")"
        raise FetchError(
            f"cannot restore the code of run {run_id}: {where} and its snapshot is "
            f"incomplete ({first})"
        )
    return snapshot


def _recorded_params(run: Run, root: Path, entry_point: str) -> dict[str, str]:
    """The params the runner gave the recorded run (not those its code logged itself)."""
    from satchel.projects.spec import get_entry_point, load_project

    entry = get_entry_point(load_project(root), entry_point)
    extra = [k for k in run.data.tags.get("satchel.params.extra", "").split(",") if k]
    old_root = run.data.tags.get("satchel.source.root", "")
    params = {}
    for key, value in run.data.params.items():
        spec = entry.parameters.get(key)
        if spec is None and key not in extra:
            continue
        if spec is not None and spec.type == "path" and old_root:
            value = _relocate(value, old_root, root)
        params[key] = value
    return params


def _relocate(value: str, old_root: str, new_root: Path) -> str:
    """A path inside the recorded project points into the restored one."""
    if value == old_root:
        return str(new_root)
    if value.startswith(old_root.rstrip("/") + "/"):
        return str(new_root / value[len(old_root.rstrip("/")) + 1 :])
    return value


def adopt_recorded_lock(client: Client, plan: Plan, report: Any) -> None:
    """Before the env step of a rerun: its environment is built from the original run's
    recorded lock (``env/requirements.lock``), not from a new resolution of the declaration,
    so it gets the original's env key even after the env cache was emptied."""
    from satchel.envs import get_manager
    from satchel.envs.venv_manager import VenvManager
    from satchel.errors import NotFoundError

    assert plan.request.rerun_of is not None
    tags = client.get_run(plan.request.rerun_of).data.tags
    if tags.get("mlflow.project.env") != plan.env_manager or "satchel.env.python" not in tags:
        return  # another kind than recorded (asked for), or nothing was recorded
    manager = get_manager(plan.env_manager)
    if not isinstance(manager, VenvManager):
        return  # docker: the image is the lock; local: nothing to build
    with tempfile.TemporaryDirectory(prefix="satchel-lock-") as tmp:
        try:
            lock = Path(
                client.download_artifacts(plan.request.rerun_of, "env/requirements.lock", tmp)
            )
        except NotFoundError:
            return
        key = manager.adopt_lock(plan.project, lock.read_text(), tags["satchel.env.python"])
    recorded = tags.get("satchel.env.key", "?")
    if key != recorded:  # another platform: the same packages, another key
        report(f"the recorded lock gives env {key[:12]} here (recorded: {recorded[:12]})")


def _warn(line: str) -> None:
    print(f"satchel: warning: {line}", file=sys.stderr, flush=True)
