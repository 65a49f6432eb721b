"""What-if re-pricing: what recorded usage would have cost under alternatives, calling nothing.

Each scenario re-prices every recorded call (its tokens as recorded) and shows the price components it
used. Assumptions, stated in the ``assumes`` column: another model is priced on the same token counts
(tokenizers differ: a Claude model counts ~10-20% more than o200k for the same text); prompt caching at
hit rate h bills h of each call's input at the cached-read rate (plus, for Anthropic models, the rest at
the 5-minute cache-write rate); compression to ratio r keeps r of the input tokens; a response-cache hit
rate c serves c of the calls for $0. Calls that cannot be priced are counted, never priced at $0.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..core.pricing import UnknownModelError, price_for
from ..core.records import Cost, Usage
from ..core.tokens import provider_for_model
from ..core.messages import label, tr

_COMPONENTS = ("input_usd", "cached_read_usd", "cache_write_usd", "output_usd", "tool_fees_usd")


def usage_from_row(row: Any) -> Usage:
    """The billed usage a ledger row recorded (tokens, 5m/1h writes, tool calls, tier, modality counts)."""
    details: dict[str, Any] = {}
    extra = getattr(row, "usage_details", "")
    if isinstance(extra, str) and extra:
        details.update(json.loads(extra))
    tools = getattr(row, "tool_calls", "")
    if isinstance(tools, str) and tools:
        details["tool_calls"] = json.loads(tools)
    tier = getattr(row, "service_tier", "")
    if isinstance(tier, str) and tier:
        details["service_tier"] = tier
    return Usage(int(row.input_tokens), int(row.cached_input_tokens), int(row.cache_write_tokens),
                 _count(row, "cache_write_1h_tokens"), int(row.output_tokens), _count(row, "reasoning_tokens"), details)


def _count(row: Any, column: str) -> int:
    value = getattr(row, column, 0)
    return 0 if value is None or pd.isna(value) else int(value)


def row_batch(row: Any) -> bool:
    """Whether a ledger row was billed at batch prices."""
    batch = getattr(row, "batch", None)
    return bool(batch) if batch is not None and not pd.isna(batch) else getattr(row, "endpoint", "") == "batch"


def reprice_row(row: Any, usage: Usage | None = None, *, model: str | None = None, batch: bool = False) -> Cost:
    """What a ledger row costs with today's price data, at the prices in force when it was made (some change
    from a date on, or by the hour), by the same function that priced it when recorded. A response-cache hit
    cost nothing; raises :class:`UnknownModelError` for a model with no price."""
    if getattr(row, "cache", ""):
        return Cost(0.0)
    usage = usage_from_row(row) if usage is None else usage
    d = usage.details
    vendor = "" if model else str(getattr(row, "vendor", "") or "")  # another model: at its own vendor's prices
    prices = price_for(model or row.model, batch=batch or row_batch(row),
                       service_tier=d.get("service_tier"), speed=d.get("speed"), vendor=vendor, at=_made_at(row))
    return prices.cost(usage)


def _made_at(row: Any) -> float | None:
    """A row's time in epoch seconds (the ledger's frame holds naive UTC timestamps), or None (now)."""
    ts = getattr(row, "ts", None)
    if ts is None or pd.isna(ts):
        return None
    if isinstance(ts, (int, float)):
        return float(ts)
    return pd.Timestamp(ts).timestamp()  # naive: read as UTC, as the ledger writes it


@dataclass(frozen=True)
class Scenario:
    name: str
    model: str | None = None  # None: each call's own model
    batch: bool = False
    prompt_cache_hit: float | None = None
    compress_to: float | None = None
    cache_hit: float | None = None

    def assumes(self) -> str:
        parts = []
        if self.model:
            parts.append(tr("all calls on {model}, same token counts", model=self.model))
        if self.batch:
            parts.append(tr("batch prices (50%)"))
        if self.prompt_cache_hit is not None:
            parts.append(tr("{share:.0%} of input read from the provider cache", share=self.prompt_cache_hit))
        if self.compress_to is not None:
            parts.append(tr("input compressed to {share:.0%}", share=self.compress_to))
        if self.cache_hit is not None:
            parts.append(tr("{share:.0%} of calls answered by a response cache", share=self.cache_hit))
        return "; ".join(parts) or tr("as recorded")


def _shown_name(s: Scenario) -> str:
    """The scenario's name in the reader's language (its ``name`` stays the English row label)."""
    if s.model:
        return tr("on {model}", model=s.model)
    if s.prompt_cache_hit is not None:
        return tr("prompt caching at {share:.0%}", share=s.prompt_cache_hit)
    if s.compress_to is not None:
        return tr("compressed to {share:.0%}", share=s.compress_to)
    if s.cache_hit is not None:
        return tr("response cache at {share:.0%}", share=s.cache_hit)
    return label(s.name)


def _scenario_usage(usage: Usage, model: str, s: Scenario) -> Usage:
    if not (s.model or s.prompt_cache_hit is not None or s.compress_to is not None):
        return usage
    # the recorded cache split belongs to the recorded model and prompt
    inp, cached, write = float(usage.input_tokens), 0.0, 0.0
    if s.compress_to is not None:
        inp *= s.compress_to
    if s.prompt_cache_hit is not None:
        cached = inp * s.prompt_cache_hit
        if provider_for_model(model) == "anthropic":
            write = inp - cached  # Anthropic writes what it does not read
    return Usage(inp, cached, write, 0, usage.output_tokens, usage.reasoning_tokens, usage.details)  # type: ignore[arg-type]


def _reprice(calls: pd.DataFrame, s: Scenario) -> dict[str, float | int | str]:
    totals = dict.fromkeys(_COMPONENTS, 0.0)
    unpriced = 0
    for row in calls.itertuples():
        if getattr(row, "cache", ""):  # answered by a response cache: it cost nothing, and would again
            continue
        model = s.model or row.model
        usage = _scenario_usage(usage_from_row(row), model, s)
        try:
            cost = reprice_row(row, usage, model=s.model, batch=s.batch)
        except UnknownModelError:
            unpriced += 1
            continue
        share = 1.0 - (s.cache_hit or 0.0)
        totals["input_usd"] += (cost.input_usd - cost.cache_read_usd - cost.cache_write_usd) * share
        totals["cached_read_usd"] += cost.cache_read_usd * share
        totals["cache_write_usd"] += cost.cache_write_usd * share
        totals["output_usd"] += cost.output_usd * share
        totals["tool_fees_usd"] += cost.fees_usd * share
    cost = sum(totals.values())
    return {"scenario": s.name, "cost_usd": cost, **totals, "unpriced_calls": unpriced, "assumes": s.assumes()}


def whatif(calls: pd.DataFrame, *, models: Sequence[str] = (), batch: bool = False,
           prompt_cache_hit: float | None = None, compress_to: float | None = None,
           cache_hit: float | None = None) -> pd.DataFrame:
    """The recorded calls' actual cost next to each alternative, with the components every figure used."""
    for name, value in (("prompt_cache_hit", prompt_cache_hit), ("compress_to", compress_to), ("cache_hit", cache_hit)):
        if value is not None and not 0 <= value <= 1:
            raise ValueError(tr("{name} must be between 0 and 1, got {value}", name=name, value=value))
    for model in models:
        price_for(model)  # an unknown model fails here, naming the nearest known ones
    # every row, whatever its status: a cut stream was billed too (a refused call has no usage, so costs $0)
    scenarios = [Scenario("actual (re-priced)")]
    scenarios += [Scenario(f"on {m}", model=m) for m in models]
    if batch:
        scenarios.append(Scenario("batch", batch=True))
    if prompt_cache_hit is not None:
        scenarios.append(Scenario(f"prompt caching at {prompt_cache_hit:.0%}", prompt_cache_hit=prompt_cache_hit))
    if compress_to is not None:
        scenarios.append(Scenario(f"compressed to {compress_to:.0%}", compress_to=compress_to))
    if cache_hit is not None:
        scenarios.append(Scenario(f"response cache at {cache_hit:.0%}", cache_hit=cache_hit))
    table = pd.DataFrame([_reprice(calls, s) for s in scenarios]).set_index("scenario")
    # the scenarios' names stay English for code (table.loc["batch"]); these are how a table shows them
    table.attrs["row_labels"] = {s.name: _shown_name(s) for s in scenarios}
    recorded = calls["cost_usd"].sum(min_count=1) if len(calls) else 0.0
    table.insert(0, "calls", len(calls))
    table["vs_actual"] = table["cost_usd"] / table.loc["actual (re-priced)", "cost_usd"] - 1 if table.loc["actual (re-priced)", "cost_usd"] else 0.0
    table.attrs["recorded_cost_usd"] = recorded
    return table
