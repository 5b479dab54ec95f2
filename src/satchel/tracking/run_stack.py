"""The stack of active runs: ``start_run`` / ``end_run``, and a status for every exit path.

The top of the stack is ``active_run()``. How each run ends, why ``SATCHEL_RUN_ID`` resumes
a run the runner owns, and how liveness heartbeats work: see ``satchel.tracking.fluent``.
Standard library only.
"""

from __future__ import annotations

import os
import sys

from satchel.errors import InvalidValueError
from satchel.tracking.client import Client, now_ms, parse_status
from satchel.tracking.context import _client, _current_experiment_id, _state
from satchel.tracking.entities import LifecycleStage, Run, RunStatus, RunTag

TYPE_CHECKING = False  # importing typing costs ~10 ms; mypy reads this as True
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

__all__ = ["ActiveRun", "active_run", "end_run", "last_active_run", "start_run"]

ENV_RUN_ID = "SATCHEL_RUN_ID"
PARENT_RUN_TAG = "mlflow.parentRunId"
HEARTBEAT_INTERVAL_S = 15.0  # well inside `satchel runs list`'s 60 s staleness threshold


class ActiveRun(Run):
    """The run returned by ``start_run``: a ``Run`` (snapshot at start) and a context manager."""

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        # returns None: the exception, if any, goes on after the run is marked
        _end_up_to(self.info.run_id, _status_for(exc_type, exc))


class _Frame:
    """One entry of the active-run stack. (Plain classes here: a dataclass costs ~0.5 ms of
    import time each, and ``import satchel`` has a budget.)"""

    __slots__ = ("client", "run", "run_id", "sets_status")

    def __init__(self, run: ActiveRun, client: Client, sets_status: bool) -> None:
        self.run = run
        self.run_id = run.info.run_id  # read on every log_* call
        self.client = client
        # False for a run resumed from SATCHEL_RUN_ID (the runner sets its final status)
        # and for runs a forked child inherited from its parent (the parent ends them).
        self.sets_status = sets_status


_stack: list[_Frame] = []


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    tags: Mapping[str, Any] | None = None,
) -> ActiveRun:
    """Start a run (or resume ``run_id`` / ``SATCHEL_RUN_ID``); a plain call or a ``with``."""
    parent = _stack[-1] if _stack else None
    if parent is not None and not nested:
        raise InvalidValueError(
            f"run {parent.run.info.run_id} is already active",
            hint="end it with satchel.end_run() first, or pass nested=True for a child run",
        )
    _install_hooks()
    client = _client()
    env_run_id = _take_env_run_id(run_id) if parent is None else None
    if run_id or env_run_id:
        run = _resume(client, run_id or env_run_id or "", run_name, tags, env_run_id is not None)
    else:
        run = _create(client, experiment_id, run_name, tags, parent)
    active = ActiveRun(run.info, run.data)
    _stack.append(_Frame(active, client, sets_status=env_run_id is None))
    return active


def _take_env_run_id(run_id: str | None) -> str | None:
    """SATCHEL_RUN_ID, once: only the first start_run of the process resumes it."""
    env_run_id = os.environ.get(ENV_RUN_ID)
    if _state.env_run_consumed or not env_run_id or (run_id and run_id != env_run_id):
        return None
    _state.env_run_consumed = True
    return env_run_id


def _resume(
    client: Client,
    run_id: str,
    run_name: str | None,
    tags: Mapping[str, Any] | None,
    handed_over: bool,
) -> Run:
    run = client.get_run(run_id)
    if run.info.lifecycle_stage == LifecycleStage.DELETED:
        raise InvalidValueError(
            f"run {run_id} is deleted", hint=f"restore it with `satchel runs restore {run_id}`"
        )
    if run.info.status != RunStatus.RUNNING or run_name:
        client.update_run(run_id, status=RunStatus.RUNNING, name=run_name)
    if tags:
        client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])
    if not handed_over:  # this process owns the run now; the runner watches handed-over ones
        _record_owner(client, run_id)
    return client.get_run(run_id) if (tags or run_name) else run


def _create(
    client: Client,
    experiment_id: str | None,
    run_name: str | None,
    tags: Mapping[str, Any] | None,
    parent: _Frame | None,
) -> Run:
    if experiment_id is None:
        experiment_id = parent.run.info.experiment_id if parent else _current_experiment_id(client)
    all_tags = _system_tags()
    if parent is not None:
        all_tags[PARENT_RUN_TAG] = parent.run.info.run_id
    all_tags.update({k: str(v) for k, v in (tags or {}).items()})
    run = client.create_run(str(experiment_id), tags=all_tags, run_name=run_name)
    _record_owner(client, run.info.run_id)
    return run


def _system_tags() -> dict[str, str]:
    from satchel.tracking.client import _user

    script = sys.argv[0] if sys.argv and sys.argv[0] else "<interactive>"
    if os.path.isfile(script):
        script = os.path.abspath(script)
    return {"mlflow.user": _user(), "mlflow.source.name": script, "mlflow.source.type": "LOCAL"}


