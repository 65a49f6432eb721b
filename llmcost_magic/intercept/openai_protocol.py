"""OpenAI wire format: chat completions, Responses API, embeddings (plain JSON and SSE); images and
audio through :mod:`.openai_media`."""

from __future__ import annotations

from typing import Any

from ..core.records import Usage
from ..core.tokens import count_text_tokens, count_tokens
from . import openai_media
from .call import Call, Parsed, loads_or_none

PROVIDER = "openai"
# Path suffix -> endpoint name. Suffixes, so any base_url prefix (proxies, Azure, the sandbox) matches.
ENDPOINTS = {
    "/chat/completions": "chat.completions",
    "/responses": "responses",
    "/responses/compact": "responses.compact",
    "/embeddings": "embeddings",
    "/completions": "completions",
    "/images/generations": "images.generate",
    "/images/edits": "images.edit",
    "/images/variations": "images.variation",
    "/audio/speech": "audio.speech",
    "/audio/transcriptions": "audio.transcriptions",
    "/audio/translations": "audio.translations",
}
# GET /responses/{id}: how a background Response's usage arrives (see .background).
RETRIEVE = ("/responses/resp_", "responses.retrieve")


def _usage(raw: dict[str, Any] | None) -> Usage | None:
    if not raw:
        return None
    chat = "prompt_tokens" in raw  # chat completions, completions, embeddings; else the Responses API
    inp = raw.get("prompt_tokens" if chat else "input_tokens") or 0
    out = raw.get("completion_tokens" if chat else "output_tokens") or 0
    in_details = raw.get("prompt_tokens_details" if chat else "input_tokens_details") or {}
    out_details = raw.get("completion_tokens_details" if chat else "output_tokens_details") or {}
    details = {}
    if n := in_details.get("audio_tokens"):
        details["audio_input_tokens"] = n
    if n := in_details.get("image_tokens"):
        details["image_input_tokens"] = n
    if n := out_details.get("audio_tokens"):
        details["audio_output_tokens"] = n
    return Usage(input_tokens=inp, cached_input_tokens=in_details.get("cached_tokens") or 0,
                 cache_write_tokens=in_details.get("cache_write_tokens") or 0,  # billed from GPT-5.6 on
                 output_tokens=out, reasoning_tokens=out_details.get("reasoning_tokens") or 0, details=details)


def _tool_calls(body: dict[str, Any]) -> dict[str, int]:
    """Built-in tool calls a Responses body billed: web and file searches per call, code interpreter per container."""
    calls: dict[str, int] = {}
    preview = any((t or {}).get("type", "").startswith("web_search_preview") for t in body.get("tools") or ())
    containers = set()
    for item in body.get("output") or ():
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "web_search_call":
            name = "web_search_preview" if preview else "web_search"
            calls[name] = calls.get(name, 0) + 1
        elif kind == "file_search_call":
            calls["file_search"] = calls.get("file_search", 0) + 1
        elif kind == "code_interpreter_call":
            containers.add(item.get("container_id") or item.get("id"))
    if containers:
        calls["code_interpreter"] = len(containers)
    return calls


def from_body(endpoint: str, body: dict[str, Any], call: Call | None = None) -> Parsed:
    finish = None
    if endpoint == "chat.completions":  # first: the most common answer by far
        if body.get("choices"):
            finish = _answer_finish([c.get("finish_reason") for c in body["choices"] if isinstance(c, dict)])
    elif call is not None and endpoint.startswith("images."):
        return openai_media.images(call, body)
    elif call is not None and endpoint in ("audio.transcriptions", "audio.translations"):
        return openai_media.transcription(call, body)
    elif endpoint.startswith("responses"):
        finish = body.get("status")
        if (body.get("incomplete_details") or {}).get("reason") == "max_output_tokens":
            finish = "length"
    usage = _usage(body.get("usage"))
    diagnosis = body.get("prompt_cache_diagnostics") or {}  # Responses, when prompt_cache_options.comparison_response_id was sent
    if usage is not None:
        if diagnosis.get("type") == "cache_miss" and diagnosis.get("reason"):
            usage.details["cache_miss_reason"] = str(diagnosis["reason"])
        if body.get("service_tier"):
            usage.details["service_tier"] = body["service_tier"]
        if endpoint == "responses" and (tools := _tool_calls(body)):
            usage.details["tool_calls"] = tools
    parsed = Parsed(body.get("model"), usage, finish)
    if endpoint == "responses" and body.get("background") and finish in ("queued", "in_progress"):
        parsed.response_id = str(body.get("id") or "")
    return parsed


