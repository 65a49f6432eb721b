"""Exact and semantic response caching through the real SDKs on the sandbox."""

from __future__ import annotations

import asyncio

import pytest

import llmcost_magic
from llmcost_magic import meter
from llmcost_magic.metering import Meter
from llmcost_magic.policies.response_cache import CacheSettings, ResponseCache, load_ttl_table, parse_duration
from llmcost_magic.sandbox import Sandbox, client
from llmcost_magic.session import current_cache_store

Q = [{"role": "user", "content": "What is your refund policy?"}]


@pytest.fixture
def sandbox():
    return Sandbox()


def rows():
    return llmcost_magic.ledger()


def test_an_exact_hit_costs_nothing_saves_the_live_cost_and_sends_nothing(sandbox):
    oc = client("openai", sandbox=sandbox)
    with meter(cache="exact") as m:
        live = oc.chat.completions.create(model="gpt-4o", messages=Q, temperature=0)
        sent = sandbox.requests
        hit = oc.chat.completions.create(model="gpt-4o", messages=Q, temperature=0)
    assert sandbox.requests == sent  # answered without sending
    assert hit.choices[0].message.content == live.choices[0].message.content and hit.usage == live.usage
    df = rows()
    assert list(df.cache) == ["", "exact"] and df.iloc[1].cost_usd == 0
    assert df.iloc[1].baseline_cost_usd == pytest.approx(df.iloc[0].cost_usd) and df.iloc[1].saved_usd > 0
    assert m.totals.cache_hits == 1 and m.totals.saved_by["cache"] == pytest.approx(df.iloc[0].cost_usd)
    assert m.totals.input_tokens == live.usage.prompt_tokens  # the hit billed no tokens


def test_a_stream_replays_as_a_stream_without_the_seams_usage_chunk(sandbox):
    oc = client("openai", sandbox=sandbox)
    with meter(cache="exact"):
        first = list(oc.chat.completions.create(model="gpt-4o-mini", messages=Q, temperature=0, stream=True))
        replay = list(oc.chat.completions.create(model="gpt-4o-mini", messages=Q, temperature=0, stream=True))
    assert [c.choices[0].delta.content for c in replay] == [c.choices[0].delta.content for c in first]
    assert all(c.choices for c in replay)
    assert list(rows().cache) == ["", "exact"] and not rows().iloc[1].estimated


def test_anthropic_and_async_hits(sandbox):
    ac = client("anthropic", async_=True, sandbox=sandbox)

    async def twice():
        with meter(cache="exact"):
            a = await ac.messages.create(model="claude-haiku-4-5", max_tokens=400, messages=Q, extra_body={"temperature": 0})
            b = await ac.messages.create(model="claude-haiku-4-5", max_tokens=400, messages=Q, extra_body={"temperature": 0})
        return a, b

    a, b = asyncio.run(twice())
    assert a.content[0].text == b.content[0].text and list(rows().cache) == ["", "exact"]


BASE = dict(model="gpt-4o-mini", messages=Q, temperature=0)


