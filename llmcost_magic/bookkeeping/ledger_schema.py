"""The ledger's schema: its columns and the migrations that build them, in order, each once.

Used by :mod:`.sqlite_ledger`, and by the journal's replay (:mod:`.ledger_journal`), which inserts by column name.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ..core.records import CallRecord
from ..core.sqlite_migrations import Migrations

__all__ = ["COLUMNS", "pricing_columns"]

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


@_migration
def _m008_journal(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE journal (name TEXT PRIMARY KEY, committed INTEGER NOT NULL)")  # ledger_journal.py


def pricing_columns(rec: CallRecord) -> tuple[Any, ...]:
    """(1h writes, vendor, batch, service tier, tool calls JSON, other billed details JSON, price source)."""
    u, d = rec.usage, rec.usage.details
    if not d:
        return (u.cache_write_1h_tokens, rec.vendor, int(rec.endpoint == "batch"), "", "", "", rec.price_source)
    tier = str(d.get("service_tier") or "")
    rest = {k: v for k, v in d.items() if k not in ("service_tier", "tool_calls", "batch")}
    return (u.cache_write_1h_tokens, rec.vendor, int(rec.endpoint == "batch" or bool(d.get("batch")) or tier == "batch"),
            tier, json.dumps(d["tool_calls"], sort_keys=True, default=str) if d.get("tool_calls") else "",
            json.dumps(rest, sort_keys=True, default=str) if rest else "", rec.price_source)
