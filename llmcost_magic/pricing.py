"""Prices: usage -> dollars, from genai-prices' bundled snapshot plus user overrides.

Resolving a model in genai-prices costs ~80 µs, so each (model, batch) is resolved once into a
:class:`ModelPrices` of plain floats; pricing a call afterwards is a few multiplications.

>>> estimate_cost("gpt-4o-mini", input_tokens=1_000_000, output_tokens=0)
0.15
"""

from __future__ import annotations

import difflib
import functools
import threading
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .config_files import read_table
from .records import Cost, Usage
from .tokens import provider_for_model

__all__ = [
    "ModelPrices",
    "PriceFileError",
    "UnknownModelError",
    "estimate_cost",
    "load_price_overrides",
    "price_for",
    "price_usage",
    "known_models",
]

_PER_MTOK = 1e-6
_PRICE_KEYS = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok", "cache_write_1h_mtok")


class UnknownModelError(LookupError):
    """A model with no price; the message names the closest known models and how to add one."""


class PriceFileError(ValueError):
    """A price override file that cannot be used; the message names the entry and the fix."""


@dataclass(frozen=True, slots=True)
class Rates:
    """Dollars per token, one set for a range of prompt sizes."""

    input: float
    output: float
    cache_read: float
    cache_write: float
    cache_write_1h: float

    def scaled(self, factor: float) -> Rates:
        return Rates(*(x * factor for x in (self.input, self.output, self.cache_read, self.cache_write, self.cache_write_1h)))


@dataclass(frozen=True, slots=True)
class ModelPrices:
    """A model's resolved prices. ``tiers`` are (min input tokens, Rates), a cliff: the whole
    call is priced at the tier its total input reaches (long-context pricing)."""

    model: str
    provider: str
    rates: Rates
    tiers: tuple[tuple[int, Rates], ...] = ()
    source: str = "genai-prices"
    batch: bool = False

    def rates_for(self, input_tokens: int) -> Rates:
        chosen = self.rates
        for start, rates in self.tiers:
            if input_tokens > start:
                chosen = rates
        return chosen

    def as_batch(self) -> ModelPrices:
        """These prices at the 50% discount both providers publish for batch work."""
        return ModelPrices(self.model, self.provider, self.rates.scaled(0.5),
                           tuple((s, r.scaled(0.5)) for s, r in self.tiers), self.source, batch=True)

    def cost(self, usage: Usage, *, estimated: bool = False) -> Cost:
        r = self.rates_for(usage.input_tokens)
        write_5m = max(usage.cache_write_tokens - usage.cache_write_1h_tokens, 0)
        input_usd = (
            usage.uncached_input_tokens * r.input
            + usage.cached_input_tokens * r.cache_read
            + write_5m * r.cache_write
            + usage.cache_write_1h_tokens * r.cache_write_1h
        )
        output_usd = usage.output_tokens * r.output
        return Cost(input_usd + output_usd, input_usd, output_usd, estimated)


@dataclass
class _Overrides:
    prices: dict[str, ModelPrices] = field(default_factory=dict)


_overrides = _Overrides()
_lock = threading.Lock()


def _rates_from(mp: Any, tier_index: int | None) -> Rates:
    """Rates from a genai-prices ModelPrice, at the base (None) or at a tier's index."""

    def pick(key: str, fallback: float | None = None) -> float:
        value = getattr(mp, key, None)
        if value is None:
            return fallback if fallback is not None else 0.0
        if hasattr(value, "tiers"):
            value = value.base if tier_index is None else value.tiers[min(tier_index, len(value.tiers) - 1)].price
        return float(value) * _PER_MTOK

    inp = pick("input_mtok")
    # A model with no cache prices bills cached and written tokens as plain input.
    write = pick("cache_write_mtok", inp)
    return Rates(inp, pick("output_mtok"), pick("cache_read_mtok", inp), write, pick("cache_write_1h_mtok", write))


def _from_genai(model: str, batch: bool) -> ModelPrices | None:
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    provider_id = provider_for_model(model)
    try:
        provider, info = snapshot.find_provider_model(model, None, provider_id, None)
    except LookupError:
        try:
            provider, info = snapshot.find_provider_model(model, None, None, None)
        except LookupError:
            return None
    now = datetime.now(tz=timezone.utc)
    mp = info.get_prices(now, {"processing": "batch"} if batch else None)
    if batch and mp == info.get_prices(now):
        # No batch variant in the snapshot: apply the published 50% batch discount.
        return _from_genai(model, False).as_batch()  # type: ignore[union-attr]
    starts = sorted({t.start for key in _PRICE_KEYS for t in getattr(getattr(mp, key, None), "tiers", ())})
    tiers = tuple((start, _rates_from(mp, i)) for i, start in enumerate(starts))
    return ModelPrices(model, provider.id, _rates_from(mp, None), tiers, "genai-prices", batch)


