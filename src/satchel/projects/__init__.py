"""What to run: the MLproject spec, parameters, command rendering, fetching, source capture.

Kept light: nothing heavy (yaml, git) is imported here; import the submodules you need
(``satchel.projects.spec``, ``.params``, ``.render``, ``.fetch``, ``.source``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from satchel.runner.submitted import SubmittedRun

__all__ = ["run"]


def run(
    uri: str,
    entry_point: str = "main",
    parameters: dict[str, Any] | None = None,
    version: str | None = None,
    experiment_name: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    env_manager: str | None = None,
    backend: str | None = None,
    synchronous: bool = True,
    docker_args: dict[str, Any] | None = None,
    build_image: bool = False,
    tracking_uri: str | None = None,
    refresh_env: bool = False,
) -> SubmittedRun:
    """Run a project as a tracked run, like ``satchel run``; returns a ``SubmittedRun``.

    Synchronous (default): blocks; raises RunFailedError if the run did not finish. Inside a
    running project the new run is nested (``mlflow.parentRunId``) and inherits the parent's
    environment manager and backend unless given. ``backend=None`` means inherited or local.
    """
    from satchel.runner.api import run_project  # lazy: keeps `import satchel.projects` light

    return run_project(
        uri,
        entry_point=entry_point,
        parameters=parameters,
        version=version,
        experiment_name=experiment_name,
        experiment_id=experiment_id,
        run_name=run_name,
        env_manager=env_manager,
        backend=backend,
        synchronous=synchronous,
        docker_args=docker_args,
        build_image=build_image,
        tracking_uri=tracking_uri,
        refresh_env=refresh_env,
    )
