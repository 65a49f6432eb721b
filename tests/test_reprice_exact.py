"""Re-pricing agrees with the ledger to the cent: whatif's "actual", the dashboard's axes and SUM(cost_usd).

The ledger holds 5m and 1h cache writes, a long-context call, batch rows, tool fees, a service tier,
audio tokens and a response-cache hit, all recorded through real SDK clients over loopback HTTP.
"""

from __future__ import annotations

import anthropic
import openai
import pytest

import llmcost_magic
from llmcost_magic import batch, meter
from llmcost_magic.sandbox import Sandbox, client
from llmcost_magic.notebook.widgets.dashboard import cost_axes

from fake_provider import FakeProvider

HI = [{"role": "user", "content": "hi"}]


def _message(model, usage):
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": model, "stop_reason": "end_turn",
            "stop_sequence": None, "content": [{"type": "text", "text": "ok"}], "usage": usage}


def _chat(model, usage, **top):
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": model, **top,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            "usage": usage}


@pytest.fixture
def mixed_ledger():
    with FakeProvider() as fake:
        ac = anthropic.Anthropic(api_key="sk-ant-test", base_url=fake.url, max_retries=0)
        oc = openai.OpenAI(api_key="sk-test", base_url=fake.url + "/v1", max_retries=0)
        fake.reply(_message("claude-sonnet-4-5", {  # 1h and 5m writes, past the 200k long-context cliff
            "input_tokens": 150_000, "cache_read_input_tokens": 40_000, "cache_creation_input_tokens": 30_000,
            "cache_creation": {"ephemeral_5m_input_tokens": 10_000, "ephemeral_1h_input_tokens": 20_000},
            "output_tokens": 2_000}))
        fake.reply(_message("claude-opus-4-8", {"input_tokens": 3_000, "output_tokens": 400, "speed": "fast",
                                                "server_tool_use": {"web_search_requests": 4}}))
        fake.reply(_chat("gpt-4o", {"prompt_tokens": 9_000, "completion_tokens": 700, "total_tokens": 9_700},
                         service_tier="priority"))
        fake.reply(_chat("gpt-4o-audio-preview", {
            "prompt_tokens": 1_000, "completion_tokens": 600, "total_tokens": 1_600,
            "prompt_tokens_details": {"audio_tokens": 800}, "completion_tokens_details": {"audio_tokens": 500}}))
        fake.reply({"id": "resp_1", "object": "response", "created_at": 1, "status": "completed", "model": "gpt-5",
                    "output": [{"type": "web_search_call", "id": "ws_1", "status": "completed"},
                               {"type": "file_search_call", "id": "fs_1", "status": "completed", "queries": []}],
                    "tools": [], "usage": {"input_tokens": 5_000, "output_tokens": 900, "total_tokens": 5_900}})
        with meter(tag="mixed"):
            ac.messages.create(model="claude-sonnet-4-5", max_tokens=3_000, messages=HI)
            ac.messages.create(model="claude-opus-4-8", max_tokens=500, messages=HI)
            oc.chat.completions.create(model="gpt-4o", messages=HI, service_tier="priority")
            oc.chat.completions.create(model="gpt-4o-audio-preview", messages=HI)
            oc.responses.create(model="gpt-5", input="x")
    sandbox_client = client("openai", sandbox=Sandbox())
    with meter(tag="mixed", cache="exact"):
        for _ in range(2):  # the second is a cache hit: $0 in the ledger, $0 re-priced
            sandbox_client.chat.completions.create(model="gpt-4o", temperature=0, messages=HI)
    job = batch.build(["a", "b"], model="gpt-4o-mini").submit(sandbox_client, name="mixed-batch")
    assert job.wait(sandbox_client, interval=0.2, progress=False)["state"] == "done"
    job.collect(sandbox_client)
    return llmcost_magic.ledger()


def test_whatif_dashboard_and_ledger_agree_to_the_cent(mixed_ledger):
    calls = mixed_ledger
    assert calls["cache_write_1h_tokens"].sum() == 20_000 and calls["batch"].sum() == 2
    assert set(calls["service_tier"]) >= {"priority"} and calls["tool_calls"].str.contains("web_search").sum() == 2
    ledger_total = float(calls["cost_usd"].sum())
    actual = llmcost_magic.whatif(calls).loc["actual (re-priced)", "cost_usd"]
    axes = cost_axes(calls)
    assert actual == pytest.approx(ledger_total, abs=1e-9)
    assert float(axes[["input", "output", "embedding", "external tools"]].sum()) == pytest.approx(ledger_total, abs=1e-9)
    assert axes["external tools"] == pytest.approx(4 * 0.01 + 0.01 + 0.0025)


def test_the_sonnet_row_prices_1h_writes_and_the_long_context_tier(mixed_ledger):
    row = mixed_ledger[mixed_ledger.model == "claude-sonnet-4-5"].iloc[0]
    # over 200k input: $6 in, $22.50 out, $0.60 read, $7.50 5m write, $12 1h write per million
    expected = (150_000 * 6 + 40_000 * 0.6 + 10_000 * 7.5 + 20_000 * 12 + 2_000 * 22.5) / 1e6
    assert row.cost_usd == pytest.approx(expected, abs=1e-12)
    assert row.price_source.startswith("genai-prices")


def test_a_ledger_from_before_the_pricing_columns_opens_and_reprices(tmp_path):
    import sqlite3

    from llmcost_magic.bookkeeping import sqlite_ledger

    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE _migrations (step INTEGER PRIMARY KEY, name TEXT)")
    for name, step in list(sqlite_ledger._MIGRATIONS.items())[:5]:  # the schema as it was before _m006
        step(db)
        db.execute("INSERT INTO _migrations (name) VALUES (?)", (name,))
    db.execute("INSERT INTO calls (ts, session, provider, endpoint, model, input_tokens, cached_input_tokens, "
               "cache_write_tokens, output_tokens, reasoning_tokens, cost_usd, status, cache) "
               "VALUES (1, 's', 'openai', 'chat.completions', 'gpt-4o', 1000, 0, 0, 100, 0, 0.0035, 'ok', '')")
    db.commit()
    db.close()
    ledger = sqlite_ledger.Ledger(path)
    calls = ledger.dataframe()
    ledger.close()
    assert calls.loc[0, "vendor"] == "openai" and not calls.loc[0, "batch"] and calls.loc[0, "cache_write_1h_tokens"] == 0
    assert llmcost_magic.whatif(calls).loc["actual (re-priced)", "cost_usd"] == pytest.approx(0.0035)
