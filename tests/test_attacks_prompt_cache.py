"""Attacks on ``--prompt-cache auto``, the prompt-cache ledger split and the prompt-cache doctor (issue 19).

Real SDK clients over loopback HTTP against a strict fake provider that rejects what the real APIs reject
(a 5th breakpoint, a 1h entry after a 5m one, a breakpoint on a thinking block or on a part type that has no
such field, cache fields on models without them), or against the sandbox. Docstrings name the tests that
failed before their fix; the others guard a promise nothing else guards.
"""

from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anthropic
import openai
import pytest

import llmcost_magic
from llmcost_magic import meter
from llmcost_magic.core.provider_rules import openai_has_breakpoints
from llmcost_magic.policies.prompt_cache import place_breakpoints

POLICY = "Support policy. " + " ".join(f"Rule {i}: items of class {i} can be returned within {i % 30 + 1} days."
                                       for i in range(220))  # ~2,900 tokens: above every 1,024 / 2,048 minimum
OPENAI_MARKABLE = {"text", "image_url", "input_audio", "file"}  # content parts that have prompt_cache_breakpoint
ANTHROPIC_UNMARKABLE = {"thinking", "redacted_thinking"}


def _anthropic_problem(body: dict[str, Any]) -> str | None:
    """What the Messages API would answer 400 to about cache_control (None: accepted)."""
    ttls = []
    parts: list[Any] = list(body.get("tools") or [])
    parts += body["system"] if isinstance(body.get("system"), list) else []
    for message in body["messages"]:
        parts += message["content"] if isinstance(message.get("content"), list) else []
    for part in parts:
        control = part.get("cache_control") if isinstance(part, dict) else None
        if control is None:
            continue
        if part.get("type") in ANTHROPIC_UNMARKABLE:
            return "cache_control cannot be set on thinking blocks"
        if part.get("type") == "text" and not part.get("text"):
            return "cache_control cannot be set for empty text blocks"
        ttls.append(control.get("ttl", "5m"))
    if isinstance(body.get("cache_control"), dict):
        ttls.append(body["cache_control"].get("ttl", "5m"))
    if len(ttls) > 4:
        return f"A maximum of 4 blocks with cache_control may be provided. Found {len(ttls)}."
    if "1h" in ttls[ttls.index("5m") + 1:] if "5m" in ttls else False:
        return "a ttl='1h' cache_control block must not come after a ttl='5m' cache_control block"
    return None


def _openai_problem(body: dict[str, Any]) -> str | None:
    """What Chat Completions would answer 400 to about prompt caching fields (None: accepted)."""
    newer = openai_has_breakpoints(str(body.get("model")))
    if not newer and "prompt_cache_options" in body:
        return "prompt_cache_options is not supported with this model"
    for message in body.get("messages") or []:
        for part in message.get("content") if isinstance(message.get("content"), list) else []:
            if "prompt_cache_breakpoint" not in part:
                continue
            if not newer:
                return "prompt_cache_breakpoint is not supported with this model"
            if part.get("type") not in OPENAI_MARKABLE or part["prompt_cache_breakpoint"].get("mode") != "explicit":
                return f"Unrecognized parameter prompt_cache_breakpoint on a {part.get('type')} part"
    return None


def _anthropic_answer(body: dict[str, Any]) -> dict[str, Any]:
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": body["model"], "stop_reason": "end_turn",
            "stop_sequence": None, "content": [{"type": "text", "text": "ok"}],
            "usage": {"input_tokens": 10, "output_tokens": 1}}


def _openai_answer(body: dict[str, Any]) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": body["model"],
            "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11},
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}


