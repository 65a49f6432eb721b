"""Budget holds that outlive no one: leases renewed while their holder lives, and the ledger's holds.

A hold is written with an expiry ``LEASE_S`` ahead; a daemon thread of the holding process pushes the
expiry forward every ``LEASE_S / 4`` while it has holds. A process that dies (SIGKILL, a killed kernel)
stops renewing, and its holds stop counting within ``LEASE_S``. Holds of submitted batches are not renewed:
they last the batch's completion window, and collecting the results settles them.

A settled hold is dropped by this process's next ledger transaction (the next check, or the heartbeat
``SETTLE_DELAY_S`` later), which first commits the call's row: until then the call counts twice (its row and
its hold), never zero times, and a call costs one write transaction instead of two.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
import weakref
from dataclasses import dataclass

__all__ = ["BATCH_LEASE_S", "LEASE_S", "LedgerHolds", "Scope", "renew_while_held"]

LEASE_S = float(os.environ.get("LLMCOST_BUDGET_LEASE_S", "60"))
BATCH_LEASE_S = 25 * 3600.0  # the providers' 24 h completion window, and an hour to collect
SETTLE_DELAY_S = 0.05  # a burst's settled holds are dropped together, this long after the first


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


class LedgerHolds:
    """Reservations in the ledger's ``reservations`` table, checked and taken in one transaction.

    A check reads the committed spend of each scope (incrementally: the rows added since the last check, so
    nothing is cached stale) plus the live holds of that scope, and inserts the new hold only if every scope
    has room. Settling deletes the hold in the same transaction that commits the call's ledger row.
    """

    def __init__(self, ledger: object, *, user: str, tag: str) -> None:
        self.ledger, self.user, self.tag = ledger, user, tag
        self.session = getattr(ledger, "session", "")
        self.holder = holder_id(self.session)
        self._live = 0
        self._settled: list[int] = []  # holds whose calls are recorded, dropped by the next transaction
        self._lock = threading.Lock()
        self._renewed = time.monotonic()
        self._sums: dict[tuple[str, str, float], tuple[float, int]] = {}  # (column, value, since) -> (usd, last id)
        renew_while_held(self)

    def _drop_settled(self, db: sqlite3.Connection) -> None:
        with self._lock:
            settled, self._settled = self._settled, []
        if settled:
            db.executemany("DELETE FROM reservations WHERE id = ?", [(i,) for i in settled])

    def _committed(self, db: sqlite3.Connection, column: str, value: str, since: float, top: int) -> float:
        usd, last = self._sums.get((column, value, since), (0.0, 0))
        if top > last:  # NOT INDEXED: walk the new rows by id, not the index over all of today's rows
            added = db.execute(f"SELECT COALESCE(SUM(cost_usd), 0) FROM calls NOT INDEXED WHERE id > ? AND id <= ? "
                               f"AND {column} = ? AND ts >= ?", (last, top, value, since)).fetchone()[0]
            usd += float(added)
            self._sums[(column, value, since)] = (usd, top)
        return usd

    def _held(self, db: sqlite3.Connection, column: str, value: str, now: float) -> float:
        return float(db.execute(f"SELECT COALESCE(SUM(usd), 0) FROM reservations WHERE {column} = ? AND expires > ?",
                                (value, now)).fetchone()[0])

    def spent(self, scope: Scope) -> float:
        """Committed spend of ``scope`` now (every process's rows)."""
        with self.ledger.transaction() as db:  # type: ignore[attr-defined]
            top = db.execute("SELECT COALESCE(MAX(id), 0) FROM calls").fetchone()[0]
            return self._committed(db, scope.column, scope.value, scope.since, top)

    def held(self, scope: Scope) -> float:
        """Live holds of ``scope`` (every process's calls in flight)."""
        with self.ledger.transaction() as db:  # type: ignore[attr-defined]
            return self._held(db, scope.column, scope.value, time.time())

    def reserve(self, scopes: list[Scope], needed: float, *, batch: str | None = None,
                lease_s: float = LEASE_S) -> tuple[int | None, Scope | None, float, list[float]]:
        """(hold id, None, 0, each scope's committed spend) when every scope has room for ``needed``, else
        (None, the scope that refused, its spend + holds, ...). One ``BEGIN IMMEDIATE`` transaction: no other
        process checks in between."""
        values = {"user": self.user, "tag": self.tag, "session": self.session}
        now = time.time()
        spends = []
        with self.ledger.transaction() as db:  # type: ignore[attr-defined]
            self._drop_settled(db)  # their rows were committed first, by this same transaction
            top = db.execute("SELECT COALESCE(MAX(id), 0) FROM calls").fetchone()[0]
            for scope in scopes:
                spent = self._committed(db, scope.column, scope.value, scope.since, top)
                committed = spent + self._held(db, scope.column, scope.value, now)
                if committed + needed > scope.limit_usd:
                    return None, scope, committed, spends
                spends.append(spent)
            cursor = db.execute("INSERT INTO reservations (user, tag, session, usd, holder, expires, batch) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                                (values["user"], values["tag"], values["session"], needed,
                                 None if batch else self.holder, now + lease_s, batch))
        if not batch:
            with self._lock:
                self._live += 1
        return cursor.lastrowid, None, 0.0, spends

    def settle(self, hold_id: int) -> None:
        """Drop a hold whose call is recorded: at this process's next ledger transaction, which commits the
        call's row first (so the call never counts zero times)."""
        with self._lock:
            self._settled.append(hold_id)
            self._live = max(self._live - 1, 0)
        _heartbeat.soon()

    def renew(self) -> None:
        """Drop settled holds, and push this process's live holds' expiry forward (the heartbeat calls it)."""
        due = self._live and time.monotonic() - self._renewed >= LEASE_S / 4
        if not (self._settled or due):
            return
        with self.ledger.transaction() as db:  # type: ignore[attr-defined]
            self._drop_settled(db)
            if due:
                self._renewed = time.monotonic()
                db.execute("UPDATE reservations SET expires = ? WHERE holder = ?", (time.time() + LEASE_S, self.holder))


def settle_batch_holds(ledger: object, batch: str) -> None:
    """Drop the holds of a batch whose results were collected (their cost is now in the ledger)."""
    with ledger.transaction() as db:  # type: ignore[attr-defined]
        db.execute("DELETE FROM reservations WHERE batch = ?", (batch,))

