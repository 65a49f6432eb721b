"""What the course shows must be true: a refusal's suggestion is the model the fallback then uses, the
dashboard's title total is the sum of the cost axes it draws (notebook 09), and 08's prose about capped answers
quotes its replay on real recorded answers."""

from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest

import llmcost_magic
from llmcost_magic import meter
from llmcost_magic.cookbook import T
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


def test_lesson_08_prose_quotes_its_replay_of_real_answers(monkeypatch):
    """08's prose about capped answers quotes the replay cell's own numbers (run here, not read from outputs)."""
    monkeypatch.setenv("LLMCOST_LANG", "en")  # the English track's column names
    path = Path(__file__).resolve().parent.parent / "notebooks" / "08_output_control.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "def replay" in c.source)
    scope: dict = {"pd": pd, "T": T}  # what earlier cells defined
    exec(cell.source.rsplit("\n", 1)[0], scope)  # everything but the last line, which only displays the table
    gpt4 = scope["quality"].loc["gpt-4-1106-preview"]
    accuracy = gpt4["accuracy"].str.rstrip("%").astype(float)
    full, capped, stopped = accuracy["as recorded"], accuracy["max_tokens=150"], accuracy['stop="\\n\\n"']
    sized = next(label for label in gpt4.index if "p99" in label)
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert f"GPT-4 lost {full - capped:.0f} points of accuracy ({gpt4.loc['max_tokens=150', 'finish=length']} of 330" in prose
    assert f"{gpt4.loc['as recorded', 'right'] - gpt4.loc['max_tokens=150', 'right']} right answers lost" in prose
    assert f"at 200, still {full - accuracy['max_tokens=200']:.0f} points" in prose
    saved = 100 - int(gpt4.loc['stop="\\n\\n"', "output tokens"].rstrip("%"))
    assert f"saved {saved}% and kept {stopped:.0f}% accuracy instead of {full:.0f}%" in prose
    assert gpt4.loc[sized, "finish=length"] == 0 and accuracy[sized] == full, "the right-sized cap cut none"
    assert f"GPT-4 16 points of\n  accuracy and a blank-line stop {full - stopped:.0f}" in prose


def test_lesson_06_warns_that_stated_confidence_is_poorly_calibrated_in_both_tracks():
    """The confidence-based cascade comes with a sourced warning, in English and in Korean."""
    path = Path(__file__).resolve().parent.parent / "notebooks" / "06_model_routing.ipynb"
    cell = next(c for c in nbformat.read(path, as_version=4).cells
                if c.cell_type == "markdown" and "stated confidence is a poor check" in c.source)
    for text in (cell.source, cell.metadata["ko"]):
        assert "arXiv:2306.13063" in text and "arXiv:2303.08774" in text and "0.007" in text and "0.074" in text
    assert "확신도" in cell.metadata["ko"] and "과신" in cell.metadata["ko"]
