"""Where Satchel keeps its caches (environments, git mirrors, logs): ``SATCHEL_HOME``.

Defaults to ``$XDG_CACHE_HOME/satchel`` (``~/.cache/satchel``). Standard library only.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["satchel_home"]


def satchel_home() -> Path:
    explicit = os.environ.get("SATCHEL_HOME")
    if explicit:
        return Path(explicit).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg, "satchel").resolve()
