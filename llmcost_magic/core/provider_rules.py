"""Providers' published prompt-caching rules, as data: the sandbox simulates them, policies and the
prompt-cache doctor obey them. Each rule names its source and the day it was checked (:data:`RULES`).
Also the one request limit both the output controls and the sandbox keep: OpenAI's number of stop sequences.

Prices are not here: cache reads and writes are priced by :mod:`llmcost_magic.core.pricing` from the
price tables (Anthropic 5-minute writes 1.25x input, 1-hour writes 2x, reads 0.1x; OpenAI writes
1.25x input from GPT-5.6 on, free before).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

ANTHROPIC_DOCS = "https://platform.claude.com/docs/en/build-with-claude/prompt-caching"
ANTHROPIC_DIAGNOSTICS = "https://platform.claude.com/docs/en/build-with-claude/cache-diagnostics"
ANTHROPIC_SDK = "anthropic-sdk-python 2.14.0: types/message_create_params.py, types/diagnostics.py, types/cache_miss_*.py"
OPENAI_DOCS = "https://developers.openai.com/api/docs/guides/prompt-caching"
OPENAI_SDK = "openai-python 3.57.0: types/chat/completion_create_params.py, types/responses/response_usage.py"
CHECKED = "2026-11-30"
# OpenAI answers 400 to more stop sequences ("'stop': array too long. Expected an array with maximum length 4").
OPENAI_MAX_STOP = 4


@dataclass(frozen=True)
class Rule:
    """One published rule: what it says, where it is written, when we last read it."""

    provider: str
    rule: str
    value: str
    source: str
    checked: str = CHECKED


# -- Anthropic ------------------------------------------------------------------------------

ANTHROPIC_MAX_BREAKPOINTS = 4  # explicit blocks + the automatic (top-level) one; a 5th is a 400
ANTHROPIC_LOOKBACK_BLOCKS = 20  # a breakpoint also reads entries written up to 20 blocks before it
ANTHROPIC_CACHE_TTL_S = {"5m": 300.0, "1h": 3600.0}  # from the last use (a read refreshes it)
ANTHROPIC_AUTOMATIC_GA = "2026-02-19"  # top-level cache_control generally available
# Minimum cacheable prefix, most specific model prefix first.
ANTHROPIC_MIN_CACHED_TOKENS: tuple[tuple[str, int], ...] = (
    ("claude-opus-4-5", 4096), ("claude-opus-4-6", 4096), ("claude-haiku-4-5", 4096),
    ("claude-opus-4-7", 2048), ("claude-3-haiku", 2048), ("claude-3-5-haiku", 2048),
    ("claude-opus-5", 512), ("claude-fable-5", 512), ("claude-mythos-5", 512),
)
ANTHROPIC_DEFAULT_MIN_CACHED_TOKENS = 1024  # Sonnet 4.x / 5, Opus 4 / 4.1 / 4.8, Claude 3.x
# diagnostics.cache_miss_reason.type values, when the request sends diagnostics.previous_message_id
ANTHROPIC_CACHE_MISS_REASONS = ("model_changed", "system_changed", "tools_changed", "messages_changed",
                                "previous_message_not_found", "unavailable")

# -- OpenAI ---------------------------------------------------------------------------------

OPENAI_MIN_CACHED_TOKENS = 1024
OPENAI_CACHE_STEP = 128  # before GPT-5.6: the cached prefix grows in 128-token steps
OPENAI_CACHE_TTL_S = 600.0  # before GPT-5.6, in_memory retention: "5-10 minutes of inactivity" (we take 10)
OPENAI_EXTENDED_TTL_S = 24 * 3600.0  # prompt_cache_retention="24h"
OPENAI_BREAKPOINT_TTL_S = {"30m": 1800.0, "12h": 12 * 3600.0}  # GPT-5.6+: minimum lifetime per breakpoint
OPENAI_MAX_BREAKPOINT_WRITES = 4  # GPT-5.6+: per request; the implicit breakpoint takes one of them
OPENAI_EXPLICIT_FROM = (5, 6)  # GPT-5.6: explicit breakpoints, implicit breakpoint at the latest message, paid writes

RULES: tuple[Rule, ...] = (
    Rule("anthropic", "minimum cacheable prefix", "512 tokens: Opus 5, Fable 5, Mythos 5; 1,024: Sonnet 4.x/5, "
         "Opus 4/4.1/4.8; 2,048: Opus 4.7, Haiku 3/3.5; 4,096: Opus 4.5/4.6, Haiku 4.5", ANTHROPIC_DOCS),
    Rule("anthropic", "breakpoints per request", "at most 4 (we count the automatic one among them: our reading, "
         "not confirmed by the docs we found)", ANTHROPIC_DOCS),
    Rule("anthropic", "lookback", "a breakpoint reads an entry written at one of the 20 blocks before it", ANTHROPIC_DOCS),
    Rule("anthropic", "TTL", "5 minutes from the last use (default), or 1 hour with \"ttl\": \"1h\"; in one request "
         "1-hour entries must come before 5-minute ones (else a 400)", ANTHROPIC_DOCS),
    Rule("anthropic", "write and read prices", "5-minute writes 1.25x input, 1-hour writes 2x input, reads 0.1x",
         ANTHROPIC_DOCS),
    Rule("anthropic", "automatic caching", "top-level cache_control puts the breakpoint on the last cacheable block "
         f"and moves it forward as the conversation grows (GA {ANTHROPIC_AUTOMATIC_GA})", ANTHROPIC_DOCS),
    Rule("anthropic", "cache_miss_reason", "with diagnostics.previous_message_id the response says why the prefix "
         "was not reused: " + ", ".join(ANTHROPIC_CACHE_MISS_REASONS), ANTHROPIC_DIAGNOSTICS + " ; " + ANTHROPIC_SDK),
    Rule("openai", "automatic caching", "prompts of 1,024 tokens or more; exact prefix matches only", OPENAI_DOCS),
    Rule("openai", "before GPT-5.6", "cached prefix in 128-token increments; in_memory entries live 5-10 minutes idle "
         "(prompt_cache_retention=\"24h\": up to 24 hours); writes cost nothing extra", OPENAI_DOCS),
    Rule("openai", "GPT-5.6 and later: writes", "cache writes cost 1.25x the uncached input rate, reported as "
         "cache_write_tokens", OPENAI_DOCS),
    Rule("openai", "GPT-5.6 and later: breakpoints", "one implicit breakpoint near the latest user or tool message "
         "(no 128-token rounding) plus explicit prompt_cache_breakpoint on content blocks; up to 4 writes per request "
         "(the implicit one takes a slot; prompt_cache_options.mode=\"explicit\" drops it)", OPENAI_SDK),
    Rule("openai", "GPT-5.6 and later: TTL", "prompt_cache_options.ttl \"30m\" (default) or \"12h\" (Responses); "
         "prompt_cache_retention is deprecated and only \"24h\" is accepted", OPENAI_SDK),
)


def rules_table():  # noqa: ANN201 - a DataFrame; pandas imported lazily
    """The rules above as a DataFrame (provider, rule, value, source, checked)."""
    import pandas as pd

    return pd.DataFrame([r.__dict__ for r in RULES])


@functools.lru_cache(maxsize=256)
def anthropic_min_cached_tokens(model: str) -> int:
    """The shortest prefix Anthropic caches for ``model``."""
    return next((n for prefix, n in ANTHROPIC_MIN_CACHED_TOKENS if model.startswith(prefix)), ANTHROPIC_DEFAULT_MIN_CACHED_TOKENS)


@functools.lru_cache(maxsize=256)
def openai_has_breakpoints(model: str) -> bool:
    """True for GPT-5.6 and later: explicit breakpoints, an implicit one at the latest message, paid writes."""
    found = re.match(r"gpt-(\d+)(?:\.(\d+))?", model)
    return bool(found) and (int(found.group(1)), int(found.group(2) or 0)) >= OPENAI_EXPLICIT_FROM


def min_cached_tokens(provider: str, model: str) -> int:
    """The shortest prefix ``provider`` caches for ``model``."""
    return anthropic_min_cached_tokens(model) if provider == "anthropic" else OPENAI_MIN_CACHED_TOKENS
