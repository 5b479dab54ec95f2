"""Pick the store for a tracking URI: one store object per resolved URI per process.

A new kind of store is one module plus one line in ``_STORES``. Standard library only; a
store's module is imported only when a URI of its scheme is used.
"""

from __future__ import annotations

import os
import threading

from satchel.errors import StoreUnavailableError
from satchel.tracking.uri import artifact_root_for, resolve_tracking_uri, sqlite_path

TYPE_CHECKING = False  # `typing` costs ~5 ms on every project's first log call
if TYPE_CHECKING:
    from satchel.tracking.store.base import Store

__all__ = ["clear_store_cache", "get_store"]


def _sqlite(uri: str) -> Store:
    from satchel.tracking.store.sqlite import SqliteStore

    return SqliteStore(sqlite_path(uri), artifact_root_for(uri))


# scheme -> factory taking the resolved URI
_STORES = {
    "sqlite": _sqlite,
}

_cache: dict[str, Store] = {}
_lock = threading.Lock()


def _sqlite_exists(uri: str) -> bool:
    return os.path.isfile(sqlite_path(uri))


# scheme -> does the store already exist? (for readers that must not create one)
_EXISTS = {
    "sqlite": _sqlite_exists,
}


def get_store(uri: str | None = None, create: bool = True) -> Store:
    """The store for ``uri`` (explicit > SATCHEL_TRACKING_URI > ./satchel/satchel.db).

    ``create=False`` (read-only commands): StoreUnavailableError instead of creating a store
    that does not exist yet."""
    resolved = resolve_tracking_uri(uri)
    store = _cache.get(resolved)
    if store is not None:
        return store
    if not create and not _EXISTS[resolved.partition("://")[0]](resolved):
        shown = sqlite_path(resolved) if resolved.startswith("sqlite:") else resolved
        raise StoreUnavailableError(
            f"no tracking store at {shown}",
            hint="run something first, or check --tracking-uri",
        )
    with _lock:
        store = _cache.get(resolved)
        if store is None:
            scheme = resolved.partition("://")[0]
            store = _cache[resolved] = _STORES[scheme](resolved)
    return store


def clear_store_cache() -> None:
    """Forget every store (tests, or after the tracking URI changed underneath)."""
    with _lock:
        for store in _cache.values():
            store.close()
        _cache.clear()
