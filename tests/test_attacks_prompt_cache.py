"""Attacks on ``--prompt-cache auto``, the prompt-cache ledger split and the prompt-cache doctor (issue 19).

Real SDK clients over loopback HTTP against a strict fake provider that rejects what the real APIs reject
(a 5th breakpoint, a 1h entry after a 5m one, a breakpoint on a thinking block or on a part type that has no
such field, cache fields on models without them), or against the sandbox. Docstrings name the tests that
failed before their fix; the others guard a promise nothing else guards.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import anthropic
import openai
import pytest

import llmcost_magic
from llmcost_magic import meter
from llmcost_magic.core.provider_rules import openai_has_breakpoints
from llmcost_magic.policies.prompt_cache import place_breakpoints
from tests.fake_provider import JsonServer

POLICY = "Support policy. " + " ".join(f"Rule {i}: items of class {i} can be returned within {i % 30 + 1} days."
                                       for i in range(220))  # ~2,900 tokens: above every 1,024 / 2,048 minimum
OPENAI_MARKABLE = {"text", "image_url", "input_audio", "file"}  # content parts that have prompt_cache_breakpoint
ANTHROPIC_UNMARKABLE = {"thinking", "redacted_thinking"}


def _anthropic_problem(body: dict[str, Any]) -> str | None:
    """What the Messages API would answer 400 to about cache_control (None: accepted)."""
    ttls = []
    parts: list[Any] = list(body.get("tools") or [])
    parts += body["system"] if isinstance(body.get("system"), list) else []
    for message in body["messages"]:
        parts += message["content"] if isinstance(message.get("content"), list) else []
    for part in parts:
        control = part.get("cache_control") if isinstance(part, dict) else None
        if control is None:
            continue
        if part.get("type") in ANTHROPIC_UNMARKABLE:
            return "cache_control cannot be set on thinking blocks"
        if part.get("type") == "text" and not part.get("text"):
            return "cache_control cannot be set for empty text blocks"
        ttls.append(control.get("ttl", "5m"))
    if isinstance(body.get("cache_control"), dict):
        ttls.append(body["cache_control"].get("ttl", "5m"))
    if len(ttls) > 4:
        return f"A maximum of 4 blocks with cache_control may be provided. Found {len(ttls)}."
    if "1h" in ttls[ttls.index("5m") + 1:] if "5m" in ttls else False:
        return "a ttl='1h' cache_control block must not come after a ttl='5m' cache_control block"
    return None


def _openai_problem(body: dict[str, Any]) -> str | None:
    """What Chat Completions would answer 400 to about prompt caching fields (None: accepted)."""
    newer = openai_has_breakpoints(str(body.get("model")))
    if not newer and "prompt_cache_options" in body:
        return "prompt_cache_options is not supported with this model"
    for message in body.get("messages") or []:
        for part in message.get("content") if isinstance(message.get("content"), list) else []:
            if "prompt_cache_breakpoint" not in part:
                continue
            if not newer:
                return "prompt_cache_breakpoint is not supported with this model"
            if part.get("type") not in OPENAI_MARKABLE or part["prompt_cache_breakpoint"].get("mode") != "explicit":
                return f"Unrecognized parameter prompt_cache_breakpoint on a {part.get('type')} part"
    return None


def _anthropic_answer(body: dict[str, Any]) -> dict[str, Any]:
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": body["model"], "stop_reason": "end_turn",
            "stop_sequence": None, "content": [{"type": "text", "text": "ok"}],
            "usage": {"input_tokens": len(json.dumps(body)) // 4, "output_tokens": 1}}


def _openai_answer(body: dict[str, Any]) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": body["model"],
            "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11},
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}


class StrictProvider(JsonServer):
    """Both APIs on loopback: records every body it receives, answers 400 to what the real API rejects."""

    def __init__(self) -> None:
        super().__init__(self._respond)

    @staticmethod
    def _respond(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        anthropic_api = path.endswith("/messages")
        problem = (_anthropic_problem if anthropic_api else _openai_problem)(body)
        if problem:
            return 400, {"type": "error", "error": {"type": "invalid_request_error", "message": problem}}
        return 200, (_anthropic_answer if anthropic_api else _openai_answer)(body)

    def anthropic(self) -> anthropic.Anthropic:
        return anthropic.Anthropic(api_key="x", base_url=self.url, max_retries=0)

    def openai(self) -> openai.OpenAI:
        return openai.OpenAI(api_key="x", base_url=self.url + "/v1", max_retries=0)


@pytest.fixture
def strict():
    provider = StrictProvider()
    yield provider
    provider.close()


TOOL_CALL = {"id": "call_1", "type": "function", "function": {"name": "lookup_order", "arguments": "{\"id\": \"5\"}"}}


@pytest.mark.parametrize("assistant", [
    {"role": "assistant", "content": None, "tool_calls": [TOOL_CALL]},
    {"role": "assistant", "tool_calls": [TOOL_CALL]},
    {"role": "assistant", "content": [{"type": "refusal", "refusal": "I cannot look that up."}]},
], ids=["content None", "no content", "refusal part"])
def test_gpt56_agent_loop_turn_after_a_tool_call_is_sent_and_accepted(strict, assistant):
    """The turn after a tool call: the stable prefix ends on the assistant message that made the call, which has
    no text part (content None or absent) or only a refusal part. Before: ``auto`` raised TypeError/KeyError
    out of the user's ``chat.completions.create`` (every GPT-5.6 agent loop broke on its second turn), or put
    ``prompt_cache_breakpoint`` on a refusal part, which has no such field (a 400). Now the breakpoint goes on
    the last block before it that can carry one."""
    messages = [{"role": "system", "content": POLICY}, {"role": "user", "content": "Where is order 5?"}, assistant,
                {"role": "tool", "tool_call_id": "call_1", "content": "shipped"}]
    sent = copy.deepcopy(messages)
    with meter(prompt_cache="auto"):
        strict.openai().chat.completions.create(model="gpt-5.6", messages=messages)
    assert messages == sent  # the user's list is untouched
    body = strict.bodies[-1]
    marked = [(i, part) for i, m in enumerate(body["messages"]) if isinstance(m.get("content"), list)
              for part in m["content"] if "prompt_cache_breakpoint" in part]
    assert [i for i, _ in marked] == [1]  # the user's question before the call: the last markable block
    assert "explicit breakpoint on messages[1]" in llmcost_magic.ledger().iloc[-1].note


def test_a_prompt_that_mentions_cache_control_is_still_marked():
    """A documentation assistant whose prompt talks about prompt caching. Before: ``auto`` searched the JSON text
    for "cache_control" and, finding the word in the system prompt, left every such request unmarked (the user
    asked for caching and silently got none). Now only real markers (keys, at any depth) count as the user's own."""
    system = POLICY + " Explain how the cache_control field and prompt_cache_breakpoint work."
    body = {"model": "claude-sonnet-4-6", "max_tokens": 50, "system": system, "messages": [{"role": "user", "content": "hi"}]}
    marked, note = place_breakpoints(body, "claude-sonnet-4-6")
    assert marked["system"][0]["cache_control"] == {"type": "ephemeral"} and "breakpoint on system" in note
    nested = {**body, "system": POLICY, "messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
              "content": [{"type": "text", "text": "x", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]}]}]}
    assert place_breakpoints(nested, "claude-sonnet-4-6") == (nested, "")  # a breakpoint inside a tool_result is the user's own


