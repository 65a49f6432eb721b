"""A replayed day of the capstone's support bot (sandbox/workload.py) with --prompt-cache auto, in which
the sandbox is made to miss in every way the doctor knows: the doctor names each injected miss."""

from __future__ import annotations

import pytest

import llmcost_magic
from llmcost_magic import meter
from llmcost_magic.policies.prompt_trail import current_trail
from llmcost_magic.sandbox import ManualClock, Sandbox, client
from llmcost_magic.sandbox.workload import SYSTEM_PROMPT, support_workload

# The bot's prompt with its help-centre articles: long enough to cache on every Claude model used here.
ARTICLES = "\n".join(f"Article {i}: to change setting {i}, open Settings > Section {i % 12} and press Save; "
                     f"changes apply within {i % 9 + 1} minutes." for i in range(120))
SYSTEM = SYSTEM_PROMPT + "\n\nHelp-centre articles:\n" + ARTICLES
TOOLS = [{"name": "lookup_invoice", "description": "Find an invoice by number", "input_schema": {"type": "object"}},
         {"name": "open_ticket", "description": "Open a ticket for a human agent", "input_schema": {"type": "object"}}]
MODEL = "claude-sonnet-4-6"

# conversation index -> the miss injected into its first call, and the reason the doctor must give
INJECTED = {
    6: ("timestamp", "prefix changed", "timestamp"),
    9: ("new system line", "prefix changed", "new system line"),
    12: ("reordered tools", "prefix changed", "reordered tool"),
    15: ("idle 8 minutes", "TTL expired", "8 min idle"),
    18: ("other model", "model changed", ""),
    22: ("short prompt", "below minimum", "caches from 1,024"),  # a new, short prompt: only the tools are shared
}


def _request(index: int) -> dict:
    kind = INJECTED.get(index, ("",))[0]
    system, tools, model = SYSTEM, TOOLS, MODEL
    if kind == "timestamp":
        system = "Current time: 2026-11-30 14:05 UTC.\n" + SYSTEM
    elif kind == "new system line":
        system = "Never mention competitors by name.\n" + SYSTEM
    elif kind == "reordered tools":
        tools = TOOLS[::-1]
    elif kind == "other model":
        model = "claude-opus-4-1"
    elif kind == "short prompt":
        system = SYSTEM_PROMPT  # ~600 tokens: under Sonnet's 1,024-token minimum
    return {"model": model, "system": system, "tools": tools}


@pytest.fixture
def replay():
    clock = ManualClock()
    trail = current_trail()
    trail.clear()
    previous, trail.clock = trail.clock, clock
    ac = client("anthropic", sandbox=Sandbox(clock=clock))
    day = support_workload(24, seed=2026)
    first_calls, short_second = {}, None
    with meter(tag="replay", prompt_cache="auto"):
        for index, conversation in enumerate(day.conversations):
            clock.advance(8 * 60 if INJECTED.get(index, ("",))[0] == "idle 8 minutes" else 40)
            request, messages = _request(index), []
            for turn_number, turn in enumerate(conversation.turns):
                messages.append({"role": "user", "content": turn.text})
                first_calls.setdefault(index, len(trail.entries))
                if index == 22 and turn_number == 1:
                    short_second = len(trail.entries)
                reply = ac.messages.create(max_tokens=120, tool_choice={"type": "none"}, messages=list(messages), **request)
                messages.append({"role": "assistant", "content": reply.content[0].text})
                clock.advance(20)
    yield day, first_calls, short_second
    trail.clock = previous
    trail.clear()


def test_the_doctor_names_every_injected_miss(replay):
    day, first_calls, short_second = replay
    assert len(day.conversations[22].turns) > 1  # the short-prompt conversation has a second turn to diagnose
    table = llmcost_magic.prompt_cache_doctor(include_hits=True).table.set_index("call")
    for index, (_, reason, detail) in INJECTED.items():
        row = table.loc[first_calls[index]]
        assert (row.reason, detail in row.detail) == (reason, True), (index, row.reason, row.detail)
        if reason not in ("first call", "model changed", "below minimum"):
            assert row.miss_usd > 0 and row.fix and row.fix_saves_usd > 0
    assert table.loc[short_second, "reason"] == "below minimum"
    # every other first turn reads the system prompt the conversations share
    others = [c for i, c in first_calls.items() if i not in INJECTED and i > 0]
    assert (table.loc[others, "reason"] == "hit").all()
    # and nothing is unexplained
    assert not table["reason"].isin(["not read", "provider reported"]).any()


def test_replay_savings_are_net_of_write_premiums(replay):
    calls = llmcost_magic.ledger(tag="replay")
    writes = calls[calls.cache_write_tokens > 0]
    assert (writes[writes.cached_input_tokens == 0].saved_usd < 0).all()  # a pure write costs more than no caching
    assert calls.saved_usd.sum() == pytest.approx((calls.baseline_cost_usd - calls.cost_usd).sum())
    assert calls.saved_usd.sum() > 0
