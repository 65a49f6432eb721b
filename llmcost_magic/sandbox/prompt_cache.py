"""Provider prompt caching, simulated by the providers' published rules against an injectable clock.

OpenAI: automatic for prompts of >= 1,024 tokens; the cached prefix grows in 128-token steps; an
entry lives 10 minutes after its last use (OpenAI says 5–10 minutes of inactivity; we take 10).

Anthropic: explicit ``cache_control`` breakpoints over the prefix in the order tools -> system ->
messages; at most 4 breakpoints; a prefix shorter than the model's minimum is not cached; entries
live 5 minutes (refreshed on every read) or 1 hour with ``"ttl": "1h"``. A breakpoint also reads an
entry written at an earlier content-block boundary, up to 20 blocks before it (Anthropic's lookback),
so a breakpoint that moves forward turn by turn reads the previous turn's prefix.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..tokens import count_text_tokens

from ..provider_rules import ANTHROPIC_CACHE_TTL_S as ANTHROPIC_TTL_S
from ..provider_rules import ANTHROPIC_MAX_BREAKPOINTS
from ..provider_rules import OPENAI_CACHE_STEP as OPENAI_STEP
from ..provider_rules import OPENAI_CACHE_TTL_S as OPENAI_TTL_S
from ..provider_rules import OPENAI_MIN_CACHED_TOKENS as OPENAI_MIN_TOKENS
from ..provider_rules import anthropic_min_cached_tokens as anthropic_min_tokens

ANTHROPIC_LOOKBACK_BLOCKS = 20  # earlier block boundaries a breakpoint checks for a cache hit


class BreakpointError(ValueError):
    """More than 4 cache_control breakpoints (the API answers 400)."""


@dataclass
class AnthropicCacheResult:
    read: int = 0
    write_5m: int = 0
    write_1h: int = 0


def _key(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\x1f{text}".encode()).hexdigest()


class PromptCache:
    """Both providers' caches for one sandbox. Thread-safe."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._expiry: dict[str, float] = {}
        self._ttl_s: dict[str, float] = {}  # an Anthropic entry's TTL, which a read renews
        self._lock = threading.Lock()

    def _hit(self, key: str, now: float) -> bool:
        expiry = self._expiry.get(key)
        return expiry is not None and expiry > now

    # -- OpenAI ----------------------------------------------------------------------------

    def openai(self, model: str, prompt_tokens: list[int]) -> int:
        """Cached prefix tokens for this prompt (and remember its prefixes for next time)."""
        if len(prompt_tokens) < OPENAI_MIN_TOKENS:
            return 0
        now = self.clock()
        digest = hashlib.sha256(model.encode())
        cached, boundary, position = 0, OPENAI_MIN_TOKENS, 0
        with self._lock:
            while boundary <= len(prompt_tokens):
                digest.update(b"".join(t.to_bytes(4, "little") for t in prompt_tokens[position:boundary]))
                key = digest.copy().hexdigest()
                if self._hit(key, now):
                    cached = boundary
                self._expiry[key] = now + OPENAI_TTL_S
                position, boundary = boundary, boundary + OPENAI_STEP
        return cached

    # -- Anthropic -------------------------------------------------------------------------

    def anthropic(self, model: str, body: dict[str, Any]) -> AnthropicCacheResult:
        """Reads and writes for a Messages request's cache_control breakpoints."""
        parts, ttls = _blocks(body)
        breakpoints = [i for i, ttl in enumerate(ttls) if ttl is not None]
        if len(breakpoints) > ANTHROPIC_MAX_BREAKPOINTS:
            raise BreakpointError(
                f"A maximum of {ANTHROPIC_MAX_BREAKPOINTS} blocks with cache_control may be provided. Found {len(breakpoints)}."
            )
        result = AnthropicCacheResult()
        if not breakpoints:
            return result
        minimum = anthropic_min_tokens(model)
        now = self.clock()

        def prefix(i: int) -> str:  # the prompt up to and including block i
            return "".join(parts[: i + 1])

        with self._lock:
            # A breakpoint reads the longest live entry written at its own block or at one of the
            # ANTHROPIC_LOOKBACK_BLOCKS blocks before it (entries exist only where a breakpoint once was).
            checked = {j for i in breakpoints for j in range(max(0, i - ANTHROPIC_LOOKBACK_BLOCKS), i + 1)}
            for j in sorted(checked, reverse=True):
                key = _key(model, prefix(j))
                if self._hit(key, now):
                    result.read = count_text_tokens(prefix(j), model)
                    self._expiry[key] = max(self._expiry[key], now + self._ttl_s.get(key, ANTHROPIC_TTL_S["5m"]))
                    break
            covered = result.read
            for i in breakpoints:
                text, ttl = prefix(i), ttls[i]
                tokens = count_text_tokens(text, model)
                if tokens < minimum:
                    continue
                key = _key(model, text)
                if tokens > covered:
                    if ttl == "1h":
                        result.write_1h += tokens - covered
                    else:
                        result.write_5m += tokens - covered
                    covered = tokens
                self._ttl_s[key] = max(self._ttl_s.get(key, 0.0), ANTHROPIC_TTL_S[ttl])
                self._expiry[key] = max(self._expiry.get(key, 0.0), now + ANTHROPIC_TTL_S[ttl])
        return result


def _blocks(body: dict[str, Any]) -> tuple[list[str], list[str | None]]:
    """The prompt's content blocks in prefix order (tools -> system -> messages) as text, and each
    block's cache_control ttl (None when the block is not a breakpoint)."""
    parts: list[str] = []
    ttls: list[str | None] = []

    def visit(block: Any, text: str) -> None:
        control = block.get("cache_control") if isinstance(block, dict) else None
        parts.append(text)
        ttls.append(control.get("ttl", "5m") if control else None)

    for tool in body.get("tools") or ():
        visit(tool, json.dumps({k: v for k, v in tool.items() if k != "cache_control"}, sort_keys=True))
    system = body.get("system")
    if isinstance(system, str):
        visit(None, system)
    for block in system if isinstance(system, list) else ():
        visit(block, block.get("text", ""))
    for message in body.get("messages") or ():
        content = message.get("content")
        if isinstance(content, str):
            visit(None, f"\n{message.get('role')}: {content}")
            continue
        for block in content or ():
            text = block.get("text") if isinstance(block, dict) else str(block)
            visit(block, f"\n{message.get('role')}: {text if text is not None else json.dumps(block, sort_keys=True)}")
    return parts, ttls
