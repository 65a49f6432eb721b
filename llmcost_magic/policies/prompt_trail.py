"""The session's prompt-prefix trail: for each metered call, fingerprints of its prompt at every block
boundary, where its cache breakpoints were, and what the provider read and wrote.

Recording a call only notes it (a few microseconds); its fingerprints are computed when the meter
closes or the doctor asks. It lives in memory only, like the semantic audit: the ledger never holds message content. Block
texts are kept once per distinct block, up to ``MAX_TEXT_CHARS`` characters (the least recently seen go
first), so the prompt-cache doctor can say *what* changed in a block (a timestamp, a new line); calls
whose texts were evicted keep their hashes alone.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..core.prompt_blocks import prefix_hashes, prompt_blocks
from ..core.provider_rules import openai_has_breakpoints

MAX_CALLS = 20_000
MAX_TEXT_CHARS = 20_000_000  # distinct block texts kept in memory (~20 MB of prompts), least recently seen evicted
# Calls noted but not yet fingerprinted (their bodies are held until then): fingerprinting waits for the
# meter to close unless this many calls, or prompts of this many input tokens (~100 MB of text), pile up.
MAX_PENDING = 20_000  # a cell of up to this many calls fingerprints them when it ends, off the calls' path
MAX_PENDING_TOKENS = 25_000_000
ENDPOINTS = ("messages", "chat.completions", "responses")


@dataclass
class TrailEntry:
    """One call's prompt as fingerprints (block texts are in the trail's store, by ``own`` hash)."""

    ts: float
    cell: str
    cell_run: int
    tag: str
    provider: str
    endpoint: str
    model: str
    labels: list[str]
    kinds: list[str]
    prefix: list[str]  # hash of the prompt up to and including each block (model left out)
    own: list[str]  # hash of each block alone
    tokens: list[int]  # input tokens up to and including each block (by characters, scaled to the billed input)
    breakpoints: dict[int, str]  # block index -> TTL, where the provider writes an entry
    mode: str  # "explicit" (breakpoints only), "automatic" (Anthropic top-level), "implicit" (GPT-5.6), "prefix" (OpenAI < 5.6)
    input_tokens: int
    cached_tokens: int
    written_tokens: int
    written_1h_tokens: int
    cost_usd: float | None
    provider_reason: str = ""


def _own_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _breakpoints(provider: str, model: str, body: dict[str, Any], kinds: list[str], marks: list[str | None]) -> tuple[dict[int, str], str]:
    points = {i: ttl for i, ttl in enumerate(marks) if ttl}
    if not kinds:
        return points, "explicit"
    if provider == "anthropic":
        automatic = body.get("cache_control")
        if isinstance(automatic, dict):
            points.setdefault(len(kinds) - 1, automatic.get("ttl") or "5m")
            return points, "automatic"
        return points, "explicit"
    if not openai_has_breakpoints(model):
        return {}, "prefix"
    options = body.get("prompt_cache_options") or {}
    if options.get("mode") == "explicit":
        return points, "explicit"
    latest = [i for i, kind in enumerate(kinds) if kind in ("user", "tool")]
    if latest:
        points.setdefault(latest[-1], str(options.get("ttl") or "30m"))
    return points, "implicit"


class PrefixTrail:
    """The calls of this session, oldest first. Thread-safe. ``clock`` stamps each call when it is
    recorded (a replay on the sandbox's ``ManualClock`` sets it to that clock, so idle times match)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._entries: list[TrailEntry] = []
        self._pending: list[tuple[float, Any, str, str, dict[str, Any]]] = []  # (ts, record, provider, endpoint, body)
        self._texts: OrderedDict[str, str] = OrderedDict()  # own hash -> block text, least recently seen first
        self._text_chars = 0
        self._pending_tokens = 0
        self._lock = threading.Lock()

    def observe(self, rec: Any, call: Any) -> None:
        """Note a recorded call (only answered, provider-served chat calls). Cheap: the fingerprints are
        computed later, when the meter closes or the doctor asks (``seal``), off the call's path."""
        if rec.cache or rec.status != "ok" or call.endpoint not in ENDPOINTS:
            return
        with self._lock:
            self._pending.append((self.clock(), rec, call.provider, call.endpoint, call.sent_body or call.body))
            self._pending_tokens += rec.usage.input_tokens
            full = len(self._pending) >= MAX_PENDING or self._pending_tokens >= MAX_PENDING_TOKENS
        if full:
            self.seal()

    def seal(self) -> None:
        """Turn the calls noted since the last seal into fingerprints (and keep their block texts)."""
        with self._lock:
            pending, self._pending, self._pending_tokens = self._pending, [], 0
            for ts, rec, provider, endpoint, body in pending:
                made = _entry(ts, rec, provider, endpoint, body)
                if made is not None:
                    entry, texts = made
                    self._entries.append(entry)
                    for key, text in zip(entry.own, texts):
                        self._keep(key, text)
            if len(self._entries) > MAX_CALLS:
                del self._entries[: len(self._entries) - MAX_CALLS]

    def _keep(self, key: str, text: str) -> None:
        if key in self._texts:
            self._texts.move_to_end(key)
            return
        self._texts[key] = text
        self._text_chars += len(text)
        while self._text_chars > MAX_TEXT_CHARS and self._texts:
            self._text_chars -= len(self._texts.popitem(last=False)[1])

    def text(self, key: str) -> str | None:
        """A block's text by its ``own`` hash, while it is still in memory."""
        return self._texts.get(key)

    @property
    def entries(self) -> list[TrailEntry]:
        """Every call noted so far, oldest first, as fingerprints."""
        self.seal()
        return self._entries

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._pending.clear()
            self._pending_tokens = 0
            self._texts.clear()
            self._text_chars = 0


def _entry(ts: float, rec: Any, provider: str, endpoint: str, body: dict[str, Any]) -> tuple[TrailEntry, list[str]] | None:
    blocks = prompt_blocks(provider, body)
    if not blocks:
        return None
    kinds = [b.kind for b in blocks]
    points, mode = _breakpoints(provider, rec.model, body, kinds, [b.breakpoint for b in blocks])
    total_chars, running, tokens = sum(len(b.text) for b in blocks) or 1, 0, []
    for b in blocks:
        running += len(b.text)
        tokens.append(round(rec.usage.input_tokens * running / total_chars))
    return TrailEntry(
        ts=ts, cell=rec.cell, cell_run=rec.cell_run, tag=rec.tag, provider=provider, endpoint=endpoint,
        model=rec.model, labels=[b.label for b in blocks], kinds=kinds, prefix=prefix_hashes("", blocks),
        own=[_own_hash(b.text) for b in blocks], tokens=tokens, breakpoints=points, mode=mode,
        input_tokens=rec.usage.input_tokens, cached_tokens=rec.usage.cached_input_tokens,
        written_tokens=rec.usage.cache_write_tokens, written_1h_tokens=rec.usage.cache_write_1h_tokens, cost_usd=rec.cost_usd,
        provider_reason=str(rec.usage.details.get("cache_miss_reason") or "")), [b.text for b in blocks]


_trail = PrefixTrail()


def current_trail() -> PrefixTrail:
    """This session's trail."""
    return _trail


def observe(rec: Any, call: Any) -> None:
    """Add a call to the session's trail."""
    _trail.observe(rec, call)


def seal() -> None:
    """Fingerprint the calls noted so far (a meter calls this when it closes)."""
    _trail.seal()
