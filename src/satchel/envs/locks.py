"""The cache's file locks (``fcntl.flock``), and the lease a run holds on its environment.

Two rules make deleting lock files safe, which ``satchel envs gc`` does for orphans:

- a lock file is only ever unlinked by a process that holds it exclusively;
- whoever acquires a lock checks that the file it locked is still the one at the path (same
  device and inode). If ``gc`` unlinked it in between, the lock guards nothing: reopen, retry.

A lease is a SHARED lock on ``use-<key>``: any number of runs can use one environment, and
``gc`` / ``rm`` (which need it exclusively, without waiting) skip an environment in use. The
kernel drops the lock when the holder's file is closed, so a runner that dies — even by
SIGKILL — never leaves an environment pinned.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO

__all__ = ["Lease", "acquire", "remove_if_free"]


def acquire(path: Path, *, shared: bool = False, blocking: bool = True) -> IO[str] | None:
    """Lock ``path`` (created if missing); return the open file holding the lock, or None when
    ``blocking`` is False and someone else holds it. Closing the file releases the lock."""
    flags = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    if not blocking:
        flags |= fcntl.LOCK_NB
    while True:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(path, "a+")  # noqa: SIM115 - the caller owns it: it IS the lock
        try:
            fcntl.flock(fh.fileno(), flags)
        except BlockingIOError:
            fh.close()
            return None
        except BaseException:
            fh.close()
            raise
        if _same_file(fh, path):
            return fh
        fh.close()  # unlinked by gc while we waited: that lock guards nothing any more


def remove_if_free(path: Path) -> bool:
    """Unlink the lock file ``path`` if nobody holds it (checked by locking it ourselves)."""
    fh = acquire(path, blocking=False)
    if fh is None:
        return False
    with fh:
        path.unlink(missing_ok=True)  # while holding it: see the module docstring
    return True


class Lease:
    """A shared hold on one environment for as long as a run uses it (see the module doc).

    Kept by ``PreparedEnv``; released by ``release()``, by garbage collection of the file, or
    at the latest by the kernel when the process ends."""

    def __init__(self, key: str, fh: IO[str]) -> None:
        self.key = key
        self._fh = fh

    @property
    def held(self) -> bool:
        return not self._fh.closed

    def release(self) -> None:
        with contextlib.suppress(OSError):
            self._fh.close()

    def __repr__(self) -> str:
        return f"Lease({self.key!r}, held={self.held})"


def _same_file(fh: IO[str], path: Path) -> bool:
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fh.fileno())
    return (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino)