def test_a_prefilled_answer_does_not_move_the_breakpoint_onto_the_question():
    """A long document, then the question, then a prefilled assistant turn (``{`` to force JSON). Before: the
    stable part was taken to end one block before the last block, i.e. on the question: every call paid a
    1.25x write of document + question and none was ever read. Now the breakpoint is on the document."""
    from llmcost_magic.sandbox import Sandbox, client

    ac = client("anthropic", sandbox=Sandbox())
    with meter(prompt_cache="auto"):
        for question in ("Summarise rule 7.", "Summarise rule 8.", "Summarise rule 9."):
            ac.messages.create(model="claude-sonnet-4-6", max_tokens=50, messages=[
                {"role": "user", "content": [{"type": "text", "text": POLICY}, {"type": "text", "text": question}]},
                {"role": "assistant", "content": "{"}])
    df = llmcost_magic.ledger()
    assert (df.iloc[1:].cached_input_tokens > 1024).all() and df.saved_usd.sum() > 0
    assert df.note.str.contains(r"breakpoint on messages\[0\].user\[0\]").all()


M = 1e-6
ANTHROPIC_USAGE = {"input_tokens": 100, "output_tokens": 50, "cache_read_input_tokens": 2_000,
                   "cache_creation_input_tokens": 3_000,
                   "cache_creation": {"ephemeral_5m_input_tokens": 1_000, "ephemeral_1h_input_tokens": 2_000}}