@pytest.mark.parametrize("change", [
    {"model": "gpt-4o"},
    {"messages": [{"role": "user", "content": "What is your refund policy? "}]},
    {"messages": [{"role": "system", "content": "Be terse."}, *Q]},
    {"tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}]},
    {"top_p": 0.5},
    {"seed": 7},
    {"response_format": {"type": "json_object"}},
    {"max_tokens": 900},
    {"stop": ["\n\n"]},
    {"n": 2},
], ids=lambda c: next(iter(c)))
def test_changing_anything_that_changes_the_answer_misses(sandbox, change):
    oc = client("openai", sandbox=sandbox)
    with meter(cache="exact"):
        oc.chat.completions.create(**BASE)
        oc.chat.completions.create(**{**BASE, **change})
    assert list(rows().cache) == ["", ""]


def test_only_deterministic_requests_are_cached_by_default(sandbox):
    oc = client("openai", sandbox=sandbox)
    with meter(cache="exact"):
        oc.chat.completions.create(model="gpt-4o-mini", messages=Q)
        oc.chat.completions.create(model="gpt-4o-mini", messages=Q)
    with meter(cache="exact", cache_any_temperature=True):
        oc.chat.completions.create(model="gpt-4o-mini", messages=Q)
        oc.chat.completions.create(model="gpt-4o-mini", messages=Q)
    assert list(rows().cache) == ["", "", "", "exact"]


@pytest.mark.parametrize(("kwargs", "headers"), [
    ({"max_tokens": 5}, None),  # truncated
    ({}, {"x-sandbox-fault": "500"}),  # an error
    ({"tools": [{"type": "function", "function": {"name": "refund_policy", "parameters": {"type": "object", "properties": {}}}}],
      "messages": [{"role": "user", "content": "refund policy?"}]}, None),  # tool call only
], ids=["truncated", "error", "tool-call"])
def test_errors_truncated_and_tool_call_answers_are_never_cached(sandbox, kwargs, headers):
    oc = client("openai", sandbox=sandbox, max_retries=0)
    request = {**BASE, **kwargs}
    with meter(cache="exact"):
        for _ in range(2):
            try:
                oc.chat.completions.create(**request, extra_headers=headers)
            except Exception:  # noqa: BLE001 - the error case
                pass
    assert (rows().cache == "").all()
    assert current_cache_store().stats(0)["entries"] == 0


def test_a_cut_stream_is_never_cached(sandbox):
    oc = client("openai", sandbox=sandbox, max_retries=0)
    with meter(cache="exact"):
        with pytest.raises(Exception):
            list(oc.chat.completions.create(**BASE, stream=True, extra_headers={"x-sandbox-fault": "cut"}))
    assert current_cache_store().stats(0)["entries"] == 0


def test_ttl_is_honoured_exactly(sandbox):
    now = [1000.0]
    cache = ResponseCache(current_cache_store(), CacheSettings(ttl_s=parse_duration("1m")), clock=lambda: now[0])
    oc = client("openai", sandbox=sandbox)
    with Meter(cache=cache) as m:
        oc.chat.completions.create(**BASE)
        now[0] += 59.9
        oc.chat.completions.create(**BASE)
        now[0] += 0.2
        oc.chat.completions.create(**BASE)
    assert [r.cache for r in m.records] == ["", "exact", ""]


def test_ttl_table_per_tag(sandbox, tmp_path):
    table = tmp_path / "ttl.yaml"
    table.write_text("knowledge_lookup: 24h\ntroubleshoot: 30m\nsmall_talk: 0\n")
    assert load_ttl_table(table) == {"knowledge_lookup": 86400.0, "troubleshoot": 1800.0, "small_talk": 0.0}
    cache = ResponseCache(current_cache_store(), CacheSettings(ttl_by_tag=load_ttl_table(table), tag="small_talk"))
    with Meter(cache=cache, tag="small_talk"):
        client("openai", sandbox=sandbox).chat.completions.create(**BASE)
    assert current_cache_store().stats(0)["entries"] == 0
    with pytest.raises(ValueError, match="tag 'x'"):
        load_ttl_table({"x": "soon"})


def test_reject_removes_an_answer_and_blocks_it(sandbox):
    oc = client("openai", sandbox=sandbox)
    with meter(cache="exact"):
        oc.chat.completions.create(**BASE)
        llmcost_magic.reject_answer()
        oc.chat.completions.create(**BASE)  # live again, and not stored again
        oc.chat.completions.create(**BASE)
    assert list(rows().cache) == ["", "", ""]
    assert current_cache_store().stats(0) == {"entries": 0, "hits": 0, "blocked": 1}


def test_clear_by_tag_and_model(sandbox):
    oc = client("openai", sandbox=sandbox)
    with meter(cache="exact", tag="a"):
        oc.chat.completions.create(**BASE)
        oc.chat.completions.create(**{**BASE, "model": "gpt-4o"})
    with meter(cache="exact", tag="b"):
        oc.chat.completions.create(**{**BASE, "messages": [{"role": "user", "content": "hi"}]})
    assert llmcost_magic.clear_cache(tag="a", model="gpt-4o") == 1
    assert llmcost_magic.clear_cache(tag="a") == 1
    assert llmcost_magic.clear_cache() == 1


def _ask(oc, question: str, **kw):
    return oc.chat.completions.create(model="gpt-4o-mini", temperature=0, messages=[{"role": "user", "content": question}], **kw)


def test_semantic_hits_paraphrases_but_not_negations_or_near_misses(sandbox):
    oc = client("openai", sandbox=sandbox)
    with meter(cache="semantic"):
        _ask(oc, "How do I turn on two-factor authentication?")
        _ask(oc, "How can I turn on two-factor authentication?")  # paraphrase: hit
        _ask(oc, "How do I turn off two-factor authentication?")  # negation: miss
        _ask(oc, "What is the weather in Seoul?")
        _ask(oc, "What is the weather in Busan?")  # near miss: miss
        _ask(oc, "2단계 인증을 어떻게 켜나요?")
        _ask(oc, "2단계 인증을 어떻게 끄나요?")  # Korean negation: miss
    assert list(rows().cache) == ["", "semantic", "", "", "", "", ""]
    assert rows().iloc[1].note.startswith("semantic similarity 0.9")
    audit = llmcost_magic.semantic_audit()
    assert list(audit.cached_question) == ["How do I turn on two-factor authentication?"]


def test_semantic_hits_need_the_same_context(sandbox):
    oc = client("openai", sandbox=sandbox)
    with meter(cache="semantic"):
        _ask(oc, "How can I cancel my subscription?")
        _ask(oc, "How do I cancel my subscription?", max_tokens=800)  # other parameters
        oc.chat.completions.create(model="gpt-4o", temperature=0, messages=[{"role": "user", "content": "How do I cancel my subscription?"}])
        oc.chat.completions.create(model="gpt-4o-mini", temperature=0, messages=[
            {"role": "system", "content": "You are a pirate."}, {"role": "user", "content": "How do I cancel my subscription?"}])
    assert (rows().cache == "").all()


def test_user_context_keys_never_share_answers(shell):
    shell.run_cell("from llmcost_magic.sandbox import client\noc = client('openai')")
    ask = "oc.chat.completions.create(model='gpt-4o-mini', temperature=0, messages=[{'role':'user','content':'What is my account balance?'}])"
    shell.run_cell(f"%%llmcost --cache exact --context user:alice\n{ask}")
    shell.run_cell(f"%%llmcost --cache exact --context user:bob\n{ask}")
    shell.run_cell(f"%%llmcost --cache exact --context user:alice\n{ask}")
    assert list(rows().cache) == ["", "", "exact"]


def test_rerunning_a_cached_cell_costs_nothing(shell):
    shell.run_cell("from llmcost_magic.sandbox import client\noc = client('openai')")
    cell = "%%llmcost --cache exact --ttl 1h\nfor q in ['a?', 'b?', 'c?']:\n    oc.chat.completions.create(model='gpt-4o', temperature=0, messages=[{'role':'user','content':q}])"
    shell.run_cell(cell)
    shell.run_cell(cell)
    report = shell.run_line_magic("llmcost", "report --by cell")
    df = rows()
    assert df.iloc[3:].cost_usd.sum() == 0 and df.iloc[:3].cost_usd.sum() > 0 and report.iloc[0].runs == 2
    stats = shell.run_line_magic("llmcost", "cache stats")
    assert stats.iloc[0].session_hits == 3 and stats.iloc[0].saved_usd == pytest.approx(df.iloc[:3].cost_usd.sum())
    shell.run_line_magic("llmcost", "cache clear")
    assert current_cache_store().stats(0)["entries"] == 0


@pytest.mark.parametrize(("options", "message"), [
    ("--cache fuzzy", "invalid choice"),
    ("--cache exact --ttl soon", "Cannot read the duration"),
    ("--cache semantic --threshold 1.5", "(0, 1]"),
    ("--ttl 1h", "only applies with --cache"),
    ("--cache exact --threshold 0.9", "only applies with --cache semantic"),
])
def test_bad_cache_options(shell, options, message):
    r = shell.run_cell(f"%%llmcost {options}\nx = 1")
    assert r.error_in_exec is not None and message in str(r.error_in_exec)


def test_a_redis_store_is_shared_between_kernels(redis_url, sandbox):
    from llmcost_magic.policies.response_cache import build_cache
    from llmcost_magic.stores import open_store

    oc = client("openai", sandbox=sandbox)
    first_kernel, second_kernel = open_store(redis_url), open_store(redis_url)
    first_kernel.clear()
    for store in (first_kernel, second_kernel):
        with Meter(cache=build_cache("exact", store=store, ttl="1h", tag="workshop")) as m:
            oc.chat.completions.create(**BASE)
        last = m.records[-1]
    assert last.cache == "exact" and last.cost_usd == 0
    assert second_kernel.stats(0)["entries"] == 1 and second_kernel.stats(0)["hits"] == 1
    assert second_kernel.clear(tag="workshop") == 1


def test_redis_unreachable_says_so():
    from llmcost_magic.stores import open_store

    with pytest.raises(llmcost_magic.LLMCostError, match="Cannot reach Redis"):
        open_store("redis://127.0.0.1:1/0")


@pytest.mark.parametrize(("new", "cached", "reason"), [
    ("How do I reset my password? Thanks!", "How do I reset my password?", None),  # a sentence start is not a name
    ("Where is the Seoul office?", "Where is the Busan office?", "different names"),
    ("Refund for order 42?", "Refund for order 43?", "different numbers"),
])
def test_semantic_guard_reasons(new, cached, reason):
    from llmcost_magic.policies.semantic_cache import why_not_same

    assert (why_not_same(new, cached) or "")[:len(reason or "")] == (reason or "") and (why_not_same(new, cached) is None) == (reason is None)
