"""Session-wide state: the ledger in use and the defaults every metered cell starts from."""

from __future__ import annotations

import threading
from pathlib import Path

from .sqlite_ledger import Ledger

_lock = threading.Lock()
_ledger: Ledger | None = None
_ledger_path: str | None = None


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