# claude-sonnet-4-6: $3 in, $15 out, reads $0.30, 5m writes $3.75, 1h writes $6 per million
ANTHROPIC_COST = (100 * 3 + 2_000 * 0.3 + 1_000 * 3.75 + 2_000 * 6 + 50 * 15) * M
ANTHROPIC_BASELINE = (5_100 * 3 + 50 * 15) * M


def _anthropic_events(usage: dict[str, Any], delta_usage: dict[str, Any]) -> list[dict[str, Any]]:
    start = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-6", "content": [],
             "stop_reason": None, "stop_sequence": None, "usage": {**usage, "output_tokens": 1}}
    return [{"type": "message_start", "message": start},
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "ok"}},
            {"type": "content_block_stop", "index": 0},
            {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": delta_usage},
            {"type": "message_stop"}]


@pytest.mark.parametrize("shape", ["json", "stream", "stream, cumulative delta"])
def test_anthropic_read_5m_and_1h_writes_priced_exactly_with_a_negative_saving(shape):
    """Reads, 5m and 1h writes each at their own rate; the 1h premium costs more than the reads save, so the
    row's prompt_cache saving is negative, and re-pricing the row gives the ledger's dollars. The stream's
    message_delta may repeat the cumulative cache counts (the API does): they are not counted twice."""
    from tests.fake_provider import FakeProvider

    with FakeProvider() as fake:
        ac = anthropic.Anthropic(api_key="x", base_url=fake.url, max_retries=0)
        if shape == "json":
            fake.reply({**_anthropic_answer({"model": "claude-sonnet-4-6"}), "usage": ANTHROPIC_USAGE})
        else:
            delta = dict(ANTHROPIC_USAGE) if "cumulative" in shape else {"output_tokens": 50}
            fake.stream(_anthropic_events(ANTHROPIC_USAGE, delta), named=True)
        with meter():
            answer = ac.messages.create(model="claude-sonnet-4-6", max_tokens=50, stream=shape != "json",
                                        messages=[{"role": "user", "content": "hi"}])
            for _ in answer if shape != "json" else ():
                pass
    calls = llmcost_magic.ledger()
    row = calls.iloc[-1]
    assert (row.cached_input_tokens, row.cache_write_tokens, row.input_tokens) == (2_000, 3_000, 5_100)
    assert row.cost_usd == pytest.approx(ANTHROPIC_COST, abs=1e-12)
    assert row.saved_by == "prompt_cache" and row.saved_usd == pytest.approx(ANTHROPIC_BASELINE - ANTHROPIC_COST, abs=1e-12)
    assert row.saved_usd < 0
    assert llmcost_magic.whatif(calls).loc["actual (re-priced)", "cost_usd"] == pytest.approx(row.cost_usd, abs=1e-12)


def _own_breakpoints(n: int) -> dict[str, Any]:
    hour, five = {"type": "ephemeral", "ttl": "1h"}, {"type": "ephemeral"}
    tools = [{"name": f"tool_{i}", "description": POLICY[:400], "input_schema": {"type": "object"}} for i in range(2)]
    tools[-1]["cache_control"] = hour
    system = [{"type": "text", "text": POLICY, "cache_control": hour}]
    messages = [{"role": "user", "content": [{"type": "text", "text": POLICY, **({"cache_control": five} if n > 2 else {})}]},
                {"role": "assistant", "content": [{"type": "text", "text": "Noted.", **({"cache_control": five} if n > 3 else {})}]},
                {"role": "user", "content": "And shoes?"}]
    return {"model": "claude-sonnet-4-6", "max_tokens": 50, "tools": tools, "system": system, "messages": messages}


