"""The store registry: one store object per resolved tracking URI per process.

A URI is resolved once (``satchel.tracking.uri``), then opened by the module registered for
its scheme. A new kind of store is one module with an ``open_store`` function plus one line
in ``STORES``. Standard library only; a store's module is imported only when a URI of its
scheme is used.
"""

from __future__ import annotations

import threading

from satchel.errors import StoreUnavailableError
from satchel.tracking.uri import resolve_tracking_uri, scheme_of

TYPE_CHECKING = False  # `typing` costs ~5 ms on every project's first log call
if TYPE_CHECKING:
    from satchel.tracking.store.base import Store

__all__ = ["SCHEMES", "STORES", "clear_store_cache", "get_store"]

# scheme -> module whose ``open_store(resolved_uri, create, artifact_root) -> Store`` opens it
STORES = {
    "sqlite": "satchel.tracking.store.sqlite",
    "http": "satchel.tracking.store.http",
    "https": "satchel.tracking.store.http",
    "postgresql": "satchel.tracking.store.postgres",
}
SCHEMES = frozenset(STORES)

_cache: dict[tuple[str, str | None], Store] = {}
_lock = threading.Lock()


def get_store(
    uri: str | None = None, create: bool = True, artifact_root: str | None = None
) -> Store:
    """The store for ``uri`` (explicit > SATCHEL_TRACKING_URI > ./satchel/satchel.db).

    ``create=False`` (read-only commands): StoreUnavailableError instead of creating a store
    that does not exist yet. ``artifact_root``: where new experiments keep artifacts (the
    server's ``--artifacts-destination``); None means the store's own default."""
    resolved = resolve_tracking_uri(uri)
    key = (resolved, artifact_root)
    store = _cache.get(key)
    if store is not None:
        return store
    scheme = scheme_of(resolved)
    if scheme not in STORES:
        raise StoreUnavailableError(
            f"tracking URI {resolved!r}: {scheme} stores are not implemented yet",
            hint="use sqlite:///path/to/satchel.db",
        )
    import importlib

    module = importlib.import_module(STORES[scheme])
    with _lock:
        store = _cache.get(key)
        if store is None:
            store = _cache[key] = module.open_store(resolved, create, artifact_root)
    return store


def clear_store_cache() -> None:
    """Forget every store (tests, or after the tracking URI changed underneath)."""
    with _lock:
        for store in _cache.values():
            store.close()
        _cache.clear()
