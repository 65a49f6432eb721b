"""--prompt-cache auto places Anthropic breakpoints by the rules; the advisor finds what to reorder."""

from __future__ import annotations

import pytest

import llmcost_magic
from llmcost_magic import meter
from llmcost_magic.policies.prompt_cache import advise, place_breakpoints
from llmcost_magic.sandbox import Sandbox, client

POLICY = "Support policy. " + " ".join(f"Rule {i}: items of class {i} can be returned within {i % 30 + 1} days." for i in range(220))
TOOLS = [{"name": "lookup_order", "description": "Find an order", "input_schema": {"type": "object", "properties": {"id": {"type": "string"}}}}]


def test_breakpoints_go_on_the_stable_prefix_in_order():
    body = {"model": "claude-sonnet-4-6", "max_tokens": 100, "tools": TOOLS, "system": POLICY,
            "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
                         {"role": "user", "content": "Can I return a phone?"}]}
    placed_body, placed = place_breakpoints(body, "claude-sonnet-4-6")
    assert placed == ["system", "history"]  # tools alone are under the 1,024-token minimum
    assert placed_body["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert placed_body["messages"][1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in str(body)  # the user's request is untouched


def test_short_prompts_and_user_breakpoints_are_left_alone():
    short = {"model": "claude-sonnet-4-6", "system": "Be brief.", "messages": [{"role": "user", "content": "hi"}]}
    assert place_breakpoints(short, "claude-sonnet-4-6") == (short, [])
    own = {"model": "claude-sonnet-4-6", "system": [{"type": "text", "text": POLICY, "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
           "messages": [{"role": "user", "content": "hi"}]}
    assert place_breakpoints(own, "claude-sonnet-4-6") == (own, [])
    half = POLICY[: len(POLICY) // 2]  # ~2,200 tokens: cacheable on Sonnet (1,024), not on Haiku 4.5 (4,096)
    assert place_breakpoints({**short, "system": half}, "claude-haiku-4-5")[1] == []
    assert place_breakpoints({**short, "system": half}, "claude-sonnet-4-6")[1] == ["system"]


def test_auto_prompt_caching_saves_money_after_the_first_call():
    ac = client("anthropic", sandbox=Sandbox())
    with meter(prompt_cache="auto") as m:
        for question in ("Can I return a phone?", "Can I return a laptop?", "Can I return shoes?"):
            ac.messages.create(model="claude-sonnet-4-6", max_tokens=100, system=POLICY,
                               messages=[{"role": "user", "content": question}])
    df = llmcost_magic.ledger()
    assert df.iloc[0].cache_write_tokens > 1024 and (df.iloc[1:].cached_input_tokens > 1024).all()
    assert df.iloc[0].saved_usd < 0 < df.iloc[1].saved_usd  # the write premium, then the read discount
    assert set(df.saved_by) == {"prompt_cache"} and df.note.str.contains("breakpoints: system").all()
    assert m.totals.saved_usd == pytest.approx(df.saved_usd.sum()) and m.totals.saved_usd > 0


def test_openai_automatic_caching_is_attributed():
    oc = client("openai", sandbox=Sandbox())
    with meter():
        for question in ("Can I return a phone?", "Can I return a laptop?"):
            oc.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "system", "content": POLICY},
                                                                       {"role": "user", "content": question}])
    second = llmcost_magic.ledger().iloc[1]
    assert second.cached_input_tokens >= 1024 and second.saved_by == "prompt_cache" and second.saved_usd > 0


def test_advisor_finds_stable_content_placed_after_variable_content():
    bad = [{"model": "gpt-4o-mini", "messages": [{"role": "system", "content": f"Today is day {d}."},
                                                 {"role": "user", "content": POLICY},
                                                 {"role": "user", "content": f"question {d}"}]} for d in range(5)]
    result = advise(bad)
    assert not result["stable_first"] and result["shared_prefix_tokens"] < 20  # only "Today is day "
    assert result["stable_but_late_tokens"] > 1024 and result["reorder_saves_usd"] > 0
    good = [{"model": "gpt-4o-mini", "messages": [{"role": "system", "content": POLICY}, {"role": "user", "content": f"q {d}"}]} for d in range(5)]
    assert advise(good)["stable_first"] and advise(good)["shared_prefix_tokens"] > 1024


def test_advise_in_a_notebook(shell):
    shell.run_cell("from llmcost_magic.sandbox import client\noc = client('openai')")
    shell.run_cell("%%llmcost\nfor d in range(3):\n    oc.chat.completions.create(model='gpt-4o-mini', messages=["
                   "{'role':'system','content':f'Day {d}. ' + 'Policy text. ' * 600}, {'role':'user','content':'hi'}])")
    table = shell.run_line_magic("llmcost", "cache advise")
    assert table.loc["gpt-4o-mini", "requests"] == 3
