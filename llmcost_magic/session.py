"""Session-wide state: the ledger in use and the defaults every metered cell starts from."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from .bookkeeping.sqlite_ledger import Ledger

_lock = threading.Lock()
_ledger: Ledger | None = None
_ledger_path: str | None = None
_cache_store: Any = None
_cache_url: str | None = None
_semantic_index: Any = None
_workshop_caches: dict[str, tuple[Any, Any]] = {}  # redis URL -> (store, semantic index), one per room
_last_cache: Any = None  # the most recent ResponseCache in use


def remember_cache(cache: Any) -> None:
    """The most recent ResponseCache in use, so ``reject_answer()`` knows the last key and its store."""
    global _last_cache
    _last_cache = cache


def last_cache() -> Any:
    """The most recent ResponseCache in use (None after the cache store changed)."""
    return _last_cache


def current_ledger() -> Ledger:
    """The session's ledger, opened on first use (``$LLMCOST_LEDGER`` or the per-user data folder)."""
    global _ledger
    with _lock:
        if _ledger is None:
            _ledger = Ledger(_ledger_path)
        return _ledger


def use_ledger(path: str | Path | None) -> Ledger:
    """Switch the session to the ledger at ``path`` (``":memory:"`` for a throwaway one)."""
    global _ledger, _ledger_path
    new = Ledger(path)  # raises LedgerError with the fix if the path is not writable
    with _lock:
        old, _ledger, _ledger_path = _ledger, new, (str(path) if path is not None else None)
    if old is not None:
        old.close()
    return new


def current_cache_store() -> Any:
    """The session's cache store, opened on first use (``$LLMCOST_CACHE``, a path, or a redis:// URL)."""
    global _cache_store
    with _lock:
        if _cache_store is None:
            from .stores import open_store

            _cache_store = open_store(_cache_url)
        return _cache_store


def use_cache_store(url: str | Path | None) -> Any:
    """Cache answers in SQLite at a path (``":memory:"`` for a throwaway one) or in Redis (``redis://...``)."""
    global _cache_store, _cache_url, _semantic_index
    from .stores import open_store

    store = open_store(str(url) if url is not None else None)
    with _lock:
        _cache_store, _cache_url, _semantic_index = store, (str(url) if url is not None else None), None
    remember_cache(None)  # the cache commands act on the new store from now on
    return store


def current_semantic_index() -> Any:
    """The session's semantic index over the current cache store (vectors stay in memory)."""
    global _semantic_index
    store = current_cache_store()
    with _lock:
        if _semantic_index is None or _semantic_index.store is not store:
            from .policies.semantic_cache import SemanticIndex

            _semantic_index = SemanticIndex(store)
        return _semantic_index


def serving_cache(workshop: str | None = None) -> tuple[Any, Any]:
    """(store, semantic index) that serve answers now: the workshop's Redis when one is set, else the
    store of the last cache in use, else the session's store. The cache commands act on these."""
    if workshop:
        return _workshop_cache(workshop)
    cache = last_cache()
    if cache is not None and cache.store is not current_cache_store():
        for store, semantic in list(_workshop_caches.values()):
            if store is cache.store:
                return store, semantic
        return cache.store, cache.semantic
    return current_cache_store(), current_semantic_index()


def _workshop_cache(url: str) -> tuple[Any, Any]:
    """The room's Redis store and its semantic index, opened once per URL (not once per cell)."""
    with _lock:
        if url not in _workshop_caches:
            from .policies.semantic_cache import SemanticIndex
            from .stores import open_store

            store = open_store(url)
            _workshop_caches[url] = (store, SemanticIndex(store))
        return _workshop_caches[url]


def response_cache(mode: str, *, tag: str = "", context_key: str = "", workshop: str | None = None,
                   user: str = "", **settings: Any) -> Any:
    """A ResponseCache for ``mode`` over the session's store, or over a workshop's Redis (where a
    participant's answers are theirs unless the instructor shares the cache). ``settings`` go to
    :func:`~llmcost_magic.policies.response_cache.build_cache` (ttl, threshold, ...)."""
    from .policies.response_cache import build_cache

    shared, owner = False, ""
    if workshop:
        from .workshop import cache_context

        store, semantic = _workshop_cache(workshop)
        context_key, shared = cache_context(workshop, user, context_key)  # a context narrows, never widens
        owner = user
    else:
        store, semantic = current_cache_store(), current_semantic_index()
    cache = build_cache(mode, store=store, semantic_index=semantic if mode == "semantic" else None,
                        context_key=context_key, tag=tag, share_accounts=shared, owner=owner, **settings)
    remember_cache(cache)
    return cache
