"""The ledger: one SQLite row per call that was sent or answered by a policy.

WAL mode with ``synchronous=NORMAL``. ``record`` appends the row to the ledger's journal (one ``write`` of a
few hundred bytes, see :mod:`.ledger_journal`) and returns: from then on the row survives the process being
killed. A writer thread commits the waiting rows to SQLite within ``COMMIT_DELAY`` seconds, many rows in one
commit, so a burst of calls pays neither a commit each nor a thread switch each; a read, a budget's
transaction, a meter's close and interpreter exit commit at once. The next process to open the ledger
commits the rows of a journal whose process died before its writer did.
Without a journal (``:memory:``, no ``fcntl``, a journal that cannot be written) a file ledger commits each
row at once on the writer, and on the caller when the writer is behind: SIGKILL then loses at most the last
call's row.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import os
import sqlite3
import sys
import threading
import time
import uuid
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from ..core.records import CallRecord
from ..core.sqlite_file import connect
from .ledger_journal import Journal, commit_progress, encode_row, fcntl, replay_orphans
from .ledger_schema import _MIGRATIONS, COLUMNS, pricing_columns  # noqa: F401 - _MIGRATIONS: tests

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Ledger", "LedgerError", "default_ledger_path", "COLUMNS"]

# How long the writer lets rows gather before one commit (journaled or in-memory ledgers): other
# processes see a row this late at most; the journal already keeps it.
COMMIT_DELAY = 0.02

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
            _MIGRATIONS.apply(self._db)
            replay_orphans(self._db, self.path, COLUMNS)
        except (OSError, sqlite3.Error) as exc:
            raise LedgerError(
                f"Cannot open the ledger at {self.path}: {exc}. Point it at a writable file with "
                f"%config LLMCost.ledger_path = '/some/writable/ledger.sqlite3' (or $LLMCOST_LEDGER), "
                f"or use ':memory:'."
            ) from None
        # Rows are inserted from one JSON array of the encoded rows: SQLite reads it in C without the GIL, where
        # binding 36 parameters a row held the GIL (and so the caller's thread) for several µs a row.
        values = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(COLUMNS)))
        self._insert = f"INSERT INTO calls ({', '.join(COLUMNS)}) SELECT {values} FROM json_each(?) ORDER BY key"
        # (row encoded as a JSON line, its end offset in the journal or 0); append/popleft are atomic
        self._pending: collections.deque[tuple[bytes, int]] = collections.deque()
        self._journal: Journal | None = None  # opened with the first row
        self._journaling = self.path != ":memory:" and fcntl is not None
        self._append_lock = threading.Lock()  # rows enter the journal and the queue in the same order
        self._wake = threading.Event()
        self._writer: threading.Thread | None = None
        self._writer_error: LedgerError | None = None
        self._closed = False
        atexit.register(_flush_at_exit, weakref.ref(self))
        _ledgers.add(self)

    def _after_fork(self) -> None:
        """In a forked child: no writer thread yet (it starts on the first row), and fresh locks."""
        self._writer, self._lock, self._wake = None, threading.Lock(), threading.Event()
        self._append_lock = threading.Lock()
        self._pending.clear()  # the parent's rows: in the parent's journal, committed by the parent
        if self._journal is not None:
            self._journal.abandon()
            self._journal = None

    def record(self, rec: CallRecord) -> None:
        """Add one call (committed with the next flush). Never stores headers, keys or message content."""
        u = rec.usage
        row = (
            rec.ts, self.session, rec.cell, rec.cell_run, rec.cell_hash, rec.tag, rec.provider, rec.endpoint,
            rec.model, rec.requested_model or rec.model, u.input_tokens, u.cached_input_tokens,
            u.cache_write_tokens, u.output_tokens, u.reasoning_tokens, rec.cost_usd, rec.baseline_cost_usd,
            rec.saved_usd, rec.saved_by, rec.cache, int(rec.estimated), int(rec.stream), rec.latency_ms,
            rec.status, rec.note, rec.max_tokens, rec.user, rec.segment, rec.input_tokens_before,
            *pricing_columns(rec),
        )
        if self._closed:
            raise LedgerError(f"The ledger at {self.path} is closed; open one with llmcost_magic.use_ledger(PATH).")
        line = encode_row(row)
        if not (self._journaling and self._journaled(line)):
            self._pending.append((line, 0))
            if len(self._pending) > 1 and self.path != ":memory:" and self._lock.acquire(blocking=False):
                try:  # no journal and the writer is behind: commit here, so at most the last row waits
                    self._flush_locked()
                finally:
                    self._lock.release()
        if not self._wake.is_set():
            if self._writer is None:
                self._start_writer()
            self._wake.set()
        if self._writer_error is not None:  # the row stays pending: the writer retries it
            error, self._writer_error = self._writer_error, None
            raise error

    def _journaled(self, line: bytes) -> bool:
        """Append the encoded row to the journal and queue it; False (and no journal from now on) when it cannot."""
        try:
            with self._append_lock:
                if self._journal is None:
                    self._journal = Journal(self.path, f"{self.session}-{os.getpid()}", COLUMNS)
                self._pending.append((line, self._journal.append(line)))
            return True
        except OSError:
            self._journaling = False  # a full disk, a read-only folder: commit each row instead
            return False

    @property
    def commit_delay(self) -> float:
        """Seconds the writer lets rows gather before one commit (0: each row at once)."""
        return COMMIT_DELAY if self._journaling or self.path == ":memory:" else 0.0

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

    def _take_pending(self) -> list[tuple[bytes, int]]:
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
                self._insert_rows(rows)
        except sqlite3.Error as exc:
            self._pending.extendleft(reversed(rows))  # keep them for the next attempt
            raise LedgerError(f"Cannot write to the ledger at {self.path}: {exc}") from None

    def _insert_rows(self, rows: list[tuple[bytes, int]]) -> None:
        """Inside a transaction: the rows, and how far the journal is committed with them."""
        if not rows:
            return
        self._db.execute(self._insert, ((b"[" + b",".join(line for line, _ in rows) + b"]").decode(),))
        end = max(offset for _, offset in rows)
        if end and self._journal is not None:
            commit_progress(self._db, self._journal.name, end)

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
                    self._insert_rows(rows)
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
                if self._journal is not None:  # every row it holds is committed
                    self._journal.remove(self._db)
                    self._journal = None
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
        wake.wait()
        ledger = ref()
        if ledger is None or ledger._closed:
            return
        delay = ledger.commit_delay  # without a journal: none (even 2 ms lost the last row to a SIGKILL)
        del ledger
        if delay:
            time.sleep(delay)
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
