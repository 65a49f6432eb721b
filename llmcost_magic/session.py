"""Session-wide state: the ledger in use and the defaults every metered cell starts from."""

from __future__ import annotations

import threading
from pathlib import Path

from typing import Any

from .sqlite_ledger import Ledger

_lock = threading.Lock()
_ledger: Ledger | None = None
_ledger_path: str | None = None
_cache_store: Any = None
_cache_url: str | None = None
_semantic_index: Any = None


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
