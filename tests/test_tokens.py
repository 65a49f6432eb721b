import os

import tiktoken

from llmcost_magic import count_tokens
from llmcost_magic.tokens import ANTHROPIC_ESTIMATE_FACTOR, count_text_tokens, encoding_name_for, is_exact

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
        [sys.executable, "-c", "from llmcost_magic.tokens import count_tokens; print(count_tokens('hello world', model='gpt-4'), count_tokens('hello world'))"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", "2"]
    assert len(list(cache.iterdir())) == 2  # both encodings planted where tiktoken looks
