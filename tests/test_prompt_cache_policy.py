"""--prompt-cache auto places Anthropic breakpoints by the rules; the advisor finds what to reorder."""

from __future__ import annotations

import pytest

import llmcost_magic
from llmcost_magic import meter
from llmcost_magic.policies.prompt_cache import advise, place_breakpoints
from llmcost_magic.sandbox import Sandbox, client

POLICY = "Support policy. " + " ".join(f"Rule {i}: items of class {i} can be returned within {i % 30 + 1} days." for i in range(220))
TOOLS = [{"name": "lookup_order", "description": "Find an order", "input_schema": {"type": "object", "properties": {"id": {"type": "string"}}}}]


def test_conversations_use_automatic_mode_plus_a_breakpoint_on_the_shared_system_prompt():
    body = {"model": "claude-sonnet-4-6", "max_tokens": 100, "tools": TOOLS, "system": POLICY,
            "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
                         {"role": "user", "content": "Can I return a phone?"}]}
    marked, note = place_breakpoints(body, "claude-sonnet-4-6")
    assert marked["cache_control"] == {"type": "ephemeral"}  # the native automatic mode follows the conversation
    assert marked["system"][-1]["cache_control"] == {"type": "ephemeral"}  # shared by every conversation
    assert "cache_control" not in marked["tools"][-1] and "automatic" in note and "system" in note
    assert "cache_control" not in str(body)  # the user's request is untouched


def test_single_turn_requests_get_an_explicit_breakpoint_not_automatic_mode():
    body = {"model": "claude-sonnet-4-6", "max_tokens": 100, "system": POLICY, "messages": [{"role": "user", "content": "hi"}]}
    marked, note = place_breakpoints(body, "claude-sonnet-4-6")
    assert "cache_control" not in marked and marked["system"][0]["cache_control"] == {"type": "ephemeral"}
    document = {"model": "claude-sonnet-4-6", "max_tokens": 100, "messages": [{"role": "user", "content": [
        {"type": "text", "text": POLICY}, {"type": "text", "text": "Summarise rule 7."}]}]}
    marked, note = place_breakpoints(document, "claude-sonnet-4-6")
    assert marked["messages"][0]["content"][0]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in marked["messages"][0]["content"][1] and "automatic mode would include the question" in note


def test_short_prompts_and_user_breakpoints_are_left_alone():
    short = {"model": "claude-sonnet-4-6", "system": "Be brief.", "messages": [{"role": "user", "content": "hi"}]}
    assert place_breakpoints(short, "claude-sonnet-4-6") == (short, "")
    own = {"model": "claude-sonnet-4-6", "system": [{"type": "text", "text": POLICY, "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
           "messages": [{"role": "user", "content": "hi"}]}
    assert place_breakpoints(own, "claude-sonnet-4-6") == (own, "")
    assert place_breakpoints({**short, "system": POLICY, "cache_control": {"type": "ephemeral"}}, "claude-sonnet-4-6")[1] == ""
    half = POLICY[: len(POLICY) // 2]  # ~2,200 tokens: cacheable on Sonnet (1,024), not on Haiku 4.5 (4,096)
    assert place_breakpoints({**short, "system": half}, "claude-haiku-4-5")[1] == ""
    assert "system" in place_breakpoints({**short, "system": half}, "claude-sonnet-4-6")[1]
    gpt = {"model": "gpt-4o-mini", "messages": [{"role": "system", "content": POLICY}, {"role": "user", "content": "hi"}]}
    assert place_breakpoints(gpt, "gpt-4o-mini", "openai") == (gpt, "")  # automatic 128-token prefix caching


def test_auto_prompt_caching_saves_money_after_the_first_call():
    ac = client("anthropic", sandbox=Sandbox())
    with meter(prompt_cache="auto") as m:
        for question in ("Can I return a phone?", "Can I return a laptop?", "Can I return shoes?"):
            ac.messages.create(model="claude-sonnet-4-6", max_tokens=100, system=POLICY,
                               messages=[{"role": "user", "content": question}])
    df = llmcost_magic.ledger()
    assert df.iloc[0].cache_write_tokens > 1024 and (df.iloc[1:].cached_input_tokens > 1024).all()
    assert df.iloc[0].saved_usd < 0 < df.iloc[1].saved_usd  # the write premium, then the read discount
    assert set(df.saved_by) == {"prompt_cache"} and df.note.str.contains("breakpoint on system").all()
    assert m.totals.saved_usd == pytest.approx(df.saved_usd.sum()) and m.totals.saved_usd > 0


def test_auto_beats_the_native_modes_where_they_miss():
    """Anthropic's automatic mode alone, and GPT-5.6's implicit breakpoint alone, re-write a stable system
    prompt on every new question; --prompt-cache auto reads it from the second call on."""
    sandbox = Sandbox()
    ac, oc = client("anthropic", sandbox=sandbox), client("openai", sandbox=sandbox)
    questions = ("Can I return a phone?", "Can I return a laptop?", "Can I return shoes?")
    for tag, policy in (("native", None), ("auto", "auto")):
        with meter(tag=tag, prompt_cache=policy):
            for q in questions:
                ac.messages.create(model="claude-sonnet-4-6", max_tokens=50, system=POLICY + tag,
                                   messages=[{"role": "user", "content": q}],
                                   **({"cache_control": {"type": "ephemeral"}} if policy is None else {}))
                oc.chat.completions.create(model="gpt-5.6", messages=[{"role": "system", "content": POLICY + tag},
                                                                      {"role": "user", "content": q}])
    df = llmcost_magic.ledger()
    native, auto = df[df.tag == "native"], df[df.tag == "auto"]
    assert native.cached_input_tokens.sum() == 0 and (native.cache_write_tokens > 1024).all()
    assert (auto.iloc[2:].cached_input_tokens > 1024).all() and auto.cost_usd.sum() < native.cost_usd.sum()
    assert auto[auto.provider == "openai"].note.str.contains("explicit breakpoint on messages\\[0\\].system").all()


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


def test_auto_in_a_conversation_reads_the_history_turn_after_turn():
    ac = client("anthropic", sandbox=Sandbox())
    messages = []
    with meter(prompt_cache="auto"):
        for q in ("Can I return a phone?", "And a laptop?", "And shoes?", "And a hat?"):
            messages.append({"role": "user", "content": q})
            reply = ac.messages.create(model="claude-sonnet-4-6", max_tokens=60, system=POLICY, messages=list(messages))
            messages.append({"role": "assistant", "content": reply.content[0].text})
    df = llmcost_magic.ledger()
    assert list(df.cached_input_tokens > 0) == [False, True, True, True]
    # from the third turn on, the read covers the previous turn's history too (the automatic breakpoint moved)
    assert df.cached_input_tokens.iloc[3] > df.cached_input_tokens.iloc[2] > df.cached_input_tokens.iloc[1]
    assert df.note.iloc[2].startswith("prompt-cache: automatic")
