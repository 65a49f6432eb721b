"""Anthropic wire format: the Messages API (plain JSON and SSE events)."""

from __future__ import annotations

from typing import Any

from ..core.records import Usage
from ..core.tokens import count_text_tokens, count_tokens
from .call import Call, Parsed, loads_or_none

PROVIDER = "anthropic"
ENDPOINTS = {"/messages": "messages"}


def _usage(raw: dict[str, Any] | None) -> Usage | None:
    if not raw:
        return None
    # Anthropic's input_tokens EXCLUDES cache reads and writes; ours counts all input.
    read = raw.get("cache_read_input_tokens") or 0
    write = raw.get("cache_creation_input_tokens") or 0
    write_1h = (raw.get("cache_creation") or {}).get("ephemeral_1h_input_tokens") or 0
    details: dict[str, Any] = {key: raw[key] for key in ("service_tier", "speed") if raw.get(key)}
    server = raw.get("server_tool_use")  # e.g. {"web_search_requests": 2, "web_fetch_requests": 1}
    tools = {k.removesuffix("_requests"): n for k, n in (server.items() if isinstance(server, dict) else ())
             if k.endswith("_requests") and n}
    if tools:
        details["tool_calls"] = tools
    return Usage(
        input_tokens=(raw.get("input_tokens") or 0) + read + write,
        cached_input_tokens=read,
        cache_write_tokens=write,
        cache_write_1h_tokens=write_1h,
        output_tokens=raw.get("output_tokens") or 0,
        details=details,
    )


def _with_miss_reason(usage: Usage | None, message: dict[str, Any]) -> Usage | None:
    """Keep the provider's ``diagnostics.cache_miss_reason`` type (no content) for the prompt-cache doctor."""
    reason = ((message.get("diagnostics") or {}).get("cache_miss_reason") or {}).get("type")
    if usage is not None and reason:
        usage.details["cache_miss_reason"] = reason
    return usage


def from_body(endpoint: str, body: dict[str, Any], call: Call | None = None) -> Parsed:
    return Parsed(body.get("model"), _with_miss_reason(_usage(body.get("usage")), body), body.get("stop_reason"))


def from_events(endpoint: str, payloads: list[bytes], call: Call | None = None) -> Parsed:
    """message_start carries the input side of usage, message_delta the (cumulative) output side."""
    start: dict[str, Any] = {}
    delta: dict[str, Any] = {}
    finish = None
    for raw in payloads:
        if b'"message_start"' in raw[:40]:
            event = loads_or_none(raw)
            start = (event.get("message") or {}) if isinstance(event, dict) else start
        elif b'"message_delta"' in raw[:40]:
            event = loads_or_none(raw)
            if not isinstance(event, dict):  # cut inside the final usage: counted from the text below
                continue
            delta.update(event.get("usage") or {})
            finish = (event.get("delta") or {}).get("stop_reason") or finish
    if not start:
        return Parsed()
    raw_usage = {**(start.get("usage") or {}), **{k: v for k, v in delta.items() if v is not None}}
    parsed = Parsed(start.get("model"), _with_miss_reason(_usage(raw_usage), start), finish)
    if not delta:  # the stream was cut before its final usage: count the text that did arrive
        parsed.text = "".join(_streamed_text(payloads))
        parsed.usage.output_tokens = count_text_tokens(parsed.text, parsed.model or "claude")
        parsed.estimated = True
    return parsed


def _streamed_text(payloads: list[bytes]) -> list[str]:
    texts = []
    for raw in payloads:
        if b'"content_block_delta"' in raw[:40] and isinstance(event := loads_or_none(raw), dict):
            d = event.get("delta") or {}
            texts.append(d.get("text") or d.get("partial_json") or d.get("thinking") or "")
    return texts


def estimate_input(call: Call) -> int:
    body = call.body
    return count_tokens(body.get("messages") or [], model=call.model, tools=body.get("tools"), system=body.get("system"))
