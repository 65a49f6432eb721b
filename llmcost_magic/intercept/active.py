"""The registry of active meters: which meter a request starting now belongs to.

The seam asks :func:`active_meter` once per request. A ``with meter()`` block is found through a
context variable (so asyncio tasks inherit it); a metered cell is a process-wide scope, so calls
made from threads the cell started count for the cell too. The meter itself (``metering.Meter``)
enters and leaves scopes here; this module imports nothing else from the package, so the seam, the
pipeline and the batch helpers can ask for the active meter without importing the meter.
"""

from __future__ import annotations

import contextvars
import threading
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..metering import Meter

__all__ = ["active_meter", "default_user", "enter_scope", "leave_scope", "set_cell_meter"]

_scoped: contextvars.ContextVar[Meter | None] = contextvars.ContextVar("llmcost_meter", default=None)
_cell_meter: Meter | None = None
# ``with meter()`` blocks entered on the main thread, innermost last: the fallback for other threads,
# which do not inherit context variables (so calls from a thread pool inside the block count too).
_main_thread_scopes: list[Meter] = []
# Stragglers: asyncio tasks a metered cell created (they copy this variable) and threads it started that were
# still running when it ended keep counting for that cell (rows marked late), never silently free.
_cell_context: contextvars.ContextVar[Meter | None] = contextvars.ContextVar("llmcost_cell", default=None)
_threads_at_start: set[threading.Thread] = set()
_late_threads: dict[int, tuple[weakref.ref[threading.Thread], Meter]] = {}
_threads_at_enter: dict[int, set[threading.Thread]] = {}  # id(meter) -> threads alive when its block was entered


def default_user() -> str:
    """$LLMCOST_USER, else the login name: who the ledger and per-user budgets attribute calls to."""
    import getpass
    import os

    return os.environ.get("LLMCOST_USER") or getpass.getuser()


def active_meter() -> Meter | None:
    """The meter a request starting now belongs to, or None (then the seam does nothing)."""
    # A task keeps the cell it was created in (its copy of _cell_context), even while a later cell runs. A thread
    # cannot tell whose work it runs (a pool made in one cell serves the next ones): the running scope wins, and
    # only with none does a thread started by an ended cell or block count for it.
    found = _scoped.get() or _cell_context.get() or _cell_meter or (_main_thread_scopes[-1] if _main_thread_scopes else None)
    if found is None and _late_threads:
        found = _late_thread_meter()
    return found


def _late_thread_meter() -> Meter | None:
    entry = _late_threads.get(threading.get_ident())
    return entry[1] if entry is not None and entry[0]() is threading.current_thread() else None


def enter_scope(m: Meter) -> contextvars.Token[Meter | None]:
    """Make ``m`` the active meter of this context (and of other threads, when entered on the main thread)."""
    token = _scoped.set(m)
    if threading.current_thread() is threading.main_thread():
        _main_thread_scopes.append(m)
        _threads_at_enter[id(m)] = set(threading.enumerate())
    return token


def leave_scope(m: Meter, token: contextvars.Token[Meter | None]) -> None:
    """Undo :func:`enter_scope`; threads the block started that still run keep counting for ``m`` (late)."""
    _scoped.reset(token)
    if m in _main_thread_scopes:
        _main_thread_scopes.remove(m)
        _remember_stragglers(m, _threads_at_enter.pop(id(m), set()))


def _remember_stragglers(m: Meter, threads_at_start: set[threading.Thread]) -> None:
    """Threads started since ``threads_at_start`` and still alive count for ``m`` when no scope is active."""
    for ident, (ref, _) in list(_late_threads.items()):
        if ref() is None or not ref().is_alive():  # type: ignore[union-attr]
            del _late_threads[ident]
    for thread in threading.enumerate():
        if thread not in threads_at_start and thread.ident is not None and thread is not threading.current_thread():
            _late_threads[thread.ident] = (weakref.ref(thread), m)


def set_cell_meter(m: Meter | None) -> None:
    """Open (``m``) or close (None) the process-wide scope of a metered cell."""
    global _cell_meter, _threads_at_start
    ended, _cell_meter = _cell_meter, m
    if m is not None:
        _threads_at_start = set(threading.enumerate())
        _cell_context.set(m)
        return
    _cell_context.set(None)
    if ended is not None:
        _remember_stragglers(ended, _threads_at_start)
