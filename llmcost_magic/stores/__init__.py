"""Where cached answers live: SQLite (embedded, default) or Redis (shared by a team or a workshop)."""

from .base import CacheEntry, CacheStore

__all__ = ["CacheEntry", "CacheStore", "open_store"]


def open_store(url: str | None = None) -> CacheStore:
    """``None`` or a path: SQLite; ``redis://host:port/db``: Redis (``pip install 'llmcost-magic[redis]'``)."""
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        from .redis_cache import RedisCacheStore

        return RedisCacheStore(url)
    from .sqlite_cache import SQLiteCacheStore

    return SQLiteCacheStore(url)
