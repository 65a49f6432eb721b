"""Budget holds that outlive no one: leases renewed while their holder lives, and the ledger's holds.

A hold is written with an expiry ``LEASE_S`` ahead; a daemon thread of the holding process pushes the
expiry forward every ``LEASE_S / 4`` while it has holds. A process that dies (SIGKILL, a killed kernel)
stops renewing, and its holds stop counting within ``LEASE_S``. Holds of submitted batches are not renewed:
they last the batch's completion window, and collecting the results settles them.

Calls draw from a per-process allotment held in the ledger (:class:`LedgerHolds`), so most checks touch no
file: the ledger is read and written when the allotment runs out, in one transaction that commits this
process's pending rows first (a call counts in its row or in the allotment, never in neither).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

__all__ = ["BATCH_LEASE_S", "LEASE_S", "LedgerHolds", "Scope", "renew_while_held"]

LEASE_S = float(os.environ.get("LLMCOST_BUDGET_LEASE_S", "60"))
BATCH_LEASE_S = 25 * 3600.0  # the providers' 24 h completion window, and an hour to collect
SETTLE_DELAY_S = 0.05  # an allotment unused this long goes back
BLOCK_CALLS = 32  # an allotment covers up to this many worst cases ...
BLOCK_SHARE = 0.125  # ... and at most this share of the room left under the limit


def holder_id(session: str) -> str:
    """Who holds a reservation: host, process and ledger session (shown by a stuck hold)."""
    return f"{socket.gethostname()}:{os.getpid()}:{session}"


class _Heartbeat:
    """One daemon thread per process that renews every registered lease owner's holds."""

    def __init__(self) -> None:
        self._owners: weakref.WeakSet = weakref.WeakSet()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()

    def soon(self) -> None:
        """Run the owners' ``renew()`` within ``SETTLE_DELAY_S`` (settled holds are waiting)."""
        if not self._wake.is_set():
            self._wake.set()

    def register(self, owner: object) -> None:
        with self._lock:
            self._owners.add(owner)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="llmcost-budget-leases", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            if self._wake.wait(LEASE_S / 4):
                time.sleep(SETTLE_DELAY_S)
                self._wake.clear()
            for owner in list(self._owners):
                try:
                    owner.renew()  # type: ignore[attr-defined]
                except Exception:  # noqa: BLE001, S112 - a missed renewal is retried; the lease has slack
                    continue


_heartbeat = _Heartbeat()


def renew_while_held(owner: object) -> None:
    """Have ``owner.renew()`` called at least every ``LEASE_S / 4`` seconds for as long as it exists."""
    _heartbeat.register(owner)


@dataclass(frozen=True, slots=True)
class Scope:
    """One limit over the ledger: calls whose ``column`` equals ``value`` since ``since`` (epoch seconds)."""

    name: str
    limit_usd: float
    column: str  # "user", "tag" or "session"
    value: str
    since: float


_COLUMNS = ("user", "tag", "session")


@dataclass(slots=True)
class _Block:
    """This process's allotment: one hold row that its calls draw their worst cases from, in memory.

    Invariant (``usd`` is the row's amount as last written): this process's spend recorded since then +
    ``inflight`` + ``free`` <= ``usd``. Other processes see committed spend + ``usd``, never less than what this
    process can really spend, so the limit holds; this process checks the ledger only when ``free`` runs out.
    """

    row: int | None = None
    since: tuple[float, ...] = ()  # the period starts it was granted under (a new day forces a fresh check)
    inflight: float = 0.0  # worst cases of calls drawn and not settled
    calls: int = 0  # how many (at 0, inflight is exactly 0: no float residue left held)
    free: float = 0.0  # left to draw
    drawn_at: float = 0.0  # monotonic time of the last draw


