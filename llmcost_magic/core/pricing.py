"""Prices: usage -> dollars, from genai-prices' bundled snapshot plus user overrides.

Resolving a model in genai-prices costs ~80 µs, so each (model, batch, service tier, speed) is resolved
once into a :class:`~llmcost_magic.core.rates.ModelPrices` of plain floats (genai-prices' variants, then our
dated table ``data/extra_prices.yaml`` for what it lacks); pricing a call afterwards is a few
multiplications. Overrides apply to dated snapshots and fine-tunes of the name they give.

>>> estimate_cost("gpt-4o-mini", input_tokens=1_000_000, output_tokens=0)
0.15
"""

from __future__ import annotations

import difflib
import functools
import re
import threading
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from .. import plugins
from .config_files import read_table
from .price_entries import _PER_MTOK, _PRICE_KEYS, PriceFileError, from_price_sources, price_entry
from .messages import tr
from .rates import ModelPrices, Rates
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
    "invalidate_prices",
]

# genai-prices' price keys for what is billed besides text tokens -> (our unit, dollars per unit factor).
_UNIT_KEYS = {
    "input_audio_mtok": ("audio_input_tokens", _PER_MTOK),
    "output_audio_mtok": ("audio_output_tokens", _PER_MTOK),
    "input_image_mtok": ("image_input_tokens", _PER_MTOK),
    "output_image_mtok": ("image_output_tokens", _PER_MTOK),
    "input_mchars": ("characters", _PER_MTOK),
    "audio_hours": ("audio_seconds", 1 / 3600),
    "input_audio_hours": ("audio_seconds", 1 / 3600),
    "web_searches_kcount": ("web_search", 1e-3),
    "storage_searches_kcount": ("file_search", 1e-3),
    "code_executions_kcount": ("code_execution", 1e-3),
}
# Service tiers that are the standard price (OpenAI echoes "default"; Anthropic "standard").
_STANDARD_TIERS = frozenset({"", "default", "auto", "standard"})


class UnknownModelError(LookupError):
    """A model with no price; the message names the closest known models and how to add one."""


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


def _matches(patterns: Iterable[str], *names: str) -> bool:
    return any(n == p or (p.endswith("*") and n.startswith(p[:-1])) for p in patterns for n in names if n)


