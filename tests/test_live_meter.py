"""The live meter is a thin, throttled view over the meter's totals."""

from __future__ import annotations

import time

import ipywidgets

from llmcost_magic.metering import Meter
from llmcost_magic.core.records import CallRecord, Usage
from llmcost_magic.notebook.widgets.live_meter import LiveMeterView, render_html


def _rec(cost: float = 0.001) -> CallRecord:
    return CallRecord(ts=time.time(), provider="openai", endpoint="chat.completions", model="gpt-4o-mini",
                      usage=Usage(input_tokens=100, cached_input_tokens=20, output_tokens=10), cost_usd=cost,
                      baseline_cost_usd=cost * 2, latency_ms=1.0, saved_by="cache", cache="exact")


class _CountingHTML(ipywidgets.HTML):
    updates = 0

    def _notify_trait(self, name, old, new):  # noqa: ANN001
        if name == "value":
            type(self).updates += 1
        super()._notify_trait(name, old, new)


def test_a_thousand_calls_a_second_do_not_flood_the_front_end(fresh_ledger):
    m = Meter(ledger=fresh_ledger)
    view = LiveMeterView(m, show_now=False, min_interval=0.1)
    view._widget = _CountingHTML()
    start = time.monotonic()
    for _ in range(1000):
        m.record(_rec())
    elapsed = time.monotonic() - start
    assert m.totals.calls == 1000
    assert _CountingHTML.updates <= elapsed / 0.1 + 2


def test_render_shows_dollars_tokens_hits_and_savings_in_the_chosen_currency():
    m = Meter(ledger=None)
    m.totals.add(_rec(0.5))
    html = render_html(m.totals, label="[demo]", currency="KRW", fx=1350)
    assert "₩675" in html and "1 </b>" not in html and "cache hits" in html and "saved" in html
    assert "[demo]" in html