class LedgerHolds:
    """Reservations in the ledger's ``reservations`` table, checked and taken in one transaction.

    A check reads the committed spend of each scope (incrementally: the rows added since the last check, so
    nothing is cached stale) plus every other live hold, and grants this process an allotment (up to
    ``BLOCK_CALLS`` worst cases, at most ``BLOCK_SHARE`` of the room left) that its next calls draw from in
    memory. The unused part goes back when the process is idle for ``SETTLE_DELAY_S`` or its meter closes.
    """

    def __init__(self, ledger: object, *, user: str, tag: str) -> None:
        self.ledger, self.user, self.tag = ledger, user, tag
        self.session = getattr(ledger, "session", "")
        self.holder = holder_id(self.session)
        self._block = _Block()
        self._lock = threading.RLock()
        self._renewed = time.monotonic()
        self._sums: dict[tuple[str, str, float], tuple[float, int]] = {}  # (column, value, since) -> (usd, last id)
        renew_while_held(self)

    def _committed(self, db: sqlite3.Connection, column: str, value: str, since: float, top: int) -> float:
        usd, last = self._sums.get((column, value, since), (0.0, 0))
        if top > last:  # NOT INDEXED: walk the new rows by id, not the index over all of today's rows
            added = db.execute(f"SELECT COALESCE(SUM(cost_usd), 0) FROM calls NOT INDEXED WHERE id > ? AND id <= ? "
                               f"AND {column} = ? AND ts >= ?", (last, top, value, since)).fetchone()[0]
            usd += float(added)
            self._sums[(column, value, since)] = (usd, top)
        return usd

    def _held(self, db: sqlite3.Connection, column: str, value: str, now: float, besides: int | None = None) -> float:
        return float(db.execute(f"SELECT COALESCE(SUM(usd), 0) FROM reservations WHERE {column} = ? AND expires > ? "
                                f"AND id IS NOT ?", (value, now, besides)).fetchone()[0])

    def spent(self, scope: Scope) -> float:
        """Committed spend of ``scope`` now (every process's rows)."""
        with self.ledger.transaction() as db:  # type: ignore[attr-defined]
            top = db.execute("SELECT COALESCE(MAX(id), 0) FROM calls").fetchone()[0]
            return self._committed(db, scope.column, scope.value, scope.since, top)

    def held(self, scope: Scope) -> float:
        """Live holds of ``scope`` (every process's calls in flight and allotments)."""
        with self.ledger.transaction() as db:  # type: ignore[attr-defined]
            return self._held(db, scope.column, scope.value, time.time())

    def reserve(self, scopes: list[Scope], needed: float, *, batch: str | None = None,
                lease_s: float = LEASE_S) -> tuple[Any, Scope | None, float, list[float]]:
        """(hold, None, 0, each scope's committed spend when the ledger was read) when every scope has room for
        ``needed``, else (None, the scope that refused, its spend + holds, ...)."""
        if batch is not None:
            return self._batch_row(scopes, needed, batch)
        key = tuple(scope.since for scope in scopes)
        with self._lock:
            block = self._block
            if block.row is not None and block.since == key and block.free >= needed:
                block.free -= needed
                block.inflight += needed
                block.calls += 1
                block.drawn_at = time.monotonic()
                return needed, None, 0.0, []
            return self._refill(scopes, needed, key)

    def _refill(self, scopes: list[Scope], needed: float, key: tuple[float, ...]) -> tuple[Any, Scope | None, float, list[float]]:
        """One ``BEGIN IMMEDIATE`` transaction: no other process checks in between (called under ``_lock``)."""
        block, now = self._block, time.time()
        rooms, spends = [], []
        with self.ledger.transaction() as db:  # type: ignore[attr-defined]
            db.execute("DELETE FROM reservations WHERE expires <= ?", (now,))  # lapsed: their holders died
            top = db.execute("SELECT COALESCE(MAX(id), 0) FROM calls").fetchone()[0]
            for scope in scopes:
                spent = self._committed(db, scope.column, scope.value, scope.since, top)
                taken = spent + self._held(db, scope.column, scope.value, now, block.row) + block.inflight
                if taken + needed > scope.limit_usd:
                    self._write(db, block.inflight, now)  # what is in flight stays held; the rest goes back
                    block.free = 0.0
                    return None, scope, taken, spends
                rooms.append(scope.limit_usd - taken)
                spends.append(spent)
            room = min(rooms)
            grant = min(room, max(needed, min(BLOCK_CALLS * needed, room * BLOCK_SHARE)))
            self._write(db, block.inflight + grant, now)
        block.free, block.inflight, block.since = grant - needed, block.inflight + needed, key
        block.calls += 1
        block.drawn_at = time.monotonic()
        return needed, None, 0.0, spends

    def _write(self, db: sqlite3.Connection, usd: float, now: float) -> None:
        """Set this process's allotment row to ``usd`` (deleted at 0); the pending rows were committed first."""
        block = self._block
        if usd <= 0.0:
            if block.row is not None:
                db.execute("DELETE FROM reservations WHERE id = ?", (block.row,))
            block.row = None
            return
        if block.row is not None and db.execute("UPDATE reservations SET usd = ?, expires = ? WHERE id = ?",
                                                (usd, now + LEASE_S, block.row)).rowcount:
            return
        block.row = db.execute("INSERT INTO reservations (user, tag, session, usd, holder, expires) VALUES (?, ?, ?, ?, ?, ?)",
                               (self.user, self.tag, self.session, usd, self.holder, now + LEASE_S)).lastrowid

    def _batch_row(self, scopes: list[Scope], needed: float, batch: str) -> tuple[Any, Scope | None, float, list[float]]:
        now = time.time()
        with self._lock, self.ledger.transaction() as db:  # type: ignore[attr-defined]
            top = db.execute("SELECT COALESCE(MAX(id), 0) FROM calls").fetchone()[0]
            for scope in scopes:
                taken = self._committed(db, scope.column, scope.value, scope.since, top) + \
                    self._held(db, scope.column, scope.value, now, self._block.row) + self._block.inflight + self._block.free
                if taken + needed > scope.limit_usd:
                    return None, scope, taken, []
            row = db.execute("INSERT INTO reservations (user, tag, session, usd, holder, expires, batch) "
                             "VALUES (?, ?, ?, ?, NULL, ?, ?)",
                             (self.user, self.tag, self.session, needed, now + BATCH_LEASE_S, batch)).lastrowid
        return ("batch", row), None, 0.0, []

    def settle(self, hold: Any, cost_usd: float | None) -> None:
        """A call drawn from the allotment is recorded: what its worst case did not use can be drawn again."""
        if isinstance(hold, tuple):  # a batch's own row
            with self.ledger.transaction() as db:  # type: ignore[attr-defined]
                db.execute("DELETE FROM reservations WHERE id = ?", (hold[1],))
            return
        with self._lock:
            block = self._block
            block.calls = max(block.calls - 1, 0)
            block.inflight = max(block.inflight - hold, 0.0) if block.calls else 0.0
            block.free += hold - (cost_usd if cost_usd is not None else hold)
        _heartbeat.soon()

    def release(self) -> None:
        """Give back the unused allotment now (the meter closed), keeping what is in flight held."""
        with self._lock:
            if self._block.row is not None:
                with self.ledger.transaction() as db:  # type: ignore[attr-defined]
                    self._write(db, self._block.inflight, time.time())
                self._block.free = 0.0

    def renew(self) -> None:
        """Heartbeat: give the unused allotment back once idle, and push the row's expiry forward."""
        with self._lock:
            block = self._block
            if block.row is None:
                return
            idle = time.monotonic() - block.drawn_at >= SETTLE_DELAY_S
            due = time.monotonic() - self._renewed >= LEASE_S / 4
            if idle and block.free != 0.0 or due:
                with self.ledger.transaction() as db:  # type: ignore[attr-defined]
                    self._write(db, block.inflight + (0.0 if idle else block.free), time.time())
                if idle:
                    block.free = 0.0
                self._renewed = time.monotonic()


def settle_batch_holds(ledger: object, batch: str) -> None:
    """Drop the holds of a batch whose results were collected (their cost is now in the ledger)."""
    with ledger.transaction() as db:  # type: ignore[attr-defined]
        db.execute("DELETE FROM reservations WHERE batch = ?", (batch,))

