"""Attacks on the response caches that issue 15's tests did not try (2026-11-30): what the semantic
context leaves out, headers that name an account, Azure URLs, streams against non-streams, answers that
must never be stored, and rows of another version in a shared Redis. Real SDKs on the sandbox or a
fake provider over the SDK's own transport, real SQLite and a real redis-server."""

from __future__ import annotations

import base64
import importlib
import json

import pytest

import llmcost_magic
from llmcost_magic import meter
from llmcost_magic.sandbox import Sandbox, _http_module, client, sandbox_transport
from llmcost_magic.session import current_cache_store


def caches() -> list[str]:
    return list(llmcost_magic.ledger().cache)


def _png(colour: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + colour * 64).decode()


def _image_question(colour: bytes) -> list[dict]:
    return [{"role": "user", "content": [{"type": "text", "text": "What colour is this image?"},
                                         {"type": "image_url", "image_url": {"url": _png(colour)}}]}]


# -- the semantic cache compares the question's text: everything else must be its context ------------


def test_a_semantic_hit_needs_the_same_image():
    """Before: only the text of the last user message was compared, so a question about another image
    (same words) was served the first image's answer."""
    provider = Sandbox()
    oc = client("openai", sandbox=provider)
    with meter(cache="semantic"):
        oc.chat.completions.create(model="gpt-4o-mini", temperature=0, messages=_image_question(b"red!"))
        oc.chat.completions.create(model="gpt-4o-mini", temperature=0, messages=_image_question(b"blue"))
        oc.chat.completions.create(model="gpt-4o-mini", temperature=0, messages=_image_question(b"red!"))
    assert caches() == ["", "", "exact"]


