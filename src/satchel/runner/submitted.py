"""``SubmittedRun``: a run in progress or done — ``run_id``, ``wait()``, ``get_status()``,
``cancel()`` — for synchronous runs (already finished) and detached ones alike.

A detached run is driven by its own runner process (``python -m satchel run --request-file
F``), started in a new session after validation and after the run record exists. Its
request travels in a file under SATCHEL_HOME readable by its owner alone, removed once read:
never in argv, where ``ps`` would show every parameter to every user. Its pid and the
process's start time are recorded in the runner's control file (``runner/control.py``),
which is how ``satchel runs cancel`` finds it from any shell — never a tag, which anyone
with access to the run could forge. The store is the source of truth for status.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from satchel.errors import ExecutionError
from satchel.runner.control import (
    RunnerControl,
    process_identity,
    read_control,
    remove_control,
    verified_runner_pid,
    write_control,
)
from satchel.runner.request import Outcome, RunRequest, write_request
from satchel.tracking.client import Client, now_ms
from satchel.tracking.entities import RunStatus
from satchel.tracking.liveness import hostname, owner_id

__all__ = [
    "SubmittedRun",
    "WaitTimeoutError",
    "cancel_run",
    "pinned_request",
    "runner_argv",
    "submit",
    "wait_run",
]

POLL_SECONDS = 0.05


class WaitTimeoutError(ExecutionError):
    """The wait gave up while the run is still going: not the run's failure. Exit 124, as
    coreutils' ``timeout``, so a script can tell "still running" from "FAILED" (exit 1)."""

    exit_code = 124


