"""The seam, end to end: real openai / anthropic clients against the sandbox, in-process and over HTTP."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor

import importlib

import openai
import pytest

import llmcost_magic
from llmcost_magic import estimate_cost, meter
from llmcost_magic.intercept import install, uninstall
from llmcost_magic.sandbox import _http_module, client

# The httpx-style module the installed SDKs send through: httpx2 for current releases, httpx for
# the oldest supported ones (this file also runs against those, see `make test-oldest`).
sdk_http = importlib.import_module(_http_module("openai"))
try:
    import httpx2
except ImportError:  # the oldest SDKs' environment
    httpx2 = None

MSG = [{"role": "user", "content": "Explain what a token is in one paragraph."}]


def rows():
    return llmcost_magic.ledger()


def test_sync_chat_usage_and_price_match_the_response():
    oc = client("openai")
    with meter(tag="t") as m:
        r = oc.chat.completions.create(model="gpt-4o-mini", messages=MSG)
    df = rows()
    assert len(df) == 1 and m.totals.calls == 1
    row = df.iloc[0]
    assert (row.provider, row.endpoint, row.model, row.tag, row.status) == ("openai", "chat.completions", "gpt-4o-mini", "t", "ok")
    assert row.input_tokens == r.usage.prompt_tokens and row.output_tokens == r.usage.completion_tokens
    assert row.cost_usd == pytest.approx(estimate_cost("gpt-4o-mini", r.usage.prompt_tokens, r.usage.completion_tokens))
    assert not row.estimated


def test_nothing_is_metered_without_an_active_meter():
    client("openai").chat.completions.create(model="gpt-4o-mini", messages=MSG)
    assert rows().empty


def test_anthropic_input_tokens_include_cache_reads_and_writes():
    ac = client("anthropic")
    system = [{"type": "text", "text": "You are a support agent. " + "Policy text. " * 800, "cache_control": {"type": "ephemeral"}}]
    with meter():
        first = ac.messages.create(model="claude-sonnet-4-6", max_tokens=200, system=system, messages=MSG)
        second = ac.messages.create(model="claude-sonnet-4-6", max_tokens=200, system=system, messages=MSG)
    df = rows()
    u1, u2 = first.usage, second.usage
    assert u1.cache_creation_input_tokens > 0 and u2.cache_read_input_tokens > 0
    assert df.iloc[0].input_tokens == u1.input_tokens + u1.cache_creation_input_tokens + (u1.cache_read_input_tokens or 0)
    assert df.iloc[0].cache_write_tokens == u1.cache_creation_input_tokens
    assert df.iloc[1].input_tokens == u2.input_tokens + u2.cache_read_input_tokens + (u2.cache_creation_input_tokens or 0)
    assert df.iloc[1].cached_input_tokens == u2.cache_read_input_tokens
    assert df.iloc[1].cost_usd < df.iloc[0].cost_usd  # reads are cheaper than writes


def test_openai_stream_is_priced_exactly_and_the_extra_usage_chunk_is_hidden():
    oc = client("openai")
    with meter():
        plain = oc.chat.completions.create(model="gpt-4o-mini", messages=MSG, seed=1)
        chunks = list(oc.chat.completions.create(model="gpt-4o-mini", messages=MSG, seed=1, stream=True))
    assert all(c.choices for c in chunks), "the usage-only chunk the seam asked for reached user code"
    assert all(c.usage is None for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == plain.choices[0].message.content
    streamed = rows().iloc[1]
    assert streamed.stream and not streamed.estimated
    assert streamed.output_tokens == plain.usage.completion_tokens
    assert streamed.input_tokens == plain.usage.prompt_tokens


def test_stream_where_the_user_asked_for_usage_keeps_its_usage_chunk():
    oc = client("openai")
    with meter():
        chunks = list(oc.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True,
                                                 stream_options={"include_usage": True}))
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == rows().iloc[0].output_tokens


def test_anthropic_stream_is_metered_from_its_events():
    ac = client("anthropic")
    with meter():
        with ac.messages.stream(model="claude-haiku-4-5", max_tokens=300, messages=MSG) as s:
            text = "".join(s.text_stream)
            final = s.get_final_message()
    row = rows().iloc[0]
    assert text and row.stream and row.output_tokens == final.usage.output_tokens and row.status == "ok"


async def test_async_gather_is_metered_call_by_call():
    oc = client("openai", async_=True)
    ac = client("anthropic", async_=True)
    with meter() as m:
        await asyncio.gather(
            *[oc.chat.completions.create(model="gpt-4o-mini", messages=MSG) for _ in range(20)],
            *[ac.messages.create(model="claude-haiku-4-5", max_tokens=100, messages=MSG) for _ in range(10)],
        )
        stream = await oc.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True)
        async for _ in stream:
            pass
    assert m.totals.calls == 31 and len(rows()) == 31
    assert set(rows().provider) == {"openai", "anthropic"}


def test_raw_and_streaming_response_wrappers_keep_their_api():
    oc = client("openai")
    with meter():
        raw = oc.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MSG)
        assert raw.headers.get("content-type", "").startswith("application/json")
        parsed = raw.parse()
        with oc.chat.completions.with_streaming_response.create(model="gpt-4o-mini", messages=MSG) as resp:
            body = json.loads(resp.read())
    assert parsed.usage.prompt_tokens == body["usage"]["prompt_tokens"]
    assert len(rows()) == 2


def test_clients_created_before_the_seam_are_metered():
    uninstall()
    oc = client("openai")
    install()
    with meter():
        oc.chat.completions.create(model="gpt-4o-mini", messages=MSG)
    assert len(rows()) == 1


def test_over_real_http_with_custom_base_urls(sandbox_server):
    oc = client("openai", base_url=sandbox_server.openai_base_url)
    ac = client("anthropic", base_url=sandbox_server.anthropic_base_url)
    has_responses = hasattr(oc, "responses")  # the Responses API arrived in openai 1.66
    with meter():
        oc.chat.completions.create(model="gpt-4o", messages=MSG)
        if has_responses:
            oc.responses.create(model="gpt-4o", input="Say hi")
        oc.embeddings.create(model="text-embedding-3-small", input=["a b c", "d e"])
        ac.messages.create(model="claude-sonnet-4-6", max_tokens=50, messages=MSG)
    df = rows()
    expected = ["chat.completions", "responses", "embeddings", "messages"] if has_responses else ["chat.completions", "embeddings", "messages"]
    assert list(df.endpoint) == expected
    assert (df.input_tokens > 0).all() and (df.status == "ok").all()
    embedding = df[df.endpoint == "embeddings"].iloc[0]
    assert embedding.output_tokens == 0 and embedding.cost_usd > 0


@pytest.mark.parametrize("module", ["httpx", "httpx2"])
def test_raw_httpx_and_httpx2_clients_are_metered_too(sandbox_server, module):
    """Any library built on httpx or httpx2 (LangChain, LiteLLM, a user's own class) goes through the seam."""
    http = pytest.importorskip(module)
    body = {"model": "gpt-4o-mini", "messages": MSG}
    with meter():
        with http.Client() as c:
            c.post(sandbox_server.openai_base_url + "/chat/completions", json=body,
                   headers={"authorization": "Bearer x"}).raise_for_status()
        with http.Client() as c:  # a stream read by hand, as a wrapper library would
            with c.stream("POST", sandbox_server.openai_base_url + "/chat/completions", json={**body, "stream": True},
                          headers={"authorization": "Bearer x"}) as r:
                lines = list(r.iter_lines())
    assert len(rows()) == 2 and not any('"choices":[]' in line for line in lines)


def test_non_llm_traffic_passes_untouched(sandbox_server):
    with meter():
        with sdk_http.Client() as c:
            c.get(sandbox_server.openai_base_url + "/models", headers={"authorization": "Bearer x"})
            c.post(sandbox_server.url + "/not-an-llm", json={"model": "x"})
    assert rows().empty


def test_threads_started_in_a_metered_scope_are_attributed(shell):
    shell.run_cell("from llmcost_magic.sandbox import client\noc = client('openai')")
    r = shell.run_cell(
        "%%llmcost --tag threads\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "with ThreadPoolExecutor(4) as pool:\n"
        "    list(pool.map(lambda i: oc.chat.completions.create(model='gpt-4o-mini', messages=[{'role':'user','content':str(i)}]), range(8)))\n"
    )
    assert r.error_in_exec is None
    df = rows()
    assert len(df) == 8 and set(df.tag) == {"threads"} and df.cell_hash.nunique() == 1


def test_a_cut_stream_is_recorded_with_what_arrived():
    oc = client("openai", max_retries=0)
    with meter():
        with pytest.raises(Exception):
            for _ in oc.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True,
                                                extra_headers={"x-sandbox-fault": "cut"}):
                pass
    row = rows().iloc[0]
    assert row.status == "cut" and row.estimated and row.input_tokens > 0


