"""Every billed dollar is priced: tool fees, service tiers, fast mode, audio, cache writes, images, speech.

Real SDK clients against a local fake provider over loopback HTTP, answering with the providers' wire
shapes; expected dollars computed by hand from the published prices (cited in data/extra_prices.yaml).
"""

from __future__ import annotations

import anthropic
import openai
import pytest

import llmcost_magic
from llmcost_magic import meter
from llmcost_magic.core.pricing import price_usage
from llmcost_magic.core.records import Usage

from fake_provider import FakeProvider

M = 1e-6


@pytest.fixture
def fake():
    with FakeProvider() as provider:
        yield provider


def _openai(fake):
    return openai.OpenAI(api_key="sk-test", base_url=fake.url + "/v1", max_retries=0)


def _anthropic(fake):
    return anthropic.Anthropic(api_key="sk-ant-test", base_url=fake.url, max_retries=0)


def _chat(model, usage, **top):
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": model, **top,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            "usage": usage}


def _response(model, usage, output=(), tools=(), **top):
    message = {"type": "message", "id": "m1", "role": "assistant", "status": "completed",
               "content": [{"type": "output_text", "text": "ok", "annotations": []}]}
    return {"id": "resp_1", "object": "response", "created_at": 1, "status": "completed", "model": model,
            "output": [*output, message], "tools": list(tools), "usage": usage, **top}


def _row():
    rows = llmcost_magic.ledger()
    assert len(rows) == 1
    return rows.iloc[0]


def test_openai_built_in_tool_calls_are_billed_per_call(fake):
    usage = {"input_tokens": 2_000, "output_tokens": 300, "total_tokens": 2_300}
    output = [{"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"type": "search", "query": "a"}},
              {"type": "web_search_call", "id": "ws_2", "status": "completed", "action": {"type": "search", "query": "b"}},
              {"type": "file_search_call", "id": "fs_1", "status": "completed", "queries": ["q"]},
              {"type": "code_interpreter_call", "id": "ci_1", "status": "completed", "code": "1", "container_id": "cntr_1"},
              {"type": "code_interpreter_call", "id": "ci_2", "status": "completed", "code": "2", "container_id": "cntr_1"}]
    fake.reply(_response("gpt-5", usage, output))
    with meter():
        _openai(fake).responses.create(model="gpt-5", input="search")
    tokens = 2_000 * 1.25 * M + 300 * 10 * M
    fees = 2 * 10 / 1000 + 2.50 / 1000 + 0.03  # two searches, one file search, one container
    assert _row().cost_usd == pytest.approx(tokens + fees, abs=1e-12)


def test_web_search_preview_on_a_non_reasoning_model_is_25_per_thousand(fake):
    usage = {"input_tokens": 1_000, "output_tokens": 100, "total_tokens": 1_100}
    fake.reply(_response("gpt-4o", usage, [{"type": "web_search_call", "id": "ws_1", "status": "completed"}],
                         tools=[{"type": "web_search_preview"}]))
    with meter():
        _openai(fake).responses.create(model="gpt-4o", input="x", tools=[{"type": "web_search_preview"}])
    assert _row().cost_usd == pytest.approx(1_000 * 2.5 * M + 100 * 10 * M + 0.025, abs=1e-12)


@pytest.mark.parametrize(("model", "tier", "in_rate", "out_rate"), [
    ("o3", "flex", 1.0, 4.0),          # flex: half the standard $2 / $8
    ("gpt-4o", "priority", 4.25, 17.0),  # priority: $4.25 / $17 instead of $2.50 / $10
    ("gpt-4o", "default", 2.5, 10.0),
])
def test_the_service_tier_echoed_in_the_response_sets_the_price(fake, model, tier, in_rate, out_rate):
    fake.reply(_chat(model, {"prompt_tokens": 10_000, "completion_tokens": 1_000, "total_tokens": 11_000}, service_tier=tier))
    with meter():
        _openai(fake).chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    row = _row()
    assert row.cost_usd == pytest.approx(10_000 * in_rate * M + 1_000 * out_rate * M, abs=1e-12)
    assert "unpriced" not in row.note


def test_a_tier_with_no_known_price_is_flagged_never_silent(fake):
    fake.reply(_chat("gpt-4o", {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}, service_tier="flex"))
    with meter():
        _openai(fake).chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert "unpriced: service_tier=flex" in _row().note


def test_audio_tokens_are_billed_at_audio_rates(fake):
    usage = {"prompt_tokens": 1_000, "completion_tokens": 600, "total_tokens": 1_600,
             "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 800, "text_tokens": 200},
             "completion_tokens_details": {"audio_tokens": 500, "text_tokens": 100, "reasoning_tokens": 0}}
    fake.reply(_chat("gpt-4o-audio-preview-2025-06-03", usage))
    with meter():
        _openai(fake).chat.completions.create(model="gpt-4o-audio-preview", messages=[{"role": "user", "content": "hi"}])
    expected = 200 * 2.5 * M + 800 * 40 * M + 100 * 10 * M + 500 * 80 * M
    assert _row().cost_usd == pytest.approx(expected, abs=1e-12)


def test_openai_cache_writes_are_billed_at_their_premium(fake):
    usage = {"input_tokens": 20_000, "output_tokens": 100, "total_tokens": 20_100,
             "input_tokens_details": {"cached_tokens": 4_000, "cache_write_tokens": 10_000}}
    fake.reply(_response("gpt-5.6-sol", usage))
    with meter():
        _openai(fake).responses.create(model="gpt-5.6-sol", input="x")
    expected = 6_000 * 4 * M + 4_000 * 0.4 * M + 10_000 * 5 * M + 100 * 20 * M  # writes at 1.25x the $4 input
    assert _row().cost_usd == pytest.approx(expected, abs=1e-12)


def _message(model, usage):
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": model, "stop_reason": "end_turn",
            "stop_sequence": None, "content": [{"type": "text", "text": "ok"}], "usage": usage}


