"""Responses handed to the user and not read to their end yet, so that none goes unrecorded.

A response is recorded when its body ends; one the user never reads (or leaves with ``break``) is
recorded as ``closed`` when its meter ends, when its client closes, or at interpreter exit,
whichever comes first. Each entry is a finisher: calling it with an outcome records the call once.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable
from typing import Any

# dict set, pop and list(values()) are each atomic under the GIL: no lock on the hot path.
# id(finisher) -> (finisher, meter, owning client id)
_open: dict[int, tuple[Callable[[str], None], Any, int]] = {}


def opened(finisher: Callable[[str], None], meter: Any, owner: int) -> None:
    _open[id(finisher)] = (finisher, meter, owner)


def ended(finisher: Callable[[str], None]) -> bool:
    """True for exactly one caller: the one that records the response (two threads may race to)."""
    return _open.pop(id(finisher), None) is not None


def close_where(*, meter: Any = None, owner: int | None = None) -> None:
    """Record as ``closed`` every open response of ``meter`` or of client ``owner`` (all when neither)."""
    chosen = [f for f, m, o in list(_open.values())
              if (meter is None or m is meter) and (owner is None or o == owner)]
    for finisher in chosen:
        finisher("closed")


atexit.register(close_where)
