"""The ledger's journal: each row is appended to a small file of its own before ``record`` returns, so a
process killed right after its calls loses none of them, while SQLite gets the rows in batches.

One journal per open ledger (``<ledger>-rowlog/<name>.jsonl``), locked (``flock``) by its process for as
long as it lives. The commit that inserts journal rows into SQLite also stores how far the journal is
committed (table ``journal``), so a row is never inserted twice. Whoever opens the ledger next replays
the journals whose process is gone (their lock is free: the kernel drops it when a process dies, even
on SIGKILL) from that point, then deletes them.

Hand-written: no library gives an append-only row log whose progress commits in the same SQLite
transaction as the rows. ``fcntl.flock`` is used directly rather than ``filelock``: a forked child
shares its parent's lock and must never release it (filelock releases on garbage collection).
Platforms without ``fcntl`` (Windows) get no journal: their rows are committed as before, one commit
a call, by the ledger's writer.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
import warnings
from ..core.messages import tr
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

try:  # orjson writes a row ~5x faster than the json module; both write the same JSON
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency
    orjson = None  # type: ignore[assignment]

__all__ = ["Journal", "encode_row", "replay_orphans"]

SUFFIX = ".jsonl"


def encode_row(row: Sequence[Any]) -> bytes:
    """One row as a line of JSON: what the journal holds and what SQLite inserts from (NaN and infinities,
    which JSON cannot hold, become null)."""
    if orjson is not None:
        try:
            return orjson.dumps(row) + b"\n"  # writes NaN as null
        except TypeError:  # a value orjson does not write (an int beyond 64 bits): the json module does
            pass
    row = [None if isinstance(v, float) and not math.isfinite(v) else v for v in row]
    return json.dumps(row, default=str).encode() + b"\n"


def folder_for(ledger_path: str) -> Path:
    return Path(ledger_path + "-rowlog")  # not "-journal": SQLite's own rollback journal has that name


def _lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


class Journal:
    """This process's append-only file of the rows it recorded (the first line names the columns)."""

    def __init__(self, ledger_path: str, name: str, columns: Sequence[str]) -> None:
        folder = folder_for(ledger_path)
        folder.mkdir(mode=0o700, exist_ok=True)
        self.name = name
        self.path = folder / (name + SUFFIX)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o600)
        if not _lock(self._fd):  # pragma: no cover - names are unique per process
            os.close(self._fd)
            raise OSError(f"journal {self.path} is in use")
        self.offset = 0
        self.append(encode_row(list(columns)))

    def append(self, line: bytes) -> int:
        """Write one encoded row (one ``write``: whole or not at all when the process is killed); its end offset."""
        os.write(self._fd, line)
        self.offset += len(line)
        return self.offset

    def remove(self, db: sqlite3.Connection) -> None:
        """Delete the journal once every row in it is committed."""
        _forget(db, self.path)
        os.close(self._fd)  # also drops the lock

    def abandon(self) -> None:
        """In a forked child: stop writing to the parent's journal, keeping the parent's lock held."""
        os.close(self._fd)  # flock belongs to the open file, which the parent still has open


def _forget(db: sqlite3.Connection, path: Path) -> None:
    """Delete a committed journal: the file first, then its progress row (a progress row without a file is
    harmless; a file without its progress row would be replayed)."""
    with contextlib.suppress(OSError):
        path.unlink()
    with db:
        db.execute("DELETE FROM journal WHERE name = ?", (path.stem,))


class _Unreadable(ValueError):
    """A journal whose first line does not name the ledger's columns."""


def commit_progress(db: sqlite3.Connection, name: str, offset: int) -> None:
    """Inside the transaction that inserts rows: the journal is committed up to ``offset``."""
    db.execute("INSERT INTO journal (name, committed) VALUES (?, ?) "
               "ON CONFLICT(name) DO UPDATE SET committed = MAX(committed, excluded.committed)", (name, offset))


def _rows_after(data: bytes, offset: int) -> Iterator[tuple[list[str], list[Any], int]]:
    """(columns, row, end offset) of each whole line after ``offset`` (a torn last line is skipped)."""
    header_end = data.find(b"\n")
    if header_end < 0:
        return
    try:
        columns = json.loads(data[:header_end])
    except ValueError:
        columns = None
    if not (isinstance(columns, list) and all(isinstance(c, str) for c in columns) and "ts" in columns):
        raise _Unreadable(data[:80])
    position = max(offset, header_end + 1)
    while (end := data.find(b"\n", position)) >= 0:
        try:
            row = json.loads(data[position:end])
        except ValueError:
            row = None
        if isinstance(row, list) and len(row) == len(columns):
            yield columns, row, end + 1
        position = end + 1


def replay_orphans(db: sqlite3.Connection, ledger_path: str, known_columns: Sequence[str]) -> int:
    """Insert the rows of journals whose process is gone and that were never committed; returns how many."""
    folder = folder_for(ledger_path)
    if fcntl is None or not folder.is_dir():
        return 0
    replayed = 0
    for path in sorted(folder.glob("*" + SUFFIX)):
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue  # replayed and removed by another process meanwhile
        try:
            if not _lock(fd):
                continue  # its process is alive
            try:
                replayed += _replay(db, path, os.read(fd, os.fstat(fd).st_size), known_columns)
            except _Unreadable:  # never half-replayed, never deleted: left for a person to read
                warnings.warn(tr("llmcost: the ledger journal {path} does not start with the ledger's column names; "
                                 "its rows were not added to the ledger. Read it, then delete it.", path=path), stacklevel=2)
                continue
            _forget(db, path)
        finally:
            os.close(fd)
    return replayed


def _replay(db: sqlite3.Connection, path: Path, data: bytes, known_columns: Sequence[str]) -> int:
    count = 0
    with db:
        db.execute("BEGIN IMMEDIATE")
        found = db.execute("SELECT committed FROM journal WHERE name = ?", (path.stem,)).fetchone()
        for columns, row, end in _rows_after(data, found[0] if found else 0):
            kept = [(c, v) for c, v in zip(columns, row) if c in known_columns]  # a newer version's extra columns are dropped
            db.execute(f"INSERT INTO calls ({', '.join(c for c, _ in kept)}) VALUES ({', '.join('?' * len(kept))})",
                       [v for _, v in kept])
            commit_progress(db, path.stem, end)
            count += 1
    return count