@pytest.mark.parametrize("own", [2, 3, 4])
def test_a_request_with_its_own_breakpoints_is_sent_as_written_every_time(strict, own):
    """The user's own breakpoints on tools + system + messages (1h before 5m, up to the limit of 4), one request
    dict reused for several calls: auto adds nothing (never a 5th, never a 5m before their 1h), the API accepts
    every call and the user's dict is never changed."""
    body = _own_breakpoints(own)
    before = copy.deepcopy(body)
    with meter(prompt_cache="auto"):
        for _ in range(2):
            strict.anthropic().messages.create(**body)
    assert body == before and all(sent == before for sent in strict.bodies)


def test_a_thinking_conversation_ending_in_a_tool_result_is_accepted_and_left_unchanged(strict):
    """Thinking blocks and a tool_result (with an image) at the end: auto uses automatic mode plus a breakpoint
    on the system prompt, never cache_control on a thinking block; the user's messages stay as written."""
    messages = [{"role": "user", "content": "Where is order 5?"},
                {"role": "assistant", "content": [{"type": "thinking", "thinking": "Look it up.", "signature": "sig"},
                                                  {"type": "tool_use", "id": "t1", "name": "lookup_order", "input": {"id": "5"}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [
                    {"type": "text", "text": "shipped"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}]}]}]
    before = copy.deepcopy(messages)
    tools = [{"name": "lookup_order", "description": "Find an order", "input_schema": {"type": "object"}}]
    with meter(prompt_cache="auto"):
        strict.anthropic().messages.create(model="claude-sonnet-4-6", max_tokens=2_000, system=POLICY, tools=tools,
                                           thinking={"type": "enabled", "budget_tokens": 1_024}, messages=messages)
    sent = strict.bodies[-1]
    assert messages == before and sent["messages"] == before and sent["cache_control"] == {"type": "ephemeral"}
    assert sent["system"][-1]["cache_control"] == {"type": "ephemeral"}


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-5", "gpt-5.5", "o3"])
def test_models_before_gpt56_never_get_cache_fields(strict, model):
    """Automatic 128-token prefix caching only: no prompt_cache_breakpoint or options (the API rejects them)."""
    messages = [{"role": "system", "content": POLICY}, {"role": "user", "content": "Can I return a phone?"}]
    with meter(prompt_cache="auto"):
        strict.openai().chat.completions.create(model=model, messages=messages)
    assert strict.bodies[-1]["messages"] == messages and "prompt_cache_options" not in strict.bodies[-1]


def test_responses_requests_are_left_as_written():
    body = {"model": "gpt-5.6", "instructions": POLICY, "input": [{"role": "user", "content": "Can I return a phone?"}]}
    assert place_breakpoints(body, "gpt-5.6", "openai") == (body, "")
    assert place_breakpoints({**body, "model": "gpt-4o"}, "gpt-4o", "openai")[1] == ""