def _record_owner(client: Client, run_id: str) -> None:
    from satchel.tracking.liveness import owner_id

    client.heartbeat(run_id, owner=owner_id())
    _start_heartbeats()


def _start_heartbeats() -> None:
    """One daemon thread per process keeps beating for the runs it owns, so a run whose
    process lives on another host (a container) is not reaped while it is alive."""
    if _state.heartbeat_pid == os.getpid():
        return
    import threading

    _state.heartbeat_pid = os.getpid()
    threading.Thread(target=_heartbeat_loop, name="satchel-heartbeat", daemon=True).start()


def _heartbeat_loop() -> None:
    import time

    while True:
        time.sleep(HEARTBEAT_INTERVAL_S)
        for frame in list(_stack):
            if frame.sets_status:
                try:
                    frame.client.heartbeat(frame.run.info.run_id)
                except Exception:  # noqa: S112 - a missed beat is retried next interval
                    continue


def end_run(status: RunStatus | str = "FINISHED") -> None:
    """End the active run (a no-op when none is active)."""
    if _stack:
        _end_frame(_stack.pop(), parse_status(status))


def _end_frame(frame: _Frame, status: RunStatus) -> None:
    _state.last_run_id = frame.run.info.run_id
    _state.last_client = frame.client
    if frame.sets_status:
        frame.client.set_terminated(frame.run.info.run_id, status, now_ms())


def _end_up_to(run_id: str, status: RunStatus) -> None:
    """End ``run_id`` and any runs started inside it that are still open."""
    if not any(frame.run.info.run_id == run_id for frame in _stack):
        return  # already ended by an explicit end_run() inside the block
    while _stack:
        frame = _stack.pop()
        _end_frame(frame, status)
        if frame.run.info.run_id == run_id:
            return


def _status_for(exc_type: Any, exc: Any) -> RunStatus:
    if exc_type is None:
        return RunStatus.FINISHED
    if issubclass(exc_type, SystemExit) and exc is not None and exc.code in (0, None):
        return RunStatus.FINISHED
    if issubclass(exc_type, KeyboardInterrupt):
        return RunStatus.KILLED
    return RunStatus.FAILED


def active_run() -> ActiveRun | None:
    return _stack[-1].run if _stack else None


def last_active_run() -> Run | None:
    """The active run, else the run ended last in this process; fetched fresh."""
    if _stack:
        frame = _stack[-1]
        return frame.client.get_run(frame.run.info.run_id)
    if _state.last_run_id is None or _state.last_client is None:
        return None
    return _state.last_client.get_run(_state.last_run_id)


# -- process exit: every run this process owns gets a status -----------------------------
def _install_hooks() -> None:
    if _state.hooks_pid == os.getpid():
        return
    import atexit

    first_time = _state.hooks_pid is None
    _state.hooks_pid = os.getpid()
    if first_time:
        atexit.register(_at_exit)
        previous = sys.excepthook

        def _excepthook(exc_type: Any, exc: Any, tb: Any) -> None:
            _end_all(_status_for(exc_type, exc))
            previous(exc_type, exc, tb)

        sys.excepthook = _excepthook
        _wrap_sys_exit()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_after_fork_in_child)


# The code last passed to ``sys.exit``: atexit cannot see why the interpreter is exiting,
# so the wrapper below remembers it. ``_NO_EXIT_CALL`` = the script ended on its own.
_NO_EXIT_CALL = object()
_exit_code: list[object] = [_NO_EXIT_CALL]


def _wrap_sys_exit() -> None:
    """Record ``sys.exit``'s code, then call the original (which raises SystemExit)."""
    original = sys.exit

    def exit(status: object = None) -> Any:
        import threading  # already loaded by the heartbeat thread; a dict lookup

        # sys.exit in another thread only ends that thread, not the process
        if threading.current_thread() is threading.main_thread():
            _exit_code[0] = status
        return original(status)  # type: ignore[arg-type]

    exit.__wrapped__ = original  # type: ignore[attr-defined]
    exit.__doc__ = original.__doc__
    sys.exit = exit


def _exit_status() -> RunStatus:
    code = _exit_code[0]
    if code is _NO_EXIT_CALL or code is None or code == 0:
        return RunStatus.FINISHED
    return RunStatus.FAILED  # a non-zero int, or a message (which exits with status 1)


def _after_fork_in_child() -> None:
    """A forked child logs into its parent's runs but leaves ending them (and beating for
    them) to the parent. The store itself opens fresh connections after a fork."""
    for frame in _stack:
        frame.sets_status = False


def _at_exit() -> None:
    _end_all(_exit_status())


def _end_all(status: RunStatus) -> None:
    while _stack:
        frame = _stack.pop()
        try:
            _end_frame(frame, status)
        except Exception as exc:  # at exit, a traceback helps nobody: one line
            print(f"satchel: could not end run {frame.run.info.run_id}: {exc}", file=sys.stderr)
