"""How much of the original a compression kept: token reduction, embedding similarity, the share of
numbers, named entities and keywords still present, and per language the meaning check of
:mod:`~llmcost_magic.compression.guard` (negations kept, rules kept whole or reversed, numbers with units,
names, risky removals). A reversed rule makes ``safe`` False: it is a failure, not a share to average.

None of these says whether a model still follows the prompt: that needs the model (see the cookbook)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from .guard import LanguageCheck, check
from .information import self_information

if TYPE_CHECKING:
    from .base import Compressed

_NUMBER = re.compile(r"\d+(?:[.,:/~-]\d+)*")
_WORD = re.compile(r"[^\W\d_][\w'-]*")
_LATIN = re.compile(r"[A-Za-z]")
KEYWORDS = 10


@dataclass(frozen=True, slots=True)
class Fidelity:
    """Shares in [0, 1]; ``similarity`` is None when the offline embedder is not installed; ``meaning``
    is the meaning check per language ("en", "ko")."""

    token_reduction: float
    similarity: float | None
    numbers_kept: float
    entities_kept: float
    keywords_kept: float
    meaning: dict[str, LanguageCheck] = field(default_factory=dict)

    @property
    def safe(self) -> bool:
        """No rule lost a negation, restriction or condition while the rest of it stayed."""
        return all(m.safe for m in self.meaning.values())

    @property
    def risky_removals(self) -> list[str]:
        return [word for m in self.meaning.values() for word in m.risky]

    def as_dict(self) -> dict[str, object]:
        """Flat: the shares, then per language ``en_negations_kept``, ``en_rules_reversed`` ... counts."""
        out: dict[str, object] = {k: v for k, v in asdict(self).items() if k != "meaning"}
        out["safe"] = self.safe
        for lang, m in self.meaning.items():
            out.update({f"{lang}_{k}": v for k, v in m.as_dict().items() if k != "lang"})
        return out


def measure(result: Compressed, *, similarity: bool = True) -> Fidelity:
    """The fidelity measures of one compression."""
    return fidelity(result.original, result.text, token_reduction=result.reduction, similarity=similarity)


def fidelity(original: str, compressed: str, *, token_reduction: float = 0.0, similarity: bool = True) -> Fidelity:
    kept_text = compressed.lower()
    return Fidelity(
        token_reduction=token_reduction,
        similarity=_similarity(original, compressed) if similarity else None,
        numbers_kept=_share(set(_NUMBER.findall(original)), compressed),
        entities_kept=_share(named_entities(original), compressed),
        keywords_kept=_share({w.lower() for w in keywords(original)}, kept_text),
        meaning=check(original, compressed),
    )


def named_entities(text: str) -> set[str]:
    """Names by surface form: capitalised words mid-sentence, acronyms, Latin-script words inside
    Korean text. A heuristic (no NER model runs offline here); Korean names are not detected."""
    found: set[str] = set()
    sentence_start = True
    for word in text.split():
        core = word.strip("\"'()[]{}<>.,;:!?…“”‘’「」")
        if core and _LATIN.match(core):
            core = re.match(r"[A-Za-z][A-Za-z0-9]*", core).group()  # "Cloud의" -> "Cloud" (a Korean particle)
            acronym = core.isupper() and len(core) >= 2
            if acronym or (core[0].isupper() and not sentence_start):
                found.add(core)
        elif core and not core.isascii():
            found.update(m for m in re.findall(r"[A-Za-z][A-Za-z0-9]+", core))
        sentence_start = word.endswith((".", "!", "?", ":", "。")) or not core
    return found


def keywords(text: str, n: int = KEYWORDS) -> list[str]:
    """The ``n`` most informative distinct words (rarest by word frequency)."""
    words = {w.lower(): w for w in _WORD.findall(text) if len(w) > 1}
    return [words[w] for w in sorted(words, key=lambda w: -self_information(w))[:n]]


def _share(items: set[str], text: str) -> float:
    if not items:
        return 1.0
    return sum(item in text for item in items) / len(items)


def _similarity(a: str, b: str) -> float | None:
    try:
        from ..core.embedder import default_embedder

        vectors = default_embedder().embed([a, b])
    except ImportError:
        return None
    return float(vectors[0] @ vectors[1])
