"""Attacks on routing, cascades, output controls and the budget fallback (issues 6 and 17).

A strict fake OpenAI provider over loopback HTTP records each body it receives and answers 400 to what the
real API rejects (``max_tokens``, ``stop`` or a temperature on reasoning models; ``reasoning_effort`` on the
others; more than 4 stop sequences). Real SDK clients, real SQLite. Each docstring says whether the test
failed before its fix or guards a promise nothing else guards.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

import llmcost_magic
from llmcost_magic import meter
from llmcost_magic.policies.tiers import TierFileError, load_tiers
from tests.fake_provider import JsonServer

MSG = [{"role": "user", "content": "Say hello."}]
_REASONING = ("o1", "o3", "o4", "gpt-5")


def _rejects(body: dict[str, Any]) -> str | None:
    """What the real Chat Completions API would answer 400 to (the parameters this file attacks)."""
    model = str(body.get("model"))
    reasoning = model.startswith(_REASONING) and not model.startswith("gpt-5-chat")
    if reasoning and "max_tokens" in body:
        return "Unsupported parameter: 'max_tokens' is not supported with this model."
    if reasoning and "stop" in body:
        return "Unsupported parameter: 'stop' is not supported with this model."
    if reasoning and body.get("temperature", 1) != 1:
        return "Unsupported value: 'temperature' does not support 0.2 with this model."
    if not reasoning and "reasoning_effort" in body:
        return "Unrecognized request argument supplied: reasoning_effort"
    if model == "gpt-4o-mini" and "LONG DOCUMENT" in json.dumps(body.get("messages")):  # over its 128k window
        return "This model's maximum context length is 128000 tokens. (context_length_exceeded)"
    if isinstance(body.get("stop"), list) and len(body["stop"]) > 4:
        return "'stop': array too long. Expected an array with maximum length 4."
    return None


class StrictFake(JsonServer):
    """Answers each chat call with ``self.answer`` (text) or ``self.tool_call`` when the request has tools."""

    def __init__(self) -> None:
        self.tool_call = True
        super().__init__(self._respond)

    def _respond(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        error = _rejects(body)
        if error:
            return 400, {"error": {"message": error, "type": "invalid_request_error"}}
        return 200, self._answer(body)

    def _answer(self, body: dict[str, Any]) -> dict[str, Any]:
        if "Classify the complexity" in json.dumps(body.get("messages")):
            message, finish = {"role": "assistant", "content": '{"complexity": "simple"}'}, "stop"
        elif body.get("tools") and self.tool_call:
            message = {"role": "assistant", "content": None, "tool_calls": [
                {"id": "t1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Seoul"}'}}]}
            finish = "tool_calls"
        else:
            message, finish = {"role": "assistant", "content": "hello\nConfidence: 0.95"}, "stop"
        return {"id": "c1", "object": "chat.completion", "created": 1, "model": body["model"],
                "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
                "choices": [{"index": 0, "message": message, "finish_reason": finish}]}

    def client(self) -> openai.OpenAI:
        return openai.OpenAI(api_key="x", base_url=self.url + "/v1", max_retries=0)


@pytest.fixture
def fake():
    server = StrictFake()
    yield server
    server.close()


TOOLS = [{"type": "function", "function": {"name": "weather", "description": "Weather of a city",
                                            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]


@pytest.mark.parametrize("model", ["o3", "gpt-5", "o4-mini"])
def test_stop_is_not_sent_to_reasoning_models(fake, model):
    """``--stop`` on o3 / gpt-5 (which reject ``stop``). Failed before: every call of the cell answered 400
    "Unsupported parameter: 'stop'". Now the stop is left out there and the ledger note says so."""
    with meter(stop=("\n\n",)):
        fake.client().chat.completions.create(model=model, messages=MSG)
    assert "stop" not in fake.bodies[-1]
    row = llmcost_magic.ledger().iloc[-1]
    assert row.status == "ok" and "stop not sent" in row.note


def test_max_tokens_default_on_a_reasoning_model_is_max_completion_tokens(fake):
    """``--max-tokens`` on o3 injects ``max_completion_tokens`` only; a body that has its own cap is untouched
    (guard: the batch lines had this bug)."""
    with meter(max_tokens=50):
        fake.client().chat.completions.create(model="o3", messages=MSG)
        fake.client().chat.completions.create(model="gpt-5", messages=MSG, max_completion_tokens=7)
    assert fake.bodies[0]["max_completion_tokens"] == 50 and "max_tokens" not in fake.bodies[0]
    assert fake.bodies[1]["max_completion_tokens"] == 7 and "max_tokens" not in fake.bodies[1]


def test_more_than_four_stop_sequences_send_the_first_four_to_openai(fake):
    """OpenAI takes at most 4 stop sequences. Failed before: ``--stop`` with 5 answered 400 on every call. Now
    the first 4 are sent and the note says which were left out."""
    with meter(stop=("a", "b", "c", "d", "e")):
        fake.client().chat.completions.create(model="gpt-4o-mini", messages=MSG)
    assert fake.bodies[-1]["stop"] == ["a", "b", "c", "d"]
    assert "'e'" in llmcost_magic.ledger().iloc[-1].note


def test_cascade_accepts_a_tool_call_from_the_small_tier(fake):
    """A tool-calling request under ``--route cascade``: the small tier answers with a tool call (no text).
    Failed before: the cascade called that an "empty answer" and escalated through every tier, so each tool
    call cost small + medium + large. Now a tool call is accepted (it has no text to check)."""
    with meter(route="cascade"):
        answer = fake.client().chat.completions.create(model="gpt-4.1", messages=MSG, tools=TOOLS)
    assert answer.choices[0].message.tool_calls[0].function.name == "weather"
    assert len(fake.bodies) == 1 and fake.bodies[0]["model"] == "gpt-4o-mini"
    row = llmcost_magic.ledger().iloc[-1]
    assert row.model == "gpt-4o-mini" and row.requested_model == "gpt-4.1" and "accepted" in row.note
    from llmcost_magic.policies.cascade import CascadeSettings, why_escalate

    assert why_escalate("", "tool_use", CascadeSettings()) is None  # Anthropic's tool call, likewise


def test_a_tier_naming_another_providers_model_is_refused():
    """``openai: claude-haiku-4-5`` in a tiers file would send a Claude name to OpenAI's API (404 on every
    routed call). Failed before: accepted. Now a TierFileError names the tier and the provider."""
    with pytest.raises(TierFileError, match="small.*openai.*claude-haiku-4-5"):
        load_tiers({"tiers": {"small": {"openai": "claude-haiku-4-5"}, "large": {"openai": "gpt-4.1"}}})
    with pytest.raises(TierFileError, match="anthropic.*gpt-4o"):
        load_tiers({"tiers": {"small": {"anthropic": "gpt-4o"}}})


@pytest.mark.parametrize("model", ["text-embedding-3-small", "gpt-4o-mini-tts", "tts-1", "whisper-1"])
def test_a_tier_naming_a_model_that_does_not_chat_is_refused(model):
    """A priced model that does not answer chat requests as a tier (a slip such as ``text-embedding-3-small``).
    Failed before: accepted (it has a price), and every call routed there answered 404. Now a TierFileError."""
    with pytest.raises(TierFileError, match="does not answer chat"):
        load_tiers({"tiers": {"small": {"openai": model}, "large": {"openai": "gpt-4.1"}}})


def test_a_route_to_a_model_that_rejects_the_request_keeps_the_requested_model(fake):
    """A tiers file with a reasoning model as the large tier, and a request with ``temperature`` / ``max_tokens``
    routed there; or a ``reasoning_effort`` request routed to a small non-reasoning model. Failed before: the
    routed call answered 400. Now the route is skipped for that call and the note says why."""
    tiers = {"tiers": {"small": {"openai": "gpt-4o-mini"}, "large": {"openai": "gpt-5"}}, "default": "small",
             "rules": {"large": ["analyze"], "small": ["translate"]}}
    with meter(route="rules", tiers=tiers):
        fake.client().chat.completions.create(model="gpt-4.1", temperature=0.2, max_tokens=20,
                                              messages=[{"role": "user", "content": "Analyze this design."}])
        fake.client().chat.completions.create(model="o3", reasoning_effort="low",
                                              messages=[{"role": "user", "content": "Translate 'hi' to Korean."}])
    assert [b["model"] for b in fake.bodies] == ["gpt-4.1", "o3"]
    df = llmcost_magic.ledger()
    assert (df.status == "ok").all() and df.note.str.contains("route skipped").all()


def test_budget_fallback_picks_a_model_that_takes_the_request(fake):
    """``--budget-fallback`` near the limit on an o3 call with ``reasoning_effort``. Failed before: it stepped
    down to gpt-4.1-mini, which rejects ``reasoning_effort`` (400). Now it skips models that reject the
    request and steps down to one that takes it (a reasoning model)."""
    with meter(budget=0.005, budget_fallback=True):
        fake.client().chat.completions.create(model="o3", reasoning_effort="low", max_completion_tokens=2000,
                                              messages=MSG)
    sent = fake.bodies[-1]["model"]
    assert sent.startswith("gpt-5"), sent
    row = llmcost_magic.ledger().iloc[-1]
    assert row.status == "ok" and row.requested_model == "o3" and row.model == sent
    assert "budget fallback" in row.note


def test_concise_keeps_an_anthropic_cached_system_prefix_intact():
    """``--concise`` with Anthropic system blocks carrying ``cache_control``: the instruction is a block after
    them, so the cached prefix (and its breakpoint) is unchanged (guard)."""
    from llmcost_magic.policies.output_controls import OutputControls

    system = [{"type": "text", "text": "Long rules " * 400, "cache_control": {"type": "ephemeral"}}]
    out, _ = OutputControls(concise_words=40).apply("messages", {"model": "claude-haiku-4-5", "system": system,
                                                                  "max_tokens": 10, "messages": MSG})
    assert out["system"][0] == system[0] and out["system"][1]["text"] == "Answer in at most 40 words."
    out, _ = OutputControls(concise_words=40, stop=("x",)).apply("responses", {"model": "o3", "input": "hi",
                                                                                "instructions": "Be kind."})
    assert out["instructions"] == "Be kind.\n\nAnswer in at most 40 words." and "stop" not in out


def test_a_cascade_with_no_tier_for_the_provider_still_holds_its_budget():
    """Tiers for OpenAI only and an Anthropic call under ``--route cascade --budget``. Failed before: the call
    was treated as cascaded (so it skipped the budget hold) but no attempt was planned, so it went out
    unchecked past the limit. Now it goes as asked and holds its worst case: refused."""
    from llmcost_magic import sandbox

    tiers = {"tiers": {"small": {"openai": "gpt-4o-mini"}, "large": {"openai": "gpt-4.1"}}}
    client = sandbox.client("anthropic")
    with meter(route="cascade", tiers=tiers, budget=0.000001):
        with pytest.raises(Exception, match="(?i)budget"):
            client.messages.create(model="claude-opus-4-6", max_tokens=1000, messages=MSG)
    assert llmcost_magic.ledger().iloc[-1].status == "refused"


def test_the_classifier_router_works_with_a_reasoning_small_tier_and_its_row_says_whose_it_is(fake):
    """``--route classifier`` with a tiers file whose small model is gpt-5-nano. Failed before: the classifier's
    own call sent ``max_tokens`` (400), so every call fell back to the default tier after paying for nothing
    useful; and its row in the ledger looked like a user's call. Now it sends ``max_completion_tokens`` and its
    row's note says it is the router's own call (its cost counts against the router)."""
    from llmcost_magic.policies.routing import ClassifierRouter

    tiers = {"tiers": {"small": {"openai": "gpt-5-nano"}, "large": {"openai": "gpt-4.1"}}, "default": "large"}
    with meter(route=ClassifierRouter(client_factory=lambda provider: fake.client()), tiers=tiers):
        fake.client().chat.completions.create(model="gpt-4.1", messages=MSG)
    assert "max_tokens" not in fake.bodies[0] and fake.bodies[0]["model"] == "gpt-5-nano"
    assert fake.bodies[1]["model"] == "gpt-5-nano"
    df = llmcost_magic.ledger()
    assert list(df.status) == ["ok", "ok"] and "router's own call" in df.note.iloc[0]
    assert df.requested_model.iloc[1] == "gpt-4.1" and "classifier (gpt-5-nano): simple" in df.note.iloc[1]


@pytest.mark.parametrize("route", ["rules", "embedding"])
def test_embeddings_are_never_routed_to_a_chat_model(route):
    """``--route`` in a cell that also embeds. Failed before: the
    router sent ``text-embedding-3-small`` requests to the tier's chat model (gpt-4.1-mini), which the real
    API answers 404/400 on /v1/embeddings. Now only chat, messages and responses calls are routed (the legacy
    completions endpoint neither: the tiers' chat models are not served there)."""
    from llmcost_magic import sandbox

    client = sandbox.client("openai")
    with meter(route=route):
        client.embeddings.create(model="text-embedding-3-small", input="Translate hello")
    df = llmcost_magic.ledger()
    assert list(df.model) == ["text-embedding-3-small"]
    assert not df.note.str.contains("route").any()


def test_a_route_never_sends_an_output_cap_above_the_routed_models_limit(fake):
    """``max_completion_tokens=30000`` (fine on gpt-4.1, limit 32,768) routed by the rules to gpt-4o-mini (limit
    16,384). Failed before: the routed call answered 400 "max_tokens is too large". Now the route is skipped
    for that call; ``rejected_params`` also names ``thinking`` for Claude 3 models before 3.7 (budget
    fallback candidates)."""
    from llmcost_magic.policies.model_fit import rejected_params

    with meter(route="rules"):
        fake.client().chat.completions.create(model="gpt-4.1", max_completion_tokens=30000,
                                              messages=[{"role": "user", "content": "Translate 'hi' to Korean."}])
    assert fake.bodies[-1]["model"] == "gpt-4.1"
    assert "route skipped" in llmcost_magic.ledger().iloc[-1].note
    thinking = {"max_tokens": 2000, "thinking": {"type": "enabled", "budget_tokens": 1024}}
    assert rejected_params("claude-3-5-haiku-latest", "messages", thinking) == ["thinking"]
    assert rejected_params("claude-haiku-4-5", "messages", thinking) == []


def test_max_tokens_default_is_held_at_the_models_limit_and_stop_on_responses_is_noted(fake):
    """``--max-tokens 20000`` on gpt-4o-mini (limit 16,384), e.g. after a route sent the call there. Failed
    before: the injected cap answered 400 "max_tokens is too large"; and ``--stop`` on the Responses API was
    dropped without a word. Now the cap is the model's limit and both notes say what happened."""
    from llmcost_magic.policies.output_controls import OutputControls

    with meter(max_tokens=20000):
        fake.client().chat.completions.create(model="gpt-4o-mini", messages=MSG)
    assert fake.bodies[-1]["max_completion_tokens"] == 16384
    assert "the model's limit" in llmcost_magic.ledger().iloc[-1].note
    _, notes = OutputControls(stop=("x",)).apply("responses", {"model": "gpt-4.1", "input": "hi"})
    assert notes == ["stop not sent (the Responses API takes none)"]


def test_cascade_with_a_cached_answer_and_a_stream(fake):
    """Guard. A repeated deterministic call under ``--route cascade --cache exact`` is served from the cache
    (no attempt sent, the hit row names the user's model); a streamed call is not cascaded and still holds
    its worst case (refused over the cell's limit)."""
    with meter(route="cascade", cache="exact"):
        for _ in range(2):
            fake.client().chat.completions.create(model="gpt-4.1", messages=MSG, temperature=0)
    assert len(fake.bodies) == 1 and fake.bodies[0]["model"] == "gpt-4o-mini"
    df = llmcost_magic.ledger()
    assert df.iloc[-1].cache and df.iloc[-1].requested_model == "gpt-4.1" and df.iloc[-1].saved_by == "cache"
    with meter(route="cascade", budget=0.000001):
        with pytest.raises(Exception, match="(?i)budget"):
            fake.client().chat.completions.create(model="gpt-4.1", messages=MSG, stream=True, max_tokens=1000)
    assert len(fake.bodies) == 1 and llmcost_magic.ledger().iloc[-1].status == "refused"


def test_a_tier_without_a_model_for_the_provider_is_not_claimed_as_a_route():
    """A tiers file for OpenAI only and an Anthropic call under ``--route rules``. Failed before: the call kept
    its model but the ledger note said "route small (...)", as if it had been routed. Now the note says the
    route was skipped and why."""
    from llmcost_magic import sandbox

    tiers = {"tiers": {"small": {"openai": "gpt-4o-mini"}, "large": {"openai": "gpt-4.1"}}, "default": "small"}
    with meter(route="rules", tiers=tiers):
        sandbox.client("anthropic").messages.create(model="claude-sonnet-4-6", max_tokens=50, messages=MSG)
    row = llmcost_magic.ledger().iloc[-1]
    assert row.model == row.requested_model == "claude-sonnet-4-6"
    assert row.note.startswith("route skipped: small") and "no anthropic model" in row.note


def test_concise_leaves_a_legacy_completions_prompt_alone():
    """``--concise`` on the legacy completions endpoint (``prompt``, no messages). Failed before: a ``messages``
    list was added to the body, which that endpoint answers 400 to. Now nothing is added and the note says
    why."""
    from llmcost_magic.policies.output_controls import OutputControls

    body = {"model": "gpt-3.5-turbo-instruct", "prompt": "Say hello", "max_tokens": 5}
    out, notes = OutputControls(concise_words=20).apply("completions", body)
    assert out == body and notes == ["concise not applied (the legacy completions endpoint has no system prompt)"]


def test_cascade_escalates_when_the_small_tier_refuses_the_request(fake):
    """A prompt over the small tier's context window (gpt-4o-mini 128k; gpt-4.1 takes 1M) under ``--route
    cascade``. Failed before: the small tier's 400 was handed to the user, who had asked gpt-4.1. Now a 400/404
    from a tier that is not the last escalates (the refused attempt is in the ledger, at $0)."""
    long = [{"role": "user", "content": "LONG DOCUMENT: summarise it."}]
    with meter(route="cascade"):
        answer = fake.client().chat.completions.create(model="gpt-4.1", messages=long)
    assert answer.model == "gpt-4.1-mini" and [b["model"] for b in fake.bodies] == ["gpt-4o-mini", "gpt-4.1-mini"]
    df = llmcost_magic.ledger()
    assert "escalated (HTTP 400)" in df.note.iloc[0] and df.cost_usd.iloc[0] == 0
    assert df.status.iloc[1] == "ok" and "accepted" in df.note.iloc[1]


class _Fenced:
    """A classifier client whose model wraps its JSON in a Markdown fence (as Claude models often do)."""

    class messages:  # noqa: N801 - the SDK's attribute name
        @staticmethod
        def create(**kwargs):
            from types import SimpleNamespace

            return SimpleNamespace(content=[SimpleNamespace(text='```json\n{"complexity": "simple"}\n```')])


def test_the_classifier_reads_json_inside_a_markdown_fence():
    """Failed before: a fenced answer was "garbage", so every call went to the default tier (and paid for the
    classification). Now the JSON object inside is read."""
    from llmcost_magic.intercept.call import Call
    from llmcost_magic.policies.routing import ClassifierRouter

    call = Call("anthropic", "messages", "claude-opus-4-6", {"model": "claude-opus-4-6", "messages": MSG}, False)
    decision = ClassifierRouter(client_factory=lambda provider: _Fenced()).decide(call, load_tiers())
    assert decision.tier == "small" and "simple" in decision.reason


def test_whitespace_stop_sequences_are_not_sent_to_anthropic():
    """``--stop "\\n\\n"`` (the README's example) on a Claude call. Failed before: sent as ``stop_sequences``,
    which Anthropic answers 400 "each stop sequence must contain non-whitespace". Now whitespace-only
    sequences are left out for Anthropic (the others sent) and the note says so; OpenAI still gets them."""
    import anthropic

    from llmcost_magic.policies.output_controls import OutputControls
    from tests.fake_provider import FakeProvider

    reply = {"id": "m1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5", "stop_reason": "end_turn",
             "content": [{"type": "text", "text": "hello"}], "usage": {"input_tokens": 10, "output_tokens": 2}}
    with FakeProvider() as fake:
        fake.reply(reply)
        client = anthropic.Anthropic(api_key="x", base_url=fake.url, max_retries=0)
        with meter(stop=("\n\n",)):
            client.messages.create(model="claude-haiku-4-5", max_tokens=50, messages=MSG)
        assert "stop_sequences" not in fake.requests[-1]
    assert "whitespace-only" in llmcost_magic.ledger().iloc[-1].note
    out, _ = OutputControls(stop=("\n\n", "END")).apply("messages", {"model": "claude-haiku-4-5", "max_tokens": 5})
    assert out["stop_sequences"] == ["END"]
    out, _ = OutputControls(stop=("\n\n",)).apply("chat.completions", {"model": "gpt-4o-mini", "messages": MSG})
    assert out["stop"] == ["\n\n"]