def test_anthropic_server_tools_and_fast_mode(fake):
    usage = {"input_tokens": 3_000, "output_tokens": 400, "speed": "fast",
             "server_tool_use": {"web_search_requests": 3, "web_fetch_requests": 2}}
    fake.reply(_message("claude-opus-4-8", usage))
    with meter():
        _anthropic(fake).messages.create(model="claude-opus-4-8", max_tokens=500, messages=[{"role": "user", "content": "hi"}])
    row = _row()
    # fast mode: $10 / $50 instead of $5 / $25; 3 searches at $10 per 1,000; web fetch costs only its tokens
    assert row.cost_usd == pytest.approx(3_000 * 10 * M + 400 * 50 * M + 0.03, abs=1e-12)
    assert "unpriced" not in row.note


def test_anthropic_stream_counts_the_server_tool_use_of_its_final_delta(fake):
    start = {"type": "message_start", "message": {**_message("claude-sonnet-4-6", {"input_tokens": 1_000, "output_tokens": 1}),
                                                   "content": [], "stop_reason": None}}
    fake.stream([start,
                 {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                 {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "ok"}},
                 {"type": "content_block_stop", "index": 0},
                 {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                  "usage": {"output_tokens": 200, "server_tool_use": {"web_search_requests": 2}}},
                 {"type": "message_stop"}], named=True)
    with meter():
        with _anthropic(fake).messages.stream(model="claude-sonnet-4-6", max_tokens=300,
                                             messages=[{"role": "user", "content": "hi"}]) as stream:
            stream.until_done()
    assert _row().cost_usd == pytest.approx(1_000 * 3 * M + 200 * 15 * M + 0.02, abs=1e-12)


def test_a_tool_with_no_known_price_is_flagged(fake):
    usage = {"input_tokens": 100, "output_tokens": 10, "server_tool_use": {"code_execution_requests": 1}}
    fake.reply(_message("claude-sonnet-4-6", usage))
    with meter():
        _anthropic(fake).messages.create(model="claude-sonnet-4-6", max_tokens=50, messages=[{"role": "user", "content": "hi"}])
    assert "unpriced: 1 code_execution call" in _row().note


