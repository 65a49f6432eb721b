"""OpenAI's non-chat billed endpoints on the wire: images, speech, transcriptions, translations.

Their usage goes into :class:`~llmcost_magic.core.records.Usage` with the modality counts in
``details`` (keys agreed with the pricing module: ``image_input_tokens``, ``image_output_tokens``,
``text_input_tokens``, ``audio_input_tokens``, ``audio_output_tokens``, ``characters``,
``audio_seconds``; plus ``images``, ``size`` and ``quality`` for per-image prices).
"""

from __future__ import annotations

from typing import Any

from ..core.records import Usage
from ..core.tokens import count_text_tokens
from .call import Call, Parsed

# Multipart uploads: the seam reads their text fields (never their files).
MULTIPART_ENDPOINTS = ("images.edit", "images.variation", "audio.transcriptions", "audio.translations")
DEFAULT_MODELS = {"images.generate": "dall-e-2", "images.edit": "dall-e-2", "images.variation": "dall-e-2"}
# Text-to-speech models billed by input characters; the others (gpt-4o-mini-tts) by text and audio tokens.
PER_CHARACTER_TTS = ("tts-1", "tts-1-hd")


def _int(value: Any, default: int = 1) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def images(call: Call, body: dict[str, Any]) -> Parsed:
    """gpt-image-* answers carry token usage; DALL-E answers only the images (priced per image)."""
    request = call.body
    details: dict[str, Any] = {"images": len(body.get("data") or ()) or _int(request.get("n")),
                               "size": body.get("size") or request.get("size") or "1024x1024",
                               "quality": body.get("quality") or request.get("quality") or "standard"}
    raw = body.get("usage")
    if not raw:
        return Parsed(call.model, Usage(details=details), "stop")
    inp = raw.get("input_tokens_details") or {}
    details.update(image_input_tokens=inp.get("image_tokens") or 0, text_input_tokens=inp.get("text_tokens") or 0,
                   image_output_tokens=raw.get("output_tokens") or 0)
    usage = Usage(input_tokens=raw.get("input_tokens") or 0, output_tokens=raw.get("output_tokens") or 0, details=details)
    return Parsed(call.model, usage, "stop")


def transcription(call: Call, body: dict[str, Any]) -> Parsed:
    """Token usage (gpt-4o-transcribe), a duration (whisper-1), or none (translations: duration if verbose)."""
    raw = body.get("usage") or {}
    if raw.get("type") == "tokens":
        inp = raw.get("input_token_details") or {}
        usage = Usage(input_tokens=raw.get("input_tokens") or 0, output_tokens=raw.get("output_tokens") or 0,
                      details={"audio_input_tokens": inp.get("audio_tokens") or 0,
                               "text_input_tokens": inp.get("text_tokens") or 0})
        return Parsed(call.model, usage, "stop")
    seconds = raw.get("seconds") if raw.get("type") == "duration" else body.get("duration")
    if seconds is None:  # no duration on the wire: the row is kept, its cost flagged as estimated
        return Parsed(call.model, Usage(details={"audio_seconds": None}), "stop", text=str(body.get("text") or ""),
                      estimated=True)
    return Parsed(call.model, Usage(details={"audio_seconds": float(seconds)}), "stop")


def speech(call: Call, usage_event: dict[str, Any] | None = None) -> Parsed:
    """Speech is billed on its input text: characters (tts-1) or text tokens plus audio tokens, which only
    the SSE format reports (``speech.audio.done``); for binary audio they are not known (estimated)."""
    text = str(call.body.get("input") or "")
    details: dict[str, Any] = {"characters": len(text)}
    if usage_event:
        details.update(text_input_tokens=usage_event.get("input_tokens") or 0,
                       audio_output_tokens=usage_event.get("output_tokens") or 0)
        return Parsed(call.model, Usage(input_tokens=usage_event.get("input_tokens") or 0,
                                        output_tokens=usage_event.get("output_tokens") or 0, details=details), "stop")
    per_character = call.model.startswith(PER_CHARACTER_TTS)
    tokens = 0 if per_character else count_text_tokens(text, "gpt-4o")
    if tokens:
        details["text_input_tokens"] = tokens
    return Parsed(call.model, Usage(input_tokens=tokens, details=details), "stop", estimated=not per_character)


def from_raw(call: Call, raw: bytes) -> Parsed:
    """A body that is not JSON: speech audio, or a transcript as text/srt/vtt."""
    if call.endpoint == "audio.speech":
        return speech(call)
    if call.endpoint in ("audio.transcriptions", "audio.translations"):
        return transcription(call, {"text": raw.decode("utf-8", "replace")})
    return Parsed()


def estimate_input(call: Call) -> int:
    """Text tokens a media request sends (its prompt or speech input), counted locally."""
    text = call.body.get("prompt") if call.endpoint.startswith("images.") else call.body.get("input")
    return count_text_tokens(text, "gpt-4o") if isinstance(text, str) else 0