def test_a_semantic_hit_needs_the_same_anthropic_tool_result():
    """An Anthropic tool result travels in a user message with no text: two different results are not
    the same question."""
    ac = client("anthropic", sandbox=Sandbox())

    def ask(result: str):
        return ac.messages.create(model="claude-haiku-4-5", max_tokens=200, messages=[
            {"role": "user", "content": "What is the weather in Seoul?"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "weather", "input": {"city": "Seoul"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": result}]}])

    with meter(cache="semantic", cache_any_temperature=True):
        ask("sunny, 21 C")
        ask("heavy rain, 9 C")
    assert caches() == ["", ""]


def test_a_semantic_hit_in_the_responses_api_needs_the_same_earlier_turns():
    """Before: the Responses API's whole ``input`` was left out of the context, earlier turns too."""
    oc = client("openai", sandbox=Sandbox())

    def ask(name: str):
        return oc.responses.create(model="gpt-4o-mini", temperature=0, input=[
            {"role": "user", "content": f"My name is {name}."},
            {"role": "assistant", "content": "Nice to meet you."},
            {"role": "user", "content": "What is my name?"}])

    with meter(cache="semantic"):
        ask("Kim")
        ask("Lee")
        ask("Kim")
    assert caches() == ["", "", "exact"]


# -- where and for whom: Azure URLs and the headers that name an account ------------------------------

ASK = dict(model="gpt-4o-mini", temperature=0, messages=[{"role": "user", "content": "What is my account balance?"}])


def _chat(finish: str = "stop", content: str | None = "x", **message) -> dict:
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": content, **message}}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}


def _provider(body: bytes | dict, content_type: str = "application/json", status: int = 200):
    """A fake provider on the SDK's own transport: the same answer to every request, counted."""
    module = importlib.import_module(_http_module("openai"))
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()

    def handler(request):
        handler.calls += 1
        return module.Response(status, headers={"content-type": content_type}, content=payload)

    handler.calls = 0
    return module.Client(transport=module.MockTransport(handler)), handler


def _openai(http, *, cls: str = "OpenAI", **options):
    import openai

    options.setdefault("api_key", "sk-one")
    if cls == "OpenAI":
        options.setdefault("base_url", "http://gateway.local/v1")
    return getattr(openai, cls)(max_retries=0, http_client=http, **options)


def test_azure_deployments_and_api_versions_are_other_destinations():
    http, handler = _provider(_chat())
    azure = dict(cls="AzureOpenAI", azure_endpoint="https://contoso.openai.azure.com", api_key="az-1")
    with meter(cache="semantic"):
        for deployment, version in (("gpt4o", "2024-10-21"), ("gpt4o", "2025-01-01-preview"), ("gpt4o-eu", "2024-10-21"),
                                    ("gpt4o", "2024-10-21")):
            _openai(http, azure_deployment=deployment, api_version=version, **azure).chat.completions.create(**ASK)
    assert handler.calls == 3 and caches() == ["", "", "", "exact"]


@pytest.mark.parametrize("header", ["Ocp-Apim-Subscription-Key", "x-portkey-api-key", "cf-aig-authorization", "Helicone-Auth",
                                    "X-Tenant-Id", "Cookie"])
def test_a_gateways_own_account_header_keeps_accounts_apart(header):
    """Before: only the provider's own key headers counted, so two users of one gateway that tells them
    apart by its own header (Azure API Management, Portkey, Cloudflare AI Gateway, Helicone) shared answers."""
    http, handler = _provider(_chat())
    with meter(cache="semantic"):
        for user in ("alice-key", "bob-key", "alice-key"):
            _openai(http, api_key="shared", default_headers={header: user}).chat.completions.create(**ASK)
    assert handler.calls == 2 and caches() == ["", "", "exact"]


def test_the_same_key_in_another_header_or_letter_case():
    """Authorization / api-key / x-api-key, any letter case: one header name is one account; a key sent
    in another header is a miss (never another account's hit), its name's case does not matter."""
    http, handler = _provider(_chat())
    with meter(cache="exact"):
        for headers in ({"api-key": "k1"}, {"API-KEY": "k1"}, {"x-api-key": "k1"}, {"X-Api-Key": "k1"}, {"x-api-key": "k2"}):
            _openai(http, api_key="unused", default_headers=headers).chat.completions.create(**ASK)
    assert caches() == ["", "exact", "", "exact", ""]


def test_retries_and_idempotency_keys_do_not_split_one_account():
    http, handler = _provider(_chat())
    with meter(cache="exact"):
        for n in range(2):
            _openai(http).chat.completions.create(**ASK, extra_headers={"Idempotency-Key": f"req-{n}", "x-stainless-retry-count": str(n)})
    assert caches() == ["", "exact"]


# -- answers that must never be stored, streamed or not ---------------------------------------------------


def _sse(*events: dict | str) -> bytes:
    return b"".join(f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n".encode() for e in events)


def _chunk(delta: dict, finish: str | None = None, usage: dict | None = None, index: int = 0) -> dict:
    return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
            "choices": [{"index": index, "delta": delta, "finish_reason": finish}] if usage is None else [], "usage": usage}


USAGE = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
TOOL = {"tool_calls": [{"index": 0, "id": "t", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}


@pytest.mark.parametrize("stream", [
    _sse(_chunk({"role": "assistant", "content": "The answer is"}), _chunk({}, "length"), _chunk({}, usage=USAGE), "[DONE]"),
    _sse(_chunk({"role": "assistant", "refusal": "I can't help."}), _chunk({}, "stop"), _chunk({}, usage=USAGE), "[DONE]"),
    _sse(_chunk({"role": "assistant", **TOOL}), _chunk({}, "tool_calls"), _chunk({}, usage=USAGE), "[DONE]"),
    _sse(_chunk({"role": "assistant", "content": "The ans"})),  # cut: no finish, no usage, no [DONE]
    _sse(_chunk({"role": "assistant", "content": "x"}), {"error": {"message": "overloaded", "type": "server_error"}}),
    _sse(_chunk({"role": "assistant", "content": "a"}), _chunk({"role": "assistant", "content": "b"}, index=1),
         _chunk({}, "length"), _chunk({}, "stop", index=1), _chunk({}, usage=USAGE), "[DONE]"),
], ids=["length", "refusal", "tool-only", "cut", "error-event", "n2-first-truncated"])
def test_a_stream_that_did_not_stop_normally_is_never_stored(stream):
    http, handler = _provider(stream, "text/event-stream")
    oc = _openai(http)
    with meter(cache="exact"):
        for _ in range(2):
            try:
                list(oc.chat.completions.create(**ASK, stream=True))
            except Exception:  # noqa: BLE001 - an error event raises in the SDK: that is the point
                pass
    assert handler.calls == 2 and "exact" not in caches()
    assert current_cache_store().stats(0)["entries"] == 0


@pytest.mark.parametrize("body", [
    {"error": {"message": "The server is overloaded", "type": "server_error", "code": None}},
    {**_chat(), "choices": [_chat()["choices"][0], {**_chat("length")["choices"][0], "index": 1}]},
    {**_chat(), "choices": [{**_chat("content_filter")["choices"][0]}, {**_chat()["choices"][0], "index": 1}]},
    {**_chat(), "choices": [_chat()["choices"][0], {**_chat("content_filter")["choices"][0], "index": 1}]},
    {**_chat(), "choices": []},
], ids=["200-error-object", "n2-one-truncated", "n2-first-filtered", "n2-second-filtered", "no-choices"])
def test_a_200_that_is_not_a_whole_answer_is_never_stored(body):
    """A 200 whose body is an error object, or n > 1 answers of which one did not stop normally."""
    http, handler = _provider(body)
    oc = _openai(http)
    with meter(cache="exact"):
        for _ in range(2):
            try:
                oc.chat.completions.create(**{**ASK, "n": 2})
            except Exception:  # noqa: BLE001
                pass
    assert handler.calls == 2 and "exact" not in caches()


def _anthropic_stream(stop_reason: str) -> bytes:
    events = [("message_start", {"type": "message_start", "message": {
                  "id": "m1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5", "content": [],
                  "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 5, "output_tokens": 1}}}),
              ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
              ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "I"}}),
              ("content_block_stop", {"type": "content_block_stop", "index": 0}),
              ("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                                 "usage": {"output_tokens": 2}}),
              ("message_stop", {"type": "message_stop"})]
    return b"".join(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events)


@pytest.mark.parametrize("stop_reason", ["refusal", "max_tokens", "pause_turn", "tool_use"])
def test_an_anthropic_stream_that_did_not_end_its_turn_is_never_stored(stop_reason):
    import anthropic

    module = importlib.import_module(_http_module("anthropic"))
    calls = []

    def handler(request):
        calls.append(1)
        return module.Response(200, headers={"content-type": "text/event-stream"}, content=_anthropic_stream(stop_reason))

    ac = anthropic.Anthropic(api_key="sk-ant", base_url="http://gateway.local", max_retries=0,
                             http_client=module.Client(transport=module.MockTransport(handler)))
    with meter(cache="exact", cache_any_temperature=True):
        for _ in range(2):
            with ac.messages.stream(model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": "Hi"}]) as s:
                s.get_final_message()
    assert len(calls) == 2 and "exact" not in caches()


def test_a_stream_is_replayed_as_a_stream_and_a_non_stream_never_gets_sse_bytes():
    """Exact and semantic: a cached stream never answers a non-stream call, nor a cached JSON a stream."""
    oc = client("openai", sandbox=Sandbox())
    q = lambda text: [{"role": "user", "content": text}]  # noqa: E731
    with meter(cache="semantic"):
        first = oc.chat.completions.create(model="gpt-4o-mini", temperature=0, messages=q("How do I reset my password?"))
        streamed = list(oc.chat.completions.create(model="gpt-4o-mini", temperature=0, stream=True,
                                                   messages=q("How can I reset my password?")))
        again = list(oc.chat.completions.create(model="gpt-4o-mini", temperature=0, stream=True,
                                                messages=q("How can I reset my password?")))
        plain = oc.chat.completions.create(model="gpt-4o-mini", temperature=0, messages=q("How can I reset my password?"))
    assert caches() == ["", "", "exact", "semantic"]
    assert "".join(c.choices[0].delta.content or "" for c in again if c.choices) == \
        "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
    assert plain.choices[0].message.content == first.choices[0].message.content


# -- a workshop's shared Redis holding rows of another package version ------------------------------------


@pytest.fixture
def room_store(redis_url):
    import redis

    from llmcost_magic.stores import open_store

    redis.Redis.from_url(redis_url).flushdb()
    return open_store(redis_url), redis.Redis.from_url(redis_url)


def _ask_twice(store, mode: str = "exact", question: str = "What is my account balance?"):
    """One call, the Redis row corrupted by ``between``, then the same call: returns the second's cache."""
    from llmcost_magic.metering import Meter
    from llmcost_magic.policies.response_cache import build_cache
    from llmcost_magic.policies.semantic_cache import SemanticIndex

    oc = client("openai", sandbox=Sandbox())
    request = {**ASK, "messages": [{"role": "user", "content": question}]}

    def run():
        index = SemanticIndex(store) if mode == "semantic" else None
        with Meter(cache=build_cache(mode, store=store, semantic_index=index)) as m:
            answer = oc.chat.completions.create(**request)
        return m.records[-1].cache, answer.choices[0].message.content

    return run


@pytest.mark.parametrize("change", ["missing-seal", "missing-body", "missing-content-type", "extra-field", "string-row",
                                    "list-row", "old-schema-json"])
def test_a_row_of_another_version_is_a_miss_with_one_warning_never_an_error(room_store, change):
    import warnings

    store, r = room_store
    run = _ask_twice(store)
    assert run()[0] == ""
    (name,) = list(r.scan_iter("llmcost:e:*"))
    if change.startswith("missing-"):
        r.hdel(name, change.removeprefix("missing-").replace("-", "_"))
    elif change == "extra-field":
        r.hset(name, "schema_version", "9")
    elif change == "string-row":
        r.delete(name)
        r.set(name, json.dumps({"body": "forged", "content_type": "application/json"}))
    elif change == "list-row":
        r.delete(name)
        r.rpush(name, b"body", b"forged")
    else:  # an older layout: the whole entry as one JSON field
        r.delete(name)
        r.hset(name, "entry", json.dumps({"body": "forged"}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cache, text = run()
        again, _ = run()
    if change == "extra-field":  # a field this version does not know: the sealed fields still prove the row
        assert cache == "exact" and not caught
        return
    assert cache == "" and "forged" not in text
    assert len([w for w in caught if "cache" in str(w.message)]) == 1, [str(w.message) for w in caught]
    assert again == "exact"  # the sound answer replaced the row


@pytest.mark.parametrize("meta", [b"not json", b"[1, 2, 3]", b'{"k": "v"}', b'{"k": {"rejected": "x"}}'])
def test_semantic_feedback_of_another_version_is_ignored_with_a_warning(room_store, meta):
    store, r = room_store
    run = _ask_twice(store, "semantic", "How do I reset my password?")
    run()
    r.hset("llmcost:meta", "semantic-feedback", meta)
    paraphrase = _ask_twice(store, "semantic", "How can I reset my password?")
    assert paraphrase()[0] in ("semantic", "")


def test_cache_stats_count_a_row_of_another_version_without_failing(room_store):
    store, r = room_store
    _ask_twice(store)()
    r.set("llmcost:e:from-another-version", b"{}")
    assert store.stats(0)["entries"] == 2


# -- what else the context holds: parameters, system prompts -----------------------------------------------

PARAPHRASE = ("How do I reset my password?", "How can I reset my password?")


@pytest.mark.parametrize("change", [
    {"tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}]},
    {"response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}}}},
    {"seed": 7}, {"n": 2}, {"logprobs": True}, {"user": "u-2"}, {"metadata": {"team": "b"}, "store": True},
    {"temperature": 0.0001},
    {"messages": [{"role": "system", "content": "Answer in French."}]},
    {"messages": [{"role": "system", "content": "Answer in French!"}]},
], ids=["tools", "json-schema", "seed", "n", "logprobs", "user", "metadata", "temperature", "system", "system-1-char"])
def test_a_paraphrase_with_anything_else_changed_is_not_a_semantic_hit(change):
    oc = client("openai", sandbox=Sandbox())
    base = {"model": "gpt-4o-mini", "temperature": 0, "messages": [{"role": "system", "content": "Answer in French."}]}
    with meter(cache="semantic", cache_any_temperature=True):
        oc.chat.completions.create(**{**base, "messages": base["messages"] + [{"role": "user", "content": PARAPHRASE[0]}]})
        first = {**base, **change}
        messages = change.get("messages", base["messages"])
        oc.chat.completions.create(**{**first, "messages": messages + [{"role": "user", "content": PARAPHRASE[1]}]})
    assert caches() == ["", "semantic" if change.get("messages") == base["messages"] else ""]


def test_anthropic_system_as_a_string_or_as_blocks_with_the_same_text_is_a_miss():
    """Same meaning, other bytes: a miss (exact and semantic), never a wrong answer; other text: a miss."""
    ac = client("anthropic", sandbox=Sandbox())
    q = [{"role": "user", "content": "How do I reset my password?"}]
    with meter(cache="semantic", cache_any_temperature=True):
        for system in ("Be brief.", [{"type": "text", "text": "Be brief."}], "Be brief!", "Be brief."):
            ac.messages.create(model="claude-haiku-4-5", max_tokens=100, system=system, messages=q)
    assert caches() == ["", "", "", "exact"]


# -- a participant's cache commands never show another's private entries ------------------------------------


@pytest.fixture
def room_shell(shell, redis_url):
    import redis

    from llmcost_magic import workshop

    redis.Redis.from_url(redis_url).flushdb()
    workshop.configure(redis_url, daily_limit_usd=5.0, shareable_cache=False)
    shell.run_cell("from llmcost_magic.sandbox import client\noc = client('openai')")
    yield shell, redis_url
    shell.run_line_magic("config", "LLMCost.workshop = None")
    shell.run_line_magic("config", "LLMCost.user = ''")


def _as(shell, room_url: str, user: str) -> None:
    shell.run_line_magic("config", f"LLMCost.workshop = {room_url!r}")
    shell.run_line_magic("config", f"LLMCost.user = {user!r}")


def test_a_participants_cache_commands_never_show_another_participants_entries(room_shell):
    from llmcost_magic import cache_commands

    shell, room = room_shell
    cell = ("%%llmcost --cache semantic\noc.chat.completions.create(model='gpt-4o-mini', temperature=0, "
            "messages=[{{'role': 'user', 'content': {q!r}}}])")
    _as(shell, room, "ana")
    shell.run_cell(cell.format(q="What is my exam grade, ana-secret-7?"))
    shell.run_cell(cell.format(q="What is my exam grade, ana-secret-7?"))
    cache_commands.serving_cache(room)[1].audit.clear()  # a fresh kernel for ben: nothing of ana's in memory
    _as(shell, room, "ben")
    shell.run_cell(cell.format(q="What is my exam grade, ana-secret-7?"))  # the very same words: still ana's own
    assert caches()[-1] == ""
    shown = " ".join(str(x) for x in (shell.run_line_magic("llmcost", "cache stats").to_dict("records"),
                                      shell.run_line_magic("llmcost", "cache audit").to_dict("records")))
    assert "ana-secret-7" not in shown
    shell.run_line_magic("llmcost", "cache reject")  # ben's last answer: his own entry, not ana's
    _as(shell, room, "ana")
    shell.run_cell(cell.format(q="What is my exam grade, ana-secret-7?"))
    assert caches()[-1] == "exact", "ben's reject removed ana's private answer"


def _responses_stream(status: str, reason: str | None) -> bytes:
    response = {"id": "r1", "object": "response", "created_at": 1, "model": "gpt-4o-mini", "status": status,
                "incomplete_details": {"reason": reason} if reason else None, "output": [
                    {"type": "message", "id": "m1", "role": "assistant", "status": status,
                     "content": [{"type": "output_text", "text": "The answ", "annotations": []}]}],
                "usage": {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7,
                          "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}}}
    events = [{"type": "response.output_text.delta", "item_id": "m1", "output_index": 0, "content_index": 0,
               "delta": "The answ", "sequence_number": 1},
              {"type": f"response.{status}", "response": response, "sequence_number": 2}]
    return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)


@pytest.mark.parametrize(("status", "reason"), [("incomplete", "max_output_tokens"), ("incomplete", "content_filter"),
                                                ("failed", None)])
def test_an_unfinished_streamed_response_is_never_stored(status, reason):
    http, handler = _provider(_responses_stream(status, reason), "text/event-stream")
    oc = _openai(http)
    with meter(cache="exact"):
        for _ in range(2):
            try:
                for _event in oc.responses.create(model="gpt-4o-mini", temperature=0, input="Hi", stream=True):
                    pass
            except Exception:  # noqa: BLE001
                pass
    assert handler.calls == 2 and "exact" not in caches()


def test_a_responses_refusal_item_is_never_stored():
    body = {"id": "r1", "object": "response", "created_at": 1, "model": "gpt-4o-mini", "status": "completed",
            "output": [{"type": "message", "id": "m1", "role": "assistant", "status": "completed",
                        "content": [{"type": "refusal", "refusal": "I can't help with that."}]}],
            "usage": {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7,
                      "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}}}
    http, handler = _provider(body)
    oc = _openai(http)
    with meter(cache="exact"):
        for _ in range(2):
            oc.responses.create(model="gpt-4o-mini", temperature=0, input="Hi")
    assert handler.calls == 2 and "exact" not in caches()


def test_a_beta_or_version_header_that_changes_the_answer_is_another_request():
    """anthropic-beta / anthropic-version / OpenAI-Beta change what the model does or how the answer is
    shaped (1M context, interleaved thinking, another API version): the same body under another such header
    is another request."""
    http, handler = _provider(_chat())
    with meter(cache="semantic"):
        for headers in ({}, {"OpenAI-Beta": "assistants=v2"}, {"anthropic-beta": "context-1m-2025-08-07"},
                        {"anthropic-version": "2023-01-01"}, {}):
            _openai(http, default_headers=headers or None).chat.completions.create(**ASK)
    assert handler.calls == 4 and caches() == ["", "", "", "", "exact"]


def test_a_semantic_hit_on_a_stream_replays_a_stream():
    oc = client("openai", sandbox=Sandbox())

    def ask(text: str) -> str:
        stream = oc.chat.completions.create(model="gpt-4o-mini", temperature=0, stream=True,
                                            messages=[{"role": "user", "content": text}])
        return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    with meter(cache="semantic"):
        first, second = ask(PARAPHRASE[0]), ask(PARAPHRASE[1])
    assert caches() == ["", "semantic"] and first == second and first


def test_a_participants_cache_clear_removes_only_their_own_answers(room_shell):
    """Before: ben's `%llmcost cache clear` deleted every participant's private answers in the room."""
    shell, room = room_shell
    cell = ("%%llmcost --cache exact {opts}\noc.chat.completions.create(model='gpt-4o-mini', temperature=0, "
            "messages=[{{'role': 'user', 'content': {q!r}}}])")
    _as(shell, room, "ana")
    shell.run_cell(cell.format(opts="--tag grades", q="What is my exam grade?"))
    _as(shell, room, "ben")
    shell.run_cell(cell.format(opts="--tag grades", q="What is my exam grade?"))
    shell.run_line_magic("llmcost", "cache clear --tag grades")
    shell.run_line_magic("llmcost", "cache clear")
    shell.run_cell(cell.format(opts="--tag grades", q="What is my exam grade?"))
    _as(shell, room, "ana")
    shell.run_cell(cell.format(opts="--tag grades", q="What is my exam grade?"))
    assert caches() == ["", "", "", "exact"], "ben's clear removed ana's answer"
    from llmcost_magic import cache_commands

    assert cache_commands.clear_cache(workshop=room) == 2  # the instructor's Python call clears the room
