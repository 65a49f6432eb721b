"""Price entries in dollars per million tokens (an override file's, a plugin price source's) -> ModelPrices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import plugins
from .rates import ModelPrices, Rates
from .tokens import provider_for_model

_PER_MTOK = 1e-6
_PRICE_KEYS = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok", "cache_write_1h_mtok")


class PriceFileError(ValueError):
    """A price override file that cannot be used; the message names the entry and the fix."""


def price_entry(name: str, entry: Any, source: str) -> ModelPrices:
    """A price entry in dollars per million tokens (an override file's or a price source's) as ModelPrices."""
    if not isinstance(entry, Mapping):
        raise PriceFileError(f"{source}: model {name!r} must map price keys to numbers, got {entry!r}")
    unknown = set(entry) - set(_PRICE_KEYS) - {"provider"}
    if unknown:
        raise PriceFileError(f"{source}: model {name!r} has unknown keys {sorted(unknown)}; allowed: {list(_PRICE_KEYS)}")
    for key in ("input_mtok", "output_mtok"):
        if key not in entry:
            raise PriceFileError(f"{source}: model {name!r} needs {key} (dollars per million tokens)")
    values = {}
    for key in _PRICE_KEYS:
        if key in entry:
            try:
                values[key] = float(entry[key])
            except (TypeError, ValueError):
                raise PriceFileError(f"{source}: {name}.{key} must be a number, got {entry[key]!r}") from None
            if values[key] < 0:
                raise PriceFileError(f"{source}: {name}.{key} must be >= 0, got {values[key]}")
    inp = values["input_mtok"]
    write = values.get("cache_write_mtok", inp)
    rates = Rates(inp, values["output_mtok"], values.get("cache_read_mtok", inp), write,
                  values.get("cache_write_1h_mtok", write)).scaled(_PER_MTOK)
    return ModelPrices(name, str(entry.get("provider", provider_for_model(name))), rates, source=source)


def from_price_sources(model: str, batch: bool) -> ModelPrices | None:
    """The first plugin price source that knows ``model`` (asked only for models nothing else prices)."""
    for name, (source, plugin) in plugins.price_sources().items():
        try:
            entry = source(model)
        except Exception as exc:
            raise PriceFileError(f"price source {name!r} of plugin {plugin!r} failed for {model}: "
                                 f"{type(exc).__name__}: {exc}. Fix or uninstall the plugin") from exc
        if entry is not None:
            prices = price_entry(model, entry, f"price source {name} (plugin {plugin})")
            return prices.as_batch() if batch else prices
    return None
