"""OpenAI Batch and Anthropic Message Batches used directly through the SDKs: results are recorded at
batch prices when read, once per request, never at submission (issue 13). Real SDKs, the sandbox over HTTP."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
import textwrap

import pytest

import llmcost_magic
from llmcost_magic import batch, estimate_cost, meter
from llmcost_magic.sandbox import ManualClock, Sandbox, client, serve

QUESTIONS = ["What is a token?", "What is a context window?", "What is a prompt cache?"]


@pytest.fixture
def clocked():
    clock = ManualClock()
    with serve(sandbox=Sandbox(clock=clock, batch_delay_s=60)) as server:
        yield clock, server


def _openai_batch(oc) -> str:
    lines = [json.dumps({"custom_id": f"q{i}", "method": "POST", "url": "/v1/chat/completions",
                         "body": {"model": "gpt-4o-mini", "max_tokens": 60, "messages": [{"role": "user", "content": q}]}})
             for i, q in enumerate(QUESTIONS)]
    upload = oc.files.create(file=("in.jsonl", io.BytesIO("\n".join(lines).encode())), purpose="batch")
    return oc.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h").id


def test_openai_batch_results_are_billed_once_at_batch_prices_when_read(clocked):
    clock, server = clocked
    oc = client("openai", base_url=server.openai_base_url, max_retries=0)
    with meter():
        batch_id = _openai_batch(oc)
        assert llmcost_magic.ledger().empty  # submission (files + batches) is not a billed call
        clock.advance(61)
        done = oc.batches.retrieve(batch_id)
        first = oc.files.content(done.output_file_id).text
        oc.files.content(done.output_file_id).text  # read twice: no double count
        oc.files.content(done.input_file_id).text  # the input file is not a result
    df = llmcost_magic.ledger()
    assert len(df) == 3 and set(df.endpoint) == {"batch"} and (df.saved_by == "batch").all()
    usage = [json.loads(line)["response"]["body"]["usage"] for line in first.splitlines() if line.strip()]
    expected = sum(estimate_cost("gpt-4o-mini", u["prompt_tokens"], u["completion_tokens"], batch=True) for u in usage)
    assert df.cost_usd.sum() == pytest.approx(expected) and df.cost_usd.sum() == pytest.approx(df.baseline_cost_usd.sum() / 2)


def _anthropic_batch(ac):  # noqa: ANN001, ANN202
    return ac.messages.batches.create(requests=[
        {"custom_id": f"q{i}", "params": {"model": "claude-haiku-4-5", "max_tokens": 60,
                                          "messages": [{"role": "user", "content": q}]}} for i, q in enumerate(QUESTIONS)])


def test_anthropic_message_batch_results_are_billed_once_when_read(clocked):
    clock, server = clocked
    ac = client("anthropic", base_url=server.anthropic_base_url, max_retries=0)
    with meter():
        created = _anthropic_batch(ac)
        clock.advance(61)
        results = list(ac.messages.batches.results(created.id))
        list(ac.messages.batches.results(created.id))
    df = llmcost_magic.ledger()
    assert len(results) == 3 and len(df) == 3 and df.cost_usd.sum() == pytest.approx(df.baseline_cost_usd.sum() / 2)
    assert sum(r.result.message.usage.output_tokens for r in results) == df.output_tokens.sum()


def test_results_read_again_in_another_process_are_not_billed_twice(clocked, fresh_ledger):
    clock, server = clocked
    oc = client("openai", base_url=server.openai_base_url, max_retries=0)
    with meter():
        batch_id = _openai_batch(oc)
        clock.advance(61)
        output = oc.batches.retrieve(batch_id).output_file_id
        oc.files.content(output).text
    fresh_ledger.flush()
    script = textwrap.dedent(f"""
        import llmcost_magic
        from llmcost_magic import meter
        from llmcost_magic.sandbox import client
        llmcost_magic.use_ledger({str(fresh_ledger.path)!r})
        with meter():
            client("openai", base_url={server.openai_base_url!r}).files.content({output!r}).text
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert sqlite3.connect(fresh_ledger.path).execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 3


def test_the_packages_own_batch_helper_is_not_counted_twice(clocked):
    clock, server = clocked
    oc = client("openai", base_url=server.openai_base_url, max_retries=0)
    with meter():
        job = batch.build(QUESTIONS, model="gpt-4o-mini", max_tokens=60).submit(oc, name="helper")
        clock.advance(61)
        job.collect(oc)
    assert len(llmcost_magic.ledger()) == 3


def test_results_read_in_part_are_billed_for_what_was_read_and_the_rest_later(clocked):
    clock, server = clocked
    ac = client("anthropic", base_url=server.anthropic_base_url, max_retries=0)
    with meter():
        created = _anthropic_batch(ac)
        clock.advance(61)
        for _ in ac.messages.batches.results(created.id):
            break  # read one result and stop
        list(ac.messages.batches.results(created.id))
    df = llmcost_magic.ledger()
    assert len(df) == 3 and df.note.is_unique
