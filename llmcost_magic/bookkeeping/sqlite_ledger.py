"""The ledger: one SQLite row per call that was sent or answered by a policy.

WAL mode with ``synchronous=NORMAL``. ``record`` hands the row to a writer thread and returns (a few
microseconds); the writer commits what is waiting at once, so a row is on disk within the writer's wait
for the GIL (milliseconds at most) after its call returned, whatever the process does next. A
read, a meter's close and interpreter exit commit synchronously, and so does ``record`` when a row is
still waiting (the writer is behind): SIGKILL loses at most the last call's row. (A commit on the
caller's thread costs 15-45 µs a row, most of it writing the WAL pages of the row and its three
indexes; the writer does that in parallel.)
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import json
import os
import sqlite3
import sys
import threading
import uuid
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from ..core.records import CallRecord
from ..core.sqlite_file import connect
from ..core.sqlite_migrations import Migrations

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Ledger", "LedgerError", "default_ledger_path", "COLUMNS"]

COLUMNS = (
    "ts", "session", "cell", "cell_run", "cell_hash", "tag", "provider", "endpoint", "model", "requested_model",
    "input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens",
    "cost_usd", "baseline_cost_usd", "saved_usd", "saved_by", "cache", "estimated", "stream", "latency_ms",
    "status", "note", "max_tokens", "user", "segment", "input_tokens_before",
    "cache_write_1h_tokens", "vendor", "batch", "service_tier", "tool_calls", "usage_details", "price_source",
)

_MIGRATIONS = Migrations("ledger")
_migration = _MIGRATIONS.register  # steps run in registration order, each once, recorded by name


@_migration
def _m001_calls(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE calls (
            id INTEGER PRIMARY KEY, ts REAL NOT NULL, session TEXT, cell TEXT, cell_run INTEGER,
            cell_hash TEXT, tag TEXT, provider TEXT, endpoint TEXT, model TEXT, requested_model TEXT,
            input_tokens INTEGER, cached_input_tokens INTEGER, cache_write_tokens INTEGER,
            output_tokens INTEGER, reasoning_tokens INTEGER, cost_usd REAL, baseline_cost_usd REAL,
            saved_usd REAL, saved_by TEXT, cache TEXT, estimated INTEGER, stream INTEGER,
            latency_ms REAL, status TEXT, note TEXT)"""
    )
    db.execute("CREATE INDEX calls_ts ON calls(ts)")
    db.execute("CREATE INDEX calls_cell ON calls(cell_hash, cell)")


