"""Keeping prices current: ``%llmcost prices update`` (opt-in, network) and ``%llmcost prices check``.

The update uses genai-prices' own updater (its published data file), then forgets every resolved price so
the next call is priced from the new data. Nothing here runs unless the user asks.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from .messages import tr
from .pricing import UnknownModelError, _unknown, genai_source, invalidate_prices, price_for

__all__ = ["PriceUpdateError", "update_prices", "check_prices"]


class PriceUpdateError(RuntimeError):
    """The price data could not be fetched; the bundled (or last fetched) prices stay in use."""


def _per_million(models: Iterable[str]) -> dict[str, tuple[float, float] | None]:
    out: dict[str, tuple[float, float] | None] = {}
    for model in models:
        try:
            r = price_for(model).rates
            out[model] = (round(r.input * 1e6, 6), round(r.output * 1e6, 6))
        except UnknownModelError:
            out[model] = None
    return out


def update_prices(models: Iterable[str] = (), *, url: str | None = None, timeout: float = 30.0) -> pd.DataFrame:
    """Fetch genai-prices' latest data (network), use it from the next call on, and return how the
    prices of ``models`` (e.g. those in the ledger) changed: model, before and after ($ per 1M tokens)."""
    from genai_prices import UpdatePrices, data_snapshot
    from genai_prices.update_prices import DEFAULT_UPDATE_URL

    models = list(dict.fromkeys(models))
    before = _per_million(models)
    previous = data_snapshot.get_snapshot()
    updater = UpdatePrices(url=url or DEFAULT_UPDATE_URL)
    try:
        updater.start(wait=timeout)
    except Exception as exc:  # noqa: BLE001 - any fetch or parse failure reads the same to the user
        raise PriceUpdateError(f"Could not update prices from {updater.url}: {exc}. The prices in use stay "
                               f"({genai_source()}).") from None
    finally:
        updater.stop()
    if data_snapshot.get_snapshot() is previous:
        raise PriceUpdateError(f"No price data from {updater.url} within {timeout:g} s; the prices in use stay "
                               f"({genai_source()}).")
    invalidate_prices()
    after = _per_million(models)
    rows = [{"model": m, "input_before": (before[m] or (None, None))[0], "input_after": (after[m] or (None, None))[0],
             "output_before": (before[m] or (None, None))[1], "output_after": (after[m] or (None, None))[1]}
            for m in models if before[m] != after[m]]
    table = pd.DataFrame(rows, columns=["model", "input_before", "input_after", "output_before", "output_after"])
    table.attrs["source"] = genai_source()
    return table


def check_prices(calls: pd.DataFrame) -> pd.DataFrame:
    """Models seen in the ledger that have no price now, or whose rows were recorded unpriced or with
    other price data than today's: model, calls, unpriced_calls, status, hint."""
    rows = []
    if calls.empty:
        return pd.DataFrame(columns=["model", "calls", "unpriced_calls", "status", "hint"])
    for model, group in calls.groupby("model"):
        unpriced = int(group["cost_usd"].isna().sum())
        sources = set(group.get("price_source", pd.Series(dtype=str)).fillna("")) - {""}
        try:
            current = price_for(str(model)).source
        except UnknownModelError:
            rows.append({"model": model, "calls": len(group), "unpriced_calls": unpriced, "status": "no price",
                         "hint": str(_unknown(str(model))).split(" To price")[0]})
            continue
        if unpriced:
            status, hint = "priced now", f"{unpriced} rows were recorded without a price; whatif re-prices them"
        elif sources - {current}:
            status, hint = "stale", f"recorded with {', '.join(sorted(sources))}; now {current}"
        else:
            continue
        rows.append({"model": model, "calls": len(group), "unpriced_calls": unpriced, "status": status, "hint": hint})
    return pd.DataFrame(rows, columns=["model", "calls", "unpriced_calls", "status", "hint"])


def prices_command(action: str, calls: pd.DataFrame) -> pd.DataFrame:
    """``%llmcost prices update`` / ``%llmcost prices check`` over the ledger's models."""
    from IPython.core.error import UsageError

    if action == "check":
        table = check_prices(calls)
        print(tr("llmcost: every model in the ledger has a current price.") if table.empty else
              tr("llmcost: {n} model(s) in the ledger need attention.", n=len(table)))
        return table
    try:
        table = update_prices(calls["model"].dropna().unique() if not calls.empty else ())
    except PriceUpdateError as exc:
        raise UsageError(f"llmcost: {exc}") from None
    print(tr("llmcost: prices updated ({source}); {n} model(s) in the ledger changed price.", source=table.attrs["source"],
             n=len(table)))
    return table