def test_a_stream_closed_early_is_recorded():
    oc = client("openai")
    with meter():
        stream = oc.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True)
        next(iter(stream))
        stream.close()
    row = rows().iloc[0]
    assert row.status == "closed" and row.estimated


def test_each_retry_attempt_is_its_own_row():
    oc = client("openai", max_retries=2)
    with meter():
        with pytest.raises(openai.RateLimitError):
            oc.chat.completions.create(model="gpt-4o-mini", messages=MSG, extra_headers={"x-sandbox-fault": "429"})
    df = rows()
    assert list(df.status) == ["http_429"] * 3 and (df.cost_usd == 0).all()


def test_no_api_key_reaches_the_ledger(fresh_ledger):
    secret = "sk-test-SECRET-0123456789"
    oc = openai.OpenAI(api_key=secret, base_url="http://sandbox.local/v1",
                       http_client=sdk_http.Client(transport=llmcost_magic.sandbox.sandbox_transport(sdk_http.__name__)))
    with meter():
        oc.chat.completions.create(model="gpt-4o-mini", messages=MSG)
    fresh_ledger.close()
    with open(fresh_ledger.path, "rb") as f:
        data = f.read()
    wal = fresh_ledger.path + "-wal"
    import os
    if os.path.exists(wal):
        data += open(wal, "rb").read()
    assert secret.encode() not in data and b"Bearer" not in data
    assert sqlite3.connect(fresh_ledger.path).execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 1