@functools.lru_cache(maxsize=1024)
def _resolved(model: str, batch: bool) -> ModelPrices | None:
    return _from_genai(model, batch)


def known_models(provider: str | None = None) -> list[str]:
    """Model ids in the price database (and overrides), optionally for one provider."""
    from genai_prices import data_snapshot

    ids = [
        m.id
        for p in data_snapshot.get_snapshot().providers
        if (provider is None and p.id in ("openai", "anthropic")) or p.id == provider
        for m in p.models
    ]
    return sorted(set(ids) | set(_overrides.prices))


def _unknown(model: str) -> UnknownModelError:
    close = difflib.get_close_matches(model.lower(), known_models(), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return UnknownModelError(
        f"No price known for model {model!r}.{hint} To price a custom or self-hosted model, add it to a "
        f"price file (models: {{{model}: {{input_mtok: 0.5, output_mtok: 1.5}}}}) and load it with "
        f"llmcost_magic.load_price_overrides(PATH) or %config LLMCost.price_file = PATH."
    )


def price_for(model: str, *, batch: bool = False) -> ModelPrices:
    """The resolved prices of ``model``; raises :class:`UnknownModelError` with suggestions."""
    override = _overrides.prices.get(model) or _overrides.prices.get(model.lower())
    if override is not None:
        return override.as_batch() if batch else override
    prices = _resolved(model, batch)
    if prices is None:
        raise _unknown(model)
    return prices


_warned: set[str] = set()


def price_usage(model: str, usage: Usage, *, batch: bool = False, estimated: bool = False) -> Cost:
    """Dollars for ``usage`` on ``model``; an unknown model gives ``Cost(usd=None)`` and one warning."""
    try:
        return price_for(model, batch=batch).cost(usage, estimated=estimated)
    except UnknownModelError as exc:
        if model not in _warned:
            _warned.add(model)
            warnings.warn(str(exc), stacklevel=2)
        return Cost(None, estimated=estimated)


def estimate_cost(
    model: str,
    input_tokens: int,
    output_tokens: int,
    cached_input_tokens: int = 0,
    cache_write_tokens: int = 0,
    batch: bool = False,
) -> float:
    """Dollars for the given token counts on ``model`` (``input_tokens`` includes cached ones).

    >>> round(estimate_cost("gpt-4o", 1000, 500), 6)
    0.0075
    """
    for name, value in (("input_tokens", input_tokens), ("output_tokens", output_tokens),
                        ("cached_input_tokens", cached_input_tokens), ("cache_write_tokens", cache_write_tokens)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    if cached_input_tokens + cache_write_tokens > input_tokens:
        raise ValueError("input_tokens counts all input: it must be >= cached_input_tokens + cache_write_tokens")
    usage = Usage(input_tokens, cached_input_tokens, cache_write_tokens, 0, output_tokens)
    return price_for(model, batch=batch).cost(usage).usd  # type: ignore[return-value]


def _override_entry(name: str, entry: Any, source: str) -> ModelPrices:
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


def load_price_overrides(path: str | Path | Mapping[str, Any]) -> list[str]:
    """Add or replace model prices from a TOML/YAML file (or a dict); returns the models loaded.

    The file holds ``models: {NAME: {input_mtok: .., output_mtok: .., cache_read_mtok: ..}}``
    in dollars per million tokens.
    """
    if isinstance(path, Mapping):
        data, source = path, "overrides"
    else:
        data, source = read_table(path, PriceFileError, "Price file"), str(path)
    models = data.get("models") if isinstance(data, Mapping) else None
    if not isinstance(models, Mapping):
        raise PriceFileError(f"{source}: expected a top-level 'models' table mapping model names to prices")
    parsed = {str(name): _override_entry(str(name), entry, source) for name, entry in models.items()}
    from .config_schemas import PriceFile, validated

    validated(PriceFile, data, source, PriceFileError)  # and what the checks above let through: nan, inf, bools
    with _lock:
        _overrides.prices.update(parsed)
        _warned.difference_update(parsed)
    return list(parsed)


def clear_price_overrides(models: Iterable[str] | None = None) -> None:
    """Forget overrides (all, or the given models)."""
    with _lock:
        for m in list(models) if models is not None else list(_overrides.prices):
            _overrides.prices.pop(m, None)
