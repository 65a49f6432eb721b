"""Korean morphology with Kiwi (``kiwipiepy`` + ``kiwipiepy-model``, which ships its model: it runs
offline). One Kiwi is built on first use (~1.5 s) and shared; analyses are cached.

>>> from llmcost_magic.language import korean
>>> [(m.form, m.tag) for m in korean.morphemes("복구할 수 없습니다")]  # doctest: +SKIP
[('복구', 'NNG'), ('하', 'XSV'), ('ᆯ', 'ETM'), ('수', 'NNB'), ('없', 'VA'), ('습니다', 'EF')]
"""

from __future__ import annotations

import functools
import re
import threading
from typing import Any, NamedTuple

from ..core.errors import MissingDependency

HANGUL = re.compile(r"[\uac00-\ud7a3]")
_lock = threading.Lock()
_kiwi: Any = None


class Morpheme(NamedTuple):
    """One morpheme: its form, its Sejong tag (NNG noun, VV verb, VX auxiliary, EF ending, JKO particle...),
    and where it stands in the analysed text (``start``, ``len`` in characters)."""

    form: str
    tag: str
    start: int
    len: int


def kiwi() -> Any:
    """The shared Kiwi analyser (built once, thread-safe)."""
    global _kiwi
    if _kiwi is None:
        with _lock:
            if _kiwi is None:
                try:
                    from kiwipiepy import Kiwi
                except ImportError:
                    raise MissingDependency("Korean morphology (Kiwi)", "korean") from None
                _kiwi = Kiwi()
    return _kiwi


def has_hangul(text: str) -> bool:
    return bool(HANGUL.search(text))


def morphemes(text: str) -> list[Morpheme]:
    """The morphemes of ``text`` in context (the whole text is analysed at once; ~35 µs per word)."""
    return list(_analysed(text))


def word_morphemes(word: str) -> tuple[Morpheme, ...]:
    """The morphemes of one space-delimited word (eojeol) analysed on its own, cached: fast on long
    prompts, whose words repeat. Offsets are within ``word``."""
    return _analysed(word) if has_hangul(word) else ()


@functools.lru_cache(maxsize=65536)
def _analysed(text: str) -> tuple[Morpheme, ...]:
    return tuple(Morpheme(t.form, t.tag, t.start, t.len) for t in kiwi().tokenize(text))


def stem(word: str) -> str:
    """The content part of a Korean word: its first noun, verb or adjective stem (사용자는 -> 사용자,
    복구할 -> 복구); the word itself when Kiwi finds none."""
    for m in word_morphemes(word):
        if m.tag.startswith(("NN", "NP", "VV", "VA", "MAG", "XR", "SL", "SN")):
            return m.form
    return word
