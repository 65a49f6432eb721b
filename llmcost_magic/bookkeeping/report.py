"""Cost reports over the ledger and price tables, as pandas DataFrames."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..core.pricing import UnknownModelError, price_for

_GROUPS = {"cell": ["cell", "cell_hash"], "model": ["vendor", "provider", "model"], "vendor": ["vendor"], "tag": ["tag"],
           "endpoint": ["endpoint"]}


def cost_report(calls: pd.DataFrame, by: str = "cell") -> pd.DataFrame:
    """Calls, tokens, dollars and savings grouped ``by`` cell, model, vendor, tag or endpoint (``vendor`` is
    who served the call, ``provider`` the wire protocol it spoke)."""
    if by not in _GROUPS:
        raise ValueError(f"Unknown report grouping {by!r}; use one of: {', '.join(_GROUPS)}")
    keys = _GROUPS[by]
    if calls.empty:
        return pd.DataFrame(columns=[*keys, "calls", "input_tokens", "cached_input_tokens", "output_tokens",
                                     "cost_usd", "saved_usd", "cache_hits", "runs"])
    calls = calls.assign(cache_hit=calls["cache"].fillna("").ne(""), run=calls["session"] + ":" + calls["cell_run"].astype(str))
    out = calls.groupby(keys, dropna=False, sort=False).agg(
        calls=("model", "size"),
        input_tokens=("input_tokens", "sum"),
        cached_input_tokens=("cached_input_tokens", "sum"),
        output_tokens=("output_tokens", "sum"),
        cost_usd=("cost_usd", lambda s: s.sum(min_count=1)),
        saved_usd=("saved_usd", "sum"),
        cache_hits=("cache_hit", "sum"),
        runs=("run", "nunique"),
    )
    return out.sort_values("cost_usd", ascending=False).reset_index()


def price_table(models: Iterable[str], *, per: int = 1_000_000) -> pd.DataFrame:
    """Dollars per ``per`` tokens for each model: input, cached read, cache write, output, batch."""
    rows = []
    for model in models:
        try:
            p, b = price_for(model), price_for(model, batch=True)
        except UnknownModelError as exc:
            raise UnknownModelError(str(exc)) from None
        r = p.rates
        rows.append({
            "model": model,
            "provider": p.provider,
            "input": r.input * per,
            "cached_input": r.cache_read * per,
            "cache_write_5m": r.cache_write * per,
            "cache_write_1h": r.cache_write_1h * per,
            "output": r.output * per,
            "batch_input": b.rates.input * per,
            "batch_output": b.rates.output * per,
            "long_context_from": p.tiers[0][0] if p.tiers else None,
            "source": p.source,
        })
    return pd.DataFrame(rows).set_index("model")


def max_tokens_report(calls: pd.DataFrame) -> pd.DataFrame:
    """How much of max_tokens each model's calls used, and a right-sized value (p99 output + 20%)."""
    live = calls[(calls["status"] == "ok") & (calls["cache"].fillna("") == "")]
    rows = []
    for (provider, model), group in live.groupby(["provider", "model"]):
        capped = group[group["max_tokens"].notna()]
        out = group["output_tokens"]
        p99 = float(np.percentile(out, 99)) if len(out) else 0.0
        rows.append({
            "provider": provider, "model": model, "calls": len(group), "with_max_tokens": len(capped),
            "median_max_tokens": float(capped["max_tokens"].median()) if len(capped) else None,
            "mean_output": round(float(out.mean()), 1), "p95_output": float(np.percentile(out, 95)),
            "utilization": round(float((capped["output_tokens"] / capped["max_tokens"]).mean()), 3) if len(capped) else None,
            "truncated": int(group["note"].fillna("").str.contains("finish=length|finish=max_tokens").sum()),
            "suggested_max_tokens": int(math.ceil(p99 * 1.2 / 16) * 16) if p99 else None,
        })
    return pd.DataFrame(rows)
