"""Plugins: routers, compressors, cache stores and price sources added by name, like simonw/llm's hooks.

A plugin is a module (or object) with functions marked ``@hookimpl``, found through the ``llmcost_magic``
entry-point group of installed packages (pyproject.toml)::

    [project.entry-points.llmcost_magic]
    shortest = "my_package.plugin"

    # my_package/plugin.py
    from llmcost_magic.plugins import hookimpl

    @hookimpl
    def register_routers(register):
        register("shortest", ShortestRouter)       # a factory: ShortestRouter() has decide(call, tiers)

Then ``%%llmcost --route shortest`` uses it. In a notebook, without packaging, :func:`register_router` (and
:func:`register_compressor`, :func:`register_cache_store`, :func:`register_price_source`) do the same.

A plugin that fails (it cannot be imported, a hook raises, it registers something of the wrong type or a
name taken) is left out with a warning naming it and the fix; the other plugins load. :func:`plugin_errors`
lists the failures. pluggy (pytest's plugin library) checks each hook's signature against its spec.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

import pluggy

from .core.errors import LLMCostError
from .core.messages import tr

__all__ = ["GROUP", "PluginError", "hookimpl", "register_router", "register_compressor", "register_cache_store",
           "register_price_source", "routers", "compressors", "cache_stores", "price_sources", "plugin_errors",
           "reload_plugins"]

GROUP = "llmcost_magic"
hookspec = pluggy.HookspecMarker(GROUP)
hookimpl = pluggy.HookimplMarker(GROUP)

# kind -> (hook name, what a registered value must be, for messages)
KINDS = {
    "router": ("register_routers", "a callable that returns a router (an object with decide(call, tiers))"),
    "compressor": ("register_compressors", "a callable that returns a compressor (an object with "
                                           "compress(text, *, rate, query, model))"),
    "cache store": ("register_cache_stores", "a callable that takes the store's URL and returns a cache store"),
    "price source": ("register_price_sources", "a callable that takes a model name and returns its prices "
                                               "({'input_mtok': .., 'output_mtok': .., ...}) or None"),
}
# Names the package itself answers to: a plugin cannot take them.
BUILT_IN = {
    "router": {"rules", "embedding", "classifier", "probe", "cascade", "cascade+probe"},
    "compressor": {"format", "selective", "fewshot", "rag", "llmlingua2", "llmlingua", "window", "budget"},
    "cache store": {"redis", "rediss", "unix", "file", "sqlite"},
    "price source": set(),
}


class Hookspecs:
    """The hooks a plugin may implement. Each receives ``register(name, factory)``."""

    @hookspec
    def register_routers(self, register: Callable[[str, Callable[[], Any]], None]) -> None:
        """Register routers: ``register("name", factory)``, ``factory()`` -> an object with ``decide(call, tiers)``
        returning a ``Decision`` (see policies/routing.py). Used by ``--route name``."""

    @hookspec
    def register_compressors(self, register: Callable[[str, Callable[[], Any]], None]) -> None:
        """Register text compressors: ``factory()`` -> an object with ``compress(text, *, rate, query, model)``
        returning a ``Compressed`` or the shorter text. Used by ``--compress name[:RATE]``."""

    @hookspec
    def register_cache_stores(self, register: Callable[[str, Callable[[str], Any]], None]) -> None:
        """Register cache stores by URL scheme: ``factory(url)`` -> a ``CacheStore`` (stores/base.py), used by
        ``use_cache_store("scheme://...")``."""

    @hookspec
    def register_price_sources(self, register: Callable[[str, Callable[[str], Any]], None]) -> None:
        """Register price sources: ``source(model)`` -> a price entry in dollars per million tokens
        (``input_mtok``, ``output_mtok``, optional ``cache_read_mtok``...) or None. Asked for models the
        user's overrides and the bundled prices do not know."""


class PluginError(LLMCostError):
    """A plugin could not be loaded or used; the message names the plugin and the fix."""


class _Registry:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.loaded = False
        self.entries: dict[str, dict[str, tuple[Any, str]]] = {kind: {} for kind in KINDS}  # kind -> name -> (value, plugin)
        self.errors: dict[str, str] = {}
        self.session: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}  # registered in this session


_registry = _Registry()
_listeners: list[Callable[[], None]] = []


def when_changed(callback: Callable[[], None]) -> None:
    """Call ``callback()`` whenever what is registered changes (pricing forgets the prices it resolved)."""
    _listeners.append(callback)


def _changed() -> None:
    for callback in _listeners:
        callback()


def _fail(plugin: str, message: str) -> None:
    _registry.errors[plugin] = message
    warnings.warn(tr("llmcost_magic plugin {plugin!r} was left out: {message}", plugin=plugin, message=message), RuntimeWarning,
                  stacklevel=3)


def _check(kind: str, name: Any, value: Any, plugin: str) -> str:
    """The name to register ``value`` under, or PluginError saying what is wrong and the fix."""
    what = KINDS[kind][1]
    if not isinstance(name, str) or not name.strip():
        raise PluginError(f"plugin {plugin!r} registered a {kind} under {name!r}: the name must be a non-empty string")
    name = name.strip().lower()
    if not callable(value):
        raise PluginError(f"plugin {plugin!r} registered {kind} {name!r} as a {type(value).__name__}; it must be {what}")
    if name in BUILT_IN[kind]:
        raise PluginError(f"plugin {plugin!r} registered {kind} {name!r}, a built-in name: choose another name")
    return name


