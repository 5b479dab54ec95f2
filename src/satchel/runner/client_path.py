"""A directory holding only ``satchel``, put first on the PYTHONPATH of every launched project.

Project code in any environment (a uv venv, a container) can then ``import satchel`` and log
into its run, although satchel is not among its dependencies — and, unlike putting the host's
site-packages on the path, none of the host's other packages leak in. ``import satchel`` is
standard-library only, so the symlinked package works under any Python >= 3.9.

The directory is keyed by satchel's version and the package location, so two installs (or an
upgrade) never share a stale link. Created once, atomically; later runs only stat it.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

from satchel.home import satchel_home

__all__ = ["client_path", "package_dir"]


def package_dir() -> Path:
    """The directory of the installed ``satchel`` package (the one running now)."""
    import satchel

    return Path(satchel.__file__).resolve().parent


def _key(package: Path) -> str:
    from satchel import __version__

    # crc32, not sha256: only tells installations apart, and hashlib costs ~4 ms to import
    return f"{__version__}-{zlib.crc32(str(package).encode()):08x}"


def client_path() -> Path:
    """Return (creating on first use) ``SATCHEL_HOME/client/<version-key>/`` → ``satchel``."""
    package = package_dir()
    root = satchel_home() / "client" / _key(package)
    link = root / "satchel"
    if link.is_dir():
        return root
    root.mkdir(parents=True, exist_ok=True)
    # Build the link under a unique name and rename it into place: a concurrent run sees
    # either no link or a complete one, never a half-made state.
    tmp = root / f".satchel.{os.getpid()}.tmp"
    if tmp.is_symlink():
        tmp.unlink()
    tmp.symlink_to(package, target_is_directory=True)
    os.replace(tmp, link)
    return root