@_migration
def _m002_max_tokens(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE calls ADD COLUMN max_tokens INTEGER")


@_migration
def _m003_batches(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE batches (name TEXT PRIMARY KEY, provider TEXT, model TEXT, provider_ids TEXT, "
               "custom_ids TEXT, created REAL, collected INTEGER)")


@_migration
def _m004_user_segment(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE calls ADD COLUMN user TEXT")
    db.execute("ALTER TABLE calls ADD COLUMN segment TEXT")
    db.execute("CREATE INDEX calls_user_ts ON calls(user, ts)")


@_migration
def _m005_input_tokens_before(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE calls ADD COLUMN input_tokens_before INTEGER")  # before compression (NULL: none)


@_migration
def _m006_pricing_detail(db: sqlite3.Connection) -> None:
    """What re-pricing a row exactly needs, and who served it (``provider`` stays the wire protocol)."""
    for column in ("cache_write_1h_tokens INTEGER", "vendor TEXT", "batch INTEGER", "service_tier TEXT",
                   "tool_calls TEXT", "usage_details TEXT", "price_source TEXT"):
        db.execute(f"ALTER TABLE calls ADD COLUMN {column}")


@_migration
def _m007_reservations(db: sqlite3.Connection) -> None:
    # Budget holds of calls in flight (policies/budgets/reservations.py): live while expires > now.
    db.execute("CREATE TABLE reservations (id INTEGER PRIMARY KEY, user TEXT, tag TEXT, session TEXT, "
               "usd REAL NOT NULL, holder TEXT, expires REAL NOT NULL, batch TEXT)")
    db.execute("CREATE INDEX reservations_expires ON reservations(expires)")
    db.execute("ALTER TABLE batches ADD COLUMN user TEXT")  # who a batch's results are attributed to


def _pricing_columns(rec: CallRecord) -> tuple[Any, ...]:
    """(1h writes, vendor, batch, service tier, tool calls JSON, other billed details JSON, price source)."""
    u, d = rec.usage, rec.usage.details
    if not d:
        return (u.cache_write_1h_tokens, rec.vendor, int(rec.endpoint == "batch"), "", "", "", rec.price_source)
    tier = str(d.get("service_tier") or "")
    rest = {k: v for k, v in d.items() if k not in ("service_tier", "tool_calls", "batch")}
    return (u.cache_write_1h_tokens, rec.vendor, int(rec.endpoint == "batch" or bool(d.get("batch")) or tier == "batch"),
            tier, json.dumps(d["tool_calls"], sort_keys=True, default=str) if d.get("tool_calls") else "",
            json.dumps(rest, sort_keys=True, default=str) if rest else "", rec.price_source)


class LedgerError(RuntimeError):
    """The ledger cannot be opened or written; the message names the path and the fix."""


def default_ledger_path() -> Path:
    """``$LLMCOST_LEDGER`` or ``ledger.sqlite3`` in the per-user data folder."""
    env = os.environ.get("LLMCOST_LEDGER")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("llmcost_magic", appauthor=False)) / "ledger.sqlite3"


class Ledger:
    """Append-only call log in SQLite. ``Ledger(":memory:")`` keeps it in memory (tests)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = str(path) if path is not None else str(default_ledger_path())
        self.session = uuid.uuid4().hex[:12]
        self._lock = threading.Lock()
        try:
            self._db = connect(self.path)
            self._migrate()
        except (OSError, sqlite3.Error) as exc:
            raise LedgerError(
                f"Cannot open the ledger at {self.path}: {exc}. Point it at a writable file with "
                f"%config LLMCost.ledger_path = '/some/writable/ledger.sqlite3' (or $LLMCOST_LEDGER), "
                f"or use ':memory:'."
            ) from None
        self._insert = f"INSERT INTO calls ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        self._pending: collections.deque[tuple[Any, ...]] = collections.deque()  # append/popleft are atomic
        self._wake = threading.Event()
        self._writer: threading.Thread | None = None
        self._writer_error: LedgerError | None = None
        self._closed = False
        atexit.register(_flush_at_exit, weakref.ref(self))
        _ledgers.add(self)

    def _after_fork(self) -> None:
        """In a forked child: no writer thread yet (it starts on the first row), and fresh locks."""
        self._writer, self._lock, self._wake = None, threading.Lock(), threading.Event()

    def _migrate(self) -> None:
        """Run the steps this file has not seen (safe when several processes open it at once)."""
        _MIGRATIONS.apply(self._db)

    def record(self, rec: CallRecord) -> None:
        """Add one call (committed with the next flush). Never stores headers, keys or message content."""
        u = rec.usage
        row = (
            rec.ts, self.session, rec.cell, rec.cell_run, rec.cell_hash, rec.tag, rec.provider, rec.endpoint,
            rec.model, rec.requested_model or rec.model, u.input_tokens, u.cached_input_tokens,
            u.cache_write_tokens, u.output_tokens, u.reasoning_tokens, rec.cost_usd, rec.baseline_cost_usd,
            rec.saved_usd, rec.saved_by, rec.cache, int(rec.estimated), int(rec.stream), rec.latency_ms,
            rec.status, rec.note, rec.max_tokens, rec.user, rec.segment, rec.input_tokens_before,
            *_pricing_columns(rec),
        )
        if self._closed:
            raise LedgerError(f"The ledger at {self.path} is closed; open one with llmcost_magic.use_ledger(PATH).")
        self._pending.append(row)
        if len(self._pending) > 1 and self._lock.acquire(blocking=False):
            try:  # the writer is behind (a burst of calls, a busy machine): commit here, so at most
                self._flush_locked()  # the last call's row ever waits for it
            finally:
                self._lock.release()
        elif not self._wake.is_set():
            if self._writer is None:
                self._start_writer()
            self._wake.set()
        if self._writer_error is not None:  # the row stays pending: the writer retries it
            error, self._writer_error = self._writer_error, None
            raise error

    def _start_writer(self) -> None:
        with self._lock:
            if self._writer is None and not self._closed:
                self._writer = threading.Thread(target=_write_forever, args=(weakref.ref(self), self._wake),
                                                name="llmcost-ledger-writer", daemon=True)
                self._writer.start()

    def flush(self) -> None:
        """Commit every pending row now."""
        with self._lock:
            self._flush_locked()

    def _take_pending(self) -> list[tuple[Any, ...]]:
        """Every row waiting to be written (popleft is atomic: record() may append meanwhile)."""
        rows = []
        try:
            while True:
                rows.append(self._pending.popleft())
        except IndexError:
            return rows

    def _flush_locked(self) -> None:
        rows = self._take_pending()
        if not rows or self._closed:
            return
        try:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany(self._insert, rows)
        except sqlite3.Error as exc:
            self._pending.extendleft(reversed(rows))  # keep them for the next attempt
            raise LedgerError(f"Cannot write to the ledger at {self.path}: {exc}") from None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction, the pending rows written first: what it reads is every
        process's committed state, and nothing commits in between (budget reservations use it)."""
        with self._lock:
            if self._closed:
                raise LedgerError(f"The ledger at {self.path} is closed; open one with llmcost_magic.use_ledger(PATH).")
            rows = self._take_pending()
            try:
                with self._db:
                    self._db.execute("BEGIN IMMEDIATE")
                    if rows:
                        self._db.executemany(self._insert, rows)
                    yield self._db
            except BaseException as exc:
                self._pending.extendleft(reversed(rows))  # rolled back: keep them for the next attempt
                if isinstance(exc, sqlite3.Error):
                    raise LedgerError(f"Cannot write to the ledger at {self.path}: {exc}") from None
                raise

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        """Run one write statement (committed at once) after the pending rows."""
        with self._lock:
            self._flush_locked()
            self._db.execute(sql, params)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            self._flush_locked()
            return self._db.execute(sql, params).fetchall()

    def dataframe(
        self,
        *,
        cell: str | None = None,
        tag: str | None = None,
        session: str | None = None,
        since: float | None = None,
    ) -> pd.DataFrame:
        """The calls as a pandas DataFrame (``ts`` as local datetimes), optionally filtered."""
        import pandas as pd

        where, params = [], []
        for column, value in (("cell_hash", cell), ("tag", tag), ("session", session)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            where.append("ts >= ?")
            params.append(since)
        sql = f"SELECT {', '.join(COLUMNS)} FROM calls"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._lock:
            self._flush_locked()
            df = pd.read_sql_query(sql + " ORDER BY id", self._db, params=params)
        df["ts"] = pd.to_datetime(df["ts"], unit="s", utc=True).dt.tz_convert(None)
        df["estimated"] = df["estimated"].astype(bool)
        df["stream"] = df["stream"].astype(bool)
        # rows written before the pricing-detail columns existed: no 1h writes, not batch, no details known
        df["cache_write_1h_tokens"] = df["cache_write_1h_tokens"].fillna(0).astype(int)
        df["batch"] = df["batch"].fillna(df["endpoint"].eq("batch")).astype(bool)
        for column in ("vendor", "service_tier", "tool_calls", "usage_details", "price_source"):
            df[column] = df[column].fillna("")
        df["vendor"] = df["vendor"].mask(df["vendor"] == "", df["provider"])  # older rows: the protocol's vendor
        return df

    def last_cell_run(self, cell_hash: str, before_session_run: tuple[str, int] | None = None) -> tuple[float, int] | None:
        """(cost, calls) of the most recent earlier run of the cell with this source hash."""
        rows = self.query(
            "SELECT session, cell_run, SUM(cost_usd), COUNT(*) FROM calls WHERE cell_hash = ? "
            "GROUP BY session, cell_run ORDER BY MAX(id) DESC LIMIT 2",
            (cell_hash,),
        )
        for session, run, cost, calls in rows:
            if before_session_run is None or (session, run) != before_session_run:
                return float(cost or 0.0), int(calls)
        return None

    def __len__(self) -> int:
        return int(self.query("SELECT COUNT(*) FROM calls")[0][0])

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._flush_locked()
                self._closed = True
                self._db.close()
        self._wake.set()  # the writer sees the ledger closed and ends


    def __del__(self) -> None:  # a ledger dropped without close() still keeps its rows
        try:
            self.close()
        except Exception:  # noqa: BLE001, S110 - nothing to report to at collection time
            pass


_ledgers: weakref.WeakSet[Ledger] = weakref.WeakSet()


def _reset_after_fork() -> None:
    for ledger in list(_ledgers):
        ledger._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def _write_forever(ref: weakref.ReferenceType[Ledger], wake: threading.Event) -> None:
    """The writer thread: commit whatever rows are waiting each time ``record`` wakes it."""
    while True:
        wake.wait()  # no coalescing delay: even 2 ms lost the last row to a SIGKILL right after the call
        ledger = ref()
        if ledger is None or ledger._closed:
            return
        with ledger._lock:
            wake.clear()  # rows recorded from here on wake the next round
            try:
                ledger._flush_locked()
            except LedgerError as exc:
                ledger._writer_error = exc  # raised by the next record(), which the meter reports
        del ledger


def _flush_at_exit(ref: weakref.ReferenceType[Ledger]) -> None:
    ledger = ref()
    if ledger is not None:
        open_calls = sys.modules.get("llmcost_magic.intercept.open_calls")
        if open_calls is not None:  # record the responses never read before the ledger closes
            open_calls.close_where()
        try:
            ledger.close()
        except LedgerError:
            pass
