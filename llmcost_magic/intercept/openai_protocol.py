"""OpenAI wire format: chat completions, Responses API, embeddings (plain JSON and SSE)."""

from __future__ import annotations

import json
from typing import Any

from ..records import Usage
from ..tokens import count_text_tokens, count_tokens
from .call import Call, Parsed

PROVIDER = "openai"
# Path suffix -> endpoint name. Suffixes, so any base_url prefix (proxies, Azure, the sandbox) matches.
ENDPOINTS = {
    "/chat/completions": "chat.completions",
    "/responses": "responses",
    "/embeddings": "embeddings",
    "/completions": "completions",
}


def _usage(raw: dict[str, Any] | None) -> Usage | None:
    if not raw:
        return None
    if "prompt_tokens" in raw:  # chat completions, completions, embeddings
        inp = raw.get("prompt_tokens") or 0
        out = raw.get("completion_tokens") or 0
        details = raw.get("prompt_tokens_details") or {}
        reasoning = (raw.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
    else:  # Responses API
        inp = raw.get("input_tokens") or 0
        out = raw.get("output_tokens") or 0
        details = raw.get("input_tokens_details") or {}
        reasoning = (raw.get("output_tokens_details") or {}).get("reasoning_tokens") or 0
    # GPT-5.6+ bill cache writes (cache_write_tokens, part of the input tokens); older models report none.
    return Usage(input_tokens=inp, cached_input_tokens=details.get("cached_tokens") or 0,
                 cache_write_tokens=details.get("cache_write_tokens") or 0, output_tokens=out, reasoning_tokens=reasoning)


def from_body(endpoint: str, body: dict[str, Any]) -> Parsed:
    finish = None
    if endpoint == "chat.completions" and body.get("choices"):
        finish = body["choices"][0].get("finish_reason")
    elif endpoint == "responses":
        finish = body.get("status")
        if (body.get("incomplete_details") or {}).get("reason") == "max_output_tokens":
            finish = "length"
    usage = _usage(body.get("usage"))
    diagnosis = body.get("prompt_cache_diagnostics") or {}  # Responses, when prompt_cache_options.comparison_response_id was sent
    if usage is not None and diagnosis.get("type") == "cache_miss" and diagnosis.get("reason"):
        usage.details["cache_miss_reason"] = str(diagnosis["reason"])
    return Parsed(body.get("model"), usage, finish)


def from_events(endpoint: str, payloads: list[bytes]) -> Parsed:
    """Usage from an SSE stream: the last event carrying usage; else the streamed text, to count."""
    for raw in reversed(payloads):
        if b'"usage"' not in raw:
            continue
        event = json.loads(raw)
        if endpoint == "responses":
            event = event.get("response") or {}
        usage = _usage(event.get("usage"))
        if usage is not None:
            parsed = from_body(endpoint, event)
            parsed.finish = parsed.finish or _last_finish(payloads)
            return parsed
    texts, model = [], None
    for raw in payloads:
        if raw == b"[DONE]":
            continue
        event = json.loads(raw)
        model = model or event.get("model")
        for choice in event.get("choices") or ():
            delta = choice.get("delta") or {}
            texts.append(delta.get("content") or "")
            for tool_call in delta.get("tool_calls") or ():
                fn = tool_call.get("function") or {}
                texts.append((fn.get("name") or "") + (fn.get("arguments") or ""))
        if endpoint == "responses" and event.get("type") == "response.output_text.delta":
            texts.append(event.get("delta") or "")
    return Parsed(model, None, _last_finish(payloads), "".join(texts))


def _last_finish(payloads: list[bytes]) -> str | None:
    for raw in reversed(payloads):
        if b'"finish_reason":"' in raw.replace(b" ", b""):
            for choice in json.loads(raw).get("choices") or ():
                if choice.get("finish_reason"):
                    return choice["finish_reason"]
    return None


def estimate_input(call: Call) -> int:
    """Input tokens of a request, counted locally (exact for OpenAI models)."""
    body = call.body
    if call.endpoint == "chat.completions":
        return count_tokens(body.get("messages") or [], model=call.model, tools=body.get("tools"))
    if call.endpoint == "responses":
        inp = body.get("input") or ""
        messages = [{"role": "user", "content": inp}] if isinstance(inp, str) else inp
        if body.get("instructions"):
            messages = [{"role": "system", "content": body["instructions"]}, *messages]
        return count_tokens(messages, model=call.model, tools=body.get("tools"))
    inp = body.get("input") if call.endpoint == "embeddings" else body.get("prompt")
    texts = [inp] if isinstance(inp, str) else [t for t in inp or () if isinstance(t, str)]
    return sum(count_text_tokens(t, call.model) for t in texts)
