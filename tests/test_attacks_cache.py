"""Attacks on the response caches that issue 15's tests did not try (2026-11-30): what the semantic
context leaves out, headers that name an account, Azure URLs, streams against non-streams, answers that
must never be stored, and rows of another version in a shared Redis. Real SDKs on the sandbox or a
fake provider over the SDK's own transport, real SQLite and a real redis-server."""

from __future__ import annotations

import base64
import importlib
import json

import pytest

import llmcost_magic
from llmcost_magic import meter
from llmcost_magic.sandbox import Sandbox, _http_module, client, sandbox_transport
from llmcost_magic.session import current_cache_store


def caches() -> list[str]:
    return list(llmcost_magic.ledger().cache)


def _png(colour: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + colour * 64).decode()


def _image_question(colour: bytes) -> list[dict]:
    return [{"role": "user", "content": [{"type": "text", "text": "What colour is this image?"},
                                         {"type": "image_url", "image_url": {"url": _png(colour)}}]}]


# -- the semantic cache compares the question's text: everything else must be its context ------------


def test_a_semantic_hit_needs_the_same_image():
    """Before: only the text of the last user message was compared, so a question about another image
    (same words) was served the first image's answer."""
    provider = Sandbox()
    oc = client("openai", sandbox=provider)
    with meter(cache="semantic"):
        oc.chat.completions.create(model="gpt-4o-mini", temperature=0, messages=_image_question(b"red!"))
        oc.chat.completions.create(model="gpt-4o-mini", temperature=0, messages=_image_question(b"blue"))
        oc.chat.completions.create(model="gpt-4o-mini", temperature=0, messages=_image_question(b"red!"))
    assert caches() == ["", "", "exact"]


def test_a_semantic_hit_needs_the_same_anthropic_tool_result():
    """An Anthropic tool result travels in a user message with no text: two different results are not
    the same question."""
    ac = client("anthropic", sandbox=Sandbox())

    def ask(result: str):
        return ac.messages.create(model="claude-haiku-4-5", max_tokens=200, messages=[
            {"role": "user", "content": "What is the weather in Seoul?"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "weather", "input": {"city": "Seoul"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": result}]}])

    with meter(cache="semantic", cache_any_temperature=True):
        ask("sunny, 21 C")
        ask("heavy rain, 9 C")
    assert caches() == ["", ""]


def test_a_semantic_hit_in_the_responses_api_needs_the_same_earlier_turns():
    """Before: the Responses API's whole ``input`` was left out of the context, earlier turns too."""
    oc = client("openai", sandbox=Sandbox())

    def ask(name: str):
        return oc.responses.create(model="gpt-4o-mini", temperature=0, input=[
            {"role": "user", "content": f"My name is {name}."},
            {"role": "assistant", "content": "Nice to meet you."},
            {"role": "user", "content": "What is my name?"}])

    with meter(cache="semantic"):
        ask("Kim")
        ask("Lee")
        ask("Kim")
    assert caches() == ["", "", "exact"]
