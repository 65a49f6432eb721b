"""Providers' published prompt-caching rules, as data: the sandbox simulates them, policies obey them."""

from __future__ import annotations

OPENAI_MIN_CACHED_TOKENS = 1024
OPENAI_CACHE_STEP = 128
OPENAI_CACHE_TTL_S = 600.0  # "5-10 minutes of inactivity": the upper end

ANTHROPIC_MAX_BREAKPOINTS = 4
ANTHROPIC_CACHE_TTL_S = {"5m": 300.0, "1h": 3600.0}
# Minimum cacheable prefix, most specific model prefix first.
ANTHROPIC_MIN_CACHED_TOKENS: tuple[tuple[str, int], ...] = (
    ("claude-haiku-4-5", 4096), ("claude-opus-4-5", 4096), ("claude-opus-4-6", 4096),
    ("claude-3-haiku", 2048), ("claude-3-5-haiku", 2048), ("claude-haiku", 2048),
)
ANTHROPIC_DEFAULT_MIN_CACHED_TOKENS = 1024


def anthropic_min_cached_tokens(model: str) -> int:
    """The shortest prefix Anthropic caches for ``model``."""
    return next((n for prefix, n in ANTHROPIC_MIN_CACHED_TOKENS if model.startswith(prefix)), ANTHROPIC_DEFAULT_MIN_CACHED_TOKENS)
