"""Background Responses (``background: true``): billed when they finish, seen when retrieved.

The request answers ``queued`` with no usage; its row says so at $0. The real usage arrives on a
later ``GET /responses/{id}``: the first retrieval of a finished response records it, once per
response id (also across processes sharing the ledger); later retrievals record nothing.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
# (id of the ledger, response id): background responses submitted here and not recorded yet / recorded
_waiting: set[tuple[int, str]] = set()
_recorded: set[tuple[int, str]] = set()
# response id -> (meter, its budget holds): a queued response keeps its worst case held until its usage is retrieved
_holds: dict[str, tuple[Any, list[tuple[Any, Any]]]] = {}
QUEUED_NOTE = "background {id}: billed when retrieved"
RETRIEVED_NOTE = "background {id} retrieved"
FINISHED = ("completed", "incomplete", "failed", "cancelled")


def queued(ledger: Any, response_id: str) -> str:
    """Remember a background response that answered ``queued``; the note for its $0 row."""
    with _lock:
        _waiting.add((id(ledger), response_id))
    return QUEUED_NOTE.format(id=response_id)


def keep_holds(response_id: str, meter: Any, holds: list[tuple[Any, Any]]) -> None:
    """Keep a queued response's budget holds (its worst case) until its billed usage is retrieved."""
    if holds:
        with _lock:
            _holds[response_id] = (meter, holds)


def take_holds(response_id: str) -> tuple[Any, list[tuple[Any, Any]]] | None:
    """The (meter, holds) kept for a queued response, once; None when it held nothing here."""
    with _lock:
        return _holds.pop(response_id, None)


def claim(ledger: Any, body: dict[str, Any]) -> str | None:
    """The note for the row of a retrieved, finished background response, or None when it must not
    be recorded (still running, not a background response, or recorded already)."""
    response_id = body.get("id")
    if not isinstance(response_id, str) or body.get("status") not in FINISHED or not body.get("usage"):
        return None
    key = (id(ledger), response_id)
    with _lock:
        if key in _recorded:
            return None
        ours = key in _waiting
    if not ours and not (body.get("background") and _queued_elsewhere(ledger, response_id)):
        return None  # a plain response retrieved again: its own request was recorded
    with _lock:
        if key in _recorded:
            return None
        _recorded.add(key)
        _waiting.discard(key)
    if _recorded_elsewhere(ledger, response_id):  # another process sharing the ledger retrieved it first
        return None
    return RETRIEVED_NOTE.format(id=response_id)


def _queued_elsewhere(ledger: Any, response_id: str) -> bool:
    return bool(ledger.query("SELECT 1 FROM calls WHERE note LIKE ? LIMIT 1", (f"%{QUEUED_NOTE.format(id=response_id)}%",)))


def _recorded_elsewhere(ledger: Any, response_id: str) -> bool:
    return bool(ledger.query("SELECT 1 FROM calls WHERE note LIKE ? LIMIT 1", (f"%{RETRIEVED_NOTE.format(id=response_id)}%",)))
