"""Batch API helpers through the real SDKs against the sandbox over HTTP, including resume in a new process."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

import llmcost_magic
from llmcost_magic import batch
from llmcost_magic.sandbox import ManualClock, Sandbox, client, serve

TEXTS = pd.Series(["a steel water bottle", "wireless earbuds", "무선 이어폰", "a wool scarf"], index=["p1", "p2", "p3", "p4"])


@pytest.fixture
def clocked():
    clock = ManualClock()
    with serve(sandbox=Sandbox(clock=clock, batch_delay_s=60)) as server:
        yield clock, server


def _client(server, provider):
    return client(provider, base_url=server.openai_base_url if provider == "openai" else server.anthropic_base_url, max_retries=0)


def test_build_validates_ids_items_and_models():
    with pytest.raises(batch.BatchError, match="Duplicate custom_ids"):
        batch.build(["a", "b"], model="gpt-4o-mini", custom_ids=["x", "x"])
    with pytest.raises(batch.BatchError, match="empty"):
        batch.build(["a", ""], model="gpt-4o-mini")
    with pytest.raises(batch.BatchError, match="gpt-4o-mini"):
        batch.build(["a"], model="gpt-4o-mnii")
    with pytest.raises(batch.BatchError, match="no messages"):
        batch.build([{"messages": []}], model="gpt-4o-mini")
    plan = batch.build(TEXTS, model="gpt-4o-mini", template="Title for: {}")
    assert [cid for cid, _ in plan.requests] == ["row-p1", "row-p2", "row-p3", "row-p4"]
    assert plan.requests[2][1]["messages"][0]["content"] == "Title for: 무선 이어폰"


def test_estimate_is_half_of_live_and_big_inputs_are_split(monkeypatch):
    plan = batch.build(TEXTS, model="gpt-4o-mini", max_tokens=100)
    table = plan.estimate()
    assert table.loc["worst case", "batch_usd"] == pytest.approx(table.loc["worst case", "live_usd"] / 2)
    assert table.loc["worst case", "output_tokens"] == 400
    monkeypatch.setitem(batch.LIMITS, "openai", (3, 10**9))
    assert [len(c) for c in plan.chunks()] == [3, 1]


@pytest.mark.parametrize(("provider", "model"), [("openai", "gpt-4o-mini"), ("anthropic", "claude-haiku-4-5")])
def test_end_to_end_with_a_rejected_line(clocked, provider, model):
    clock, server = clocked
    sdk = _client(server, provider)
    plan = batch.build(TEXTS, model=model, max_tokens=80)
    plan.requests[1] = (plan.requests[1][0], {**plan.requests[1][1], "model": "no-such-model"})  # the provider rejects it
    job = plan.submit(sdk, name=f"products-{provider}")
    assert job.status(sdk)["state"] == "in_progress"
    ticks = []
    status = job.wait(sdk, interval=1, progress=False, sleep=lambda s: (ticks.append(s), clock.advance(30)))
    assert status["state"] == "done" and status["completed"] == 3 and status["failed"] == 1 and len(ticks) == 2
    results = job.collect(sdk)
    assert list(results.index) == ["row-p1", "row-p2", "row-p3", "row-p4"]
    assert results.loc["row-p2", "error"] and pd.isna(results.loc["row-p2", "text"])
    assert results.drop(index="row-p2")["error"].isna().all() and (results.drop(index="row-p2")["output_tokens"] <= 80).all()
    rows = llmcost_magic.ledger(tag=job.name)
    assert len(rows) == 3 and (rows.saved_by == "batch").all()
    assert rows.cost_usd.sum() == pytest.approx(rows.baseline_cost_usd.sum() / 2) == pytest.approx(results.cost_usd.sum())
    job.collect(sdk)
    assert len(llmcost_magic.ledger(tag=job.name)) == 3  # a second collect never pays twice


def test_resume_after_a_restart_in_a_new_process(clocked, fresh_ledger):
    clock, server = clocked
    sdk = _client(server, "openai")
    job = batch.build(TEXTS, model="gpt-4o-mini").submit(sdk, name="overnight")
    clock.advance(61)
    fresh_ledger.flush()
    script = (
        "import json, llmcost_magic\n"
        "from llmcost_magic import batch\n"
        "from llmcost_magic.sandbox import client\n"
        f"llmcost_magic.use_ledger({fresh_ledger.path!r})\n"
        "listed = llmcost_magic.batches()\n"
        f"job = batch.attach({job.provider_ids[0]!r})\n"
        f"sdk = client('openai', base_url={server.openai_base_url!r})\n"
        "df = job.collect(sdk)\n"
        "print(json.dumps({'names': list(listed.name), 'rows': len(df), 'errors': int(df.error.notna().sum())}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"names": ["overnight"], "rows": 4, "errors": 0}
    assert batch.attach("overnight").collected  # the other process recorded the collection
    with pytest.raises(batch.BatchError, match="No recorded batch"):
        batch.attach("never-submitted")


def test_a_cancelled_batch_surfaces_as_missing_results(clocked):
    clock, server = clocked
    sdk = _client(server, "openai")
    job = batch.build(TEXTS, model="gpt-4o-mini").submit(sdk)
    sdk.batches.cancel(job.provider_ids[0])
    assert job.wait(sdk, progress=False)["provider_states"] == ["cancelled"]
    results = job.collect(sdk)
    assert results["error"].str.contains("cancelled").all() and results["cost_usd"].sum() == 0


def test_batch_cell_defers_calls_and_results_come_back_in_order(shell):
    shell.run_cell("from llmcost_magic.cookbook import openai_client\noai = openai_client()")
    r = shell.run_cell("%%llmcost --batch\nrs = [oai.chat.completions.create(model='gpt-4o-mini', messages=[{'role': 'user', 'content': f'q{i}'}]) for i in range(3)]\nrs[1].choices[0].message.content")
    assert "deferred to a batch" in r.result and r.result.endswith("collect with llmcost_magic.batch.results()]")
    assert llmcost_magic.ledger().empty  # nothing was sent yet
    df = batch.results(interval=0.2)
    assert len(df) == 3 and df["error"].isna().all() and list(df.index) == sorted(df.index)
    assert (llmcost_magic.ledger().saved_by == "batch").sum() == 3


def test_batch_results_are_parsed_and_priced_like_live_answers():
    """Before: batch.py parsed usage itself and dropped 1-hour cache writes, server-tool fees and reasoning."""
    from llmcost_magic import batch
    from llmcost_magic.core.pricing import price_for
    from llmcost_magic.intercept import anthropic_protocol, openai_protocol

    usage = {"input_tokens": 100, "output_tokens": 50, "cache_read_input_tokens": 1000, "cache_creation_input_tokens": 2000,
             "cache_creation": {"ephemeral_1h_input_tokens": 2000}, "server_tool_use": {"web_search_requests": 2}}
    message = {"model": "claude-sonnet-4-6", "content": [{"type": "text", "text": "hi"}], "usage": usage}
    row = batch._anthropic_result({"custom_id": "a", "result": {"type": "succeeded", "message": message}}, "claude-sonnet-4-6")
    live = anthropic_protocol.from_body("messages", message).usage
    assert row["cost_usd"] == pytest.approx(price_for("claude-sonnet-4-6", batch=True).cost(live).usd)
    assert row["input_tokens"] == 3100
    body = {"choices": [{"message": {"content": "hi"}}], "usage": {
        "prompt_tokens": 100, "completion_tokens": 80, "completion_tokens_details": {"reasoning_tokens": 60},
        "prompt_tokens_details": {"cached_tokens": 64}}}
    row = batch._openai_result({"custom_id": "b", "response": {"status_code": 200, "body": body}}, "gpt-5-mini")
    live = openai_protocol.from_body("chat.completions", body).usage
    assert row["cost_usd"] == pytest.approx(price_for("gpt-5-mini", batch=True).cost(live).usd)


def test_batch_lines_carry_the_output_cap_each_provider_accepts(monkeypatch):
    """OpenAI's reasoning models reject ``max_tokens`` (they take ``max_completion_tokens``, which every current
    chat model accepts), and a request may not set both; Anthropic requires ``max_tokens``. Before, every line got
    ``max_tokens``, also beside the user's own ``max_completion_tokens``."""
    plan = batch.build(["a", "b"], model="o3", max_tokens=64)
    assert all(body.get("max_completion_tokens") == 64 and "max_tokens" not in body for _, body in plan.requests)
    own = batch.build([{"messages": [{"role": "user", "content": "a"}], "max_completion_tokens": 9}], model="o3")
    assert own.requests[0][1]["max_completion_tokens"] == 9 and "max_tokens" not in own.requests[0][1]
    legacy = batch.build([{"messages": [{"role": "user", "content": "a"}], "max_tokens": 7}], model="gpt-4o-mini")
    assert legacy.requests[0][1] == {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "a"}], "max_tokens": 7}
    claude = batch.build(["a"], model="claude-haiku-4-5", max_tokens=32)
    assert claude.requests[0][1]["max_tokens"] == 32 and "max_completion_tokens" not in claude.requests[0][1]

    sent = []
    monkeypatch.setattr(batch, "hold_batch", lambda *a, **k: [], raising=False)
    monkeypatch.setattr(batch.BatchPlan, "submit", lambda self, *a, **k: sent.append(self.requests) or None)
    batch.submit_deferred([("openai", "o3", "c-0", {"model": "o3", "messages": [{"role": "user", "content": "a"}],
                                                      "max_completion_tokens": 5}),
                           ("openai", "gpt-4o-mini", "c-1", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "b"}]}),
                           ("anthropic", "claude-haiku-4-5", "c-2", {"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "c"}]})],
                          "cell")
    bodies = {cid: body for requests in sent for cid, body in requests}
    assert bodies["c-0"]["max_completion_tokens"] == 5 and "max_tokens" not in bodies["c-0"]
    assert "max_completion_tokens" in bodies["c-1"] and "max_tokens" not in bodies["c-1"]
    assert "max_tokens" in bodies["c-2"] and "max_completion_tokens" not in bodies["c-2"]
