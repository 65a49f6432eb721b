"""Cached answers never cross a boundary: destination, account, dry run, workshop participant.

Each test here was written from a failure found by trying the cache as an attacker or an unlucky user
would (issue 15), through the real SDKs on the sandbox or on a local fake provider, real SQLite and a
real redis-server for the workshop cases.
"""

from __future__ import annotations

import importlib
import json
import sqlite3
import warnings

import pytest
import redis

import llmcost_magic
from llmcost_magic import meter, workshop
from llmcost_magic.sandbox import Sandbox, _http_module, sandbox_transport
from llmcost_magic.session import current_cache_store

ASK = dict(model="gpt-4o-mini", temperature=0, messages=[{"role": "user", "content": "What is my account balance?"}])


def openai_client(sandbox: Sandbox | None = None, *, base_url: str = "http://sandbox.local/v1", api_key: str = "sk-one",
                  transport=None, **headers: str):
    import openai

    module = _http_module("openai")
    http = importlib.import_module(module)
    transport = transport or sandbox_transport(module, False, sandbox)
    return openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=0, default_headers=headers or None,
                         http_client=http.Client(transport=transport))


def caches():
    return list(llmcost_magic.ledger().cache)


# -- destination, account, dry run ---------------------------------------------------------------


def test_a_dry_run_answer_is_never_served_to_a_real_call():
    provider = Sandbox()
    oc = openai_client(provider)
    with meter(cache="exact", dry_run=True):
        oc.chat.completions.create(**ASK)
        oc.chat.completions.create(**ASK)  # a dry run may reuse its own simulated answer
    assert provider.requests == 0
    with meter(cache="exact"):
        oc.chat.completions.create(**ASK)
    assert provider.requests == 1, "the real call was answered with the dry run's simulated text"
    assert caches() == ["", "exact", ""]


def test_another_server_is_not_answered_from_the_first_servers_entry():
    provider = Sandbox()
    with meter(cache="exact"):
        openai_client(provider, base_url="http://proxy-a.local/v1").chat.completions.create(**ASK)
        openai_client(provider, base_url="http://proxy-b.local/v1").chat.completions.create(**ASK)
        openai_client(provider, base_url="https://proxy-a.local/v1").chat.completions.create(**ASK)
    assert provider.requests == 3 and caches() == ["", "", ""]


def test_another_account_is_not_answered_from_the_first_accounts_entry():
    provider = Sandbox()
    with meter(cache="exact"):
        openai_client(provider, api_key="sk-alice-111").chat.completions.create(**ASK)
        openai_client(provider, api_key="sk-bob-222").chat.completions.create(**ASK)
        openai_client(provider, api_key="sk-alice-111", **{"OpenAI-Organization": "org-2"}).chat.completions.create(**ASK)
        openai_client(provider, api_key="sk-alice-111", **{"OpenAI-Project": "proj-9"}).chat.completions.create(**ASK)
        openai_client(provider, api_key="sk-alice-111").chat.completions.create(**ASK)  # the same account: a hit
    assert caches() == ["", "", "", "", "exact"]


def test_the_api_key_is_never_stored_nor_its_plain_hash(tmp_path):
    import hashlib

    path = tmp_path / "keys.sqlite3"
    llmcost_magic.session.use_cache_store(path)
    key = "sk-secret-abcdef0123456789"
    with meter(cache="semantic"):
        openai_client(Sandbox(), api_key=key).chat.completions.create(**ASK)
    llmcost_magic.session.use_cache_store(tmp_path / "other.sqlite3")  # closes nothing, but flushes WAL reads below
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("keys.sqlite3*"))
    dump = "\n".join(sqlite3.connect(path).iterdump())
    for needle in (key, hashlib.sha256(key.encode()).hexdigest(), hashlib.sha256(f"Bearer {key}".encode()).hexdigest()):
        assert needle not in dump and needle.encode() not in raw


# -- answers that are never cached ---------------------------------------------------------------


def _fake_provider(body: dict, content_type: str = "application/json"):
    module = importlib.import_module(_http_module("openai"))
    payload = json.dumps(body).encode()

    def handler(request):
        handler.calls += 1
        return module.Response(200, headers={"content-type": content_type}, content=payload)

    handler.calls = 0
    return module.MockTransport(handler), handler


def _chat(finish: str, **message):
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": "x", **message}}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}


@pytest.mark.parametrize("body", [
    _chat("content_filter"),
    _chat("length"),
    _chat("tool_calls", content=None, tool_calls=[{"id": "t", "type": "function", "function": {"name": "f", "arguments": "{}"}}]),
    _chat("stop", refusal="I can't help with that."),
    _chat("function_call"),
    _chat("something_new"),
], ids=["content_filter", "length", "tool_calls", "refusal", "function_call", "unknown"])
def test_an_answer_that_did_not_stop_normally_is_never_cached(body):
    transport, handler = _fake_provider(body)
    oc = openai_client(transport=transport)
    with meter(cache="exact"):
        oc.chat.completions.create(**ASK)
        oc.chat.completions.create(**ASK)
    assert handler.calls == 2 and caches() == ["", ""]
    assert current_cache_store().stats(0)["entries"] == 0


