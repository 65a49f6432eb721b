"""Formatting of dollars, tokens and the one-line summary, shared by the widget and text output (words from
:mod:`~llmcost_magic.core.messages`, in the language set there)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.messages import label, plural, tr

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
    parts = [tr("{n} call{s}", n=t.calls, s=plural(t.calls)),
             tr("{input} in ({cached} cached) / {output} out tokens", input=tokens(t.input_tokens),
                cached=tokens(t.cached_input_tokens), output=tokens(t.output_tokens)),
             money(t.cost_usd, currency, fx) + (tr(" + unpriced") if t.unpriced else "")]
    if t.cache_hits:
        parts.append(tr("{n} cache hit{s}", n=t.cache_hits, s=plural(t.cache_hits)))
    if t.saved_usd:
        by = ", ".join(f"{label(k)} {money(v, currency, fx)}" for k, v in sorted(t.saved_by.items(), key=lambda kv: -kv[1]))
        parts.append(tr("saved {amount} ({by})", amount=money(t.saved_usd, currency, fx), by=by))
    if t.estimated:
        parts.append(tr("{n} estimated", n=t.estimated))
    if t.errors:
        parts.append(tr("{n} failed", n=t.errors))
    if t.refused:
        parts.append(tr("{n} refused by budget", n=t.refused))
    return " · ".join(parts)
