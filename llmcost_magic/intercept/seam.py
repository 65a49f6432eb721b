"""The seam: every httpx / httpx2 client picks its transport through ``_transport_for_url``.

Wrapping that method on the client classes covers clients created before the extension loaded,
clients with custom transports or base URLs, and any library built on either module. The wrap is
a no-op (one function call and a context-variable read) when no meter is active.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from .active import active_meter
from . import open_calls, realtime
from .pipeline import route_for
from .transports import wrappers_for

MODULES = ("httpx2", "httpx")
# Hosts a dry run keeps away from: everything sent there goes to the sandbox instead.
PROVIDER_HOSTS = ("api.openai.com", "api.anthropic.com")
_originals: dict[tuple[str, str], Any] = {}


def _dry_run_transport(module_name: str, is_async: bool) -> Any:
    from ..sandbox import sandbox_transport

    return sandbox_transport(module_name, is_async)


def _patch(module: ModuleType) -> None:
    sync_wrapper, async_wrapper = wrappers_for(module)
    for cls_name, wrapper in (("Client", sync_wrapper), ("AsyncClient", async_wrapper)):
        cls = getattr(module, cls_name)
        key = (module.__name__, cls_name)
        if key in _originals:
            continue
        original = cls._transport_for_url

        def _transport_for_url(self: Any, url: Any, _original: Any = original, _wrapper: type = wrapper,
                               _module: str = module.__name__, _async: bool = cls_name == "AsyncClient") -> Any:
            transport = _original(self, url)
            meter = active_meter()
            if meter is None:
                return transport
            route = route_for(url.path)
            if meter.dry_run and (route is not None or url.host in PROVIDER_HOSTS):
                transport = _dry_run_transport(_module, _async)
            return _wrapper(transport, meter, route, id(self)) if route is not None else transport

        _originals[key] = original
        cls._transport_for_url = _transport_for_url
        _patch_close(module.__name__, cls, cls_name == "AsyncClient")


def _patch_close(module_name: str, cls: type, is_async: bool) -> None:
    """Closing a client records the responses it handed out and nobody read (status ``closed``)."""
    name = "aclose" if is_async else "close"
    original = getattr(cls, name)
    if is_async:
        async def close(self: Any, _original: Any = original) -> None:
            open_calls.close_where(owner=id(self))
            await _original(self)
    else:
        def close(self: Any, _original: Any = original) -> None:  # type: ignore[misc]
            open_calls.close_where(owner=id(self))
            _original(self)
    _originals[(module_name, f"{cls.__name__}.{name}")] = original
    setattr(cls, name, close)


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Patches httpx / httpx2 the moment they are imported, so ``%load_ext`` need not import them."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if fullname not in MODULES and fullname not in realtime.MODULES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        loader = spec.loader
        original_exec = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            original_exec(module)
            (realtime.patch if fullname in realtime.MODULES else _patch)(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


_finder = _PatchOnImport()


def install() -> None:
    """Patch the httpx-style modules already imported, and any imported later. Idempotent."""
    for name in MODULES:
        if name in sys.modules:
            _patch(sys.modules[name])
    for name in realtime.MODULES:
        if name in sys.modules:
            realtime.patch(sys.modules[name])
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


def uninstall() -> None:
    """Restore every patched method and stop patching on import."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for (module_name, name), original in list(_originals.items()):
        cls_name, _, method = name.partition(".")
        setattr(getattr(sys.modules[module_name], cls_name), method or "_transport_for_url", original)
        del _originals[(module_name, name)]
    realtime.unpatch(sys.modules)  # type: ignore[arg-type]


def is_installed() -> bool:
    return bool(_originals) or _finder in sys.meta_path