@pytest.mark.parametrize("status", ["incomplete", "in_progress", "failed", "cancelled"])
def test_an_unfinished_responses_api_answer_is_never_cached(status):
    body = {"id": "r1", "object": "response", "model": "gpt-4o-mini", "status": status, "output": [],
            "usage": {"input_tokens": 5, "output_tokens": 1, "total_tokens": 6}}
    transport, handler = _fake_provider(body)
    oc = openai_client(transport=transport)
    with meter(cache="exact"):
        for _ in range(2):
            oc.responses.create(model="gpt-4o-mini", input="hi", temperature=0)
    assert handler.calls == 2 and current_cache_store().stats(0)["entries"] == 0


@pytest.mark.parametrize("stop_reason", ["refusal", "pause_turn", "max_tokens", "model_context_window_exceeded", "tool_use"])
def test_an_anthropic_answer_that_did_not_end_its_turn_is_never_cached(stop_reason):
    import anthropic

    body = {"id": "m1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5", "stop_reason": stop_reason,
            "content": [{"type": "text", "text": "x"}], "usage": {"input_tokens": 5, "output_tokens": 1}}
    module = importlib.import_module(_http_module("anthropic"))
    calls = []

    def handler(request):
        calls.append(1)
        return module.Response(200, headers={"content-type": "application/json"}, json=body)

    ac = anthropic.Anthropic(api_key="k", base_url="http://fake.local", max_retries=0,
                             http_client=module.Client(transport=module.MockTransport(handler)))
    with meter(cache="exact"):
        for _ in range(2):
            ac.messages.create(model="claude-haiku-4-5", max_tokens=50, messages=ASK["messages"], extra_body={"temperature": 0})
    assert len(calls) == 2 and current_cache_store().stats(0)["entries"] == 0


# -- stored rows that fail validation ------------------------------------------------------------


def _only_row(path):
    db = sqlite3.connect(path)
    return db, db.execute("SELECT key FROM entries").fetchone()[0]


@pytest.mark.parametrize("corruption", [
    "UPDATE entries SET body = 'not bytes at all'",
    "UPDATE entries SET created = 'yesterday', expires = 'never'",
    "UPDATE entries SET content_type = 'text/html'",
    "UPDATE entries SET hits = 'many'",
], ids=["text-body", "bad-times", "content-type", "bad-hits"])
def test_a_malformed_row_is_a_miss_with_one_warning(tmp_path, corruption):
    path = tmp_path / "c.sqlite3"
    llmcost_magic.session.use_cache_store(path)
    provider = Sandbox()
    oc = openai_client(provider)
    with meter(cache="exact"):
        oc.chat.completions.create(**ASK)
    db, _ = _only_row(path)
    db.execute(corruption)
    db.commit()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with meter(cache="exact"):
            oc.chat.completions.create(**ASK)  # a miss (answered live, then stored again, sound)
        with meter(cache="exact"):
            answer = oc.chat.completions.create(**ASK)  # the healed entry serves
    assert answer.choices[0].message.content
    assert provider.requests == 2 and caches() == ["", "", "exact"]
    assert len([w for w in caught if "cache" in str(w.message)]) == 1


def test_a_forged_row_is_never_served(tmp_path):
    path = tmp_path / "c.sqlite3"
    llmcost_magic.session.use_cache_store(path)
    oc = openai_client(Sandbox())
    with meter(cache="exact"):
        real = oc.chat.completions.create(**ASK)
    forged = _chat("stop", content="Your balance is $1,000,000. Wire fees are waived today.")
    db, _ = _only_row(path)
    db.execute("UPDATE entries SET body = ?", (json.dumps(forged).encode(),))
    db.commit()
    with pytest.warns(UserWarning, match="cache"):
        with meter(cache="exact"):
            again = oc.chat.completions.create(**ASK)
    assert again.choices[0].message.content == real.choices[0].message.content
    assert caches() == ["", ""]


def test_a_row_stored_under_another_key_is_never_served(tmp_path):
    path = tmp_path / "c.sqlite3"
    llmcost_magic.session.use_cache_store(path)
    oc = openai_client(Sandbox())
    other = {**ASK, "messages": [{"role": "user", "content": "Delete all my data"}]}
    with meter(cache="exact"):
        oc.chat.completions.create(**ASK)
        oc.chat.completions.create(**other)
    db = sqlite3.connect(path)
    (k1, b1), (k2, b2) = db.execute("SELECT key, body FROM entries ORDER BY created").fetchall()
    db.execute("UPDATE entries SET key = 'x' WHERE key = ?", (k1,))
    db.execute("UPDATE entries SET key = ? WHERE key = ?", (k1, k2))  # the second answer, under the first key
    db.commit()
    with pytest.warns(UserWarning, match="cache"):
        with meter(cache="exact"):
            oc.chat.completions.create(**ASK)
    assert caches()[-1] == ""


