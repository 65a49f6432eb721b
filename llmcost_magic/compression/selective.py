"""Self-information pruning, in the spirit of Selective Context: drop the words that carry the least
information, -log2 p(word), until the text fits the rate.

Word probabilities come from ``wordfreq``'s shipped frequency lists (English and Korean among them),
so it runs offline with no model. Korean words carry particles (사용자는 = 사용자 + 는): a word missing
from the list is looked up by its longest listed prefix. Numbers, code, names, quoted text, URLs and
words of the query are never dropped.
"""

from __future__ import annotations

import functools
from typing import Any

from ..core.tokens import encoding_for_model
from .base import Compressed, check_rate, check_text
from .information import EDGE_PUNCT as _EDGE_PUNCT
from .information import self_information
from .meaning import analyse

DEFAULT_RATE = 0.5


class SelectiveCompressor:
    """Keeps about ``rate`` of the tokens, dropping low-information words first, never one that carries
    the meaning (see :mod:`~llmcost_magic.compression.meaning`): filler goes first, then the least
    informative words outside rules; rules are never thinned further, so the result may keep more than ``rate`` (its note says so)."""

    name = "selective"

    def compress(self, text: str, *, rate: float | None = None, query: str = "", model: str = "gpt-4o") -> Compressed:
        check_text(text, self.name)
        rate = check_rate(rate, self.name) or DEFAULT_RATE
        compressed, note = _selected(text, rate, query, model)  # a policy sends the same system prompt on every call
        return Compressed(text, compressed, self.name, rate, model, note=note)


@functools.lru_cache(maxsize=64)
def _selected(text: str, rate: float, query: str, model: str) -> tuple[str, str]:
    """The compressed text and its note."""
    analysis = analyse(text)
    enc = encoding_for_model(model)
    query_words = {w.strip(_EDGE_PUNCT).lower() for w in query.split()}
    pieces: list[tuple[str, bool]] = []  # words and the gaps between them, for _rebuild
    # (tier, information, position, tokens): tier 0 = filler, tier 1 = other words outside rules
    removable: list[tuple[int, float, int, int]] = []
    line_of: dict[int, int] = {}
    sentence_of: dict[int, int] = {}
    has_fixed_words: set[int] = set()  # lines with a word that is never dropped
    last, line, total = 0, 0, 0
    for word in analysis.words:
        gap = text[last:word.start]
        if gap:
            pieces.append((gap, False))
            line += gap.count("\n")
        last = word.end
        i = len(pieces)
        pieces.append((word.text, False))
        tokens = _word_tokens(enc, word.text)
        total += tokens
        rule = analysis.sentences[word.sentence].rule
        if word.role in ("cue", "name", "label", "keep") or (rule is not None and word.role != "filler") or (
                bool(query_words) and word.text.strip(_EDGE_PUNCT).lower() in query_words):
            if word.text.strip(_EDGE_PUNCT + "-*•>#"):  # a list marker alone does not fill a line
                has_fixed_words.add(line)
            continue
        # filler anywhere first, then the least informative words outside rules
        removable.append((0 if word.role == "filler" else 1, self_information(word.text), i, tokens))
        line_of[i] = line
        sentence_of[i] = word.sentence
    # A sentence outside rules keeps its most informative third, so none is thinned to a stray name.
    by_sentence: dict[int, list[tuple[float, int]]] = {}
    for tier, bits, i, _ in removable:
        if tier == 1:
            by_sentence.setdefault(sentence_of[i], []).append((bits, i))
    kept_first = {i for words in by_sentence.values() for _, i in sorted(words)[len(words) - len(words) // 3:]}
    removable = [r for r in removable if r[2] not in kept_first]
    target = rate * total
    removable.sort()
    dropped, kept_tokens = set(), total
    for _, _, i, tokens in removable:
        if kept_tokens <= target:
            break
        dropped.add(i)
        kept_tokens -= tokens
    # Never empty a line: one whose words all went keeps its most informative one.
    best_of_line = {line_of[i]: (i, tokens) for tier, _, i, tokens in removable if tier == 1}
    lines_with_kept = {line_of[i] for _, _, i, _ in removable if i not in dropped}
    for line, (i, tokens) in best_of_line.items():
        if line not in has_fixed_words and line not in lines_with_kept:
            dropped.discard(i)
            kept_tokens += tokens
    rules = sum(s.rule is not None for s in analysis.sentences)
    note = ""
    if not dropped:
        note = f"no-op: at rate {rate:g} there was nothing to drop"
    elif kept_tokens > target * 1.05:
        note = (f"kept {kept_tokens / total:.0%} instead of {rate:.0%}: the rate could not be reached without "
                f"touching rules ({rules} rule sentence{'s' * (rules != 1)} keep every word but filler; negations, "
                f"numbers with units, names, code, quotes and query words are never dropped)")
    return _rebuild(pieces, dropped), note


@functools.lru_cache(maxsize=131072)
def _word_tokens(enc: Any, word: str) -> int:
    """Tokens of `` word`` (prompts repeat their words: each is encoded once)."""
    return len(enc.encode_ordinary(" " + word))


def _rebuild(pieces: list[tuple[str, bool]], dropped: set[int]) -> str:
    """The kept words, separated by a space or by the line breaks that stood between them; a dropped
    word's sentence-ending punctuation moves to the word before it."""
    out: list[str] = []
    gap: str | None = ""  # what separates the next kept word from the last; None: nothing (adjacent)
    for i, (piece, _) in enumerate(pieces):
        if piece.isspace():
            if "\n" in piece:
                gap = "\n" * min(piece.count("\n"), 2)
            elif not gap:
                gap = " "
            continue
        if i in dropped:
            tail = piece[-1]
            if tail in ".!?。" and out and not out[-1].endswith((".", "!", "?", "。", ":", ";", ",")):
                out[-1] += tail
            gap = gap or " "
            continue
        if out and gap is not None:
            out.append(gap)
        elif not out and gap and gap.startswith("\n"):
            out.append(gap)
        out.append(piece)
        gap = None
    return "".join(out)