def _load_entry_points() -> None:
    """Import every plugin of the entry-point group once, each on its own: one that fails leaves the others."""
    manager = pluggy.PluginManager(GROUP)
    manager.add_hookspecs(Hookspecs)
    hooks = {hook for hook, _ in KINDS.values()}
    for ep in entry_points(group=GROUP):
        source = f"{ep.dist.name if ep.dist else 'an installed package'} (entry point {ep.name} = {ep.value})"
        try:
            plugin = ep.load()
        except Exception as exc:  # noqa: BLE001 - any failure of a third party's import leaves that plugin out
            _fail(ep.name, f"it cannot be imported ({type(exc).__name__}: {exc}). Fix: reinstall or upgrade "
                           f"{source}, or uninstall it")
            continue
        try:
            manager.register(plugin, name=ep.name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            _fail(ep.name, f"{exc}. Fix: give its hooks the signatures of llmcost_magic.plugins.Hookspecs")
            continue
        unknown = [n for n in dir(plugin) if manager.parse_hookimpl_opts(plugin, n) is not None and n not in hooks]
        if unknown:
            manager.unregister(plugin)
            _fail(ep.name, f"it implements unknown hooks {unknown}. Fix: use {sorted(hooks)}")
    for kind, (hook, _) in KINDS.items():
        for impl in getattr(manager.hook, hook).get_hookimpls():
            if impl.plugin_name in _registry.errors:
                continue
            staged: dict[str, Any] = {}

            def register(name: str, value: Any, *, _kind: str = kind, _plugin: str = impl.plugin_name,
                         _staged: dict[str, Any] = staged) -> None:
                name = _check(_kind, name, value, _plugin)
                taken = _registry.entries[_kind].get(name)
                if name in _staged or taken is not None:
                    raise PluginError(f"plugin {_plugin!r} registered {_kind} {name!r}, already registered by "
                                      f"plugin {taken[1] if taken else _plugin!r}: uninstall one of them")
                _staged[name] = value

            try:
                impl.function(register=register)
            except Exception as exc:  # noqa: BLE001 - a hook that fails leaves that plugin's entries out
                _fail(impl.plugin_name, f"its {hook} hook failed ({type(exc).__name__}: {exc}). Fix: upgrade or "
                                        f"uninstall the package that provides it")
                continue
            for name, value in staged.items():
                _registry.entries[kind][name] = (value, impl.plugin_name)


def _ensure_loaded() -> None:
    with _registry.lock:
        if not _registry.loaded:
            _registry.loaded = True
            _load_entry_points()


def _entries(kind: str) -> dict[str, tuple[Any, str]]:
    _ensure_loaded()
    with _registry.lock:
        return {**_registry.entries[kind], **{n: (v, "(this session)") for n, v in _registry.session[kind].items()}}


def _register(kind: str, name: str, value: Any) -> None:
    name = _check(kind, name, value, "(this session)")
    with _registry.lock:
        _registry.session[kind][name] = value
    _changed()


def register_router(name: str, factory: Callable[[], Any]) -> None:
    """Use ``factory()`` (an object with ``decide(call, tiers)``) for ``--route name`` in this session."""
    _register("router", name, factory)


def register_compressor(name: str, factory: Callable[[], Any]) -> None:
    """Use ``factory()`` (an object with ``compress(text, *, rate, query, model)``) for ``--compress name``."""
    _register("compressor", name, factory)


def register_cache_store(scheme: str, factory: Callable[[str], Any]) -> None:
    """Open ``use_cache_store("scheme://...")`` with ``factory(url)``."""
    _register("cache store", scheme, factory)


def register_price_source(name: str, source: Callable[[str], Any]) -> None:
    """Ask ``source(model)`` for the prices of models the overrides and the bundled prices lack."""
    _register("price source", name, source)


def routers() -> dict[str, tuple[Callable[[], Any], str]]:
    """Plugin routers: name -> (factory, plugin that registered it)."""
    return _entries("router")


def compressors() -> dict[str, tuple[Callable[[], Any], str]]:
    """Plugin compressors: name -> (factory, plugin)."""
    return _entries("compressor")


def cache_stores() -> dict[str, tuple[Callable[[str], Any], str]]:
    """Plugin cache stores: URL scheme -> (factory, plugin)."""
    return _entries("cache store")


def price_sources() -> dict[str, tuple[Callable[[str], Any], str]]:
    """Plugin price sources: name -> (source, plugin), in registration order."""
    return _entries("price source")


def plugin_errors() -> dict[str, str]:
    """Plugins left out: entry-point name -> what went wrong and the fix."""
    _ensure_loaded()
    return dict(_registry.errors)


def left_out_note() -> str:
    """For an unknown-name error: the plugins that failed to load (the name may have been theirs)."""
    errors = plugin_errors()
    return f" (plugins left out: {'; '.join(f'{p}: {m}' for p, m in errors.items())})" if errors else ""


def reload_plugins(*, forget_session: bool = False) -> None:
    """Load the entry points again (after installing a plugin in a running kernel)."""
    with _registry.lock:
        _registry.loaded = False
        _registry.entries = {kind: {} for kind in KINDS}
        _registry.errors = {}
        if forget_session:
            _registry.session = {kind: {} for kind in KINDS}
    _changed()
