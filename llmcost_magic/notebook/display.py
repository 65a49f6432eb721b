"""Formatting of dollars, tokens and the one-line summary, shared by the widget and text output."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..metering import Totals

_SYMBOLS = {"USD": "$", "KRW": "₩", "EUR": "€", "GBP": "£", "JPY": "¥"}


def money(usd: float, currency: str = "USD", fx: float = 1.0) -> str:
    """Dollars as text in ``currency`` at ``fx`` units per dollar; sub-cent sums keep their digits."""
    value = usd * fx
    symbol = _SYMBOLS.get(currency, currency + " ")
    if currency in ("KRW", "JPY"):
        return f"{symbol}{value:,.0f}" if abs(value) >= 10 else f"{symbol}{value:,.2f}"
    if value == 0:
        return f"{symbol}0.00"
    return f"{symbol}{value:,.4f}" if abs(value) < 1 else f"{symbol}{value:,.2f}"


def tokens(n: int) -> str:
    return f"{n / 1e6:.2f}M" if n >= 1_000_000 else f"{n / 1e3:.1f}k" if n >= 10_000 else f"{n:,}"


def summary_line(t: Totals, *, currency: str = "USD", fx: float = 1.0) -> str:
    """e.g. ``3 calls · 1,204 in (512 cached) / 310 out tokens · $0.0042 · 1 cache hit · saved $0.0011``."""
    parts = [f"{t.calls} call{'s' * (t.calls != 1)}",
             f"{tokens(t.input_tokens)} in ({tokens(t.cached_input_tokens)} cached) / {tokens(t.output_tokens)} out tokens",
             money(t.cost_usd, currency, fx) + (" + unpriced" if t.unpriced else "")]
    if t.cache_hits:
        parts.append(f"{t.cache_hits} cache hit{'s' * (t.cache_hits != 1)}")
    if t.saved_usd:
        by = ", ".join(f"{k} {money(v, currency, fx)}" for k, v in sorted(t.saved_by.items(), key=lambda kv: -kv[1]))
        parts.append(f"saved {money(t.saved_usd, currency, fx)} ({by})")
    if t.estimated:
        parts.append(f"{t.estimated} estimated")
    if t.errors:
        parts.append(f"{t.errors} failed")
    if t.refused:
        parts.append(f"{t.refused} refused by budget")
    return " · ".join(parts)
