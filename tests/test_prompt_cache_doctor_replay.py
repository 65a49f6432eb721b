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

# the misses injected into a conversation's first call, and the reason (and words) the doctor must give
KINDS = (("timestamp", "prefix changed", "timestamp"), ("new system line", "prefix changed", "new system line"),
         ("reordered tools", "prefix changed", "reordered tool"), ("idle 8 minutes", "TTL expired", "8 min idle"),
         ("other model", "model changed", ""),
         ("short prompt", "below minimum", "caches from 1,024"))  # a new, short prompt: only the tools are shared


def _injections(day, every: int) -> dict[int, tuple[str, str, str]]:
    """Conversation index -> injected miss: one kind every ``every`` conversations (the short prompt goes
    to a conversation with a second turn, whose prefix sent before is below the minimum too)."""
    out, index = {}, every
    for kind in KINDS:
        while kind[0] == "short prompt" and len(day.conversations[index].turns) < 2:
            index += 1
        out[index] = kind
        index += every
    return out


def _request(index: int, injected: dict) -> dict:
    kind = injected.get(index, ("",))[0]
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


def _replay(conversations: int, every: int):
    """Replay the day's first ``conversations`` on the sandbox (arrivals 40 s apart, turns 20 s apart)."""
    clock = ManualClock()
    trail = current_trail()
    previous, trail.clock = trail.clock, clock
    ac = client("anthropic", sandbox=Sandbox(clock=clock))
    day = support_workload(conversations, seed=2026)
    injected = _injections(day, every)
    first_calls, short_second, calls = {}, None, 0
    try:
        with meter(tag="replay", prompt_cache="auto"):
            for index, conversation in enumerate(day.conversations):
                clock.advance(8 * 60 if injected.get(index, ("",))[0] == "idle 8 minutes" else 40)
                request, messages = _request(index, injected), []
                for turn_number, turn in enumerate(conversation.turns):
                    messages.append({"role": "user", "content": turn.text})
                    first_calls.setdefault(index, calls)
                    if injected.get(index, ("",))[0] == "short prompt" and turn_number == 1:
                        short_second = calls
                    reply = ac.messages.create(max_tokens=120, tool_choice={"type": "none"}, messages=list(messages), **request)
                    messages.append({"role": "assistant", "content": reply.content[0].text})
                    calls += 1
                    clock.advance(20)
        return injected, first_calls, short_second
    finally:
        trail.clock = previous


@pytest.fixture
def replay():
    current_trail().clear()
    yield _replay(24, every=3)
    current_trail().clear()


@pytest.fixture
def replay_day():
    current_trail().clear()
    yield _replay(667, every=100)  # the capstone's day: 667 conversations
    current_trail().clear()


def test_the_doctor_names_every_injected_miss(replay):
    _check(*replay)


@pytest.mark.slow
def test_the_doctor_names_every_injected_miss_on_a_whole_day(replay_day):
    _check(*replay_day)


def _check(injected, first_calls, short_second):
    table = llmcost_magic.prompt_cache_doctor(include_hits=True).table.set_index("call")
    assert short_second is not None and len(table) >= len(first_calls)
    for index, (_, reason, detail) in injected.items():
        row = table.loc[first_calls[index]]
        assert (row.reason, detail in row.detail) == (reason, True), (index, row.reason, row.detail)
        if reason not in ("first call", "model changed", "below minimum"):
            assert row.miss_usd > 0 and row.fix and row.fix_saves_usd > 0
    assert table.loc[short_second, "reason"] == "below minimum"
    # every other first turn reads the system prompt the conversations share
    others = [c for i, c in first_calls.items() if i not in injected and i > 0]
    assert (table.loc[others, "reason"] == "hit").all()
    # and nothing is unexplained
    assert not table["reason"].isin(["not read", "provider reported"]).any()


def test_replay_savings_are_net_of_write_premiums(replay):
    calls = llmcost_magic.ledger(tag="replay")
    writes = calls[calls.cache_write_tokens > 0]
    assert (writes[writes.cached_input_tokens == 0].saved_usd < 0).all()  # a pure write costs more than no caching
    assert calls.saved_usd.sum() == pytest.approx((calls.baseline_cost_usd - calls.cost_usd).sum())
    assert calls.saved_usd.sum() > 0
