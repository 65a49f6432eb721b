"""Record first: once a request was sent, its row is written whatever happens next (issue 13)."""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import subprocess
import sys
import textwrap

import anthropic
import httpx2
import openai
import pytest

import llmcost_magic
from llmcost_magic import meter
from llmcost_magic.sandbox import client
from tests.wire_fakes import FakeProvider, sandbox_bytes

MSG = [{"role": "user", "content": "Explain what a token is in one paragraph."}]
CHAT = {"model": "gpt-4o-mini", "messages": MSG, "stream": True, "stream_options": {"include_usage": True}}
MESSAGES = {"model": "claude-haiku-4-5", "max_tokens": 300, "messages": MSG, "stream": True}


def rows():
    return llmcost_magic.ledger()


def _openai(transport):
    return openai.OpenAI(api_key="x", base_url="http://fake.local/v1", http_client=httpx2.Client(transport=transport),
                         max_retries=0)


def _anthropic(transport):
    return anthropic.Anthropic(api_key="x", base_url="http://fake.local", http_client=httpx2.Client(transport=transport),
                               max_retries=0)


def _drain(stream) -> None:
    try:
        for _ in stream:
            pass
    except Exception:  # noqa: BLE001 - the cut is the point
        pass


def _cut_points(body: bytes, event: bytes) -> list[int]:
    """Offsets inside events (the middle of a ``data:`` line), plus offsets inside ``event``."""
    points = [i + 9 for i in range(len(body)) if body.startswith(b"data: {", i)]
    start = body.find(event)
    points += [start + k for k in (3, len(event) // 2, len(event) + 20)] if start >= 0 else []
    return sorted(p for p in set(points) if 0 < p < len(body))


def test_an_openai_stream_cut_inside_any_event_is_recorded():
    body, ctype = sandbox_bytes("/v1/chat/completions", CHAT)
    points = _cut_points(body, b'"choices":[],"usage"')
    for cut in points:
        with meter():
            _drain(_openai(FakeProvider(body, ctype, cut)).chat.completions.create(**CHAT))
    df = rows()
    assert len(df) == len(points)
    assert set(df.status) <= {"cut", "ok"} and (df.status == "cut").sum() >= len(points) - 1
    cut = df[df.status == "cut"]
    assert cut.estimated.all() and (cut.input_tokens > 0).all() and (cut.cost_usd > 0).all()


def test_an_anthropic_stream_cut_inside_message_delta_is_recorded():
    body, ctype = sandbox_bytes("/v1/messages", MESSAGES, {"anthropic-version": "2023-06-01"})
    points = _cut_points(body, b'"type":"message_delta"')
    for cut in points:
        with meter():
            _drain(_anthropic(FakeProvider(body, ctype, cut)).messages.create(**MESSAGES))
    df = rows()
    assert len(df) == len(points)
    cut = df[df.status == "cut"]
    assert len(cut) >= len(points) - 2 and cut.estimated.all() and (cut.cost_usd > 0).all()


def _locked(entry):  # noqa: ANN001 - a cache store write failing as a locked SQLite file does
    raise sqlite3.OperationalError("database is locked")


@pytest.mark.parametrize("stream", [False, True])
def test_a_cache_that_cannot_store_never_takes_the_row_or_the_budget(tmp_path, stream, capsys, monkeypatch):
    store = llmcost_magic.session.use_cache_store(tmp_path / "locked.sqlite3")
    monkeypatch.setattr(store, "put", _locked)
    oc = client("openai")
    with meter(cache="exact", budget=0.05) as m:
        for i in range(6):
            r = oc.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"q{i}"}],
                                           temperature=0, stream=stream)
            if stream:
                _drain(r)
    df = rows()
    assert len(df) == 6 and (df.status == "ok").all() and not df.estimated.any()
    assert m.budget.reserved_usd == pytest.approx(0.0) and m.budget.spent_usd == pytest.approx(df.cost_usd.sum())
    assert "metering failed" in capsys.readouterr().err


def test_a_redis_cache_that_goes_down_never_takes_the_row(redis_url):
    import redis

    store = llmcost_magic.session.use_cache_store(redis_url)
    store._redis = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)  # the server went away
    oc = client("openai")
    with meter(cache="exact"):
        for i in range(2):
            oc.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"q{i}"}], temperature=0)
    assert len(rows()) == 2


