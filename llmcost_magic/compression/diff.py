"""The word-level diff that shows what a compression removed."""

from __future__ import annotations

import difflib
import functools
import re

__all__ = ["word_diff"]

_WORDS = re.compile(r"\w+|[^\w\s]+|\s+")  # words and punctuation apart: "$29." keeps "$29" when only "." moved


def word_diff(original: str, compressed: str) -> list[tuple[str, bool]]:
    """``original`` split into runs kept in ``compressed`` and runs removed from it (word level).
    Works for any compressor, including ones that only return text (LLMLingua)."""
    return list(_word_diff(original, compressed))


@functools.lru_cache(maxsize=32)
def _word_diff(original: str, compressed: str) -> tuple[tuple[str, bool], ...]:
    """Memoised: the check, the playground and ``segments`` diff the same pair."""
    a, b = _WORDS.findall(original), _WORDS.findall(compressed)
    a_key = [w if not w.isspace() else " " for w in a]
    b_key = [w if not w.isspace() else " " for w in b]
    runs: list[tuple[str, bool]] = []
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, a_key, b_key, autojunk=False).get_opcodes():
        piece = "".join(a[i1:i2])
        if not piece:
            continue
        kept = tag == "equal" or piece.isspace()
        if runs and runs[-1][1] == kept:
            runs[-1] = (runs[-1][0] + piece, kept)
        else:
            runs.append((piece, kept))
    return tuple(runs)
