"""What-if re-pricing: what recorded usage would have cost under alternatives, calling nothing.

Each scenario re-prices every recorded call (its tokens as recorded) and shows the price components it
used. Assumptions, stated in the ``assumes`` column: another model is priced on the same token counts
(tokenizers differ: a Claude model counts ~10-20% more than o200k for the same text); prompt caching at
hit rate h bills h of each call's input at the cached-read rate (plus, for Anthropic models, the rest at
the 5-minute cache-write rate); compression to ratio r keeps r of the input tokens; a response-cache hit
rate c serves c of the calls for $0. Calls that cannot be priced are counted, never priced at $0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from .pricing import ModelPrices, UnknownModelError, price_for
from .tokens import provider_for_model

_COMPONENTS = ("input_usd", "cached_read_usd", "cache_write_usd", "output_usd")


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
            parts.append(f"all calls on {self.model}, same token counts")
        if self.batch:
            parts.append("batch prices (50%)")
        if self.prompt_cache_hit is not None:
            parts.append(f"{self.prompt_cache_hit:.0%} of input read from the provider cache")
        if self.compress_to is not None:
            parts.append(f"input compressed to {self.compress_to:.0%}")
        if self.cache_hit is not None:
            parts.append(f"{self.cache_hit:.0%} of calls answered by a response cache")
        return "; ".join(parts) or "as recorded"


def _components(prices: ModelPrices, inp: float, cached: float, write: float, out: float) -> dict[str, float]:
    r = prices.rates_for(int(inp))
    return {"input_usd": max(inp - cached - write, 0.0) * r.input, "cached_read_usd": cached * r.cache_read,
            "cache_write_usd": write * r.cache_write, "output_usd": out * r.output}


def _reprice(calls: pd.DataFrame, s: Scenario) -> dict[str, float | int | str]:
    totals = dict.fromkeys(_COMPONENTS, 0.0)
    unpriced = 0
    for row in calls.itertuples():
        if getattr(row, "cache", ""):  # answered by a response cache: it cost nothing, and would again
            continue
        model = s.model or row.model
        try:
            prices = price_for(model, batch=s.batch or getattr(row, "endpoint", "") == "batch")
        except UnknownModelError:
            unpriced += 1
            continue
        inp, cached, write, out = (float(row.input_tokens), float(row.cached_input_tokens),
                                   float(row.cache_write_tokens), float(row.output_tokens))
        if s.model or s.prompt_cache_hit is not None or s.compress_to is not None:
            cached = write = 0.0  # the recorded cache split belongs to the recorded model and prompt
        if s.compress_to is not None:
            inp *= s.compress_to
        if s.prompt_cache_hit is not None:
            cached = inp * s.prompt_cache_hit
            if provider_for_model(model) == "anthropic":
                write = inp - cached  # Anthropic writes what it does not read
        share = 1.0 - (s.cache_hit or 0.0)
        for key, value in _components(prices, inp, cached, write, out).items():
            totals[key] += value * share
    cost = sum(totals.values())
    return {"scenario": s.name, "cost_usd": cost, **totals, "unpriced_calls": unpriced, "assumes": s.assumes()}


def whatif(calls: pd.DataFrame, *, models: Sequence[str] = (), batch: bool = False,
           prompt_cache_hit: float | None = None, compress_to: float | None = None,
           cache_hit: float | None = None) -> pd.DataFrame:
    """The recorded calls' actual cost next to each alternative, with the components every figure used."""
    for name, value in (("prompt_cache_hit", prompt_cache_hit), ("compress_to", compress_to), ("cache_hit", cache_hit)):
        if value is not None and not 0 <= value <= 1:
            raise ValueError(f"{name} must be between 0 and 1, got {value}")
    for model in models:
        price_for(model)  # an unknown model fails here, naming the nearest known ones
    calls = calls[calls["status"] == "ok"] if "status" in calls else calls
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
    recorded = calls["cost_usd"].sum(min_count=1) if len(calls) else 0.0
    table.insert(0, "calls", len(calls))
    table["vs_actual"] = table["cost_usd"] / table.loc["actual (re-priced)", "cost_usd"] - 1 if table.loc["actual (re-priced)", "cost_usd"] else 0.0
    table.attrs["recorded_cost_usd"] = recorded
    return table
