"""The SQLite cache store's schema steps: keyed by name, each in its own transaction, and a store made by an
older version is upgraded in place, rows kept, also when several processes open it at once."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time

import pytest

from llmcost_magic.core.sqlite_migrations import Migrations
from llmcost_magic.stores import sqlite_cache
from llmcost_magic.stores.sqlite_cache import SQLiteCacheStore

_ENTRY = ("k{n}", "openai", "chat", "gpt-4o-mini", "application/json", b'{"ok": %d}', 1.0, None, "t", "ctx", "q?",
          b"\x00\x00\x80?", 3)


def _old_store(path, *, sealed: bool) -> None:
    """The schema written by versions before migrations: without ``seal`` (oldest) or with it (last one)."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE entries (key TEXT PRIMARY KEY, provider TEXT, endpoint TEXT, model TEXT, "
               "content_type TEXT, body BLOB, created REAL, expires REAL, tag TEXT, context TEXT, question TEXT, "
               "embedding BLOB, hits INTEGER DEFAULT 0)")
    db.execute("CREATE TABLE blocked (key TEXT PRIMARY KEY, reason TEXT)")
    db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB)")
    if sealed:
        db.execute("ALTER TABLE entries ADD COLUMN seal TEXT DEFAULT ''")
        db.execute("CREATE INDEX entries_context ON entries(context)")
    for n in range(3):
        row = tuple(v.format(n=n) if isinstance(v, str) and "{n}" in v else v % n if isinstance(v, bytes) and b"%d" in v
                    else v for v in _ENTRY)
        db.execute(f"INSERT INTO entries VALUES ({', '.join('?' * len(row))}{', ?' * sealed})",
                   row + (("seal-x",) if sealed else ()))
    db.execute("INSERT INTO blocked VALUES ('bad', 'wrong answer')")
    db.execute("INSERT INTO meta VALUES ('secret', ?)", (b"s" * 32,))
    db.commit()
    db.close()


def _steps_done(path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY step")]
    finally:
        db.close()


@pytest.mark.parametrize("sealed", [False, True], ids=["oldest", "with-seal"])
def test_an_old_store_is_upgraded_in_place_without_losing_rows(tmp_path, sealed):
    path = tmp_path / "old-cache.sqlite3"
    _old_store(path, sealed=sealed)
    store = SQLiteCacheStore(path)
    assert store.stats(time.time()) == {"entries": 3, "hits": 9, "blocked": 1}
    entry = store.get("k1", time.time())
    assert entry is not None and entry.body == b'{"ok": 1}' and entry.seal == ("seal-x" if sealed else "")
    assert store.is_blocked("bad") and store.secret() == b"s" * 32
    assert _steps_done(path) == list(sqlite_cache._MIGRATIONS)
    index = sqlite3.connect(path).execute("SELECT 1 FROM sqlite_master WHERE name = 'entries_context'").fetchone()
    assert index is not None


def test_reopening_runs_no_step_twice_and_a_missing_step_runs_once(tmp_path):
    path = tmp_path / "old-cache.sqlite3"
    SQLiteCacheStore(path)
    SQLiteCacheStore(path)
    assert _steps_done(path) == list(sqlite_cache._MIGRATIONS)
    db = sqlite3.connect(path)
    db.execute("DELETE FROM _migrations WHERE name = 'cache_m003_context_index'")  # as if merged in later
    db.execute("DROP INDEX entries_context")
    db.commit()
    SQLiteCacheStore(path)
    assert sorted(_steps_done(path)) == sorted(sqlite_cache._MIGRATIONS)
    assert sqlite3.connect(path).execute("SELECT 1 FROM sqlite_master WHERE name = 'entries_context'").fetchone()


def test_a_failing_step_rolls_back_alone_and_is_not_recorded(tmp_path):
    steps = Migrations("test")

    @steps.register
    def m1(db):
        db.execute("CREATE TABLE a (x)")

    @steps.register
    def m2(db):
        db.execute("CREATE TABLE b (x)")
        raise RuntimeError("disk full")

    db = sqlite3.connect(tmp_path / "f.sqlite3", isolation_level=None)
    with pytest.raises(RuntimeError):
        steps.apply(db)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "a" in tables and "b" not in tables
    assert [r[0] for r in db.execute("SELECT name FROM _migrations")] == ["m1"]
    with pytest.raises(ValueError, match="two test migrations are named m1"):
        steps.register(m1)


_OPEN_AT = """
import sys, time
from llmcost_magic.stores.sqlite_cache import SQLiteCacheStore
start = float(sys.argv[2])
while time.time() < start:
    pass
store = SQLiteCacheStore(sys.argv[1])
assert store.stats(time.time())["entries"] == 3
"""


def test_processes_opening_an_old_store_at_once_all_succeed(tmp_path):
    """A room of kernels upgrading one shared cache file: each step runs once, nobody fails."""
    for attempt in range(3):
        path = tmp_path / f"shared-{attempt}.sqlite3"
        _old_store(path, sealed=False)
        start = time.time() + 1.5  # every process imports first, then they open the file together
        procs = [subprocess.Popen([sys.executable, "-c", _OPEN_AT, str(path), str(start)],
                                  stderr=subprocess.PIPE, text=True) for _ in range(4)]
        errors = [p.communicate(timeout=60)[1] for p in procs]
        assert [p.returncode for p in procs] == [0] * 4, "\n".join(errors)
        assert _steps_done(path) == list(sqlite_cache._MIGRATIONS)
