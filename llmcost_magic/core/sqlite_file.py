"""Opening the package's SQLite files (the ledger, the cache) the one way they are opened."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path


def connect(path: str) -> sqlite3.Connection:
    """A connection in autocommit mode, WAL journal, ``synchronous=NORMAL`` (``":memory:"`` allowed)."""
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # timeout: the busy handler waits for another process's write (a room of kernels on one file)
    # instead of failing at once with "database is locked".
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30.0)
    _set_wal(db)
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def _set_wal(db: sqlite3.Connection, wait_seconds: float = 30.0) -> None:
    """Switch to WAL. SQLite answers "database is locked" at once, without its busy handler, while another
    connection creates the same new file or switches its mode, so this retries (a room of kernels starting
    on one shared ledger)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
