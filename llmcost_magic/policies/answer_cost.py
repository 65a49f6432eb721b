"""What serving a cached answer saves: its stored usage at the model's price."""

from __future__ import annotations

import json

from ..intercept.protocols import ADAPTERS
from ..core.pricing import price_usage
from ..stores import CacheEntry

__all__ = ["answer_cost"]


def answer_cost(entry: CacheEntry) -> float | None:
    """What serving ``entry`` saves: its stored answer's usage at the model's price (None when unknown)."""
    adapter = ADAPTERS.get(entry.provider) or ADAPTERS["openai"]
    try:
        if entry.content_type.startswith("text/event-stream"):
            payloads = [line[5:].strip() for line in entry.body.splitlines() if line.startswith(b"data:")]
            parsed = adapter.from_events(entry.endpoint, [p for p in payloads if p])
        else:
            parsed = adapter.from_body(entry.endpoint, json.loads(entry.body))
        if parsed.usage is None:
            return None
        return price_usage(parsed.model or entry.model, parsed.usage).usd
    except Exception:  # noqa: BLE001 - an answer we cannot price is not worth a verifier call
        return None
