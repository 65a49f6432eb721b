"""Prices that change with the hour (DeepSeek's off-peak rates) or from a date on (a price cut) are applied for
the moment of each call, never frozen at the moment the model was first priced, and re-pricing a ledger row uses
the row's own time, so it equals the recorded cost."""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import pytest

from llmcost_magic.bookkeeping.repricing import reprice_row
from llmcost_magic.core.pricing import invalidate_prices, price_for, price_usage
from llmcost_magic.core.records import Usage

USAGE = Usage(input_tokens=1_000_000, output_tokens=0)


def _at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def _genai_rate(model: str, provider: str, when: float) -> float:
    from genai_prices import data_snapshot

    _, info = data_snapshot.get_snapshot().find_provider_model(model, None, provider, None)
    return float(info.get_prices(datetime.fromtimestamp(when, tz=timezone.utc)).input_mtok)


@pytest.mark.parametrize("first, then", [("2026-11-30T10:00", "2026-11-30T20:00"), ("2026-11-30T20:00", "2026-11-30T10:00")])
def test_a_time_of_day_price_follows_each_call_whichever_hour_priced_it_first(first, then):
    invalidate_prices()
    day, night = _genai_rate("deepseek-chat", "deepseek", _at("2026-11-30T10:00")), _genai_rate("deepseek-chat", "deepseek", _at("2026-11-30T20:00"))
    assert day != night  # the data has an off-peak rate: the test means something
    expected = {"2026-11-30T10:00": day, "2026-11-30T20:00": night}
    for when in (first, then, first):
        cost = price_usage("deepseek-chat", USAGE, vendor="deepseek", at=_at(when))
        assert cost.usd == pytest.approx(expected[when]), when


def test_a_price_from_a_date_on_prices_older_calls_at_the_older_price():
    from genai_prices import data_snapshot

    _, info = data_snapshot.get_snapshot().find_provider_model("o3", None, "openai", None)
    start = next(cp.constraint.start_date for cp in info.prices if cp.constraint is not None)
    before, after = _at(f"{start.replace(year=start.year - 1).isoformat()}T12:00"), _at(f"{start.isoformat()}T12:00")
    invalidate_prices()
    new = price_for("o3", vendor="openai", at=after).cost(USAGE).usd
    old = price_for("o3", vendor="openai", at=before).cost(USAGE).usd
    assert new == pytest.approx(_genai_rate("o3", "openai", after)) and old == pytest.approx(_genai_rate("o3", "openai", before))
    assert old != new


def test_a_row_is_repriced_at_its_own_time_and_equals_its_recorded_cost():
    rows = []
    for when in ("2026-11-30T10:00", "2026-11-30T20:00"):
        cost = price_usage("deepseek-chat", USAGE, vendor="deepseek", at=_at(when)).usd
        rows.append({"ts": pd.Timestamp(when), "model": "deepseek-chat", "vendor": "deepseek", "cost_usd": cost,
                     "input_tokens": 1_000_000, "cached_input_tokens": 0, "cache_write_tokens": 0, "output_tokens": 0,
                     "cache": "", "endpoint": "chat.completions", "batch": False, "usage_details": "",
                     "service_tier": "", "tool_calls": ""})
    frame = pd.DataFrame(rows)
    for row in frame.itertuples():
        assert reprice_row(row).usd == pytest.approx(row.cost_usd)
    assert frame.cost_usd.nunique() == 2