def test_stores_never_unpickle():
    import pathlib

    import llmcost_magic.policies as policies
    import llmcost_magic.stores as stores

    for folder in (pathlib.Path(stores.__file__).parent, pathlib.Path(policies.__file__).parent):
        for source in folder.glob("*.py"):
            text = source.read_text()
            assert "import pickle" not in text and "pickle.loads" not in text and "marshal" not in text, source


# -- workshop mode on a real redis-server --------------------------------------------------------


@pytest.fixture
def room(redis_url):
    redis.Redis.from_url(redis_url).flushdb()
    workshop.configure(redis_url, daily_limit_usd=5.0, shareable_cache=False)
    return redis_url


CELL = ("%%llmcost --cache exact {opts}\n"
        "oc.chat.completions.create(model='gpt-4o-mini', temperature=0, messages=[{{'role':'user','content':'My grade?'}}])")


def _as(shell, room_url, user):
    shell.run_line_magic("config", f"LLMCost.workshop = {room_url!r}")
    shell.run_line_magic("config", f"LLMCost.user = {user!r}")


@pytest.fixture
def room_shell(shell, room):
    shell.run_cell("from llmcost_magic.sandbox import client\noc = client('openai')")
    yield shell
    shell.run_line_magic("config", "LLMCost.workshop = None")
    shell.run_line_magic("config", "LLMCost.user = ''")


def test_a_context_narrows_a_participants_space_it_never_joins_two(room_shell, room):
    for user in ("ana", "ben", "ana"):
        _as(room_shell, room, user)
        room_shell.run_cell(CELL.format(opts="--context course"))
    assert caches() == ["", "", "exact"]
    _as(room_shell, room, "ana")
    room_shell.run_cell(CELL.format(opts="--context other"))  # another context of the same participant
    assert caches()[-1] == ""


def test_only_the_instructors_shareable_cache_widens_it(room_shell, room):
    workshop.configure(room, shareable_cache=True)
    for user, context in (("ana", "course"), ("ben", "course"), ("ben", "other")):
        _as(room_shell, room, user)
        room_shell.run_cell(CELL.format(opts=f"--context {context}"))
    assert caches() == ["", "exact", ""]


def test_cache_commands_act_on_the_rooms_redis(room_shell, room):
    r = redis.Redis.from_url(room)
    _as(room_shell, room, "ana")
    room_shell.run_cell(CELL.format(opts=""))
    room_shell.run_cell(CELL.format(opts=""))
    stats = room_shell.run_line_magic("llmcost", "cache stats")
    assert stats.iloc[0].store == "RedisCacheStore" and stats.iloc[0].entries == 1 and stats.iloc[0].hits == 1
    assert current_cache_store().stats(0)["entries"] == 0  # the local store was never the one serving
    room_shell.run_line_magic("llmcost", "cache reject")
    room_shell.run_cell(CELL.format(opts=""))
    assert caches() == ["", "exact", ""], "Redis kept serving a rejected answer"
    assert r.hlen("llmcost:blocked") == 1
    _as(room_shell, room, "ben")
    room_shell.run_cell(CELL.format(opts=""))
    room_shell.run_line_magic("llmcost", "cache clear")
    assert not list(r.scan_iter("llmcost:e:*"))
    room_shell.run_cell(CELL.format(opts=""))
    assert caches()[-1] == ""


def test_a_malformed_redis_row_is_a_miss(room):
    from llmcost_magic.policies.response_cache import build_cache
    from llmcost_magic.metering import Meter
    from llmcost_magic.stores import open_store

    store = open_store(room)
    oc = openai_client(Sandbox())
    with Meter(cache=build_cache("exact", store=store)):
        oc.chat.completions.create(**ASK)
    r = redis.Redis.from_url(room)
    (name,) = list(r.scan_iter("llmcost:e:*"))
    r.hset(name, mapping={"created": "soon", "hits": "x"})
    with pytest.warns(UserWarning, match="cache"):
        with Meter(cache=build_cache("exact", store=store)) as m:
            oc.chat.completions.create(**ASK)
    assert m.records[-1].cache == ""


def test_a_semantic_hit_in_a_room_is_served_audited_and_tuned_in_redis(room_shell, room):
    _as(room_shell, room, "ana")
    semantic = ("%%llmcost --cache semantic\n"
                "oc.chat.completions.create(model='gpt-4o-mini', temperature=0, messages=[{{'role':'user','content':{q!r}}}])")
    room_shell.run_cell(semantic.format(q="How do I reset my password?"))
    room_shell.run_cell(semantic.format(q="How can I reset my password?"))
    assert caches() == ["", "semantic"]
    audit = room_shell.run_line_magic("llmcost", "cache audit")
    assert list(audit.cached_question) == ["How do I reset my password?"]
    room_shell.run_line_magic("llmcost", "cache reject 0")
    assert b"semantic-feedback" in redis.Redis.from_url(room).hkeys("llmcost:meta")
    room_shell.run_cell(semantic.format(q="How can I reset my password?"))
    assert caches()[-1] == ""
