"""Provider prompt caching, simulated by the providers' published rules (:mod:`..provider_rules`)
against an injectable clock.

OpenAI before GPT-5.6: automatic for prompts of >= 1,024 tokens; the cached prefix grows in 128-token
steps; an entry lives 10 minutes after its last use (OpenAI: 5-10 minutes; ``prompt_cache_retention=
"24h"``: 24 hours). GPT-5.6 and later: entries exist only at breakpoints, one implicit breakpoint at
the latest user/tool message (unless ``prompt_cache_options.mode`` is ``explicit``) plus explicit
``prompt_cache_breakpoint`` blocks, at most 4 written per request; a request reads the longest live
entry at any block boundary; writes are reported (``cache_write_tokens``) and billed; entries live
30 minutes (``"12h"`` on request).

Anthropic: ``cache_control`` breakpoints on blocks, or a top-level ``cache_control`` (automatic: the
last block); at most 4 in all, 1-hour ones before 5-minute ones; a prefix shorter than the model's minimum is not cached; entries live
5 minutes (refreshed on every read) or 1 hour. A breakpoint also reads an entry written up to 20
blocks before it. With ``diagnostics.previous_message_id`` the answer says why the prefix of that
earlier request could not be reused (``cache_miss_reason``), as the API does.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..core.prompt_blocks import Block, prefix_hashes, prompt_blocks
from ..core.provider_rules import (
    ANTHROPIC_CACHE_TTL_S,
    ANTHROPIC_LOOKBACK_BLOCKS,
    ANTHROPIC_MAX_BREAKPOINTS,
    OPENAI_BREAKPOINT_TTL_S,
    OPENAI_CACHE_STEP,
    OPENAI_CACHE_TTL_S,
    OPENAI_EXTENDED_TTL_S,
    OPENAI_MAX_BREAKPOINT_WRITES,
    OPENAI_MIN_CACHED_TOKENS,
    anthropic_min_cached_tokens,
    openai_has_breakpoints,
)
from ..core.tokens import count_text_tokens
from .wire import APIError

MAX_FINGERPRINTS = 10_000  # earlier requests kept for cache_miss_reason


class BreakpointError(ValueError):
    """More than 4 cache_control breakpoints, or a 1h one after a 5m one (the API answers 400)."""


@dataclass
class AnthropicCacheResult:
    read: int = 0
    write_5m: int = 0
    write_1h: int = 0
    diagnostics: dict[str, Any] | None = None  # the response's ``diagnostics`` (None: not asked, or no divergence)


@dataclass
class OpenAICacheResult:
    read: int = 0
    write: int = 0
    write_12h: int = 0


@dataclass(frozen=True)
class _Fingerprint:
    model: str
    tools: str
    system: str
    messages: tuple[str, ...]
    cacheable_tokens: int


def _digest(blocks: list[Block]) -> str:
    return hashlib.sha256("\x1f".join(b.text for b in blocks).encode()).hexdigest()


class PromptCache:
    """Both providers' caches for one sandbox. Thread-safe."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._expiry: dict[str, float] = {}
        self._ttl_s: dict[str, float] = {}  # an entry's TTL, which a read renews (Anthropic)
        self._fingerprints: OrderedDict[str, _Fingerprint] = OrderedDict()
        self._lock = threading.Lock()

    def _hit(self, key: str, now: float) -> bool:
        expiry = self._expiry.get(key)
        return expiry is not None and expiry > now

    # -- OpenAI ----------------------------------------------------------------------------

    def openai(self, model: str, body: dict[str, Any], prompt_tokens: list[int]) -> OpenAICacheResult:
        """Cached and written prefix tokens for this request (and remember its prefixes for next time)."""
        retention = body.get("prompt_cache_retention")
        if openai_has_breakpoints(model):
            if retention == "in_memory":
                raise APIError(400, "This model is compatible only with 24h extended prompt caching",
                               "invalid_request_error", "invalid_parameter", "prompt_cache_retention")
            return self._openai_breakpoints(model, body)
        if len(prompt_tokens) < OPENAI_MIN_CACHED_TOKENS:
            return OpenAICacheResult()
        ttl = OPENAI_EXTENDED_TTL_S if retention == "24h" else OPENAI_CACHE_TTL_S
        now = self.clock()
        digest = hashlib.sha256(model.encode())
        cached, boundary, position = 0, OPENAI_MIN_CACHED_TOKENS, 0
        with self._lock:
            while boundary <= len(prompt_tokens):
                digest.update(b"".join(t.to_bytes(4, "little") for t in prompt_tokens[position:boundary]))
                key = digest.copy().hexdigest()
                if self._hit(key, now):
                    cached = boundary
                self._expiry[key] = max(self._expiry.get(key, 0.0), now + ttl)
                position, boundary = boundary, boundary + OPENAI_CACHE_STEP
        return OpenAICacheResult(read=cached)

    def _openai_breakpoints(self, model: str, body: dict[str, Any]) -> OpenAICacheResult:
        blocks = prompt_blocks("openai", body)
        options = body.get("prompt_cache_options") or {}
        default_ttl = str(options.get("ttl") or "30m")
        explicit = [i for i, b in enumerate(blocks) if b.breakpoint]
        breakpoints = {i: blocks[i].breakpoint or default_ttl for i in explicit}
        if options.get("mode") != "explicit":  # the implicit breakpoint: the latest user or tool message
            latest = [i for i, b in enumerate(blocks) if b.kind in ("user", "tool")]
            keep = OPENAI_MAX_BREAKPOINT_WRITES - 1
            breakpoints = {i: breakpoints[i] for i in explicit[-keep:]} if keep else {}
            if latest:
                breakpoints.setdefault(latest[-1], default_ttl)
        else:
            breakpoints = {i: breakpoints[i] for i in explicit[-OPENAI_MAX_BREAKPOINT_WRITES:]}
        keys = prefix_hashes(model, blocks)
        tokens = _prefix_tokens(blocks, model)
        result, now = OpenAICacheResult(), self.clock()
        with self._lock:
            for j in range(len(blocks) - 1, -1, -1):  # no lookback limit: any block boundary
                if self._hit(keys[j], now):
                    result.read = tokens(j)
                    break
            covered = result.read
            for i in sorted(breakpoints):
                size = tokens(i)
                if size < OPENAI_MIN_CACHED_TOKENS:
                    continue
                if size > covered:
                    result.write += size - covered
                    result.write_12h += (size - covered) if breakpoints[i] == "12h" else 0
                    covered = size
                ttl = OPENAI_BREAKPOINT_TTL_S.get(breakpoints[i], OPENAI_BREAKPOINT_TTL_S["30m"])
                self._expiry[keys[i]] = max(self._expiry.get(keys[i], 0.0), now + ttl)
        return result

    # -- Anthropic -------------------------------------------------------------------------

    def anthropic(self, model: str, body: dict[str, Any], message_id: str = "") -> AnthropicCacheResult:
        """Reads and writes for a Messages request's breakpoints (block-level and automatic)."""
        blocks = prompt_blocks("anthropic", body)
        ttls = [b.breakpoint for b in blocks]
        automatic = body.get("cache_control")
        count = sum(t is not None for t in ttls) + (isinstance(automatic, dict) and bool(blocks))
        if count > ANTHROPIC_MAX_BREAKPOINTS:
            raise BreakpointError(
                f"A maximum of {ANTHROPIC_MAX_BREAKPOINTS} blocks with cache_control may be provided. Found {count}.")
        if isinstance(automatic, dict) and blocks:  # automatic caching: the last cacheable block
            ttls[-1] = ttls[-1] or automatic.get("ttl") or "5m"
        breakpoints = [i for i, ttl in enumerate(ttls) if ttl is not None]
        order = [ttls[i] for i in breakpoints]
        if "5m" in order and "1h" in order[order.index("5m"):]:
            raise BreakpointError('A cache_control block with ttl="1h" may not come after one with ttl="5m": '
                                  "1-hour entries must appear before 5-minute entries.")
        minimum = anthropic_min_cached_tokens(model)
        keys = prefix_hashes(model, blocks)
        tokens = _prefix_tokens(blocks, model)
        result, now = AnthropicCacheResult(), self.clock()
        with self._lock:
            # A breakpoint reads the longest live entry written at its own block or at one of the
            # ANTHROPIC_LOOKBACK_BLOCKS blocks before it (entries exist only where a breakpoint once was).
            checked = {j for i in breakpoints for j in range(max(0, i - ANTHROPIC_LOOKBACK_BLOCKS), i + 1)}
            for j in sorted(checked, reverse=True):
                if self._hit(keys[j], now):
                    result.read = tokens(j)
                    self._expiry[keys[j]] = max(self._expiry[keys[j]], now + self._ttl_s.get(keys[j], ANTHROPIC_CACHE_TTL_S["5m"]))
                    break
            covered = result.read
            cacheable = 0
            for i in breakpoints:
                size, ttl = tokens(i), ttls[i] or "5m"
                if size < minimum:
                    continue
                cacheable = size
                if size > covered:
                    if ttl == "1h":
                        result.write_1h += size - covered
                    else:
                        result.write_5m += size - covered
                    covered = size
                self._ttl_s[keys[i]] = max(self._ttl_s.get(keys[i], 0.0), ANTHROPIC_CACHE_TTL_S[ttl])
                self._expiry[keys[i]] = max(self._expiry.get(keys[i], 0.0), now + ANTHROPIC_CACHE_TTL_S[ttl])
            fingerprint = _Fingerprint(model, _digest([b for b in blocks if b.kind == "tools"]),
                                       _digest([b for b in blocks if b.kind == "system"]),
                                       tuple(_digest([b]) for b in blocks if b.kind not in ("tools", "system")), cacheable)
            if isinstance(body.get("diagnostics"), dict):
                result.diagnostics = self._diagnose(body["diagnostics"].get("previous_message_id"), fingerprint)
            if message_id:
                self._fingerprints[message_id] = fingerprint
                while len(self._fingerprints) > MAX_FINGERPRINTS:
                    self._fingerprints.popitem(last=False)
        return result

    def _diagnose(self, previous_id: Any, now: _Fingerprint) -> dict[str, Any] | None:
        """Why the prefix of ``previous_id``'s request could not be reused (None: no divergence)."""
        if previous_id is None:  # the first turn opts in without anything to compare
            return None
        before = self._fingerprints.get(str(previous_id))
        if before is None:
            return {"cache_miss_reason": {"type": "previous_message_not_found"}}
        missed = {"cache_missed_input_tokens": before.cacheable_tokens}
        for kind, changed in (("model_changed", before.model != now.model), ("tools_changed", before.tools != now.tools),
                              ("system_changed", before.system != now.system),
                              ("messages_changed", now.messages[: len(before.messages)] != before.messages)):
            if changed:
                return {"cache_miss_reason": {"type": kind, **missed}}
        return None


def _prefix_tokens(blocks: list[Block], model: str) -> Callable[[int], int]:
    """Tokens of the prompt up to and including block i (counted on demand, remembered)."""
    seen: dict[int, int] = {}

    def tokens(i: int) -> int:
        if i not in seen:
            seen[i] = count_text_tokens("".join(b.text for b in blocks[: i + 1]), model)
        return seen[i]

    return tokens
