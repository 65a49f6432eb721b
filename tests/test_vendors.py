"""The vendor (who served the call) is recorded apart from the wire protocol, and prices follow the vendor."""

from __future__ import annotations

from datetime import time

import httpx2
import openai
import pytest

import llmcost_magic
from llmcost_magic import meter
from llmcost_magic.bookkeeping.report import cost_report

M = 1e-6
CASES = [  # base URL, model, vendor, $ per 1M input / output at that vendor (DeepSeek: 00:30-16:30 UTC; half off-peak)
    ("https://api.deepseek.com/v1", "deepseek-chat", "deepseek", 0.27, 1.10),
    ("https://generativelanguage.googleapis.com/v1beta/openai", "gemini-2.5-flash", "google", 0.30, 2.50),
    ("https://api.groq.com/openai/v1", "llama-3.3-70b-versatile", "groq", 0.59, 0.79),
    ("https://myres.openai.azure.com/openai/v1", "gpt-4o", "azure", 2.50, 10.0),
    ("https://api.openai.com/v1", "gpt-4o", "openai", 2.50, 10.0),
]


def _client(base_url: str, model: str) -> openai.OpenAI:
    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={
            "id": "c1", "object": "chat.completion", "created": 1, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1_000, "completion_tokens": 200, "total_tokens": 1_200}})

    return openai.OpenAI(api_key="sk-secret-key", base_url=base_url, http_client=httpx2.Client(transport=httpx2.MockTransport(answer)))


def test_vendor_and_protocol_are_recorded_apart_and_priced_at_the_vendor():
    with meter():
        for base_url, model, _, _, _ in CASES:
            _client(base_url, model).chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    rows = llmcost_magic.ledger()
    assert list(rows.provider) == ["openai"] * len(CASES)  # the wire protocol
    assert list(rows.vendor) == [c[2] for c in CASES]
    for row, (_, _, vendor, rate_in, rate_out) in zip(rows.itertuples(), CASES):
        if vendor == "deepseek" and not time(0, 30) <= row.ts.time() < time(16, 30):  # ts: naive UTC
            rate_in, rate_out = rate_in / 2, rate_out / 2
        assert row.cost_usd == pytest.approx(1_000 * rate_in * M + 200 * rate_out * M), row.model
    assert not rows.astype(str).apply(lambda column: column.str.contains("sk-secret")).any().any()
    by_vendor = cost_report(rows, by="vendor").set_index("vendor")
    assert by_vendor.loc["azure", "calls"] == 1 and by_vendor.loc["openai", "calls"] == 1
    assert llmcost_magic.whatif(rows).loc["actual (re-priced)", "cost_usd"] == pytest.approx(rows.cost_usd.sum(), abs=1e-12)


def test_a_local_or_unknown_host_takes_the_vendor_from_the_model(sandbox_server):
    from llmcost_magic.sandbox import client

    with meter():
        client("openai").chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        _client("http://127.0.0.1:9/v1", "deepseek-chat").chat.completions.create(
            model="deepseek-chat", messages=[{"role": "user", "content": "hi"}])
    assert list(llmcost_magic.ledger().vendor) == ["openai", "deepseek"]
