"""The sandbox's other billed OpenAI endpoints, in the providers' wire shapes: images, speech,
transcriptions and translations (multipart uploads), ``responses.compact``, background Responses
(``background: true``, then ``GET /v1/responses/{id}``), and the free ``responses/input_tokens`` and
``moderations``. Token figures are simulated (documented rules of thumb, not the provider's).
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Mapping
from typing import Any

from ..core.multipart_form import form_fields
from ..core.tokens import count_text_tokens, count_tokens
from . import openai_api
from .wire import APIError, SandboxResponse, json_response, sse_response, stable_id

# gpt-image-1 output tokens by quality and size (OpenAI's image generation guide).
IMAGE_OUTPUT_TOKENS = {
    "low": {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
    "medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
    "high": {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208},
}
INPUT_IMAGE_TOKENS = 323  # simulated tokens per uploaded image (edits)
AUDIO_BYTES_PER_SECOND = 32_000  # uploads read as 16 kHz, 16-bit mono PCM for a simulated duration
AUDIO_TOKENS_PER_SECOND = 10  # simulated audio tokens per second (input and output)
_TINY_PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000" "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082")).decode()
_RESPONSE_ID = re.compile(r"^/v1/responses/(resp_[A-Za-z0-9_-]+)$")

_background: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()


def handle(sandbox: Any, method: str, path: str, headers: Mapping[str, str], body: bytes) -> SandboxResponse | None:
    """The answer when ``path`` is one of these endpoints, else None (the engine routes on)."""
    path = path.rstrip("/")
    if method == "GET" and (found := _RESPONSE_ID.match(path)):
        return _retrieve(found.group(1))
    if method != "POST":
        return None
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    handler = _HANDLERS.get(path)
    if handler is None:
        if path == "/v1/responses" and b'"background":true' in body.replace(b" ", b""):
            return _background_start(sandbox, json.loads(body))
        return None
    fields = form_fields(body, content_type)
    payload = fields if fields is not None else json.loads(body or b"null")
    if not isinstance(payload, dict) or not isinstance(payload.get("model", "x"), str):
        raise APIError(400, "The request body must be a JSON object or a multipart form.", "invalid_request_error")
    return handler(sandbox, payload)


def _n(payload: dict[str, Any], key: str, default: int) -> int:
    try:
        return int(payload.get(key) or default)
    except (TypeError, ValueError):
        raise APIError(400, f"'{key}' must be an integer.", "invalid_request_error", "invalid_value", key) from None


def _images(sandbox: Any, payload: dict[str, Any], edit: bool) -> SandboxResponse:
    model = payload.get("model") or "dall-e-2"
    n, size = _n(payload, "n", 1), payload.get("size") or "1024x1024"
    data = [{"b64_json": _TINY_PNG} for _ in range(n)]
    if not model.startswith("gpt-image"):
        if model == "dall-e-3":
            data = [{**d, "revised_prompt": payload.get("prompt", "")} for d in data]
        return json_response({"created": int(sandbox.clock()), "data": data})
    quality = payload.get("quality") if payload.get("quality") in IMAGE_OUTPUT_TOKENS else "high"
    out = IMAGE_OUTPUT_TOKENS[quality].get(size, IMAGE_OUTPUT_TOKENS[quality]["1024x1024"]) * n
    text = count_text_tokens(str(payload.get("prompt") or ""), "gpt-4o")
    images = payload.get("image") or []
    image_tokens = INPUT_IMAGE_TOKENS * (len(images) if isinstance(images, list) else 1) if edit else 0
    return json_response({
        "created": int(sandbox.clock()), "data": data, "background": "opaque", "output_format": "png",
        "quality": quality, "size": size,
        "usage": {"input_tokens": text + image_tokens, "input_tokens_details": {"image_tokens": image_tokens, "text_tokens": text},
                  "output_tokens": out, "total_tokens": text + image_tokens + out}})


def _speech(sandbox: Any, payload: dict[str, Any]) -> SandboxResponse:
    text = str(payload.get("input") or "")
    if not text:
        raise APIError(400, "Missing required parameter: 'input'.", "invalid_request_error", "missing_required_parameter", "input")
    seconds = max(1, len(text) // 15)  # ~15 characters of speech a second
    audio = b"ID3" + bytes(seconds * 100)
    if payload.get("stream_format") == "sse":
        usage = {"input_tokens": count_text_tokens(text, "gpt-4o"), "output_tokens": seconds * AUDIO_TOKENS_PER_SECOND}
        usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
        return sse_response([(None, {"type": "speech.audio.delta", "audio": base64.b64encode(audio).decode()}),
                             (None, {"type": "speech.audio.done", "usage": usage})])
    return SandboxResponse(200, {"content-type": "audio/mpeg"}, audio)


def _transcribe(sandbox: Any, payload: dict[str, Any], translate: bool) -> SandboxResponse:
    upload = payload.get("file")
    if not isinstance(upload, dict):
        raise APIError(400, "Missing required parameter: 'file'.", "invalid_request_error", "missing_required_parameter", "file")
    seconds = round(max(upload["bytes"] / AUDIO_BYTES_PER_SECOND, 0.1), 2)
    text = "This is a simulated transcript of the uploaded audio. " * max(1, int(seconds // 4))
    model, fmt = payload.get("model") or "whisper-1", payload.get("response_format") or "json"
    if fmt in ("text", "srt", "vtt"):
        return SandboxResponse(200, {"content-type": "text/plain; charset=utf-8"}, text.encode())
    if model == "whisper-1":
        usage: dict[str, Any] = {"type": "duration", "seconds": seconds}
    else:
        audio = int(seconds * AUDIO_TOKENS_PER_SECOND)
        prompt = count_text_tokens(str(payload.get("prompt") or ""), "gpt-4o")
        out = count_text_tokens(text, "gpt-4o")
        usage = {"type": "tokens", "input_tokens": audio + prompt, "output_tokens": out, "total_tokens": audio + prompt + out,
                 "input_token_details": {"audio_tokens": audio, "text_tokens": prompt}}
    if translate:  # translations carry no usage; verbose_json carries the duration
        return json_response({"text": text, **({"language": "english", "duration": seconds, "segments": []}
                                                if fmt == "verbose_json" else {})})
    if payload.get("stream") == "true" and model != "whisper-1":
        return sse_response([(None, {"type": "transcript.text.delta", "delta": text}),
                             (None, {"type": "transcript.text.done", "text": text, "usage": usage})])
    body: dict[str, Any] = {"text": text, "usage": usage}
    if fmt == "verbose_json":
        body.update(task="transcribe", language="english", duration=seconds, segments=[])
    return json_response(body)


def _compact(sandbox: Any, payload: dict[str, Any]) -> SandboxResponse:
    model, inp = payload.get("model") or "gpt-5", payload.get("input") or ""
    messages = [{"role": "user", "content": inp}] if isinstance(inp, str) else list(inp)
    prompt = count_tokens(messages, model=model)
    summary = "Summary of the conversation so far."
    out = count_text_tokens(summary, model)
    item = {"type": "compaction", "id": stable_id("cmp_item_", payload), "encrypted_content": summary}
    return json_response({
        "id": stable_id("cmp_", payload, sandbox.requests), "object": "response.compaction", "created_at": int(sandbox.clock()),
        "output": [m for m in messages if isinstance(m, dict) and m.get("role") == "user"] + [item],
        "usage": {"input_tokens": prompt, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": out,
                  "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": prompt + out}})


def _background_start(sandbox: Any, payload: dict[str, Any]) -> SandboxResponse:
    if payload.get("stream"):
        return openai_api.responses(sandbox, payload)
    done = json.loads(openai_api.responses(sandbox, payload).body)
    done["background"] = True
    with _lock:
        _background[done["id"]] = done
    return json_response({**done, "status": "queued", "output": [], "usage": None})


def _retrieve(response_id: str) -> SandboxResponse:
    with _lock:
        found = _background.get(response_id)
    if found is None:
        raise APIError(404, f"No response found with id '{response_id}'.", "invalid_request_error")
    return json_response(found)


def _input_tokens(sandbox: Any, payload: dict[str, Any]) -> SandboxResponse:
    inp = payload.get("input") or ""
    messages = [{"role": "user", "content": inp}] if isinstance(inp, str) else list(inp)
    return json_response({"object": "response.input_tokens",
                          "input_tokens": count_tokens(messages, model=payload.get("model") or "gpt-4o")})


def _moderations(sandbox: Any, payload: dict[str, Any]) -> SandboxResponse:
    return json_response({"id": stable_id("modr-", payload), "model": payload.get("model") or "omni-moderation-latest",
                          "results": [{"flagged": False, "categories": {}, "category_scores": {}}]})


_HANDLERS = {
    "/v1/images/generations": lambda sb, p: _images(sb, p, edit=False),
    "/v1/images/edits": lambda sb, p: _images(sb, p, edit=True),
    "/v1/images/variations": lambda sb, p: _images(sb, {**p, "model": p.get("model") or "dall-e-2"}, edit=True),
    "/v1/audio/speech": _speech,
    "/v1/audio/transcriptions": lambda sb, p: _transcribe(sb, p, translate=False),
    "/v1/audio/translations": lambda sb, p: _transcribe(sb, p, translate=True),
    "/v1/responses/compact": _compact,
    "/v1/responses/input_tokens": _input_tokens,
    "/v1/moderations": _moderations,
}
