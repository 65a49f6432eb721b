"""Opening the package's SQLite files (the ledger, the cache) the one way they are opened."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def connect(path: str) -> sqlite3.Connection:
    """A connection in autocommit mode, WAL journal, ``synchronous=NORMAL`` (``":memory:"`` allowed)."""
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db