@functools.cache
def _extra_table() -> dict[str, Any]:
    """data/extra_prices.yaml: dated, sourced figures genai-prices lacks."""
    import yaml

    text = resources.files("llmcost_magic").joinpath("data", "extra_prices.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _extra_units(provider: str, *names: str, have: Mapping[str, float]) -> tuple[dict[str, float], bool]:
    """Units from our own table for what ``have`` lacks; and whether any was used."""
    table, units = _extra_table(), {}
    for entry in table.get("models") or ():
        if _matches(entry["match"], *names):
            for key, (unit, factor) in _UNIT_KEYS.items():
                if key in entry and unit not in have and unit not in units:
                    units[unit] = float(entry[key]) * factor
    for entry in table.get("tools") or ():
        if entry["provider"] == provider and (not entry.get("match") or _matches(entry["match"], *names)):
            if entry["kind"] not in have and entry["kind"] not in units:
                units[entry["kind"]] = float(entry["usd_per_call"])
    return units, bool(units)


def _units_from(mp: Any) -> dict[str, float]:
    units: dict[str, float] = {}
    for key, (unit, factor) in _UNIT_KEYS.items():
        value = getattr(mp, key, None)
        if value is not None and unit not in units:
            units[unit] = float(getattr(value, "base", value)) * factor
    return units


def genai_source() -> str:
    """The genai-prices data in use: the bundled version, or the time of the last update."""
    from genai_prices import __version__, data_snapshot

    snapshot = data_snapshot.get_snapshot()
    if snapshot.from_auto_update:
        return f"genai-prices {__version__} updated {snapshot.timestamp:%Y-%m-%dT%H:%M}"
    return f"genai-prices {__version__}"


def _find(model: str, vendor: str) -> tuple[Any, Any] | None:
    """genai-prices' (provider, model): at the vendor that served it, else by the model's name."""
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    for provider_id in dict.fromkeys((vendor or None, provider_for_model(model), None)):
        try:
            return snapshot.find_provider_model(model, None, provider_id, None)
        except LookupError:
            continue
    return None


def _from_genai(model: str, batch: bool, tier: str, speed: str, vendor: str, when: datetime) -> ModelPrices | None:
    found = _find(model, vendor)
    if found is None:
        return None
    provider, info = found
    standard = info.get_prices(when)
    context = {"processing": "batch"} if batch else {"service_tier": tier} if tier else {"speed": speed} if speed else None
    mp = info.get_prices(when, context) if context else standard
    missing = ""
    if context and mp == standard:
        if batch:  # no batch variant in the snapshot: apply the published 50% batch discount
            return _from_genai(model, False, "", "", vendor, when).as_batch()  # type: ignore[union-attr]
        missing = f"unpriced: {'service_tier=' + tier if tier else 'speed=' + speed} has no price for {info.id} (standard rates used)"
    starts = sorted({t.start for key in _PRICE_KEYS for t in getattr(getattr(mp, key, None), "tiers", ())})
    tiers = tuple((start, _rates_from(mp, i)) for i, start in enumerate(starts))
    units = _units_from(mp)
    extra, used = _extra_units(provider.id, model.lower(), info.id, have=units)
    source = genai_source() + (f" + extra_prices {_extra_date()}" if used else "")
    return ModelPrices(model, provider.id, _rates_from(mp, None), tiers, source, batch, {**units, **extra}, missing)


def _extra_date() -> str:
    return max(str(e.get("date", "")) for part in ("models", "tools") for e in _extra_table().get(part) or ())


_DATE_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$")


def base_names(model: str) -> list[str]:
    """Names a model answers to, most specific first: as given, without a vendor prefix, a dated
    snapshot's date, and for a fine-tune (``ft:BASE:org::id``) ``ft:BASE`` then ``ft:`` + the undated base.

    >>> base_names("ft:gpt-4.1-2025-04-14:acme::x1")
    ['ft:gpt-4.1-2025-04-14:acme::x1', 'ft:gpt-4.1-2025-04-14', 'ft:gpt-4.1']
    """
    name = model.strip().lower()
    names = [name]
    for prefix in ("openai/", "anthropic/", "models/"):
        if name.startswith(prefix):
            name = name.removeprefix(prefix)
            names.append(name)
    if name.startswith("ft:"):
        base = name[3:].split(":", 1)[0]
        names += [f"ft:{base}", f"ft:{_DATE_SUFFIX.sub('', base)}"]
    else:
        names.append(_DATE_SUFFIX.sub("", name))
    return list(dict.fromkeys(names))


def _override(model: str) -> ModelPrices | None:
    prices = _overrides.prices
    if not prices:
        return None
    found = prices.get(model)
    if found is None:
        lowered = {k.lower(): v for k, v in prices.items()}
        found = next((lowered[n] for n in base_names(model) if n in lowered), None)
    if found is not None and not found.units:
        extra, _ = _extra_units(found.provider, *base_names(model), have={})
        found = replace(found, units=extra)
    return found


# Resolved prices by (model, batch, tier, speed, vendor, which of the model's dated / hourly prices apply).
# A dict rather than functools.lru_cache: the moment a price is resolved for is not part of the key, only
# which of its prices that moment selects (any moment with the same selection resolves the same prices).
_resolved_prices: dict[tuple[Any, ...], ModelPrices | None] = {}
MAX_RESOLVED = 4096


def _resolved(model: str, batch: bool, tier: str = "", speed: str = "", vendor: str = "",
              at: float | None = None) -> ModelPrices | None:
    """``model``'s prices for a call made at ``at`` (epoch seconds; now when None)."""
    constraints, daily = _constraints(model, vendor)
    moment = 0.0
    if not constraints:
        key: tuple[Any, ...] = (model, batch, tier, speed, vendor)
    else:  # a price that changes from a date on, or by the hour: which ones apply then
        moment = time.time() if at is None else at
        if daily:  # dates only: the same prices all UTC day (no datetime, no checks on the call's path)
            key = (model, batch, tier, speed, vendor, int(moment // 86_400))
        else:
            when = datetime.fromtimestamp(moment, tz=timezone.utc)
            key = (model, batch, tier, speed, vendor, tuple(c.active(when) for c in constraints))
    try:
        return _resolved_prices[key]
    except KeyError:
        pass
    prices = _resolve(model, batch, tier, speed, vendor,
                      datetime.fromtimestamp(moment, tz=timezone.utc) if constraints else datetime.now(tz=timezone.utc))
    if len(_resolved_prices) >= MAX_RESOLVED:
        _resolved_prices.clear()
    _resolved_prices[key] = prices
    return prices


@functools.lru_cache(maxsize=4096)
def _constraints(model: str, vendor: str) -> tuple[tuple[Any, ...], bool]:
    """The date and time-of-day conditions of the genai-prices entry ``model`` resolves to (empty for most),
    and whether they are all dates (a price from a date on: constant over a UTC day)."""
    for name in base_names(model):
        found = _find(name, vendor)
        if found is not None:
            info = found[1]
            conditional = info.prices if isinstance(info.prices, list) else ()
            constraints = tuple(c.constraint for c in (*conditional, *(info.price_variants or ())) if c.constraint is not None)
            return constraints, all(not hasattr(c, "start_time") for c in constraints)
    return (), True


def _resolve(model: str, batch: bool, tier: str, speed: str, vendor: str, when: datetime) -> ModelPrices | None:
    override = _override(model)
    if override is not None:
        override = replace(override, model=model)
        if tier or speed:
            override = replace(override, missing=f"unpriced: {'service_tier=' + tier if tier else 'speed=' + speed} "
                                                 f"has no price in the override for {model} (its rates used)")
        return override.as_batch() if batch else override
    prices = _from_genai(model, batch, tier, speed, vendor, when)
    if prices is None and model.lower().startswith("ft:"):
        return from_price_sources(model, batch)  # a fine-tune is never priced as its base model
    if prices is None:
        for name in base_names(model)[1:]:  # a dated snapshot or prefixed name of a known model
            prices = _from_genai(name, batch, tier, speed, vendor, when)
            if prices is not None:
                return replace(prices, model=model)
    return prices if prices is not None else from_price_sources(model, batch)


def invalidate_prices() -> None:
    """Forget every resolved price (after an update or an override change); the next call resolves again."""
    _resolved_prices.clear()
    _constraints.cache_clear()
    _warned.clear()


plugins.when_changed(invalidate_prices)  # a price source registered later answers for models seen before

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


def _suggestions(model: str) -> list[str]:
    """Known models nearest to ``model``, compared without ft:, dates and vendor prefixes."""
    known = known_models()
    plain = {k: base_names(k)[-1].removeprefix("ft:") for k in known}
    target = base_names(model)[-1].removeprefix("ft:")
    if model.lower().startswith("ft:"):  # a fine-tune: its base model first, then other fine-tunes
        family = [k for k in known if k.startswith("ft:") and target.startswith(plain[k].rstrip("-."))]
        if family:
            return family[:3]
    close = difflib.get_close_matches(target, sorted(set(plain.values())), n=3, cutoff=0.5)
    return [next(k for k in known if plain[k] == c) if c not in known else c for c in close]


def _unknown(model: str) -> UnknownModelError:
    close = _suggestions(model)
    hint = tr(" Did you mean {models}?", models=", ".join(repr(c) for c in close)) if close else ""
    if model.lower().startswith("ft:"):
        hint += tr(" Fine-tunes are priced at their base model's fine-tuned rate, which the price data lacks for "
                   "{base!r}; add it under that name to a price file.", base=base_names(model)[-1])
    return UnknownModelError(tr(
        "No price known for model {model!r}.{hint} To price a custom or self-hosted model, add it to a price file "
        "(models: {{{name}: {{input_mtok: 0.5, output_mtok: 1.5}}}}) and load it with "
        "llmcost_magic.load_price_overrides(PATH) or %config LLMCost.price_file = PATH.", model=model, hint=hint, name=model))


def price_for(model: str, *, batch: bool = False, service_tier: str | None = None, speed: str | None = None,
              vendor: str = "", at: float | None = None) -> ModelPrices:
    """The resolved prices of ``model`` (at a service tier or speed, and at the vendor that served it, if
    given) for a call made at ``at`` (epoch seconds; now when None: some prices change from a date on, or by
    the hour); raises :class:`UnknownModelError` with suggestions."""
    tier = str(service_tier or "").lower()[:40]  # as the response said it, bounded
    tier = "" if tier in _STANDARD_TIERS else tier
    if tier == "batch":  # Anthropic reports batch results with service_tier "batch"
        batch, tier = True, ""
    fast = str(speed or "").lower()[:40]
    fast = "" if fast in ("standard", "normal") else fast
    prices = _resolved(model, batch, tier, fast, vendor, at)
    if prices is None:
        raise _unknown(model)
    return prices


_warned: set[str] = set()


def price_usage(model: str, usage: Usage, *, batch: bool = False, estimated: bool = False, vendor: str = "",
                at: float | None = None) -> Cost:
    """Dollars for ``usage`` on ``model`` (its details' service tier, speed and batch flag included) at
    ``vendor``'s prices in force at ``at`` (epoch seconds; now when None); an unknown model gives
    ``Cost(usd=None)`` and one warning."""
    details = usage.details
    try:
        if details:
            prices = price_for(model, batch=batch or bool(details.get("batch")), service_tier=details.get("service_tier"),
                               speed=details.get("speed"), vendor=vendor, at=at)
        else:  # the common case, straight to the resolved table
            prices = _resolved(model, batch, "", "", vendor, at) or price_for(model, batch=batch, vendor=vendor, at=at)
        return prices.cost(usage, estimated=estimated)
    except UnknownModelError as exc:
        if model not in _warned:
            _warned.add(model)
            warnings.warn(str(exc), stacklevel=2)
        return Cost(None, estimated=estimated, note=f"unpriced: no price for {model}")


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
    parsed = {str(name): price_entry(str(name), entry, source) for name, entry in models.items()}
    from .config_schemas import PriceFile, validated

    validated(PriceFile, data, source, PriceFileError)  # and what the checks above let through: nan, inf, bools
    with _lock:
        _overrides.prices.update(parsed)
        invalidate_prices()
    return list(parsed)


def clear_price_overrides(models: Iterable[str] | None = None) -> None:
    """Forget overrides (all, or the given models)."""
    with _lock:
        for m in list(models) if models is not None else list(_overrides.prices):
            _overrides.prices.pop(m, None)
        invalidate_prices()
