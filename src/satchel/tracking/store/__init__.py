"""Pick the store for a tracking URI: one store object per resolved URI per process.

A new kind of store is one module plus one line in ``_STORES``. Standard library only; a
store's module is imported only when a URI of its scheme is used.
"""

from __future__ import annotations

import threading

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


def get_store(uri: str | None = None) -> Store:
    """The store for ``uri`` (explicit > SATCHEL_TRACKING_URI > ./satchel/satchel.db)."""
    resolved = resolve_tracking_uri(uri)
    store = _cache.get(resolved)
    if store is not None:
        return store
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
