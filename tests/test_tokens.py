import base64
import io
import os

import pytest
import tiktoken

from llmcost_magic import count_tokens
from llmcost_magic.core.image_tokens import image_size, image_tokens
from llmcost_magic.core.tokens import ANTHROPIC_ESTIMATE_FACTOR, count_text_tokens, encoding_for_model, encoding_name_for, is_exact

EN = "How do I turn on two-factor authentication for my account? Please explain step by step."
KO = "내 계정에서 2단계 인증을 켜려면 어떻게 해야 하나요? 단계별로 설명해 주세요."


def test_plain_text_matches_tiktoken_exactly():
    enc = tiktoken.get_encoding("o200k_base")
    assert count_tokens(EN, model="gpt-4o") == len(enc.encode(EN))
    assert count_tokens(KO, model="gpt-4o-mini") == len(enc.encode(KO))


def test_legacy_models_use_cl100k():
    assert encoding_name_for("gpt-4") == "cl100k_base"
    assert encoding_name_for("gpt-3.5-turbo-0125") == "cl100k_base"
    assert encoding_name_for("gpt-4o") == "o200k_base"
    assert encoding_name_for("gpt-5-mini") == "o200k_base"
    cl = tiktoken.get_encoding("cl100k_base")
    assert count_tokens(KO, model="gpt-4") == len(cl.encode(KO))


def test_korean_costs_more_tokens_than_english():
    assert count_tokens(KO, model="gpt-4o") > count_tokens(EN, model="gpt-4o") * 0.8
    assert count_tokens(KO, model="gpt-4") > count_tokens(KO, model="gpt-4o")


def test_chat_framing_adds_three_per_message_and_three_for_the_reply():
    enc = tiktoken.get_encoding("o200k_base")
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": EN}]
    expected = 3 + sum(3 + len(enc.encode(m["role"])) + len(enc.encode(m["content"])) for m in messages)
    assert count_tokens(messages, model="gpt-4o") == expected


def test_name_and_content_parts_are_counted():
    base = count_tokens([{"role": "user", "content": "hi"}])
    assert count_tokens([{"role": "user", "content": "hi", "name": "bob"}]) > base
    parts = count_tokens([{"role": "user", "content": [{"type": "text", "text": "hi"}]}])
    assert parts == base


def test_tools_add_their_definitions():
    tools = [{"type": "function", "function": {
        "name": "get_weather", "description": "Get the weather.",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string", "description": "City name"},
            "unit": {"type": "string", "enum": ["c", "f"], "description": "Unit"}}}}}]
    messages = [{"role": "user", "content": "Weather in Seoul?"}]
    with_tools = count_tokens(messages, model="gpt-4o", tools=tools)
    assert with_tools - count_tokens(messages, model="gpt-4o") > 20


def test_anthropic_is_a_labelled_estimate():
    assert not is_exact("claude-sonnet-4-5") and is_exact("gpt-4o")
    assert count_text_tokens(EN, "claude-haiku-4-5") == round(count_text_tokens(EN, "gpt-4o") * ANTHROPIC_ESTIMATE_FACTOR)


def test_encodings_load_offline_from_the_bundled_wheel(tmp_path, monkeypatch):
    """With an empty cache and no network, the rank files come from bpe-openai."""
    import subprocess
    import sys

    cache = tmp_path / "tiktoken"
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(cache), "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    out = subprocess.run(
        [sys.executable, "-c", "from llmcost_magic.core.tokens import count_tokens; print(count_tokens('hello world', model='gpt-4'), count_tokens('hello world'))"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", "2"]
    assert len(list(cache.iterdir())) == 2  # both encodings planted where tiktoken looks


# -- images: each provider's formula, by size, detail and model family -------------------------------------


def _data_url(w: int, h: int, fmt: str = "PNG", **save: object) -> str:
    from PIL import Image  # Pillow comes with matplotlib in the test extra; the package reads headers itself

    buffer = io.BytesIO()
    Image.new("RGB", (w, h), (200, 30, 30)).save(buffer, fmt, **save)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buffer.getvalue()).decode()


@pytest.mark.parametrize(("fmt", "save"), [("PNG", {}), ("JPEG", {}), ("JPEG", {"progressive": True, "exif": b"Exif\x00\x00" + b"\x00" * 64}),
                                           ("GIF", {}), ("WEBP", {}), ("WEBP", {"lossless": True})])
def test_image_sizes_come_from_the_header(fmt, save):
    url = _data_url(1234, 567, fmt, **save)
    assert image_size(base64.b64decode(url.split(",", 1)[1])) == (1234, 567)