def from_raw(call: Call, raw: bytes) -> Parsed:
    """A response body that is not JSON (speech audio, a transcript as text)."""
    return openai_media.from_raw(call, raw)


def from_events(endpoint: str, payloads: list[bytes], call: Call | None = None) -> Parsed:
    """Usage from an SSE stream: the last event carrying usage; else the streamed text, to count."""
    if call is not None and endpoint.startswith("audio."):
        return _audio_events(call, payloads)
    for raw in reversed(payloads):
        if b'"usage"' not in raw:
            continue
        event = loads_or_none(raw)
        if not isinstance(event, dict):  # cut inside the usage event: fall back to counting
            continue
        if endpoint == "responses":
            event = event.get("response") or {}
        if event.get("usage"):  # (what _usage reads: from_body parses it once)
            parsed = from_body(endpoint, event)
            parsed.finish = parsed.finish or _last_finish(payloads)
            return parsed
    texts, model = [], None
    for raw in payloads:
        event = loads_or_none(raw) if raw != b"[DONE]" else None
        if not isinstance(event, dict):
            continue
        model = model or event.get("model")
        for choice in event.get("choices") or ():
            delta = choice.get("delta") or {}
            texts.append(delta.get("content") or choice.get("text") or "")  # chat delta, or legacy completions text
            for tool_call in delta.get("tool_calls") or ():
                fn = tool_call.get("function") or {}
                texts.append((fn.get("name") or "") + (fn.get("arguments") or ""))
        if endpoint == "responses" and event.get("type") == "response.output_text.delta":
            texts.append(event.get("delta") or "")
    return Parsed(model, None, _last_finish(payloads), "".join(texts))


def _last_finish(payloads: list[bytes]) -> str | None:
    """How a streamed answer ended: over all its choices (n > 1), as ``_answer_finish`` says."""
    reasons = []
    for raw in payloads:
        if b'"finish_reason":"' in raw.replace(b" ", b"") and isinstance(event := loads_or_none(raw), dict):
            reasons += [choice.get("finish_reason") for choice in event.get("choices") or () if choice.get("finish_reason")]
    return _answer_finish(reasons)


def _answer_finish(reasons: list[str | None]) -> str | None:
    """How an answer of one or more choices ended: the first choice that did not stop normally (one
    of n answers cut by max_tokens or filtered makes the whole answer so), else the first."""
    return next((r for r in reasons if r != "stop"), reasons[0] if reasons else None)


def _audio_events(call: Call, payloads: list[bytes]) -> Parsed:
    """Streamed speech (``speech.audio.done``) or transcription (``transcript.text.done``) usage."""
    for raw in reversed(payloads):
        event = loads_or_none(raw) if b'"usage"' in raw else None
        if isinstance(event, dict) and event.get("usage"):
            if call.endpoint == "audio.speech":
                return openai_media.speech(call, event["usage"])
            return openai_media.transcription(call, event)
    if call.endpoint == "audio.speech":
        return openai_media.speech(call)
    texts = [e.get("delta") or "" for raw in payloads if isinstance(e := loads_or_none(raw), dict)]
    return Parsed(call.model, None, None, "".join(texts))


def estimate_input(call: Call) -> int:
    """Input tokens of a request, counted locally (exact for OpenAI models)."""
    body = call.body
    if call.endpoint.startswith(("images.", "audio.")):
        return openai_media.estimate_input(call)
    if call.endpoint == "chat.completions":
        return count_tokens(body.get("messages") or [], model=call.model, tools=body.get("tools"))
    if call.endpoint in ("responses", "responses.compact"):
        inp = body.get("input") or ""
        messages = [{"role": "user", "content": inp}] if isinstance(inp, str) else inp
        if body.get("instructions"):
            messages = [{"role": "system", "content": body["instructions"]}, *messages]
        return count_tokens(messages, model=call.model, tools=body.get("tools"))
    inp = body.get("input") if call.endpoint == "embeddings" else body.get("prompt")
    texts = [inp] if isinstance(inp, str) else [t for t in inp or () if isinstance(t, str)]
    return sum(count_text_tokens(t, call.model) for t in texts)
