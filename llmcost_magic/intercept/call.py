"""What the seam knows about one intercepted call, before and after it is sent."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

try:  # orjson parses and writes a request or response ~4x faster than the json module
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; json gives the same objects, slower
    orjson = None  # type: ignore[assignment]


def loads(raw: bytes | str) -> Any:
    """JSON, fast; what orjson refuses (NaN, Infinity) goes to the json module."""
    if orjson is not None:
        try:
            return orjson.loads(raw)
        except ValueError:
            pass
    return json.loads(raw)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, as the SDKs send it."""
    if orjson is not None:
        try:
            return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
        except TypeError:
            pass
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(slots=True)
class Call:
    """One LLM request as the protocol adapter parsed it from the wire."""

    provider: str
    endpoint: str
    model: str
    body: dict[str, Any]
    stream: bool
    started: float = field(default_factory=time.perf_counter)
    ts: float = field(default_factory=time.time)
    reservations: list[tuple[Any, float]] = field(default_factory=list)  # (budget, dollars) held for this call
    strip_usage_chunk: bool = False
    cache_hit: Any = None  # a policies.response_cache.Hit when the answer comes from the cache
    cache_scope: str = ""  # destination, account fingerprint and run kind (policies.cache_scope): part of the key
    body_digest: str = ""  # sha256 of the request's bytes as the user's SDK sent them (the exact cache key's body)
    note: str = ""  # what policies did to the request, for the ledger
    sent_body: dict[str, Any] | None = None  # the body as the policies rewrote it (None: as the user sent it)
    deferred: str = ""  # the custom_id when the call was deferred to a batch (--batch)
    requested_model: str = ""
    tokens_removed: int = 0  # input tokens the compression policy took out of the request
    vendor: str = ""  # who serves it (from the host and the model); ``provider`` is the wire protocol

    def __post_init__(self) -> None:
        self.requested_model = self.requested_model or self.model

    @property
    def needs_stream_usage(self) -> bool:
        """An OpenAI chat (or legacy completions) stream that did not ask for usage: the seam asks for
        it (and cached tokens) and drops the extra chunk before it reaches the user."""
        return self.endpoint in ("chat.completions", "completions") and self.stream and not (
            (self.body.get("stream_options") or {}).get("include_usage"))

    @property
    def max_output_tokens(self) -> int | None:
        """The output cap the request set, under whichever name its endpoint uses."""
        body = self.sent_body or self.body
        if isinstance(value := body.get("max_completion_tokens"), int):  # unrolled: read on every row
            return value
        if isinstance(value := body.get("max_tokens"), int):
            return value
        return value if isinstance(value := body.get("max_output_tokens"), int) else None


@dataclass(slots=True)
class Parsed:
    """What an adapter read from a response: the model that answered, usage, and how it ended."""

    model: str | None = None
    usage: Any = None  # records.Usage, or None when the response carried none
    finish: str | None = None
    text: str = ""
    estimated: bool = False
    response_id: str = ""  # a background Response that answered "queued" (billed when retrieved)
    error: str = ""  # the error type of an error body sent with HTTP 200 (no answer, nothing billed)


def loads_or_none(raw: bytes) -> Any:
    """One SSE payload or body as JSON, or None when it is cut or malformed (a stream may end mid-event)."""
    try:
        return loads(raw)
    except ValueError:
        return None


def json_body(content: bytes) -> dict[str, Any] | None:
    """The request's JSON object, or None for anything else (multipart uploads, empty bodies)."""
    if not content or content[:1] != b"{":
        return None
    try:
        body = loads(content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
