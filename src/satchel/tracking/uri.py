"""Which tracking store to talk to: explicit URI > ``SATCHEL_TRACKING_URI`` > ``./satchel/``.

The one tracking-URI resolver. Every URI is resolved here once; the store registry
(``satchel.tracking.store``) then opens the store for the resolved URI's scheme.

A plain path (no scheme, or ``file://``) follows one rule: a path ending in ``.db``, or an
existing file, is the database file itself; any other path is a store DIRECTORY holding
``satchel.db`` and ``artifacts/`` (like the default ``./satchel/``), created on first write.
``sqlite:///path`` always names the database file (an existing directory there means the
``satchel.db`` inside it). Server URIs (``http(s)://host:port``, ``postgresql://...``) are
kept as given, without a trailing slash; their scheme must be one the store registry knows.

Every SQLite URI is returned absolute (``sqlite:////abs/dir/satchel.db``) so a child process
started in another directory opens the very same database. Standard library only.
"""

from __future__ import annotations

import os

from satchel.errors import InvalidValueError

__all__ = [
    "DEFAULT_DB_NAME",
    "DEFAULT_DIR_NAME",
    "artifact_root_for",
    "get_tracking_uri",
    "resolve_tracking_uri",
    "scheme_of",
    "set_tracking_uri",
    "sqlite_path",
]

ENV_VAR = "SATCHEL_TRACKING_URI"
DEFAULT_DIR_NAME = "satchel"
DEFAULT_DB_NAME = "satchel.db"
SUPPORTED = "sqlite:///path/to/db, a plain file path, http(s)://host:port, postgresql://..."
# Schemes of stores that live behind a server or a database. Whether a store module is
# registered for one is the store registry's business (satchel.tracking.store.STORES): the
# resolver only normalises, so it never imports the registry that imports it.
_SERVER_SCHEMES = ("http", "https", "postgresql")

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
    if scheme == "postgres":  # libpq takes both spellings: one URI, one cached store
        scheme = "postgresql"

    if scheme in _SERVER_SCHEMES:
        return _server_uri(chosen, scheme, rest)
    raise InvalidValueError(
        f"tracking URI {chosen!r} has unknown scheme {scheme!r}", hint=f"supported: {SUPPORTED}"
    )


def _server_uri(chosen: str, scheme: str, rest: str) -> str:
    host = rest.partition("/")[0].rpartition("@")[2]
    if scheme in ("http", "https") and not host:
        raise InvalidValueError(
            f"tracking URI {chosen!r} has no host", hint=f"write {scheme}://host:port"
        )
    return f"{scheme}://{rest.rstrip('/')}"


def scheme_of(resolved: str) -> str:
    """The scheme of a resolved URI (``sqlite``, ``http``, ...)."""
    return resolved.partition("://")[0]


def _plain_path_db(path: str) -> str:
    """``x.db`` or an existing file: that file; anything else: the store directory ``x/``."""
    full = os.path.abspath(os.path.expanduser(path))
    if full.endswith(".db"):
        return full
    if os.path.isfile(full):
        _check_is_database(full)
        return full
    return os.path.join(full, DEFAULT_DB_NAME)


def _check_is_database(path: str) -> None:
    """An existing file not named .db is used only if it already is a SQLite database: a
    typo (`--tracking-uri notes.txt`) must not turn a user's file into a store."""
    with open(path, "rb") as fh:
        header = fh.read(16)
    if header != b"SQLite format 3\x00":
        raise InvalidValueError(
            f"tracking URI {path!r} is an existing file that is not a Satchel store",
            hint="give a directory, a path ending in .db, or sqlite:///path/to/store.db",
        )


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