@pytest.mark.parametrize(("model", "tokens"), [
    ("gpt-4o", 765), ("gpt-4o-2024-11-20", 765), ("gpt-4.1", 765), ("gpt-4o-mini", 25_501), ("gpt-5", 630),
    ("gpt-4.1-mini", 1_659), ("gpt-5-mini", 1_659), ("o4-mini", 1_762), ("claude-sonnet-4-6", 1_399),
])
def test_one_1024_square_high_detail_image(model, tokens):
    part = {"type": "image_url", "image_url": {"url": _data_url(1024, 1024), "detail": "high"}}
    assert image_tokens(part, model) == (tokens, True)


def test_detail_size_and_the_three_request_shapes():
    small, wide = _data_url(300, 200), _data_url(4000, 1000)
    assert image_tokens({"type": "image_url", "image_url": {"url": wide, "detail": "low"}}, "gpt-4o").tokens == 85
    assert image_tokens({"type": "image_url", "image_url": {"url": small, "detail": "high"}}, "gpt-4o").tokens == 255
    # 4000x1000 -> 2048x512 -> 4 x 1 tiles
    assert image_tokens({"type": "input_image", "image_url": wide, "detail": "high"}, "gpt-4o").tokens == 85 + 4 * 170
    claude = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": wide.split(",", 1)[1]}}
    assert image_tokens(claude, "claude-sonnet-4-6").tokens == 1568 * 392 // 750 + 1  # long edge down to 1568 px


def test_an_image_of_unknown_size_counts_the_worst_case_and_says_so():
    remote = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    assert image_tokens(remote, "gpt-4o") == (85 + 8 * 170, False)
    assert image_tokens(remote, "gpt-5-mini") == (round(1536 * 1.62 + 0.5), False)
    assert image_tokens({"type": "image", "source": {"type": "url", "url": "https://x/y.jpg"}}, "claude-opus-4-5") == (1600, False)


def test_images_in_chat_messages_are_counted_outside_the_claude_text_factor():
    content = [{"type": "text", "text": "What is this?"},
               {"type": "image_url", "image_url": {"url": _data_url(1024, 1024), "detail": "high"}}]
    text_only = count_tokens([{"role": "user", "content": [content[0]]}], model="gpt-4o-mini")
    assert count_tokens([{"role": "user", "content": content}], model="gpt-4o-mini") == text_only + 25_501
    claude = [{"type": "text", "text": "What is this?"},
              {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": content[1]["image_url"]["url"].split(",", 1)[1]}}]
    claude_text = count_tokens([{"role": "user", "content": [claude[0]]}], model="claude-sonnet-4-6")
    assert count_tokens([{"role": "user", "content": claude}], model="claude-sonnet-4-6") == claude_text + 1_399


def test_the_budget_pre_check_sees_the_image(fake_openai):
    import llmcost_magic
    from llmcost_magic import meter

    content = [{"type": "text", "text": "What is this?"},
               {"type": "image_url", "image_url": {"url": _data_url(1024, 1024), "detail": "high"}}]
    with meter(budget=0.003):  # 25,5xx input tokens on gpt-4o-mini: $0.0038, over the cap before sending
        with pytest.raises(Exception, match="(?i)budget"):
            fake_openai.chat.completions.create(model="gpt-4o-mini", max_tokens=10, messages=[{"role": "user", "content": content}])
    assert list(llmcost_magic.ledger().status) == ["refused"]


@pytest.fixture
def fake_openai():
    import openai
    from fake_provider import FakeProvider

    with FakeProvider() as fake:
        fake.reply({"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "a cat"}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 25_510, "completion_tokens": 3, "total_tokens": 25_513}})
        yield openai.OpenAI(api_key="sk-test", base_url=fake.url + "/v1", max_retries=0)


def test_tool_definitions_on_cl100k_models_frame_each_function_with_ten_tokens():
    tool = {"type": "function", "function": {"name": "f", "description": "d", "parameters": {}}}
    messages = [{"role": "user", "content": "hi"}]
    one = count_tokens(messages, model="gpt-4", tools=[tool]) - count_tokens(messages, model="gpt-4")
    two = count_tokens(messages, model="gpt-4", tools=[tool, tool]) - count_tokens(messages, model="gpt-4")
    assert two - one == 10 + len(encoding_for_model("gpt-4").encode("f:d"))
    o200k_one = count_tokens(messages, model="gpt-4o", tools=[tool]) - count_tokens(messages, model="gpt-4o")
    o200k_two = count_tokens(messages, model="gpt-4o", tools=[tool, tool]) - count_tokens(messages, model="gpt-4o")
    assert o200k_two - o200k_one == 7 + len(encoding_for_model("gpt-4o").encode("f:d"))
