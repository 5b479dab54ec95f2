"""Liveness of runs: the one rule that ends RUNNING runs whose owner is gone.

Every store keeps liveness as data (``Store.heartbeat`` records the owner ``"host:pid"`` and
the time; ``Store.running_owners`` lists them); the rule judging that data lives here, once,
and runs on the reader's side (so over HTTP the reader's host checks its own pids). On the
same host a dead pid is proof at once; elsewhere only a heartbeat older than the allowed
staleness is. Runs without an owner are never judged. Standard library only.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from satchel.tracking.store.base import Store

__all__ = [
    "FAILURE_TAG",
    "STALE_AFTER_MS",
    "current_user",
    "failure_reason",
    "hostname",
    "owner_id",
    "pid_alive",
    "reap_dead_runs",
]

FAILURE_TAG = "satchel.failure.reason"  # the runner writes the same tag
STALE_AFTER_MS = 60_000  # no heartbeat for this long and the owner cannot be checked: dead


def hostname() -> str:
    """This machine's name, as socket.gethostname() says it."""
    # os.uname() gives gethostname(2)'s answer without importing socket (~2 ms a run)
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()


def owner_id(pid: int | None = None) -> str:
    """``host:pid`` of a process (the calling one by default)."""
    return f"{hostname()}:{pid if pid is not None else os.getpid()}"


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    # A zombie has exited; only its exit status is waiting to be collected.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def failure_reason(
    owner: str | None, heartbeat_ms: int | None, now_ms: int, stale_after_ms: int
) -> str | None:
    """Why the run must be marked FAILED, or None while its owner may be alive."""
    if not owner:
        return None
    host, _, pid_text = owner.rpartition(":")
    if host == hostname() and pid_text.isdigit() and not pid_alive(int(pid_text)):
        return f"owner process {owner} exited without ending the run"
    if heartbeat_ms is not None and now_ms - heartbeat_ms > stale_after_ms:
        return f"no heartbeat from {owner} for {(now_ms - heartbeat_ms) // 1000}s"
    return None


def reap_dead_runs(
    store: Store, stale_after_ms: int = STALE_AFTER_MS, now_ms: int | None = None
) -> list[str]:
    """Mark FAILED every RUNNING run whose owner is provably gone; the run ids it ended.
    ``now_ms`` (tests) is the clock the heartbeats are judged by."""
    import time

    from satchel.tracking.entities import RunStatus, RunTag

    now = int(time.time() * 1000) if now_ms is None else now_ms
    reaped = []
    for run_id, owner, beat in store.running_owners():
        reason = failure_reason(owner, beat, now, stale_after_ms)
        # only the reader that wins the status change writes the reason
        if reason and store.set_terminated_if_running(run_id, RunStatus.FAILED, now):
            store.log_batch(run_id, tags=[RunTag(FAILURE_TAG, reason)])
            reaped.append(run_id)
    return reaped


def current_user() -> str:
    """getpass.getuser(), without importing getpass (and termios) on every run."""
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        user = os.environ.get(name)
        if user:
            return user
    try:
        import pwd

        return pwd.getpwuid(os.getuid())[0]
    except Exception:  # no passwd entry (some containers): not worth failing a run over
        return "unknown"