def test_budget_refuses_before_sending_and_says_by_how_much():
    oc = client("openai", max_retries=0)
    with meter(budget=0.003) as m:
        if sdk_http.__name__ == "httpx2":
            with pytest.raises(llmcost_magic.BudgetExceeded, match=r"over by \$") as err:
                oc.chat.completions.create(model="gpt-4o", messages=MSG, max_tokens=4000)
            assert isinstance(err.value, openai.OpenAIError)  # the SDK neither retried nor wrapped it
            refusal = err.value
        else:  # older SDK releases wrap every transport error; the refusal is its cause
            with pytest.raises(openai.APIConnectionError) as err:
                oc.chat.completions.create(model="gpt-4o", messages=MSG, max_tokens=4000)
            refusal = err.value.__cause__
            assert isinstance(refusal, llmcost_magic.BudgetExceeded) and "over by $" in str(refusal)
        assert refusal.suggestion in ("gpt-4.1-mini", "gpt-4o-mini", "gpt-5-mini", "gpt-4.1-nano", "gpt-5-nano")
        oc.chat.completions.create(model=refusal.suggestion, messages=MSG, max_tokens=4000)
    df = rows()
    assert list(df.status) == ["refused", "ok"] and m.totals.refused == 1


def test_concurrent_calls_never_overshoot_the_budget():
    oc = client("openai", max_retries=0)
    worst = estimate_cost("gpt-4o-mini", 30, 300)
    limit = worst * 10.5
    with meter(budget=limit) as m:
        def one(i):
            try:
                oc.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"q{i}"}], max_tokens=300)
            except llmcost_magic.BudgetExceeded:
                return False
            except openai.APIConnectionError as wrapped:  # older SDKs wrap the refusal (see the test above)
                assert isinstance(wrapped.__cause__, llmcost_magic.BudgetExceeded)
                return False
            return True
        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(one, range(200)))
    assert 10 <= sum(results) < 200 and m.totals.refused == 200 - sum(results)  # the limit was really hit
    assert m.totals.calls == sum(results) and 0 < m.budget.spent_usd <= limit
    assert m.budget.reserved_usd == pytest.approx(0.0, abs=1e-12) and m.totals.cost_usd <= limit
