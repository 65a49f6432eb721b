"""Realtime (WebSocket) sessions do not pass the httpx seam, so they are not metered: say so, once,
when one starts inside a meter (instead of letting the meter show $0 for it)."""

from __future__ import annotations

import functools
import warnings
from types import ModuleType
from typing import Any

from .active import active_meter
from ..core.messages import tr

MODULES = ("openai.resources.realtime.realtime", "openai.resources.beta.realtime.realtime")
WARNING = ("llmcost_magic: OpenAI Realtime (WebSocket) sessions are not metered (they bypass httpx); "
           "their cost is missing from this meter and the ledger.")
_originals: dict[tuple[str, str, str], Any] = {}
_warned = False


def _warn_once() -> None:
    global _warned
    if not _warned and active_meter() is not None:
        _warned = True
        warnings.warn(tr(WARNING), RuntimeWarning, stacklevel=3)


def patch(module: ModuleType) -> None:
    """Wrap the connection managers' enter methods of one realtime module. Idempotent."""
    for cls_name, method in (("RealtimeConnectionManager", "__enter__"), ("AsyncRealtimeConnectionManager", "__aenter__")):
        cls = getattr(module, cls_name, None)
        key = (module.__name__, cls_name, method)
        if cls is None or key in _originals:
            continue
        original = getattr(cls, method)
        if method == "__enter__":
            @functools.wraps(original)
            def enter(self: Any, _original: Any = original) -> Any:
                _warn_once()
                return _original(self)
        else:
            @functools.wraps(original)
            async def enter(self: Any, _original: Any = original) -> Any:  # type: ignore[misc]
                _warn_once()
                return await _original(self)
        _originals[key] = original
        setattr(cls, method, enter)


def unpatch(modules: dict[str, ModuleType]) -> None:
    for (module_name, cls_name, method), original in list(_originals.items()):
        if module_name in modules:
            setattr(getattr(modules[module_name], cls_name), method, original)
        del _originals[(module_name, cls_name, method)]
