"""Our bugs: the traceback goes to a log file whose path the CLI prints (exit 3).

One file per crash, never overwritten: the name carries the second it happened, the pid and
a counter, and the file is created exclusively, so crashes in the same second (a retry loop,
parallel runs) each keep their own log. If ``SATCHEL_HOME`` cannot take it (read-only, full)
the log goes to the system temp dir rather than hiding the original error behind a new one.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["write_crash_log"]

_MAX_SAME_SECOND = 1000  # more crashes than this in one second from one pid: reuse the last


def write_crash_log(exc: BaseException, clock: Callable[[], float] = time.time) -> Path:
    """Write ``exc``'s traceback with versions and argv; the path of the new file."""
    from satchel.home import satchel_home

    text = _report(exc)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(clock()))
    try:
        return _write_new(satchel_home() / "logs", f"crash-{stamp}-{os.getpid()}", text)
    except OSError:
        import tempfile

        return _write_new(Path(tempfile.gettempdir()), f"satchel-crash-{stamp}-{os.getpid()}", text)


def _report(exc: BaseException) -> str:
    import platform
    import traceback

    from satchel import __version__
    from satchel.projects.render import mask_argv, scrub_secrets

    header = f"satchel {__version__}, Python {platform.python_version()}, {platform.platform()}\n"
    header += f"argv: {mask_argv(sys.argv)}\n\n"  # secrets never reach a crash log
    return header + scrub_secrets("".join(traceback.format_exception(exc)), sys.argv)


def _write_new(folder: Path, stem: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(_MAX_SAME_SECOND):
        path = folder / (f"{stem}.log" if n == 0 else f"{stem}-{n}.log")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w") as out:
            out.write(text)
        return path
    raise OSError(f"too many crash logs named {stem} in {folder}")
