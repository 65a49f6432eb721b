"""Compression applied to a request body (OpenAI chat and Responses, Anthropic messages).

Only text is rewritten: roles, tool calls and results, images, documents and any block carrying
``cache_control`` are passed through unchanged, and a part that would come out empty keeps its
original text, so no message is ever dropped by a text method. The question (the last paragraph of
the last user message) and short parts (under ``min_tokens``) are left alone. History methods drop
whole turns, and say so.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from ..core.tokens import count_text_tokens, count_tokens
from .base import CompressionError
from .history import keep_last_turns, keep_within_budget
from .methods import Step, compressor, parse_spec

MIN_PART_TOKENS = 32
SYSTEM_ROLES = ("system", "developer")


@dataclass
class BodyCompression:
    """The rewritten body and what changed."""

    body: dict[str, Any]
    tokens_before: int = 0
    tokens_after: int = 0
    parts: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def tokens_removed(self) -> int:
        return self.tokens_before - self.tokens_after


def compress_messages(messages: list[dict[str, Any]], method: str, *, model: str = "gpt-4o",
                      include_system: bool = True, min_tokens: int = MIN_PART_TOKENS) -> BodyCompression:
    """Compress a chat ``messages`` list (OpenAI or Anthropic shape) with a method spec."""
    return compress_body("chat.completions", {"model": model, "messages": messages}, parse_spec(method),
                         model=model, include_system=include_system, min_tokens=min_tokens)


def compress_body(endpoint: str, body: dict[str, Any], steps: tuple[Step, ...], *, model: str,
                  include_system: bool = True, min_tokens: int = MIN_PART_TOKENS) -> BodyCompression:
    """``body`` with every step applied (the original is not modified)."""
    body = copy.deepcopy(body)
    result = BodyCompression(body)
    list_key = "input" if endpoint == "responses" else "messages"
    for step in steps:
        if step.amount is not None:
            _history(step, body, list_key, model, result)
        else:
            _text_step(step, endpoint, body, list_key, model, include_system, min_tokens, result)
    return result


def _history(step: Step, body: dict[str, Any], key: str, model: str, result: BodyCompression) -> None:
    messages = body.get(key)
    if not isinstance(messages, list):
        return
    before = count_tokens(messages, model=model)
    kept = keep_last_turns(messages, step.amount) if step.method == "window" else keep_within_budget(messages, step.amount, model)
    if len(kept) == len(messages):
        result.notes.append(f"{step.method}:{step.amount} no-op (history already within it)")
        return
    body[key] = kept
    after = count_tokens(kept, model=model)
    result.tokens_before += before
    result.tokens_after += after
    result.notes.append(f"{step.method}:{step.amount} dropped {len(messages) - len(kept)} messages")


def _text_step(step: Step, endpoint: str, body: dict[str, Any], key: str, model: str, include_system: bool,
               min_tokens: int, result: BodyCompression) -> None:
    last = _last_user_text(body.get(key))
    # The question is the last paragraph of the last user message: it stays as written, and it is
    # what few-shot and RAG trimming rank by. The rest of that message (pasted context) is compressed.
    head, _, question = last.rpartition("\n\n")
    query = question or last
    engine = compressor(step.method)
    changed = short_of_rate = 0

    def rewrite(text: str) -> str:
        nonlocal changed, short_of_rate
        if text == last and head:
            compressed_head = rewrite(head)
            return text if compressed_head == head else f"{compressed_head}\n\n{question}"
        if text == query or count_text_tokens(text, model) < min_tokens:
            return text  # the question and short parts stay as written
        try:
            done = engine.compress(text, rate=step.rate, query=query, model=model)
        except CompressionError as exc:
            result.notes.append(str(exc))
            return text
        if not done.text.strip() or done.text == text:
            return text
        result.tokens_before += done.tokens_before
        result.tokens_after += done.tokens_after
        changed += 1
        short_of_rate += not done.rate_reached
        return done.text

    if include_system:
        if endpoint == "messages" and "system" in body:
            body["system"] = _content(body["system"], rewrite)
        if endpoint == "responses" and isinstance(body.get("instructions"), str):
            body["instructions"] = rewrite(body["instructions"])
    messages = body.get(key)
    if isinstance(messages, str):
        body[key] = rewrite(messages)
    elif isinstance(messages, list):
        for message in messages:
            role = message.get("role") if isinstance(message, dict) else None
            if role == "user" or (include_system and role in SYSTEM_ROLES):
                message["content"] = _content(message.get("content"), rewrite)
    result.parts += changed
    label = step.method + (f":{step.rate:g}" if step.rate else "")
    short = f" (rate not reached on {short_of_rate}: rules are kept whole)" if short_of_rate else ""
    result.notes.append(f"{label} on {changed} part{'s' * (changed != 1)}{short}" if changed else f"{label} no-op")


def _content(content: Any, rewrite: Any) -> Any:
    """Text in a message's content, rewritten; every other kind of block untouched."""
    if isinstance(content, str):
        return rewrite(content)
    if isinstance(content, list):
        for block in content:
            if (isinstance(block, dict) and block.get("type") in ("text", "input_text")
                    and isinstance(block.get("text"), str) and "cache_control" not in block):
                block["text"] = rewrite(block["text"])
    return content


def _last_user_text(messages: Any) -> str:
    if isinstance(messages, str):
        return ""
    for message in reversed(messages or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                texts = [b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") in ("text", "input_text")]
                return texts[-1] if texts else ""
    return ""