def test_a_system_prompt_just_under_the_minimum_is_not_marked_and_one_at_it_is_cached():
    """The policy and the sandbox count with the same counter: one character under 1,024 tokens on Sonnet is left
    alone; 1,024 is marked, written once and read by the next call."""
    from llmcost_magic.core.tokens import count_text_tokens
    from llmcost_magic.sandbox import Sandbox, client

    def count(n: int) -> int:
        return count_text_tokens(POLICY[:n], "claude-sonnet-4-6")

    low, high = 0, len(POLICY)  # the shortest prefix of 1,024 tokens
    while low < high:
        low, high = (low, (low + high) // 2) if count((low + high) // 2) >= 1_024 else ((low + high) // 2 + 1, high)
    under, at = POLICY[: low - 1], POLICY[:low]
    assert count(low) == 1_024 and 1_022 <= count(low - 1) < 1_024  # one character less: just under
    ac = client("anthropic", sandbox=Sandbox())
    for tag, system in (("under", under), ("at", at)):
        with meter(tag=tag, prompt_cache="auto"):
            for q in ("Can I return a phone?", "Can I return shoes?"):
                ac.messages.create(model="claude-sonnet-4-6", max_tokens=20, system=system, messages=[{"role": "user", "content": q}])
    df = llmcost_magic.ledger()
    assert not df[df.tag == "under"].note.str.contains("prompt-cache").any() and df[df.tag == "under"].cache_write_tokens.sum() == 0
    at_rows = df[df.tag == "at"]
    assert list(at_rows.cache_write_tokens) == [1_024, 0] and list(at_rows.cached_input_tokens) == [0, 1_024]


@pytest.mark.parametrize(("old", "new"), [
    ("", ""), ("a", ""), ("abc", "abc"), ("abc", "abd"), ("x" * 4096, "x" * 4097), ("x" * 4096 + "a", "x" * 4096 + "b"),
    ("y" * 9000 + "tail", "z" + "y" * 8999 + "tail"), ("same" * 3000, "same" * 3000 + "!"), ("ab" * 5000, "ab" * 4999 + "b"),
])
def test_the_doctors_chunked_comparison_equals_the_per_character_one(old, new):
    """The doctor compares texts in chunks (the per-character os.path.commonprefix took 39 s on 60 calls of a
    100k-token prompt: benchmarks/bench_doctor.py); prefix and suffix lengths stay exactly the same."""
    import os

    from llmcost_magic.policies.prompt_cache_doctor import _common_ends

    prefix = len(os.path.commonprefix([old, new]))
    assert _common_ends(old, new) == (prefix, len(os.path.commonprefix([old[prefix:][::-1], new[prefix:][::-1]])))


def test_a_timestamp_in_front_of_a_long_system_prompt_is_named(strict):
    """A ~250k-token system prompt that starts with the time: the doctor names the timestamp and its fix."""
    from llmcost_magic.policies.prompt_trail import current_trail

    current_trail().clear()
    body = "Policy line. " * 80_000
    client = strict.anthropic()
    with meter():
        for minute in (15, 16, 17):
            client.messages.create(model="claude-sonnet-4-6", max_tokens=5, system=f"Now: 2026-11-30 09:{minute}. " + body,
                                   messages=[{"role": "user", "content": "hi"}])
    table = llmcost_magic.prompt_cache_doctor().table
    assert list(table.reason) == ["first call", "prefix changed", "prefix changed"]
    assert table.detail.iloc[2].startswith("a timestamp ('09:16") and "'09:17" in table.detail.iloc[2]
    assert "move the timestamp" in table.fix.iloc[2]


KEYS = ["sk-proj-" + "Ab3dE5fG7hJ9kL1mN3pQ5rS7", "sk-ant-api03-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2", "AKIA" + "IOSFODNN7EXAMPLE",
        "ghp_" + "1a2b3c4d5e6f7g8h9i0jKLMNOPQRSTuvwx"]


@pytest.mark.parametrize("key", KEYS, ids=["openai", "anthropic", "aws", "github"])
def test_the_doctor_never_shows_a_credential_that_changed_in_a_prompt(strict, key, capsys):
    """A system prompt carrying a credential for a tool, rotated between calls. Before: the doctor's excerpt of the
    edit printed the old and new keys ("an edit ('sk-proj-Ab3d…' → 'sk-proj-Zz…')") into the notebook's output.
    Now credential-shaped words are masked in every excerpt; the verdict and the fix stay."""
    from llmcost_magic.policies.prompt_trail import current_trail

    current_trail().clear()
    rotated = key[:-6] + "QQQQQQ"
    client = strict.anthropic()
    with meter():
        for secret in (key, rotated):
            client.messages.create(model="claude-sonnet-4-6", max_tokens=5, messages=[{"role": "user", "content": "hi"}],
                                   system=POLICY + f" Call the orders tool with the header X-Token: {secret} on every request.")
    report = llmcost_magic.prompt_cache_doctor()
    shown = repr(report) + report._repr_html_() + report.table.to_string()
    assert report.table.reason.iloc[-1] == "prefix changed" and "edit" in report.table.detail.iloc[-1]
    assert key[:12] not in shown and key[8:20] not in shown and "QQQQQQ" not in shown and "***" in shown


@pytest.fixture
def world():
    from llmcost_magic.policies.prompt_trail import current_trail
    from llmcost_magic.sandbox import ManualClock, Sandbox, client

    clock, trail = ManualClock(), current_trail()
    trail.clear()
    previous, trail.clock = trail.clock, clock
    yield clock, client("anthropic", sandbox=Sandbox(clock=clock))
    trail.clock = previous
    trail.clear()


def _ask(ac, system, question):
    ac.messages.create(model="claude-sonnet-4-6", max_tokens=20, messages=[{"role": "user", "content": question}],
                       system=[{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}])


@pytest.mark.parametrize("idle", [299.0, 300.0, 301.0])
def test_ttl_expiry_at_the_five_minute_boundary_agrees_with_the_provider(world, idle):
    """Idle exactly 5 minutes: the sandbox (the provider) no longer serves the 5m entry. The doctor must say the TTL
    expired whenever the provider missed for it, never "eligible and within the TTL, but the provider read nothing"."""
    clock, ac = world
    with meter():
        _ask(ac, POLICY, "Can I return a phone?")
        clock.advance(idle)
        _ask(ac, POLICY, "Can I return shoes?")
    calls = llmcost_magic.ledger()
    table = llmcost_magic.prompt_cache_doctor().table
    if calls.cached_input_tokens.iloc[-1] > 0:
        assert list(table.reason) == ["first call"]
    else:
        assert list(table.reason) == ["first call", "TTL expired"]


def test_a_one_token_edit_deep_inside_the_cached_block_is_named(world):
    """One number changed in the middle of a ~2,900-token policy (the breakpoint after it): the doctor names the
    edit, word for word, and prices the miss."""
    clock, ac = world
    edited = POLICY.replace("Rule 107: items of class 107 can be returned within 18 days.",
                            "Rule 107: items of class 107 can be returned within 19 days.")
    assert edited != POLICY
    with meter():
        _ask(ac, POLICY, "Can I return a phone?")
        _ask(ac, edited, "Can I return shoes?")
    finding = llmcost_magic.prompt_cache_doctor().table.iloc[-1]
    assert (finding.reason, finding.block) == ("prefix changed", "block 0 (system[0])")
    assert finding.detail == "an edit ('18' → '19')" and finding.miss_usd > 0


@pytest.mark.parametrize("route", ["cascade", "rules"])
def test_routing_a_gpt56_request_to_an_older_model_never_sends_it_gpt56_cache_fields(strict, route):
    """``--prompt-cache auto`` (or the user's own breakpoint) on a GPT-5.6 request, with routing that sends it to
    gpt-4o-mini / gpt-4.1 (the default tiers). Before: the cascade's attempts carried the prompt_cache_breakpoint
    placed for GPT-5.6 (and the router kept the user's), which older models reject: every attempt a 400.
    Now each attempt's body fits its own model."""
    own = [{"role": "system", "content": [{"type": "text", "text": POLICY, "prompt_cache_breakpoint": {"mode": "explicit"}}]},
           {"role": "user", "content": "Summarize rule 7."}]
    for messages in ([{"role": "system", "content": POLICY}, {"role": "user", "content": "Summarize rule 7."}], own):
        with meter(prompt_cache="auto", route=route):
            strict.openai().chat.completions.create(model="gpt-5.6", messages=messages)
    sent = [(b["model"], _openai_problem(b)) for b in strict.bodies]
    assert sent and all(problem is None for _, problem in sent), sent
    assert any(model != "gpt-5.6" for model, _ in sent)


def test_gpt56_chat_cache_reads_and_paid_writes_priced_exactly():
    """GPT-5.6 Chat usage: cached_tokens at the read rate, cache_write_tokens at 1.25x input ($4 in, $0.40 read,
    $5 write per million); a write-heavy call's prompt_cache saving is negative; re-pricing equals the ledger."""
    from tests.fake_provider import FakeProvider

    usage = {"prompt_tokens": 10_000, "completion_tokens": 100, "total_tokens": 10_100,
             "prompt_tokens_details": {"cached_tokens": 1_000, "cache_write_tokens": 8_000}}
    with FakeProvider() as fake:
        fake.reply({**_openai_answer({"model": "gpt-5.6"}), "usage": usage})
        with meter():
            openai.OpenAI(api_key="x", base_url=fake.url + "/v1", max_retries=0).chat.completions.create(
                model="gpt-5.6", messages=[{"role": "user", "content": "hi"}])
    calls = llmcost_magic.ledger()
    row = calls.iloc[-1]
    cost = (1_000 * 4 + 1_000 * 0.4 + 8_000 * 5 + 100 * 20) * M
    assert row.cost_usd == pytest.approx(cost, abs=1e-12) and row.saved_by == "prompt_cache"
    assert row.saved_usd == pytest.approx((10_000 * 4 + 100 * 20) * M - cost, abs=1e-12) and row.saved_usd < 0
    assert llmcost_magic.whatif(calls).loc["actual (re-priced)", "cost_usd"] == pytest.approx(row.cost_usd, abs=1e-12)


def test_auto_on_a_reused_request_dict_sends_the_same_marked_body_each_time(strict):
    """One request dict (string system prompt and string content) reused for three calls under auto: each call
    sends the same marked copy, and the user's dict keeps its strings."""
    body = {"model": "claude-sonnet-4-6", "max_tokens": 20, "system": POLICY, "messages": [{"role": "user", "content": "hi"}]}
    before = copy.deepcopy(body)
    with meter(prompt_cache="auto"):
        for _ in range(3):
            strict.anthropic().messages.create(**body)
    assert body == before and strict.bodies[0] == strict.bodies[1] == strict.bodies[2]
    assert strict.bodies[0]["system"][0]["cache_control"] == {"type": "ephemeral"}


def test_an_empty_system_prompt_after_long_tools_is_not_marked(strict):
    """Long tool definitions and ``system=""``: the breakpoint goes on the last tool. Before the markable-block fix
    auto turned the empty string into an empty text block with cache_control, which the API rejects."""
    tools = [{"name": f"tool_{i}", "description": POLICY[:2_000], "input_schema": {"type": "object"}} for i in range(3)]
    with meter(prompt_cache="auto"):
        strict.anthropic().messages.create(model="claude-sonnet-4-6", max_tokens=20, system="", tools=tools,
                                           messages=[{"role": "user", "content": "hi"}])
    sent = strict.bodies[-1]
    assert sent["system"] == "" and sent["tools"][-1]["cache_control"] == {"type": "ephemeral"}


@pytest.mark.parametrize("automatic", [False, True])
def test_the_sandbox_rejects_a_1h_entry_after_a_5m_one_like_the_api(automatic):
    """Anthropic: 1-hour entries must come before 5-minute ones, else a 400. Before: the sandbox (notebook 05's
    provider) accepted a 5m system breakpoint followed by a 1h one, so a learner's request that works in the
    course failed against the real API. The 1h-then-5m order stays accepted."""
    from llmcost_magic.sandbox import Sandbox, client

    ac = client("anthropic", sandbox=Sandbox())
    five, hour = {"type": "ephemeral"}, {"type": "ephemeral", "ttl": "1h"}
    question = [{"type": "text", "text": "Can I return a phone?", **({} if automatic else {"cache_control": hour})}]
    extra = {"cache_control": hour} if automatic else {}
    with pytest.raises(anthropic.BadRequestError, match="1h"):
        ac.messages.create(model="claude-sonnet-4-6", max_tokens=20, system=[{"type": "text", "text": POLICY, "cache_control": five}],
                           messages=[{"role": "user", "content": question}], **extra)
    reply = ac.messages.create(model="claude-sonnet-4-6", max_tokens=20, system=[{"type": "text", "text": POLICY, "cache_control": hour}],
                               messages=[{"role": "user", "content": [{"type": "text", "text": "Hi", "cache_control": five}]}])
    assert reply.usage.cache_creation.ephemeral_1h_input_tokens > 1024


def _random_body(rng, provider: str) -> dict[str, Any]:
    """A request with any mix of part types, string/list/None/absent/empty contents and roles."""
    def text():
        return rng.choice(["", "hi", POLICY, POLICY[:3_000]])

    kinds = (["text", "image", "document", "tool_result", "tool_use", "thinking", "redacted_thinking", "loose"]
             if provider == "anthropic" else ["text", "image_url", "refusal", "input_audio", "loose"])

    def part():
        kind = rng.choice(kinds)
        extra = {"text": {"text": text()}, "thinking": {"thinking": text(), "signature": "s"}, "refusal": {"refusal": "no"},
                 "tool_result": {"tool_use_id": "t", "content": [{"type": "text", "text": text()}]}}.get(kind, {})
        return "loose" if kind == "loose" else {"type": kind, **extra}

    def content():
        return rng.choice([{"content": text()}, {"content": [part() for _ in range(rng.randint(1, 4))]}, {"content": None}, {},
                           {"content": []}])

    if provider == "anthropic":
        roles, body = ["user", "assistant"], {"model": "claude-sonnet-4-6", "max_tokens": 5}
        body["tools"] = [{"name": f"t{i}", "description": text(), "input_schema": {}} for i in range(rng.randint(0, 2))]
        body["system"] = rng.choice([text(), [{"type": "text", "text": text()} for _ in range(rng.randint(0, 2))]])
    else:
        roles, body = ["system", "developer", "user", "assistant", "tool"], {"model": rng.choice(["gpt-5.6", "gpt-4o"])}
    body["messages"] = [{"role": rng.choice(roles), **content()} for _ in range(rng.randint(1, 6))]
    for message in body["messages"]:
        if message["role"] == "assistant" and provider == "openai" and rng.random() < 0.5:
            message["tool_calls"] = [TOOL_CALL]
    return body


def test_auto_on_random_requests_never_crashes_mutates_or_adds_what_the_api_rejects():
    """600 random requests (seeded; 6,500 more passed while writing this): place_breakpoints returns, leaves the
    user's request as it was, and the marked copy adds nothing the strict provider rejects (nor a 5th marker)."""
    import random

    rng = random.Random(19)
    for _ in range(600):
        provider = rng.choice(["anthropic", "openai"])
        body = _random_body(rng, provider)
        before = copy.deepcopy(body)
        marked, _ = place_breakpoints(body, body["model"], provider)
        assert body == before
        check = _anthropic_problem if provider == "anthropic" else _openai_problem
        assert marked is body or check(marked) is None or check(before) is not None, (provider, before)


def test_routing_an_in_memory_retention_request_to_gpt56_drops_the_retention_it_rejects():
    """A gpt-4o request with prompt_cache_retention="in_memory" (valid there), routed to a GPT-5.6 tier: GPT-5.6
    accepts only "24h" (the sandbox answers 400, as the API does). Before: the routed call failed. Now the router
    drops the retention the new model refuses (GPT-5.6 caches with its own TTL)."""
    from llmcost_magic.policies.tiers import load_tiers
    from llmcost_magic.sandbox import Sandbox, client

    tiers = load_tiers({"tiers": {"small": {"openai": "gpt-5.6"}, "large": {"openai": "gpt-5.6"}}, "default": "small"})
    oc = client("openai", sandbox=Sandbox())
    with meter(route="rules", tiers=tiers):
        oc.chat.completions.create(model="gpt-4o", prompt_cache_retention="in_memory",
                                   messages=[{"role": "user", "content": "Translate 'hello' to French."}])
    assert llmcost_magic.ledger().iloc[-1].model == "gpt-5.6"
