"""What the course shows must be true: a refusal's suggestion is the model the fallback then uses, and the
dashboard's title total is the sum of the cost axes it draws (notebook 09)."""

from __future__ import annotations

import re
import time

import pytest

import llmcost_magic
from llmcost_magic import meter
from llmcost_magic.core.records import CallRecord, Usage
from llmcost_magic.sandbox import client

# Notebook 09's budget file: the per-query limit refuses gpt-4o, and the tiny daily limit rules out the first
# cheaper model (gpt-4.1-mini's worst case $0.0064 > $0.004) but not gpt-4o-mini ($0.0024).
BUDGETS = {
    "default": {"max_per_query_usd": 0.05, "daily_max_per_user_usd": 5.0},
    "per_segment": {"sales_default": {"max_per_query_usd": 0.02, "daily_max_per_user_usd": 0.004}},
}
PROPOSAL = [{"role": "user", "content": "Write a detailed proposal for a client."}]


def test_the_refusal_suggests_the_model_the_fallback_uses():
    oc = client("openai")
    with meter(budgets=BUDGETS, user="minji", segment="sales_default"):
        with pytest.raises(llmcost_magic.BudgetExceeded) as refused:
            oc.chat.completions.create(model="gpt-4o", max_tokens=4000, messages=PROPOSAL)
    with meter(budgets=BUDGETS, user="minji", segment="sales_default", budget_fallback=True):
        reply = oc.chat.completions.create(model="gpt-4o", max_tokens=4000, messages=PROPOSAL)
    assert refused.value.suggestion == reply.model == "gpt-4o-mini"
    assert f"{reply.model} would fit" in str(refused.value)


def test_a_suggestion_fits_the_daily_room_already_spent(fresh_ledger):
    """Spent earlier today, then asked: the suggestion must fit what is left today, not only the per-query limit."""
    fresh_ledger.record(CallRecord(ts=time.time(), provider="openai", endpoint="chat.completions", model="gpt-4o",
                                   usage=Usage(), cost_usd=0.005, baseline_cost_usd=0.005, latency_ms=0.0, user="jun"))
    roomy = {"default": {"max_per_query_usd": 0.02, "daily_max_per_user_usd": 0.01}}  # $0.005 left today
    with meter(budgets=roomy, user="jun"):
        with pytest.raises(llmcost_magic.BudgetExceeded) as refused:
            oc = client("openai")
            oc.chat.completions.create(model="gpt-4o", max_tokens=4000, messages=PROPOSAL)
    assert refused.value.suggestion == "gpt-4o-mini"  # gpt-4.1-mini's worst case, $0.0064, passes the day's room


def test_the_dashboard_title_is_the_sum_of_its_axes():
    oc = client("openai")
    with meter(tag="faq"):
        for question in ("What is your refund policy?", "How long does shipping take?"):
            oc.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": question}])
        oc.embeddings.create(model="text-embedding-3-small", input=["refund policy", "shipping time"])
    board = llmcost_magic.dashboard(extra_costs={"external tools": 0.002, "storage / compute": 0.001})
    title_total = float(re.search(r"calls, \$([\d,.]+)", board.title).group(1).replace(",", ""))
    assert title_total == pytest.approx(board.axes_usd.sum(), abs=5e-5)
    assert f"${board.axes_usd.sum():,.4f}" in repr(board)
    calls = llmcost_magic.ledger()
    assert board.axes_usd.drop(["external tools", "storage / compute"]).sum() == pytest.approx(calls.cost_usd.sum())
