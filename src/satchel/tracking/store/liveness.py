"""Is the process that owns a run still there? (for ``Store.reap_dead_runs``)

An owner is ``"host:pid"``. On the same host a dead pid is proof at once; elsewhere only a
heartbeat older than the allowed staleness is. Runs without an owner are never judged.
"""

from __future__ import annotations

import os

__all__ = ["failure_reason", "hostname", "owner_id", "pid_alive"]


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