class SubmittedRun:
    def __init__(
        self,
        run_id: str,
        tracking_uri: str,
        outcome: Outcome | None = None,
        process: subprocess.Popen[bytes] | None = None,
    ) -> None:
        self._run_id = run_id
        self._client = Client(tracking_uri)
        self._outcome = outcome
        self._process = process

    @property
    def run_id(self) -> str:
        return self._run_id

    @property
    def reused(self) -> bool:
        """True when nothing ran: ``run_id`` is a finished run with the same run key."""
        return self._outcome is not None and self._outcome.reused

    def get_status(self) -> RunStatus:
        return self._client.get_run(self._run_id).info.status

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ends; True if it FINISHED."""
        if self._outcome is not None:
            return self.get_status() is RunStatus.FINISHED
        return wait_run(self._client, self._run_id, timeout, self._process) is RunStatus.FINISHED

    def cancel(self) -> None:
        """Stop the run's runner (which stops the project's group); the run ends KILLED."""
        if self._outcome is None:
            cancel_run(self._client, self._run_id)
            if self._process is not None:
                self._process.wait()

    def __repr__(self) -> str:
        return f"SubmittedRun(run_id={self._run_id!r})"


# -- the detached runner ----------------------------------------------------------------
def pinned_request(
    request: RunRequest,
    run_id: str,
    tracking_uri: str,
    version: str | None,
    env_manager: str,
    backend: str,
) -> RunRequest:
    """What the detached runner resumes: the run we recorded, with the same, already
    validated inputs (the exact commit, env manager and backend we chose)."""
    from dataclasses import replace

    return replace(
        request,
        version=version,
        env_manager=env_manager,
        backend=backend,
        tracking_uri=tracking_uri,
        experiment_id=None,
        experiment_name=None,
        run_name=None,
        run_id=run_id,
        echo=False,  # a detached runner has no terminal; its output goes to the log
        skip_if_done=False,  # decided before the run was recorded
    )


def runner_argv(request_file: Path) -> list[str]:
    """``python -m satchel run`` reading its request from ``request_file`` (never argv)."""
    return [sys.executable, "-m", "satchel", "run", "--request-file", str(request_file)]


def _pinned_version(request: RunRequest, plan_source_commit: str | None) -> str | None:
    """Hand the detached runner the exact commit we validated (a branch may move meanwhile)."""
    uri = request.uri.split("#", 1)[0]
    if plan_source_commit and (request.version or not os.path.isdir(uri)):
        return plan_source_commit
    return request.version


def _report(line: str) -> None:
    print(f"satchel: {line}", file=sys.stderr, flush=True)


def submit(request: RunRequest) -> SubmittedRun:
    """Validate, record, then start a detached runner for the rest; returns at once."""
    from satchel.home import satchel_home
    from satchel.runner.lifecycle import start_record, validate
    from satchel.runner.record import ended_on_error

    with validate(request) as plan:
        client = Client(plan.tracking_uri)
        if request.skip_if_done:
            from satchel.runner.reuse import reuse_if_done

            reused = reuse_if_done(plan, client, _report)
            if reused is not None:
                return SubmittedRun(reused.run_id, plan.tracking_uri, outcome=reused)
        run = start_record(plan, client)
        run_id = run.info.run_id
        version = _pinned_version(request, plan.fetched.source.commit)
        pinned = pinned_request(
            request, run_id, plan.tracking_uri, version, plan.env_manager, plan.backend
        )
    # until the runner's pid is on record nobody owns the run: a failure here must end it
    request_file = satchel_home() / "requests" / f"{run_id}.json"
    with ended_on_error(client, run_id, "the detached runner could not start"):
        write_request(pinned, request_file)
        logs = satchel_home() / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / f"runner-{run_id}.log", "ab") as out:
            proc = _start_runner(runner_argv(request_file), out, request_file)
        # the runner is on record before we return, so `runs cancel` finds it at once
        write_control(run_id, proc.pid)
        client.heartbeat(run_id, owner_id(proc.pid))
    return SubmittedRun(run_id, plan.tracking_uri, process=proc)


def _start_runner(argv: list[str], out: Any, request_file: Path) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
            close_fds=True,
        )
    except BaseException:
        request_file.unlink(missing_ok=True)  # nobody will read it
        raise


# -- wait / cancel by run id (any process, any shell) ----------------------------------
def _runner_gone(control: RunnerControl | None) -> bool:
    """The run's runner on this host is provably gone (its control file names a process
    that no longer exists: the runner was killed without cleaning up)."""
    if control is None or control.host != hostname():
        return False
    return process_identity(control.pid) != control.started


def wait_run(
    client: Client,
    run_id: str,
    timeout: float | None = None,
    process: subprocess.Popen[bytes] | None = None,
) -> RunStatus:
    """Poll the store until the run is terminal. A runner that died leaves it FAILED."""
    deadline = None if timeout is None else time.monotonic() + timeout
    control = read_control(run_id)
    while True:
        status = client.get_run(run_id).info.status
        if status.is_terminal:
            return status
        if process is not None:
            process.poll()  # reap our own child so its pid stops looking alive
        if _runner_gone(control):
            if client.set_terminated_if_running(run_id, RunStatus.FAILED, now_ms()):
                client.set_tag(run_id, "satchel.failure.reason", "the runner process died")
            continue
        if deadline is not None and time.monotonic() > deadline:
            raise WaitTimeoutError(
                f"run {run_id} still {status.value} after waiting {timeout:g}s",
                hint="it keeps running; wait again, or stop it with `satchel runs cancel`",
            )
        time.sleep(POLL_SECONDS)


def cancel_run(client: Client, run_id: str, timeout: float = 30.0) -> RunStatus:
    """SIGTERM the run's runner (it stops the project's group and marks KILLED); wait.

    Only a process proven to be the run's runner (``runner/control.py``) is signalled."""
    status = client.get_run(run_id).info.status
    if status.is_terminal:
        return status
    pid = verified_runner_pid(run_id)
    if pid is not None and pid != os.getpid():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        with contextlib.suppress(ExecutionError):
            return wait_run(client, run_id, timeout)
    # no live runner we can reach: its backend stops what it left behind (a container, a
    # Ray job named in its control file), and the cancellation is recorded
    _stop_leftovers(client, run_id)
    client.set_terminated_if_running(run_id, RunStatus.KILLED, now_ms())
    if _runner_gone(read_control(run_id)):  # what a killed runner could not clean up
        remove_control(run_id)
    return client.get_run(run_id).info.status


def _stop_leftovers(client: Client, run_id: str) -> None:
    from satchel.runner.backends import BACKENDS, get_launcher

    run = client.get_run(run_id)
    backend = run.data.tags.get("mlflow.project.backend", "local")
    if backend in BACKENDS:
        control = read_control(run_id)
        get_launcher(backend).cancel(run, control if _runner_gone(control) else None)