class StrictProvider:
    """Both APIs on loopback: records every body it receives, answers 400 to what the real API rejects."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
                outer.bodies.append(body)
                anthropic_api = self.path.endswith("/messages")
                problem = (_anthropic_problem if anthropic_api else _openai_problem)(body)
                status, answer = (400, {"type": "error", "error": {"type": "invalid_request_error", "message": problem}}) \
                    if problem else (200, (_anthropic_answer if anthropic_api else _openai_answer)(body))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def anthropic(self) -> anthropic.Anthropic:
        return anthropic.Anthropic(api_key="x", base_url=self.url, max_retries=0)

    def openai(self) -> openai.OpenAI:
        return openai.OpenAI(api_key="x", base_url=self.url + "/v1", max_retries=0)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def strict():
    provider = StrictProvider()
    yield provider
    provider.close()


TOOL_CALL = {"id": "call_1", "type": "function", "function": {"name": "lookup_order", "arguments": "{\"id\": \"5\"}"}}


@pytest.mark.parametrize("assistant", [
    {"role": "assistant", "content": None, "tool_calls": [TOOL_CALL]},
    {"role": "assistant", "tool_calls": [TOOL_CALL]},
    {"role": "assistant", "content": [{"type": "refusal", "refusal": "I cannot look that up."}]},
], ids=["content None", "no content", "refusal part"])
def test_gpt56_agent_loop_turn_after_a_tool_call_is_sent_and_accepted(strict, assistant):
    """The turn after a tool call: the stable prefix ends on the assistant message that made the call, which has
    no text part (content None or absent) or only a refusal part. Before: ``auto`` raised TypeError/KeyError
    out of the user's ``chat.completions.create`` (every GPT-5.6 agent loop broke on its second turn), or put
    ``prompt_cache_breakpoint`` on a refusal part, which has no such field (a 400). Now the breakpoint goes on
    the last block before it that can carry one."""
    messages = [{"role": "system", "content": POLICY}, {"role": "user", "content": "Where is order 5?"}, assistant,
                {"role": "tool", "tool_call_id": "call_1", "content": "shipped"}]
    sent = copy.deepcopy(messages)
    with meter(prompt_cache="auto"):
        strict.openai().chat.completions.create(model="gpt-5.6", messages=messages)
    assert messages == sent  # the user's list is untouched
    body = strict.bodies[-1]
    marked = [(i, part) for i, m in enumerate(body["messages"]) if isinstance(m.get("content"), list)
              for part in m["content"] if "prompt_cache_breakpoint" in part]
    assert [i for i, _ in marked] == [1]  # the user's question before the call: the last markable block
    assert "explicit breakpoint on messages[1]" in llmcost_magic.ledger().iloc[-1].note


def test_a_prompt_that_mentions_cache_control_is_still_marked():
    """A documentation assistant whose prompt talks about prompt caching. Before: ``auto`` searched the JSON text
    for "cache_control" and, finding the word in the system prompt, left every such request unmarked (the user
    asked for caching and silently got none). Now only real markers (keys, at any depth) count as the user's own."""
    system = POLICY + " Explain how the cache_control field and prompt_cache_breakpoint work."
    body = {"model": "claude-sonnet-4-6", "max_tokens": 50, "system": system, "messages": [{"role": "user", "content": "hi"}]}
    marked, note = place_breakpoints(body, "claude-sonnet-4-6")
    assert marked["system"][0]["cache_control"] == {"type": "ephemeral"} and "breakpoint on system" in note
    nested = {**body, "system": POLICY, "messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
              "content": [{"type": "text", "text": "x", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]}]}]}
    assert place_breakpoints(nested, "claude-sonnet-4-6") == (nested, "")  # a breakpoint inside a tool_result is the user's own


def test_a_prefilled_answer_does_not_move_the_breakpoint_onto_the_question():
    """A long document, then the question, then a prefilled assistant turn (``{`` to force JSON). Before: the
    stable part was taken to end one block before the last block, i.e. on the question: every call paid a
    1.25x write of document + question and none was ever read. Now the breakpoint is on the document."""
    from llmcost_magic.sandbox import Sandbox, client

    ac = client("anthropic", sandbox=Sandbox())
    with meter(prompt_cache="auto"):
        for question in ("Summarise rule 7.", "Summarise rule 8.", "Summarise rule 9."):
            ac.messages.create(model="claude-sonnet-4-6", max_tokens=50, messages=[
                {"role": "user", "content": [{"type": "text", "text": POLICY}, {"type": "text", "text": question}]},
                {"role": "assistant", "content": "{"}])
    df = llmcost_magic.ledger()
    assert (df.iloc[1:].cached_input_tokens > 1024).all() and df.saved_usd.sum() > 0
    assert df.note.str.contains(r"breakpoint on messages\[0\].user\[0\]").all()
