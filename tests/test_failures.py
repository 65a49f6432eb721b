"""Nothing is lost and nothing breaks: meter failures, interrupts."""

from __future__ import annotations

import httpx2
import pandas as pd
import openai
import pytest

import llmcost_magic
from llmcost_magic import meter
from llmcost_magic.sandbox import client

MSG = [{"role": "user", "content": "hi"}]


def test_a_broken_ledger_never_breaks_the_users_call(fresh_ledger, capsys):
    oc = client("openai")
    fresh_ledger.close()  # every write now fails
    with meter() as m:
        first = oc.chat.completions.create(model="gpt-4o-mini", messages=MSG)
        second = oc.chat.completions.create(model="gpt-4o-mini", messages=MSG)
    assert first.choices and second.choices and m.totals.calls == 2
    err = capsys.readouterr().err
    assert err.count("metering failed") == 1 and "unmetered" in err


class _Interrupting(httpx2.BaseTransport):
    def handle_request(self, request):
        raise KeyboardInterrupt


def test_an_interrupted_call_is_still_recorded():
    oc = openai.OpenAI(api_key="x", base_url="http://sandbox.local/v1", http_client=httpx2.Client(transport=_Interrupting()))
    with meter():
        with pytest.raises(KeyboardInterrupt):
            oc.chat.completions.create(model="gpt-4o-mini", messages=MSG)
    assert list(llmcost_magic.ledger().status) == ["interrupted"]


def test_an_unknown_model_is_recorded_with_unknown_cost(recwarn):
    oc = openai.OpenAI(api_key="x", base_url="http://sandbox.local/v1",
                       http_client=httpx2.Client(transport=httpx2.MockTransport(lambda r: httpx2.Response(200, json={
                           "id": "x", "object": "chat.completion", "created": 1, "model": "my-finetune-xyz",
                           "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
                           "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}))))
    with meter() as m:
        oc.chat.completions.create(model="gpt-4o-mini", messages=MSG)
    row = llmcost_magic.ledger().iloc[0]
    assert row.model == "my-finetune-xyz" and pd.isna(row.cost_usd)  # unknown, not 0
    assert m.totals.unpriced == 1 and "unpriced" in m.summary()
    assert any("my-finetune-xyz" in str(w.message) for w in recwarn)
