"""Which tracking store to talk to: explicit URI > ``SATCHEL_TRACKING_URI`` > ``./satchel/``.

A plain path (no scheme, or ``file://``) follows one rule: a path ending in ``.db``, or an
existing file, is the database file itself; any other path is a store DIRECTORY holding
``satchel.db`` and ``artifacts/`` (like the default ``./satchel/``), created on first write.
``sqlite:///path`` always names the database file (an existing directory there means the
``satchel.db`` inside it).

Every SQLite URI is returned absolute (``sqlite:////abs/dir/satchel.db``) so a child process
started in another directory opens the very same database. Standard library only.
"""

from __future__ import annotations

import os

from satchel.errors import InvalidValueError, StoreUnavailableError

__all__ = [
    "DEFAULT_DB_NAME",
    "DEFAULT_DIR_NAME",
    "artifact_root_for",
    "get_tracking_uri",
    "resolve_tracking_uri",
    "set_tracking_uri",
    "sqlite_path",
]

ENV_VAR = "SATCHEL_TRACKING_URI"
DEFAULT_DIR_NAME = "satchel"
DEFAULT_DB_NAME = "satchel.db"
SUPPORTED = "sqlite:///path/to/db, a plain file path, http(s)://host:port, postgresql://..."
_NOT_YET = ("http", "https", "postgresql", "postgres")

# The process's current store (``set_tracking_uri``), already resolved. It lives beside the
# resolver, not in the fluent context, so ``Client`` reads it without importing the context.
_current: str | None = None


def set_tracking_uri(uri: str | os.PathLike[str]) -> None:
    """Use this store from now on (``sqlite:///runs.db``, a directory, a .db file path)."""
    global _current
    _current = resolve_tracking_uri(os.fspath(uri))


def get_tracking_uri() -> str:
    """The store in use: set_tracking_uri, else SATCHEL_TRACKING_URI, else ./satchel/."""
    return _current if _current is not None else resolve_tracking_uri(None)


def resolve_tracking_uri(uri: str | None = None) -> str:
    """The absolute ``sqlite:////...`` URI of the store to use."""
    chosen = uri or os.environ.get(ENV_VAR) or ""
    if not chosen.strip():
        return _sqlite_uri(os.path.join(os.getcwd(), DEFAULT_DIR_NAME, DEFAULT_DB_NAME))
    chosen = chosen.strip()
    scheme, sep, rest = chosen.partition("://")
    if not sep:
        return _sqlite_uri(_plain_path_db(chosen))
    scheme = scheme.lower()
    if scheme == "sqlite":
        if not rest.startswith("/") or rest == "/":
            raise InvalidValueError(
                f"tracking URI {chosen!r} has no database path",
                hint="write sqlite:///relative.db or sqlite:////abs/path.db",
            )
        return _sqlite_uri(_db_file_for(rest[1:]))  # sqlite:///x -> "x", sqlite:////x -> "/x"
    if scheme == "file":
        return _sqlite_uri(_plain_path_db(rest))
    if scheme in _NOT_YET:
        raise StoreUnavailableError(
            f"tracking URI {chosen!r}: {scheme} stores are not implemented yet",
            hint="use sqlite:///path/to/satchel.db for now",
        )
    raise InvalidValueError(
        f"tracking URI {chosen!r} has unknown scheme {scheme!r}", hint=f"supported: {SUPPORTED}"
    )


def _plain_path_db(path: str) -> str:
    """``x.db`` or an existing file: that file; anything else: the store directory ``x/``."""
    full = os.path.abspath(os.path.expanduser(path))
    if full.endswith(".db") or os.path.isfile(full):
        return full
    return os.path.join(full, DEFAULT_DB_NAME)


def _db_file_for(path: str) -> str:
    """A directory means the store inside it; anything else is the database file itself."""
    full = os.path.abspath(os.path.expanduser(path))
    if os.path.isdir(full):
        return os.path.join(full, DEFAULT_DB_NAME)
    return full


def _sqlite_uri(abs_path: str) -> str:
    return "sqlite:///" + abs_path  # abs_path starts with '/': four slashes in total


def sqlite_path(uri: str) -> str:
    """The database file of a resolved ``sqlite:////abs`` URI."""
    resolved = resolve_tracking_uri(uri)
    return resolved[len("sqlite:///") :]


def artifact_root_for(uri: str | None) -> str:
    """Where a store keeps artifacts when none is configured: ``<db dir>/artifacts``."""
    return os.path.join(os.path.dirname(sqlite_path(resolve_tracking_uri(uri))), "artifacts")
