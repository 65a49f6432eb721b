"""Where cached answers live: SQLite (embedded, default) or Redis (shared by a team or a workshop)."""

import re

from .. import plugins
from .base import CacheEntry, CacheStore

__all__ = ["CacheEntry", "CacheStore", "open_store"]


def open_store(url: str | None = None) -> CacheStore:
    """``None`` or a path: SQLite; ``redis://host:port/db``: Redis (``pip install 'llmcost-magic[redis]'``);
    ``SCHEME://...``: the cache store a plugin registered for SCHEME (see :mod:`llmcost_magic.plugins`)."""
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", url or "")
    scheme = match.group(1).lower() if match else ""
    if scheme and scheme not in ("redis", "rediss", "unix", "file", "sqlite"):
        return _plugin_store(scheme, url)  # type: ignore[arg-type]
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        from .redis_cache import RedisCacheStore

        return RedisCacheStore(url)
    from .sqlite_cache import SQLiteCacheStore

    return SQLiteCacheStore(url)


_STORE_METHODS = ("get", "put", "hit", "delete", "block", "is_blocked", "clear", "semantic_entries", "stats",
                  "get_meta", "put_meta", "secret")


def _plugin_store(scheme: str, url: str) -> CacheStore:
    found = plugins.cache_stores().get(scheme)
    if found is None:
        raise ValueError(f"No cache store for {scheme}:// URLs: use a path (SQLite), redis://host:port/db, or "
                         f"install a plugin that registers the {scheme!r} store.{plugins.left_out_note()}")
    factory, plugin = found
    store = factory(url)
    missing = [m for m in _STORE_METHODS if not callable(getattr(store, m, None))]
    if missing:
        raise plugins.PluginError(f"cache store {scheme!r} of plugin {plugin!r} made a {type(store).__name__} "
                                  f"without {', '.join(missing)} (see llmcost_magic.stores.base.CacheStore): "
                                  f"fix or uninstall the plugin")
    return store
