"""Every billed endpoint gets a row; free endpoints get none (issue 13). Real SDK clients, the sandbox."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap

import pytest

import llmcost_magic
from llmcost_magic import meter
from llmcost_magic.sandbox import client

WAV = ("speech.wav", b"RIFF" + bytes(32_000 * 6), "audio/wav")  # 6 s at the sandbox's 32 kB/s
PNG = ("cat.png", b"\x89PNG\r\n\x1a\n" + bytes(200), "image/png")


def rows():
    return llmcost_magic.ledger()


def test_gpt_image_generation_is_recorded_with_its_image_tokens():
    with meter() as m:
        r = client("openai").images.generate(model="gpt-image-1", prompt="A watercolor cat", size="1024x1024", quality="high")
    row = rows().iloc[0]
    assert (row.endpoint, row.model, row.status) == ("images.generate", "gpt-image-1", "ok")
    assert row.output_tokens == r.usage.output_tokens == 4160 and row.input_tokens == r.usage.input_tokens
    assert m.totals.calls == 1


@pytest.mark.parametrize("async_", [False, True])
def test_image_edits_and_variations_sent_as_multipart_are_recorded(async_):
    oc = client("openai", async_=async_)

    async def both():
        await oc.images.edit(model="gpt-image-1", image=[PNG, PNG], prompt="Make it blue", quality="low")
        await oc.images.create_variation(image=PNG, n=2)

    with meter():
        if async_:
            asyncio.run(both())
        else:
            oc.images.edit(model="gpt-image-1", image=[PNG, PNG], prompt="Make it blue", quality="low")
            oc.images.create_variation(image=PNG, n=2)
    edit, variation = rows().itertuples()
    assert edit.endpoint == "images.edit" and edit.output_tokens == 272 and edit.input_tokens > 2 * 300
    assert (variation.endpoint, variation.model) == ("images.variation", "dall-e-2")


def test_dalle_images_are_recorded_per_image_never_as_a_silent_zero():
    with meter():
        client("openai").images.generate(model="dall-e-3", prompt="A cat", n=1, size="1024x1024")
    row = rows().iloc[0]
    assert row.endpoint == "images.generate" and row.status == "ok"
    assert row.cost_usd is None or row.cost_usd != row.cost_usd or row.cost_usd > 0  # unknown (NaN) or priced


@pytest.mark.parametrize("stream_format", ["audio", "sse"])
def test_speech_is_recorded(stream_format):
    text = "Tokens are the pieces a model reads and writes."
    with meter():
        r = client("openai").audio.speech.create(model="gpt-4o-mini-tts", voice="alloy", input=text,
                                                 stream_format=stream_format)
        if stream_format == "audio":
            assert r.content.startswith(b"ID3")
    row = rows().iloc[0]
    assert (row.endpoint, row.model) == ("audio.speech", "gpt-4o-mini-tts") and row.input_tokens > 0
    assert row.estimated == (stream_format == "audio")  # binary audio reports no usage
    if stream_format == "sse":
        assert row.output_tokens > 0


@pytest.mark.parametrize("model,fmt", [("gpt-4o-transcribe", "json"), ("whisper-1", "json"),
                                       ("whisper-1", "verbose_json"), ("whisper-1", "text")])
def test_transcriptions_sent_as_multipart_are_recorded(model, fmt):
    with meter():
        client("openai").audio.transcriptions.create(model=model, file=WAV, response_format=fmt)
    row = rows().iloc[0]
    assert (row.endpoint, row.model, row.status) == ("audio.transcriptions", model, "ok")
    if model == "gpt-4o-transcribe":
        assert row.input_tokens == 60 and row.output_tokens > 0 and not row.estimated
    elif fmt == "text":
        assert row.estimated  # no duration on the wire
    else:
        assert not row.estimated


def test_translations_are_recorded():
    with meter():
        client("openai").audio.translations.create(model="whisper-1", file=WAV, response_format="verbose_json")
    row = rows().iloc[0]
    assert (row.endpoint, row.model, row.status) == ("audio.translations", "whisper-1", "ok")


def test_responses_compact_is_recorded():
    with meter():
        r = client("openai").responses.compact(model="gpt-5", input="We talked about tokens and prices at length.")
    row = rows().iloc[0]
    assert row.endpoint == "responses.compact" and row.input_tokens == r.usage.input_tokens and row.cost_usd > 0


def test_a_background_response_is_billed_once_when_retrieved():
    oc = client("openai")
    with meter():
        queued = oc.responses.create(model="gpt-4o-mini", input="Explain tokens.", background=True)
        assert queued.status == "queued"
        done = oc.responses.retrieve(queued.id)
        again = oc.responses.retrieve(queued.id)
    df = rows()
    assert list(df.status) == ["queued", "ok"] and df.cost_usd[0] == 0
    billed = df.iloc[1]
    assert billed.input_tokens == done.usage.input_tokens and billed.output_tokens == again.usage.output_tokens
    assert billed.cost_usd > 0 and queued.id in billed.note


def test_a_background_response_retrieved_in_another_process_is_billed_once_there(tmp_path, fresh_ledger):
    with meter():
        queued = client("openai").responses.create(model="gpt-4o-mini", input="Explain tokens.", background=True)
    fresh_ledger.flush()
    # The sandbox keeps background responses in memory, so the other process retrieves from this one's server.
    from llmcost_magic.sandbox import serve

    with serve() as server:
        script = textwrap.dedent(f"""
            import llmcost_magic
            from llmcost_magic import meter
            from llmcost_magic.sandbox import client
            llmcost_magic.use_ledger({str(fresh_ledger.path)!r})
            oc = client("openai", base_url={server.openai_base_url!r})
            with meter():
                oc.responses.retrieve({queued.id!r})
                oc.responses.retrieve({queued.id!r})
        """)
        for _ in range(2):
            subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    statuses = sqlite3.connect(fresh_ledger.path).execute("SELECT status FROM calls ORDER BY id").fetchall()
    assert statuses == [("queued",), ("ok",)]


def test_a_plain_response_retrieved_later_is_not_billed_twice():
    oc = client("openai")
    with meter():
        r = oc.responses.create(model="gpt-4o-mini", input="Explain tokens.")
        assert r.status == "completed"
    assert len(rows()) == 1


@pytest.mark.parametrize("call", ["openai_input_tokens", "anthropic_count_tokens", "moderations"])
def test_free_endpoints_get_no_billed_row(call):
    with meter():
        if call == "openai_input_tokens":
            client("openai").responses.input_tokens.count(model="gpt-4o-mini", input="How many tokens is this?")
        elif call == "anthropic_count_tokens":
            client("anthropic").messages.count_tokens(model="claude-haiku-4-5",
                                                      messages=[{"role": "user", "content": "How many?"}])
        else:
            client("openai").moderations.create(model="omni-moderation-latest", input="hello")
    assert rows().empty


def test_a_realtime_session_started_inside_a_meter_warns_once_that_it_is_not_metered():
    import warnings

    from llmcost_magic.intercept import realtime

    realtime._warned = False
    oc = client("openai")
    with meter(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            with pytest.raises(Exception):  # noqa: B017 - no WebSocket server here; the warning comes first
                with oc.realtime.connect(model="gpt-realtime"):
                    pass
    said = [w for w in caught if "not metered" in str(w.message)]
    assert len(said) == 1 and "Realtime" in str(said[0].message)


@pytest.mark.parametrize("call", ["tts-1", "whisper-1"])
def test_per_character_and_per_minute_models_are_never_a_silent_zero(call):
    oc = client("openai")
    with meter():
        if call == "tts-1":
            oc.audio.speech.create(model="tts-1", voice="alloy", input="Hello there.")
        else:
            oc.audio.transcriptions.create(model="whisper-1", file=WAV)
    cost = rows().cost_usd[0]
    assert cost != 0.0  # priced (by characters / minutes) or unknown (NaN), never $0
