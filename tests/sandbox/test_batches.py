"""Batch endpoints through the real SDKs, over real HTTP: OpenAI files + batches, Anthropic message batches."""

from __future__ import annotations

import io
import json

import anthropic
import openai
import pytest

from llmcost_magic.sandbox import ManualClock, Sandbox, client, serve


@pytest.fixture
def clocked():
    clock = ManualClock()
    sandbox = Sandbox(clock=clock, batch_delay_s=60)
    with serve(sandbox=sandbox) as server:
        yield clock, server


def _line(custom_id: str, model: str = "gpt-4o-mini") -> str:
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
                       "body": {"model": model, "messages": [{"role": "user", "content": custom_id}], "max_tokens": 40}})


def test_openai_batch_end_to_end_with_broken_lines(clocked):
    clock, server = clocked
    oc = client("openai", base_url=server.openai_base_url)
    jsonl = "\n".join([_line("a"), _line("b"), "{not json", _line("c", model="no-such-model")])
    uploaded = oc.files.create(file=("in.jsonl", io.BytesIO(jsonl.encode())), purpose="batch")
    batch = oc.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert batch.status == "in_progress" and batch.request_counts.total == 4
    clock.advance(59)
    assert oc.batches.retrieve(batch.id).status == "in_progress"
    clock.advance(2)
    done = oc.batches.retrieve(batch.id)
    assert done.status == "completed" and (done.request_counts.completed, done.request_counts.failed) == (2, 2)
    outputs = [json.loads(x) for x in oc.files.content(done.output_file_id).text.splitlines()]
    assert {o["custom_id"] for o in outputs} == {"a", "b"}
    assert all(o["response"]["body"]["usage"]["completion_tokens"] <= 40 for o in outputs)
    errors = [json.loads(x) for x in oc.files.content(done.error_file_id).text.splitlines()]
    assert {e["custom_id"] for e in errors} == {None, "c"}
    assert [b.id for b in oc.batches.list()] == [batch.id]


def test_openai_batch_cancel_and_unknown_ids(clocked):
    _, server = clocked
    oc = client("openai", base_url=server.openai_base_url, max_retries=0)
    uploaded = oc.files.create(file=("in.jsonl", io.BytesIO(_line("a").encode())), purpose="batch")
    batch = oc.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert oc.batches.cancel(batch.id).status == "cancelled"
    with pytest.raises(openai.NotFoundError):
        oc.batches.retrieve("batch_missing")
    with pytest.raises(openai.NotFoundError):
        oc.batches.create(input_file_id="file-missing", endpoint="/v1/chat/completions", completion_window="24h")


def test_anthropic_message_batch_end_to_end(clocked):
    clock, server = clocked
    ac = client("anthropic", base_url=server.anthropic_base_url, max_retries=0)
    params = {"model": "claude-haiku-4-5", "max_tokens": 30, "messages": [{"role": "user", "content": "hi"}]}
    batch = ac.messages.batches.create(requests=[
        {"custom_id": "ok", "params": params},
        {"custom_id": "bad", "params": {**params, "model": "claude-nope"}},
    ])
    assert batch.processing_status == "in_progress" and batch.request_counts.processing == 2
    with pytest.raises(anthropic.AnthropicError, match="results_url"):  # the SDK checks before fetching
        list(ac.messages.batches.results(batch.id))
    clock.advance(61)
    ended = ac.messages.batches.retrieve(batch.id)
    assert ended.processing_status == "ended" and (ended.request_counts.succeeded, ended.request_counts.errored) == (1, 1)
    results = {r.custom_id: r.result for r in ac.messages.batches.results(batch.id)}
    assert results["ok"].type == "succeeded" and results["ok"].message.usage.output_tokens <= 30
    assert results["bad"].type == "errored"


def test_anthropic_batch_rejects_duplicate_custom_ids(clocked):
    _, server = clocked
    ac = client("anthropic", base_url=server.anthropic_base_url, max_retries=0)
    params = {"model": "claude-haiku-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    with pytest.raises(anthropic.BadRequestError, match="unique"):
        ac.messages.batches.create(requests=[{"custom_id": "x", "params": params}, {"custom_id": "x", "params": params}])
