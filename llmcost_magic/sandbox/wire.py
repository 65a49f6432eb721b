"""Wire helpers shared by the sandbox's protocol modules: responses, SSE framing, error shapes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SandboxResponse:
    """What the sandbox answers: a whole body, or SSE chunks (``cut_after``: end the stream early)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunks: list[bytes] | None = None
    delay_s: float = 0.0
    chunk_delay_s: float = 0.0
    cut_after: int | None = None

    def iter_chunks(self) -> Iterator[bytes]:
        return iter(self.chunks or [self.body])


class APIError(Exception):
    """An error the sandbox answers with, in the calling provider's shape."""

    def __init__(self, status: int, message: str, kind: str, code: str | None = None, param: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code, self.param = status, message, kind, code, param
        self.headers = headers or {}

    def response(self, provider: str) -> SandboxResponse:
        if provider == "anthropic":
            payload: dict[str, Any] = {"type": "error", "error": {"type": self.kind, "message": self.message}}
        else:
            payload = {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}
        return json_response(payload, self.status, self.headers)


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> SandboxResponse:
    return SandboxResponse(status, {"content-type": "application/json", **(headers or {})},
                           json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())


def sse_response(events: list[tuple[str | None, Any]]) -> SandboxResponse:
    """``(event name or None, data)`` pairs as an SSE body, one chunk per event."""
    chunks = []
    for name, data in events:
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        chunks.append(((f"event: {name}\n" if name else "") + f"data: {text}\n\n").encode())
    return SandboxResponse(200, {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"},
                           chunks=chunks)


def stable_id(prefix: str, *parts: Any) -> str:
    return prefix + hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def pieces(text: str) -> list[str]:
    """Stream deltas: a word and its trailing space at a time, like a model's token stream."""
    out, word = [], ""
    for ch in text:
        word += ch
        if ch in " \n":
            out.append(word)
            word = ""
    if word:
        out.append(word)
    return out or [""]


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for block in content or ():
        if isinstance(block, dict):
            if isinstance(block.get("text"), str):
                parts.append(block["text"])
            elif block.get("type") == "tool_result":
                parts.append(content_text(block.get("content")))
        elif isinstance(block, str):
            parts.append(block)
    return "\n".join(parts)