@pytest.mark.parametrize(("model", "details", "usd"), [
    ("tts-1", {"characters": 1_000}, 0.015),                  # $15 per 1M characters
    ("tts-1-hd", {"characters": 1_000}, 0.030),
    ("whisper-1", {"audio_seconds": 90}, 0.009),             # $0.006 per minute
])
def test_speech_per_character_and_transcription_per_minute(model, details, usd):
    assert price_usage(model, Usage(details=details)).usd == pytest.approx(usd, abs=1e-12)


def test_image_output_and_transcription_tokens_at_their_rates():
    image = price_usage("gpt-image-1", Usage(input_tokens=50, output_tokens=4_160, details={"image_output_tokens": 4_160}))
    assert image.usd == pytest.approx(50 * 5 * M + 4_160 * 40 * M)  # ~$0.17 for one 1024x1536 high-quality image
    heard = price_usage("gpt-4o-transcribe", Usage(input_tokens=1_200, output_tokens=50, details={"audio_input_tokens": 1_000}))
    assert heard.usd == pytest.approx(200 * 2.5 * M + 1_000 * 6 * M + 50 * 10 * M)


def test_units_a_model_has_no_price_for_are_named_never_zero():
    cost = price_usage("gpt-4o-mini-tts", Usage(details={"characters": 500}))
    assert "unpriced: 500 characters" in cost.note
    audio = price_usage("gpt-4o", Usage(input_tokens=1_000, details={"audio_input_tokens": 900}))
    assert "unpriced: audio_input_tokens at the text rate" in audio.note


def test_a_streamed_legacy_completion_counts_its_output(fake):
    chunk = {"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "gpt-3.5-turbo-instruct"}
    words = ["Hello", " there,", " how", " can", " I", " help?"]
    fake.stream([*({**chunk, "choices": [{"index": 0, "text": w, "finish_reason": None, "logprobs": None}]} for w in words),
                 {**chunk, "choices": [{"index": 0, "text": "", "finish_reason": "stop", "logprobs": None}]}, "[DONE]"])
    with meter():
        for _ in _openai(fake).completions.create(model="gpt-3.5-turbo-instruct", prompt="hi", stream=True):
            pass
    row = _row()
    from llmcost_magic.core.tokens import count_text_tokens

    assert row.output_tokens == count_text_tokens("".join(words), "gpt-3.5-turbo-instruct") > 0 and row.estimated


def test_a_prompt_cache_saving_is_the_caching_difference_only(fake):
    usage = {"input_tokens": 1_000, "cache_read_input_tokens": 5_000, "output_tokens": 100,
             "server_tool_use": {"web_search_requests": 2}}
    fake.reply(_message("claude-sonnet-4-6", usage))
    with meter():
        _anthropic(fake).messages.create(model="claude-sonnet-4-6", max_tokens=200, messages=[{"role": "user", "content": "hi"}])
    row = _row()
    assert row.saved_by == "prompt_cache" and row.saved_usd == pytest.approx(5_000 * (3 - 0.3) * M, abs=1e-12)


@pytest.mark.parametrize("details", [
    {"tool_calls": ["web_search"]}, {"tool_calls": {"web_search": "3"}}, {"tool_calls": {"web_search": -2}},
    {"tool_calls": {"web_search": float("nan")}}, {"audio_input_tokens": "800"}, {"characters": None},
    {"service_tier": 5}, {"speed": ["fast"]}, {"tool_calls": {"x" * 10_000: 1}},
])
def test_hostile_billed_details_never_break_pricing(details):
    cost = price_usage("gpt-4o", Usage(input_tokens=1_000, output_tokens=100, details=details))
    assert cost.usd is not None and cost.usd >= 1_000 * 2.5 * M + 100 * 10 * M - 1e-12 and len(cost.note) < 300


def test_a_hostile_server_tool_use_is_ignored(fake):
    fake.reply(_message("claude-sonnet-4-6", {"input_tokens": 100, "output_tokens": 10, "server_tool_use": ["web_search"]}))
    with meter():
        _anthropic(fake).messages.create(model="claude-sonnet-4-6", max_tokens=50, messages=[{"role": "user", "content": "hi"}])
    assert _row().cost_usd == pytest.approx(100 * 3 * M + 10 * 15 * M)
