"""The embedded cache store: SQLite in the per-user data folder (WAL, JSON/bytes payloads, never pickle).

A hit's count is not written on the call path: ``hit`` queues the key and a writer thread commits the
queued counts at once (one transaction for all keys queued meanwhile), like the ledger's rows; ``stats``,
``close`` and the interpreter's exit commit what is still queued first.
"""

from __future__ import annotations

import atexit
import collections
import os
import secrets
import sqlite3
import threading
import weakref
from pathlib import Path

import platformdirs

from ..sqlite_file import connect
from .base import CacheEntry, CorruptEntry

_COLUMNS = ("key", "provider", "endpoint", "model", "content_type", "body", "created", "expires", "tag", "context",
            "question", "embedding", "hits", "seal")
_TYPES = {"body": bytes, "embedding": bytes, "created": float, "hits": int}


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
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, provider TEXT, endpoint TEXT, model TEXT, "
            "content_type TEXT, body BLOB, created REAL, expires REAL, tag TEXT, context TEXT, question TEXT, "
            "embedding BLOB, hits INTEGER DEFAULT 0)"
        )
        if "seal" not in {r[1] for r in self._db.execute("PRAGMA table_info(entries)")}:
            self._db.execute("ALTER TABLE entries ADD COLUMN seal TEXT DEFAULT ''")  # older rows: unsealed, never served
        self._db.execute("CREATE INDEX IF NOT EXISTS entries_context ON entries(context)")
        self._db.execute("CREATE TABLE IF NOT EXISTS blocked (key TEXT PRIMARY KEY, reason TEXT)")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB)")
        self._lock = threading.Lock()
        self._secret: bytes | None = None
        self._select = f"SELECT {', '.join(_COLUMNS)} FROM entries WHERE key = ?"
        self._hits: collections.deque[str] = collections.deque()  # keys served, not yet counted (append is atomic)
        self._wake = threading.Event()
        self._writer: threading.Thread | None = None
        self._closed = False
        atexit.register(_flush_at_exit, weakref.ref(self))
        _stores.add(self)

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
        """Count one hit of ``key``: committed by the writer thread right after, off the call path."""
        self._hits.append(key)
        if not self._wake.is_set():
            if self._writer is None:
                self._start_writer()
            self._wake.set()

    def _start_writer(self) -> None:
        with self._lock:
            if self._writer is None and not self._closed:
                self._writer = threading.Thread(target=_count_forever, args=(weakref.ref(self), self._wake),
                                                name="llmcost-cache-hits", daemon=True)
                self._writer.start()

    def flush_hits(self) -> None:
        """Commit every queued hit count now (one transaction)."""
        with self._lock:
            self._flush_hits_locked()

    def _flush_hits_locked(self) -> None:
        counts: collections.Counter[str] = collections.Counter()
        try:
            while True:
                counts[self._hits.popleft()] += 1
        except IndexError:
            pass
        if not counts or self._closed:
            return
        try:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany("UPDATE entries SET hits = hits + ? WHERE key = ?",
                                     [(n, key) for key, n in counts.items()])
        except sqlite3.Error:
            self._hits.extend(k for k, n in counts.items() for _ in range(n))  # kept for the next attempt
            raise

    def close(self) -> None:
        """Commit the queued hit counts and close the file."""
        with self._lock:
            if not self._closed:
                self._flush_hits_locked()
                self._closed = True
                self._db.close()
        self._wake.set()  # the writer sees the store closed and ends

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
            self._flush_hits_locked()
            live, hits = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(CAST(hits AS INTEGER)), 0) FROM entries WHERE expires IS NULL OR expires > ?", (now,)
            ).fetchone()
            blocked = self._db.execute("SELECT COUNT(*) FROM blocked").fetchone()[0]
        return {"entries": int(live), "hits": int(hits), "blocked": int(blocked)}


_stores: weakref.WeakSet[SQLiteCacheStore] = weakref.WeakSet()


def _reset_after_fork() -> None:
    """In a forked child: no writer thread yet (it starts on the next hit), and fresh locks."""
    for store in list(_stores):
        store._writer, store._lock, store._wake = None, threading.Lock(), threading.Event()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def _count_forever(ref: weakref.ReferenceType[SQLiteCacheStore], wake: threading.Event) -> None:
    """The hit-count writer: commit the queued counts each time ``hit`` wakes it (no coalescing delay, so a
    SIGKILL right after a hit loses at most the counts of hits still in flight, like the ledger's rows)."""
    while True:
        wake.wait()
        store = ref()
        if store is None or store._closed:
            return
        with store._lock:
            wake.clear()  # hits queued from here on wake the next round
            try:
                store._flush_hits_locked()
            except sqlite3.Error:
                pass  # kept queued: the next round, stats() or close() commits them
        del store


def _flush_at_exit(ref: weakref.ReferenceType[SQLiteCacheStore]) -> None:
    store = ref()
    if store is not None:
        try:
            store.close()
        except sqlite3.Error:
            pass
