"""The meaning check after any compression, and the repair for compressors that only return text.

``check(original, compressed)`` aligns the two word by word and reports, per language: negation cues
kept, rules kept whole, dropped whole or **reversed** (a rule that lost a negation, restriction or
condition while other words of it stayed: "never share" -> "share"), numbers with units and names
kept, and the risky removals (what went missing from a kept rule, or a number or name).
``restore(original, compressed)`` puts every reversed rule back whole; LLMLingua results go through it.

>>> report = check("Never share the password.", "share password.")
>>> report["en"].rules_reversed, report["en"].risky
(1, ('Never',))
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from .diff import word_diff
from .meaning import Analysis, analyse

_TOKENS = re.compile(r"\w+|[^\w\s]+|\s+")
_CORE = re.compile(r"\w")


@dataclass(frozen=True, slots=True)
class LanguageCheck:
    """What one language's part of a prompt kept. ``safe`` is False when any rule was reversed."""

    lang: str
    negations: int = 0
    negations_kept: int = 0
    rules: int = 0
    rules_whole: int = 0
    rules_dropped: int = 0
    rules_reversed: int = 0
    quantities: int = 0
    quantities_kept: int = 0
    names: int = 0
    names_kept: int = 0
    risky: tuple[str, ...] = ()

    @property
    def safe(self) -> bool:
        return self.rules_reversed == 0

    def as_dict(self) -> dict[str, object]:
        return {"lang": self.lang, "negations": self.negations, "negations_kept": self.negations_kept,
                "rules": self.rules, "rules_whole": self.rules_whole, "rules_dropped": self.rules_dropped,
                "rules_reversed": self.rules_reversed, "quantities": self.quantities,
                "quantities_kept": self.quantities_kept, "names": self.names, "names_kept": self.names_kept,
                "risky_removals": len(self.risky)}


def kept_words(original: str, compressed: str, analysis: Analysis) -> list[bool]:
    """For each word of ``analysis``: is it still in ``compressed`` (all its letters and digits kept)?"""
    kept_chars = bytearray(len(original))
    at = 0
    for piece, kept in word_diff(original, compressed):
        if kept:
            kept_chars[at:at + len(piece)] = b"\x01" * len(piece)
        at += len(piece)
    return [all(kept_chars[w.start + j] for j, c in enumerate(w.text) if _CORE.match(c)) for w in analysis.words]


def check(original: str, compressed: str, analysis: Analysis | None = None) -> dict[str, LanguageCheck]:
    """Per language ("en", "ko"), what the compression kept of the meaning-bearing parts."""
    analysis = analysis or analyse(original)
    kept = kept_words(original, compressed, analysis)
    stats: dict[str, dict[str, int]] = {}
    risky: dict[str, list[str]] = {}
    words_of: dict[int, list[int]] = {}
    for i, word in enumerate(analysis.words):
        words_of.setdefault(word.sentence, []).append(i)
    for n, sentence in enumerate(analysis.sentences):
        s = stats.setdefault(sentence.lang, dict.fromkeys(_COUNTS, 0))
        r = risky.setdefault(sentence.lang, [])
        ids = words_of.get(n, [])
        any_kept = any(kept[i] for i in ids)
        cue_lost = False
        for i in ids:
            word = analysis.words[i]
            if word.role == "cue":
                s["negations"] += 1
                s["negations_kept"] += kept[i]
                if not kept[i] and any_kept:
                    cue_lost = True
                    r.append(word.text)
            elif word.role == "keep" and any(c.isdigit() for c in word.text):
                unit = i + 1 if i + 1 in ids and analysis.words[i + 1].role == "keep" else i
                s["quantities"] += 1
                s["quantities_kept"] += kept[i] and kept[unit]
                if not (kept[i] and kept[unit]):
                    r.append(" ".join(analysis.words[j].text for j in sorted({i, unit})))
            elif word.role == "name":
                s["names"] += 1
                s["names_kept"] += kept[i]
                if not kept[i]:
                    r.append(word.text)
            elif not kept[i] and any_kept and sentence.rule and word.role == "content":
                r.append(word.text)
        if sentence.rule:
            s["rules"] += 1
            if not any_kept:
                s["rules_dropped"] += 1
            elif cue_lost:
                s["rules_reversed"] += 1
            elif all(kept[i] or analysis.words[i].role in ("filler", "label") for i in ids):
                s["rules_whole"] += 1
    return {lang: LanguageCheck(lang, risky=tuple(risky[lang]), **counts) for lang, counts in stats.items()}


_COUNTS = ("negations", "negations_kept", "rules", "rules_whole", "rules_dropped", "rules_reversed", "quantities",
           "quantities_kept", "names", "names_kept")


def reversed_rules(original: str, compressed: str, analysis: Analysis | None = None) -> list[tuple[int, int]]:
    """(start, end) in ``original`` of each rule that lost a cue while other words of it stayed."""
    analysis = analysis or analyse(original)
    kept = kept_words(original, compressed, analysis)
    by_sentence: dict[int, list[int]] = {}
    for i, word in enumerate(analysis.words):
        by_sentence.setdefault(word.sentence, []).append(i)
    out = []
    for n, ids in by_sentence.items():
        lost = any(analysis.words[i].role == "cue" and not kept[i] for i in ids)
        if lost and any(kept[i] for i in ids):
            out.append((analysis.sentences[n].start, analysis.sentences[n].end))
    return out


def restore(original: str, compressed: str, analysis: Analysis | None = None) -> tuple[str, int]:
    """``compressed`` with every reversed rule put back whole from ``original``, and how many were.
    Repeated words can align differently once a rule is back, so it checks again (at most three rounds)."""
    analysis = analysis or analyse(original)
    total = 0
    for _ in range(3):
        spans = reversed_rules(original, compressed, analysis)
        if not spans:
            break
        compressed = _put_back(original, compressed, spans)
        total += len(spans)
    return compressed, total


def _put_back(original: str, compressed: str, spans: list[tuple[int, int]]) -> str:
    a, b = _TOKENS.findall(original), _TOKENS.findall(compressed)
    offsets, at = [], 0
    for token in a:
        offsets.append(at)
        at += len(token)

    def inside(i: int) -> bool:
        return 0 <= i < len(a) and any(start <= offsets[i] < end for start, end in spans)

    def wanted(i: int) -> bool:  # the rule's words, and the spaces at its edges
        return inside(i) or (a[i].isspace() and (inside(i - 1) or inside(i + 1)))

    key = lambda tokens: [t if not t.isspace() else " " for t in tokens]  # noqa: E731
    out: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, key(a), key(b), autojunk=False).get_opcodes():
        if tag == "equal":
            out += b[j1:j2]
        elif tag == "insert":
            out += b[j1:j2]
        else:  # delete or replace: the original where a reversed rule stood, else the compressed text
            restored = [a[i] for i in range(i1, i2) if wanted(i)]
            out += restored if restored else b[j1:j2]
    return re.sub(r"(?<=\S)[ \t]{2,}(?=\S)", " ", "".join(out))
