"""Where Satchel keeps its caches (environments, git mirrors, logs): ``SATCHEL_HOME``.

Defaults to ``$XDG_CACHE_HOME/satchel`` (``~/.cache/satchel``). Standard library only.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["check_home_writable", "satchel_home"]


def satchel_home() -> Path:
    explicit = os.environ.get("SATCHEL_HOME")
    if explicit:
        return Path(explicit).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg, "satchel").resolve()


def check_home_writable() -> Path:
    """SATCHEL_HOME, proven writable by writing a byte there (a read-only or full disk
    answers now, with one line, instead of half-way through a run). SetupError if not."""
    from satchel.errors import SetupError

    home = satchel_home()
    probe = home / f".probe-{os.getpid()}"
    try:
        home.mkdir(parents=True, exist_ok=True)
        with open(probe, "wb") as out:
            out.write(b"x")
    except OSError as exc:
        raise SetupError(
            f"SATCHEL_HOME {home} is not writable: {exc.strerror}",
            hint="free some space there, fix its permissions, or point SATCHEL_HOME elsewhere",
        ) from None
    finally:
        with contextlib.suppress(OSError):  # never hide the error above
            probe.unlink()
    return home
