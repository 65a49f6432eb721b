"""Bits of information of a word, -log2 p(word), from ``wordfreq``'s shipped frequency lists (English and
Korean among them), offline. Korean words carry particles (사용자는 = 사용자 + 는): a word missing from the
list is looked up by its longest listed prefix."""

from __future__ import annotations

import functools
import math
import re

from ..core.errors import MissingDependency

__all__ = ["EDGE_PUNCT", "self_information"]

UNKNOWN_FREQUENCY = 1e-8  # a word no list knows is rare, so informative: it is kept first
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
EDGE_PUNCT = "\"'()[]{}<>.,;:!?…·。、“”‘’「」『』"


@functools.cache
def _frequencies(lang: str) -> dict[str, float]:
    try:
        from wordfreq import get_frequency_dict
    except ImportError:
        raise MissingDependency("Self-information pruning (word frequencies)", "compress") from None
    return get_frequency_dict(lang)


@functools.lru_cache(maxsize=131072)
def self_information(word: str) -> float:
    """Bits of information of ``word`` (higher = rarer = kept first), from wordfreq's lists."""
    core = word.strip(EDGE_PUNCT).lower()
    if not core:
        return 0.0
    if _HANGUL.search(core):
        table = _frequencies("ko")
        freq = next((table[core[:n]] for n in range(len(core), 0, -1) if core[:n] in table), None)
    else:
        freq = _frequencies("en").get(core)
    return -math.log2(freq or UNKNOWN_FREQUENCY)
