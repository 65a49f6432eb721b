"""The sandbox speaks both wire protocols well enough for the real SDKs, in-process and over HTTP."""

from __future__ import annotations

import numpy as np
import pytest

from llmcost_magic.sandbox import Sandbox, client
from llmcost_magic.core.tokens import count_text_tokens, count_tokens

Q = [{"role": "user", "content": "Explain prompt caching to a new engineer."}]


@pytest.fixture(params=["in-process", "http"])
def oc(request, sandbox_server):
    return client("openai", base_url=sandbox_server.openai_base_url if request.param == "http" else None)


@pytest.fixture(params=["in-process", "http"])
def ac(request, sandbox_server):
    return client("anthropic", base_url=sandbox_server.anthropic_base_url if request.param == "http" else None)


def test_chat_usage_is_counted_like_the_core(oc):
    r = oc.chat.completions.create(model="gpt-4o", messages=Q)
    assert r.usage.prompt_tokens == count_tokens(Q, model="gpt-4o")
    assert r.usage.completion_tokens == count_text_tokens(r.choices[0].message.content, "gpt-4o")
    assert r.choices[0].finish_reason == "stop" and r.model == "gpt-4o"


def test_n_max_tokens_stop_and_word_limits(oc):
    assert len(oc.chat.completions.create(model="gpt-4o-mini", messages=Q, n=3).choices) == 3
    cut = oc.chat.completions.create(model="gpt-4o-mini", messages=Q, max_tokens=20)
    assert cut.choices[0].finish_reason == "length" and cut.usage.completion_tokens <= 20
    full = oc.chat.completions.create(model="gpt-4o-mini", messages=Q).choices[0].message.content
    word = full.split()[5]
    stopped = oc.chat.completions.create(model="gpt-4o-mini", messages=Q, stop=[word]).choices[0].message.content
    assert word not in stopped and full.startswith(stopped)
    short = oc.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Explain caching. Answer in at most 12 words."}])
    assert len(short.choices[0].message.content.split()) <= 12


def test_streaming_matches_the_plain_answer_and_usage_only_when_asked(oc):
    plain = oc.chat.completions.create(model="gpt-4o-mini", messages=Q).choices[0].message.content
    chunks = list(oc.chat.completions.create(model="gpt-4o-mini", messages=Q, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == plain
    assert all(c.usage is None for c in chunks)
    with_usage = list(oc.chat.completions.create(model="gpt-4o-mini", messages=Q, stream=True, stream_options={"include_usage": True}))
    assert with_usage[-1].choices == [] and with_usage[-1].usage.completion_tokens == count_text_tokens(plain, "gpt-4o-mini")


def test_answers_are_deterministic_per_seed():
    a = client("openai", sandbox=Sandbox(seed=1)).chat.completions.create(model="gpt-4o-mini", messages=Q)
    b = client("openai", sandbox=Sandbox(seed=1)).chat.completions.create(model="gpt-4o-mini", messages=Q)
    c = client("openai", sandbox=Sandbox(seed=2)).chat.completions.create(model="gpt-4o-mini", messages=Q)
    assert a.choices[0].message.content == b.choices[0].message.content != c.choices[0].message.content


def test_tools_are_called_when_the_question_names_them(oc):
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                                               "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
    r = oc.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "What is the weather in Seoul?"}], tools=tools)
    call = r.choices[0].message.tool_calls[0]
    assert r.choices[0].finish_reason == "tool_calls" and call.function.name == "get_weather"
    assert r.usage.prompt_tokens == count_tokens([{"role": "user", "content": "What is the weather in Seoul?"}], model="gpt-4o", tools=tools)


def test_responses_api_plain_and_streamed(oc):
    r = oc.responses.create(model="gpt-4o", input="Say hi", instructions="Be brief.")
    assert r.output_text and r.usage.output_tokens == count_text_tokens(r.output_text, "gpt-4o")
    events = list(oc.responses.create(model="gpt-4o", input="Say hi", instructions="Be brief.", stream=True))
    assert events[-1].type == "response.completed" and events[-1].response.usage.output_tokens == r.usage.output_tokens
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == r.output_text


def test_embeddings_are_semantic_and_sized(oc):
    texts = ["How do I reset my password?", "I forgot my password, how can I change it?", "What is the capital of France?"]
    v = np.array([d.embedding for d in oc.embeddings.create(model="text-embedding-3-small", input=texts).data])
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2
    small = oc.embeddings.create(model="text-embedding-3-small", input=texts[:1], dimensions=64, encoding_format="float")
    assert len(small.data[0].embedding) == 64 and abs(np.linalg.norm(small.data[0].embedding) - 1) < 1e-5


def test_anthropic_messages_system_tools_stops_and_limits(ac):
    r = ac.messages.create(model="claude-haiku-4-5", max_tokens=500, system=[{"type": "text", "text": "Be helpful."}], messages=Q)
    assert r.stop_reason == "end_turn" and r.usage.input_tokens == count_tokens(Q, model="claude-haiku-4-5", system=[{"type": "text", "text": "Be helpful."}])
    assert ac.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=Q).stop_reason == "max_tokens"
    word = r.content[0].text.split()[4]
    s = ac.messages.create(model="claude-haiku-4-5", max_tokens=500, messages=Q, stop_sequences=[word])
    assert s.stop_reason == "stop_sequence" and s.stop_sequence == word
    tools = [{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    t = ac.messages.create(model="claude-haiku-4-5", max_tokens=100, tools=tools, messages=[{"role": "user", "content": "weather in Busan?"}])
    assert t.stop_reason == "tool_use" and t.content[0].name == "get_weather"
    assert ac.messages.count_tokens(model="claude-haiku-4-5", messages=Q).input_tokens == count_tokens(Q, model="claude-haiku-4-5")


def test_anthropic_stream_helpers(ac):
    with ac.messages.stream(model="claude-sonnet-4-6", max_tokens=300, messages=Q) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text == final.content[0].text and final.usage.output_tokens == count_text_tokens(text, "claude-sonnet-4-6")


async def test_async_clients():
    r = await client("openai", async_=True).chat.completions.create(model="gpt-4o-mini", messages=Q)
    m = await client("anthropic", async_=True).messages.create(model="claude-haiku-4-5", max_tokens=50, messages=Q)
    assert r.usage.completion_tokens > 0 and m.usage.output_tokens > 0
