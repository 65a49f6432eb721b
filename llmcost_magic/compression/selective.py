"""Self-information pruning, in the spirit of Selective Context: drop the words that carry the least
information, -log2 p(word), until the text fits the rate.

Word probabilities come from ``wordfreq``'s shipped frequency lists (English and Korean among them),
so it runs offline with no model. Korean words carry particles (사용자는 = 사용자 + 는): a word missing
from the list is looked up by its longest listed prefix. Numbers, code, names, quoted text, URLs and
words of the query are never dropped.
"""

from __future__ import annotations

import functools
import math
import re

from ..errors import MissingDependency
from ..tokens import encoding_for_model
from .base import Compressed, check_rate, check_text

DEFAULT_RATE = 0.5
UNKNOWN_FREQUENCY = 1e-8  # a word no list knows is rare, so informative: it is kept first
_PROTECTED = re.compile(
    r"```.*?```|`[^`\n]+`|\"[^\"\n]{1,300}\"|“[^”\n]{1,300}”|‘[^’\n]{1,300}’|「[^」\n]{1,300}」|『[^』\n]{1,300}』"
    r"|(?<!\w)'[^'\n]{1,200}'(?!\w)|https?://\S+|[\w.+-]+@[\w-]+\.[\w.]+", re.S)
_PIECES = re.compile(r"\S+|\s+")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_CODE_LIKE = re.compile(r"[_=/\\{}<>\[\]#@$%^&*|~]|\w\.\w|\(\)|::|->")
_BULLET = re.compile(r"^(?:[-*•>]+|\d+[.)]|#+)$")
_EDGE_PUNCT = "\"'()[]{}<>.,;:!?…·。、“”‘’「」『』"
_SENTENCE_END = (".", "!", "?", "。", "…", ":")


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
    core = word.strip(_EDGE_PUNCT).lower()
    if not core:
        return 0.0
    if _HANGUL.search(core):
        table = _frequencies("ko")
        freq = next((table[core[:n]] for n in range(len(core), 0, -1) if core[:n] in table), None)
    else:
        freq = _frequencies("en").get(core)
    return -math.log2(freq or UNKNOWN_FREQUENCY)


class SelectiveCompressor:
    """Keeps about ``rate`` of the tokens, dropping low-information words first."""

    name = "selective"

    def compress(self, text: str, *, rate: float | None = None, query: str = "", model: str = "gpt-4o") -> Compressed:
        check_text(text, self.name)
        rate = check_rate(rate, self.name) or DEFAULT_RATE
        pieces = _pieces(text)
        enc = encoding_for_model(model)
        query_words = {w.strip(_EDGE_PUNCT).lower() for w in query.split()}
        # One entry per distinct word (prompts repeat words a lot): (tokens, bits, always kept, capitalised, in query)
        facts: dict[str, tuple[int, float, bool, bool, bool]] = {}
        removable: list[tuple[float, int, int]] = []  # (information, position, tokens)
        line_of: dict[int, int] = {}
        has_fixed_words: set[int] = set()  # lines with a word that is never dropped
        at_sentence_start, line, total = True, 0, 0
        for i, (piece, protected) in enumerate(pieces):
            if piece.isspace():
                at_sentence_start = at_sentence_start or "\n" in piece
                line += piece.count("\n")
                continue
            fact = facts.get(piece)
            if fact is None:
                always, capitalised = _kind(piece)
                fact = facts[piece] = (len(enc.encode_ordinary(" " + piece)), self_information(piece), always,
                                       capitalised, bool(query_words) and piece.strip(_EDGE_PUNCT).lower() in query_words)
            tokens, bits, always, capitalised, in_query = fact
            total += tokens
            if not (protected or always or in_query or (capitalised and not at_sentence_start)):
                removable.append((bits, i, tokens))
                line_of[i] = line
            elif piece.strip(_EDGE_PUNCT) and not _BULLET.match(piece):
                has_fixed_words.add(line)
            at_sentence_start = piece.endswith(_SENTENCE_END)
        target = rate * total
        removable.sort()
        dropped, kept_tokens = set(), total
        for _, i, tokens in removable:
            if kept_tokens <= target:
                break
            dropped.add(i)
            kept_tokens -= tokens
        # Never empty a line: one whose words all went keeps its most informative one.
        best_of_line = {line_of[i]: (i, tokens) for _, i, tokens in removable}  # sorted ascending: last wins
        lines_with_kept = {line_of[i] for _, i, _ in removable if i not in dropped}
        for line, (i, tokens) in best_of_line.items():
            if line not in has_fixed_words and line not in lines_with_kept:
                dropped.discard(i)
                kept_tokens += tokens
        note = ""
        if not dropped:
            note = f"no-op: at rate {rate:g} there was nothing to drop"
        elif kept_tokens > target * 1.05:
            note = (f"kept {kept_tokens / total:.0%} instead of {rate:.0%}: the rest is numbers, names, code, "
                    f"quotes or query words, which are never dropped")
        return Compressed(text, _rebuild(pieces, dropped), self.name, rate, model, note=note)


def _pieces(text: str) -> list[tuple[str, bool]]:
    """Words and whitespace runs in order; protected spans (code, quotes, URLs) are single pieces."""
    out: list[tuple[str, bool]] = []
    last = 0
    for match in _PROTECTED.finditer(text):
        out += [(p, False) for p in _PIECES.findall(text[last:match.start()])]
        out.append((match.group(), True))
        last = match.end()
    out += [(p, False) for p in _PIECES.findall(text[last:])]
    return out


@functools.lru_cache(maxsize=131072)
def _kind(word: str) -> tuple[bool, bool]:
    """(always kept: number, code, acronym, list marker; capitalised)."""
    core = word.strip(_EDGE_PUNCT)
    if not core or _BULLET.match(word):
        return True, False
    if any(c.isdigit() for c in core) or _CODE_LIKE.search(core):
        return True, False
    if core.isupper() and sum(c.isalpha() for c in core) >= 2:
        return True, False  # an acronym
    return False, core[0].isupper()


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