def test_semantic_cache_without_its_extra_still_records_every_call(monkeypatch):
    from llmcost_magic.core import embedder

    monkeypatch.setitem(sys.modules, "wordllama", None)  # as if `[semantic]` were not installed
    embedder.default_embedder.cache_clear()
    try:
        oc = client("openai")
        with meter(cache="semantic"):
            for i in range(3):
                oc.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"q{i}"}],
                                           temperature=0)
    finally:
        embedder.default_embedder.cache_clear()
    assert len(rows()) == 3


def test_a_stream_never_read_is_recorded_when_the_meter_ends():
    oc = client("openai")
    with meter():
        stream = oc.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True)
    df = rows()
    assert len(df) == 1 and df.status[0] == "closed" and df.estimated[0] and df.input_tokens[0] > 0
    del stream


def test_a_stream_never_read_is_recorded_when_the_client_closes():
    oc = client("openai")
    with meter():
        oc.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True)
        oc.close()
        assert len(rows()) == 1 and rows().status[0] == "closed"


def test_a_stream_left_with_break_is_recorded_before_garbage_collection():
    oc = client("openai")
    gc.disable()
    try:
        with meter():
            stream = oc.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True)
            for _ in stream:
                break
        assert len(rows()) == 1 and rows().status[0] == "closed"
    finally:
        gc.enable()


def test_a_stream_never_read_is_recorded_at_interpreter_exit(tmp_path):
    ledger = tmp_path / "exit.sqlite3"
    script = textwrap.dedent(f"""
        import llmcost_magic
        from llmcost_magic.intercept import install
        from llmcost_magic.metering import Meter, _scoped
        from llmcost_magic.sandbox import client
        llmcost_magic.use_ledger({str(ledger)!r})
        oc = client("openai")
        install()
        _scoped.set(Meter())  # a meter that never ends (as in a script that forgets to close it)
        stream = oc.chat.completions.create(model="gpt-4o-mini", messages=[{{"role": "user", "content": "hi"}}], stream=True)
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    found = sqlite3.connect(ledger).execute("SELECT status, estimated FROM calls").fetchall()
    assert found == [("closed", 1)]


def test_a_call_cancelled_after_sending_is_recorded_with_its_input_cost():
    oc = client("openai", async_=True, max_retries=0)

    async def main() -> None:
        with meter() as m:
            task = asyncio.create_task(oc.chat.completions.create(
                model="gpt-4o-mini", messages=MSG, extra_headers={"x-sandbox-fault": "latency=5"}))
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        return m

    m = asyncio.run(main())
    row = rows().iloc[0]
    assert row.status == "cancelled" and row.estimated and row.input_tokens > 0 and row.cost_usd > 0
    assert "may bill" in row.note and m.totals.cost_usd == pytest.approx(row.cost_usd)


def test_an_interrupt_in_the_middle_of_a_stream_is_recorded_with_its_cost():
    oc = client("openai", max_retries=0)
    with meter():
        with pytest.raises(KeyboardInterrupt):
            for i, _ in enumerate(oc.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True)):
                if i == 3:
                    raise KeyboardInterrupt
    row = rows().iloc[0]
    assert row.status in ("closed", "interrupted") and row.estimated and row.cost_usd > 0


def test_a_stream_cancelled_while_being_read_is_recorded_and_flagged():
    oc = client("openai", async_=True, max_retries=0)

    async def main() -> None:
        async def read() -> None:
            stream = await oc.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True,
                                                      extra_headers={"x-sandbox-fault": "latency=0"})
            async for _ in stream:
                await asyncio.sleep(0.05)

        with meter():
            task = asyncio.create_task(read())
            await asyncio.sleep(0.3)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())
    row = rows().iloc[0]
    assert row.status in ("cancelled", "closed") and row.estimated and row.cost_usd > 0


def test_a_metered_cell_that_never_reads_its_stream_records_it_when_the_cell_ends(shell):
    shell.user_ns["oc"] = client("openai")
    result = shell.run_cell(
        "%%llmcost --tag unread\n"
        "stream = oc.chat.completions.create(model='gpt-4o-mini', messages=[{'role': 'user', 'content': 'hi'}], stream=True)\n"
    )
    assert result.error_in_exec is None
    df = rows()
    assert list(df.status) == ["closed"] and list(df.tag) == ["unread"] and df.estimated[0]
