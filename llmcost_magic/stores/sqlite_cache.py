"""The embedded cache store: SQLite in the per-user data folder (WAL, JSON/bytes payloads, never pickle)."""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
from pathlib import Path

import platformdirs

from ..core.sqlite_file import connect
from ..core.sqlite_migrations import Migrations
from .base import CacheEntry, CorruptEntry

_COLUMNS = ("key", "provider", "endpoint", "model", "content_type", "body", "created", "expires", "tag", "context",
            "question", "embedding", "hits", "seal")
_TYPES = {"body": bytes, "embedding": bytes, "created": float, "hits": int}


_MIGRATIONS = Migrations("cache store")
_migration = _MIGRATIONS.register
# Named ``cache_m...`` so that they never collide with the ledger's if both are pointed at one file. Stores made
# before these steps existed have no ``_migrations`` table and the tables of the first steps already: those
# steps therefore say IF NOT EXISTS (or look first), and run once, recorded, on such a store.


@_migration
def cache_m001_entries(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, provider TEXT, endpoint TEXT, model TEXT, "
               "content_type TEXT, body BLOB, created REAL, expires REAL, tag TEXT, context TEXT, question TEXT, "
               "embedding BLOB, hits INTEGER DEFAULT 0)")
    db.execute("CREATE TABLE IF NOT EXISTS blocked (key TEXT PRIMARY KEY, reason TEXT)")
    db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB)")


@_migration
def cache_m002_seal(db: sqlite3.Connection) -> None:
    if "seal" not in {r[1] for r in db.execute("PRAGMA table_info(entries)")}:  # present in unrecorded stores
        db.execute("ALTER TABLE entries ADD COLUMN seal TEXT DEFAULT ''")  # older rows: unsealed, never served


@_migration
def cache_m003_context_index(db: sqlite3.Connection) -> None:
    db.execute("CREATE INDEX IF NOT EXISTS entries_context ON entries(context)")


def default_cache_path() -> Path:
    env = os.environ.get("LLMCOST_CACHE")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("llmcost_magic", appauthor=False)) / "cache.sqlite3"


class SQLiteCacheStore:
    """Cached answers in one SQLite file; ``":memory:"`` for a throwaway one."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = str(path) if path is not None else str(default_cache_path())
        self._db = connect(self.path)
        _MIGRATIONS.apply(self._db)
        self._lock = threading.Lock()
        self._secret: bytes | None = None
        self._select = f"SELECT {', '.join(_COLUMNS)} FROM entries WHERE key = ?"

    def _row(self, row: tuple) -> CacheEntry:  # type: ignore[type-arg]
        """A row as a CacheEntry; CorruptEntry when a column holds the wrong type."""
        values = dict(zip(_COLUMNS, row))
        values["seal"] = values["seal"] or ""
        for column, kind in _TYPES.items():
            value = values[column]
            if kind is float and isinstance(value, int):
                values[column] = float(value)
            elif not isinstance(value, kind) and not (column == "embedding" and value is None):
                raise CorruptEntry(f"column {column} holds {type(value).__name__}")
        if values["embedding"] is None:
            values["embedding"] = b""
        expires = values["expires"]
        if expires is not None and not isinstance(expires, (int, float)):
            raise CorruptEntry(f"column expires holds {type(expires).__name__}")
        if not all(isinstance(values[c], str) for c in ("key", "provider", "endpoint", "model", "content_type", "tag",
                                                       "context", "question", "seal")):
            raise CorruptEntry("a text column holds another type")
        return CacheEntry(**values)

    def secret(self) -> bytes:
        if self._secret is None:
            with self._lock:
                self._db.execute("INSERT OR IGNORE INTO meta VALUES ('secret', ?)", (secrets.token_bytes(32),))
                self._secret = bytes(self._db.execute("SELECT value FROM meta WHERE name = 'secret'").fetchone()[0])
        return self._secret

    def get_meta(self, name: str) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return bytes(row[0]) if row is not None else None

    def put_meta(self, name: str, value: bytes) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, value))

    def get(self, key: str, now: float) -> CacheEntry | None:
        with self._lock:
            row = self._db.execute(self._select, (key,)).fetchone()
        if row is None:
            return None
        entry = self._row(row)
        return entry if entry.alive(now) else None

    def put(self, entry: CacheEntry) -> None:
        values = tuple(getattr(entry, c) for c in _COLUMNS)
        with self._lock:
            self._db.execute(f"INSERT OR REPLACE INTO entries ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})", values)

    def hit(self, key: str) -> None:
        # Counted on the call path, on purpose: a writer thread for the counts measured slower (bench_cache:
        # +469/+784 µs CPU vs +325/+215 µs inline; its GIL hand-offs with the ledger's writer cost more than
        # the one UPDATE), and a batched count would lose hits to a crash.
        with self._lock:
            self._db.execute("UPDATE entries SET hits = hits + 1 WHERE key = ?", (key,))

    def delete(self, key: str) -> bool:
        with self._lock:
            return self._db.execute("DELETE FROM entries WHERE key = ?", (key,)).rowcount > 0

    def block(self, key: str, reason: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM entries WHERE key = ?", (key,))
            self._db.execute("INSERT OR REPLACE INTO blocked VALUES (?, ?)", (key, reason))

    def is_blocked(self, key: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM blocked WHERE key = ?", (key,)).fetchone() is not None

    def clear(self, *, tag: str | None = None, model: str | None = None) -> int:
        where, params = [], []
        for column, value in (("tag", tag), ("model", model)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        sql = "DELETE FROM entries" + (" WHERE " + " AND ".join(where) if where else "")
        with self._lock:
            return self._db.execute(sql, params).rowcount

    def semantic_entries(self, context: str, now: float) -> list[CacheEntry]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM entries WHERE context = ? AND embedding IS NOT NULL AND length(embedding) > 0",
                (context,),
            ).fetchall()
        entries = []
        for row in rows:
            try:
                entry = self._row(row)
            except CorruptEntry:  # a malformed row is left out of the index (a lookup of it warns)
                continue
            if entry.alive(now):
                entries.append(entry)
        return entries

    def stats(self, now: float) -> dict[str, int]:
        with self._lock:
            live, hits = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(CAST(hits AS INTEGER)), 0) FROM entries WHERE expires IS NULL OR expires > ?", (now,)
            ).fetchone()
            blocked = self._db.execute("SELECT COUNT(*) FROM blocked").fetchone()[0]
        return {"entries": int(live), "hits": int(hits), "blocked": int(blocked)}
