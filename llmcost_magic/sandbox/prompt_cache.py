"""Provider prompt caching, simulated by the providers' published rules against an injectable clock.

OpenAI: automatic for prompts of >= 1,024 tokens; the cached prefix grows in 128-token steps; an
entry lives 10 minutes after its last use (OpenAI says 5–10 minutes of inactivity; we take 10).

Anthropic: explicit ``cache_control`` breakpoints over the prefix in the order tools -> system ->
messages; at most 4 breakpoints; a prefix shorter than the model's minimum is not cached; entries
live 5 minutes (refreshed on every read) or 1 hour with ``"ttl": "1h"``.
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
        breakpoints = _breakpoints(body)
        if len(breakpoints) > ANTHROPIC_MAX_BREAKPOINTS:
            raise BreakpointError(
                f"A maximum of {ANTHROPIC_MAX_BREAKPOINTS} blocks with cache_control may be provided. Found {len(breakpoints)}."
            )
        result = AnthropicCacheResult()
        if not breakpoints:
            return result
        minimum = anthropic_min_tokens(model)
        now = self.clock()
        with self._lock:
            sized = [(count_text_tokens(prefix, model), prefix, ttl) for prefix, ttl in breakpoints]
            for tokens, prefix, ttl in sized:
                if tokens >= minimum and self._hit(_key(model, prefix), now):
                    result.read = max(result.read, tokens)
            covered = result.read
            for tokens, prefix, ttl in sized:
                if tokens < minimum:
                    continue
                key = _key(model, prefix)
                if tokens > covered:
                    if ttl == "1h":
                        result.write_1h += tokens - covered
                    else:
                        result.write_5m += tokens - covered
                    covered = tokens
                self._expiry[key] = max(self._expiry.get(key, 0.0), now + ANTHROPIC_TTL_S[ttl])
        return result


def _breakpoints(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(the prefix text up to and including each cache_control block, its ttl), in prompt order."""
    prefix: list[str] = []
    found: list[tuple[str, str]] = []

    def visit(block: Any, text: str) -> None:
        prefix.append(text)
        control = block.get("cache_control") if isinstance(block, dict) else None
        if control:
            found.append(("".join(prefix), control.get("ttl", "5m")))

    for tool in body.get("tools") or ():
        visit(tool, json.dumps({k: v for k, v in tool.items() if k != "cache_control"}, sort_keys=True))
    system = body.get("system")
    if isinstance(system, str):
        prefix.append(system)
    for block in system if isinstance(system, list) else ():
        visit(block, block.get("text", ""))
    for message in body.get("messages") or ():
        content = message.get("content")
        if isinstance(content, str):
            prefix.append(f"\n{message.get('role')}: {content}")
            continue
        for block in content or ():
            text = block.get("text") if isinstance(block, dict) else str(block)
            visit(block, f"\n{message.get('role')}: {text if text is not None else json.dumps(block, sort_keys=True)}")
    return found
