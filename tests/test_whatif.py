"""What-if re-pricing of recorded usage, calling nothing."""

from __future__ import annotations

import pytest

import llmcost_magic
from llmcost_magic import estimate_cost, meter
from llmcost_magic.sandbox import Sandbox, client


@pytest.fixture
def recorded():
    sandbox = Sandbox()
    oc, ac = client("openai", sandbox=sandbox), client("anthropic", sandbox=sandbox)
    with meter(tag="work"):
        for q in ("What is a token?", "Explain caching.", "Why batch?"):
            oc.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": q}])
        ac.messages.create(model="claude-sonnet-4-6", max_tokens=300, messages=[{"role": "user", "content": "hi"}])
    return llmcost_magic.ledger(tag="work")


def test_actual_matches_the_ledger_and_components_add_up(recorded):
    table = llmcost_magic.whatif(recorded)
    actual = table.loc["actual (re-priced)"]
    assert actual.cost_usd == pytest.approx(recorded.cost_usd.sum())
    assert actual.cost_usd == pytest.approx(actual[["input_usd", "cached_read_usd", "cache_write_usd", "output_usd", "tool_fees_usd"]].sum())
    assert actual.calls == 4 and actual.unpriced_calls == 0


def test_alternatives(recorded):
    table = llmcost_magic.whatif(recorded, models=["gpt-4o-mini"], batch=True, prompt_cache_hit=0.8, compress_to=0.5, cache_hit=0.25)
    actual = table.loc["actual (re-priced)", "cost_usd"]
    assert table.loc["batch", "cost_usd"] == pytest.approx(actual / 2)
    assert table.loc["response cache at 25%", "cost_usd"] == pytest.approx(actual * 0.75)
    mini = sum(estimate_cost("gpt-4o-mini", r.input_tokens, r.output_tokens) for r in recorded.itertuples())
    assert table.loc["on gpt-4o-mini", "cost_usd"] == pytest.approx(mini)
    assert table.loc["compressed to 50%", "output_usd"] == pytest.approx(table.loc["actual (re-priced)", "output_usd"])
    assert table.loc["compressed to 50%", "input_usd"] == pytest.approx(table.loc["actual (re-priced)", "input_usd"] / 2)
    cached = table.loc["prompt caching at 80%"]
    assert cached.cached_read_usd > 0 and cached.cache_write_usd > 0  # the Claude call writes what it does not read
    assert "same token counts" in table.loc["on gpt-4o-mini", "assumes"]


def test_unpriced_calls_are_counted_never_zero(recorded):
    odd = recorded.copy()
    odd.loc[odd.index[0], "model"] = "my-private-model"
    table = llmcost_magic.whatif(odd)
    assert table.loc["actual (re-priced)", "unpriced_calls"] == 1


def test_magic_and_bad_input(shell, recorded):
    table = shell.run_line_magic("llmcost", "whatif --tag work --all --models gpt-4.1-nano --batch")
    assert {"on gpt-4.1-nano", "batch"} <= set(table.index)
    r = shell.run_cell("%llmcost whatif --all --models gpt-4oo")
    assert "gpt-4o" in str(r.error_in_exec)
    r = shell.run_cell("%llmcost whatif --all --cache-hit 1.5")
    assert "between 0 and 1" in str(r.error_in_exec)


def test_cache_hits_and_batch_rows_keep_their_prices():
    oc = client("openai", sandbox=Sandbox())
    with meter(tag="mixed", cache="exact"):
        for _ in range(3):
            oc.chat.completions.create(model="gpt-4o", temperature=0, messages=[{"role": "user", "content": "hi"}])
    from llmcost_magic import batch
    job = batch.build(["a", "b"], model="gpt-4o-mini").submit(oc, name="mixed-batch")
    sandbox_clock_wait = job.wait(oc, interval=0.5, progress=False)
    assert sandbox_clock_wait["state"] == "done"
    job.collect(oc)
    calls = llmcost_magic.ledger()
    table = llmcost_magic.whatif(calls)
    assert table.loc["actual (re-priced)", "cost_usd"] == pytest.approx(calls.cost_usd.sum())
