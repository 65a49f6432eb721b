"""Negation, prohibition, restriction and obligation cues in English and Korean, as character spans.

English is matched on words (contractions included: don't, can't, won't...). Korean is matched on
morphemes from Kiwi (안/못 adverbs, 않 and 못하 auxiliaries, 없다, 아니다, -지 말다 (마세요, 말고),
금지, 불가, 수 없다, 안 되다), so 안내 or 말씀 are not mistaken for 안 or 말다. Hand-written: no
installed library lists negation cues for Korean.

>>> [(c.text, c.kind) for c in negations("Never share it unless they ask.")]
[('Never', 'negation'), ('unless', 'restriction')]
"""

from __future__ import annotations

import re
from typing import NamedTuple

from . import korean

KINDS = ("negation", "prohibition", "restriction", "obligation", "condition")
# Multi-word cues first, so "may not" wins over "not" and "no more than" over "no".
_EN_CUES = (
    ("prohibition", r"(?:may|must|should|shall)\s+(?:not|never)|do\s+not|forbidden|prohibited|disallowed"),
    ("restriction", r"no\s+more\s+than|no\s+later\s+than|but\s+not|at\s+most|up\s+to"),
    ("obligation", r"need\s+to|have\s+to|has\s+to"),
    ("condition", r"in\s+case|as\s+long\s+as|provided\s+that"),
    ("negation", r"not|no|never|none|nothing|nobody|nowhere|neither|nor|without|cannot|\w+n[’']t"),
    ("restriction", r"only|unless|except|excluding"),
    ("obligation", r"must|always|required|mandatory"),
    ("condition", r"if|when|whenever"),
)
_EN = re.compile(r"(?<![\w'’])(?:" + "|".join(f"(?P<c{i}>{cues})" for i, (_, cues) in enumerate(_EN_CUES)) + r")(?![\w'’])",
                 re.I)
_EN_KIND = {f"c{i}": kind for i, (kind, _) in enumerate(_EN_CUES)}
_KO_RESTRICTION = {"단", "제외", "이외", "이하", "이상", "미만", "초과", "이내", "까지"}
_KO_CONDITION = {"만약", "경우", "때"}
_KO_OBLIGATION = {"반드시", "항상", "꼭", "필수", "절대", "절대로", "결코"}
# Words that may hold a cue; only these go to Kiwi (~60 µs per new word), the rest are skipped.
_KO_MAYBE = re.compile(r"[않못없말마맙금불만야꼭]|^안|아니|아닌|아닙|아닐|아님|아냐|경우|때|제외|이외|이하|이상|이내|미만|초과|까지|만약|반드시|항상|필수|절대|결코"
                       r"|^단[,.]?$|^[되됩돼됐될된됨]|면[.,!?]*$|지[.,]?$")


_LETTERS = re.compile(r"[^\W\d_]")


class Cue(NamedTuple):
    """A polarity cue: ``text[start:end]``, its kind (negation, prohibition, restriction, obligation, condition)
    and language."""

    start: int
    end: int
    text: str
    kind: str
    lang: str


def language_of(text: str) -> str:
    """"ko" when Hangul is at least a fifth of the letters, else "en"."""
    hangul = len(korean.HANGUL.findall(text))
    letters = len(_LETTERS.findall(text))
    return "ko" if letters and hangul / letters >= 0.2 else "en"


def negations(text: str, lang: str | None = None) -> list[Cue]:
    """Every negation-like cue of ``text`` in order: negations (not, never, n't, without, nor, cannot;
    안, 않, 못, 없다, 아니다, 수 없다), prohibitions (may not, do not, forbidden; -지 마세요/말고, 금지, 불가,
    안 되다), restrictions (only, unless, except, at most; 만, 이하/이상/미만/초과/이내, 경우) and
    obligations (must, always, required; 반드시, 항상, 꼭, 절대) and conditions (if, when, in case;
    만약, 경우, 때, -면).
    ``lang`` None looks for both: mixed prompts are common.

    >>> [c.text for c in negations("환불은 30일 이내에만 가능하며 비밀번호는 묻지 마세요.")]  # doctest: +SKIP
    ['이내', '만', '마세요']
    """
    cues: list[Cue] = []
    if lang in (None, "en"):
        cues += [Cue(m.start(), m.end(), m.group(), _EN_KIND[m.lastgroup or "c4"], "en") for m in _EN.finditer(text)]
    if lang in (None, "ko") and korean.has_hangul(text):
        cues += _korean_cues(text)
    return sorted(cues, key=lambda c: c.start)


def polarity(text: str, lang: str | None = None) -> int:
    """-1 when ``text`` has an odd number of negations and prohibitions (it says "not"), else 1:
    "turn off two-factor" and "do not turn off two-factor" differ."""
    return -1 if sum(c.kind in ("negation", "prohibition") for c in negations(text, lang)) % 2 else 1


def _korean_cues(text: str) -> list[Cue]:
    out: list[Cue] = []
    prev_word, prev_at, prev_tail = "", 0, ""  # -지 before 말다/않다, -ㄹ 수 before 없다
    for match in re.finditer(r"\S+", text):
        at, word = match.start(), match.group()
        morphs = korean.word_morphemes(word) if _KO_MAYBE.search(word) else ()
        for i, m in enumerate(morphs):
            start, end = at + m.start, at + m.start + m.len
            kind = _korean_kind(m, i, prev_tail)
            if kind is None and i == 0 and prev_tail.startswith("지/E") and word.startswith(("마", "말", "맙")):
                kind = "prohibition"  # 하지 말고: Kiwi alone on "말고" may read a noun
            if kind and m.form == "없" and i == 0 and prev_word.strip(",.") == "수":
                start = prev_at  # 할 수 없다: "수 없" is one cue
            if kind == "prohibition" and m.form == "되" and out and out[-1].text == "안":
                start = out.pop().start  # 안 되다 is one cue (counted once: 결제가 안 되나요 is negated)
            if kind:
                out.append(Cue(start, end, text[start:end], kind, "ko"))
        prev_word, prev_at = word, at
        prev_tail = f"{morphs[-1].form}/{morphs[-1].tag}" if morphs else ""
    return out


def _korean_kind(m: korean.Morpheme, index: int, prev_tail: str) -> str | None:
    form, tag = m.form, m.tag
    if tag == "VX" and form in ("말", "마"):
        return "prohibition"  # -지 마세요 / 말고 / 마십시오
    if form == "금지" or form == "불가" or (form == "불" and tag == "XPN"):
        return "prohibition"
    if tag == "VV" and form == "되" and prev_tail in ("안/MAG", "안/NNG"):
        return "prohibition"  # 하면 안 됩니다
    if form in ("않", "아니") or (form == "못" and tag in ("MAG", "VX")) or (form == "안" and tag == "MAG"):
        return "negation"
    if (form == "없" and tag.startswith("VA")) or (form == "없이" and tag == "MAG"):
        return "negation"  # 없다, and 없이 (without) as Kiwi reads it on its own
    if form == "만" and tag == "JX":
        return "restriction"  # 30일 이내에만
    if form in _KO_RESTRICTION and tag.startswith("N"):
        return "restriction"
    if form in _KO_CONDITION and tag.startswith("N") or (form in ("면", "으면", "다면") and tag == "EC"):
        return "condition"
    if form in _KO_OBLIGATION or (form == "야" and tag == "EC") or form == "어야":
        return "obligation"  # 해야 합니다
    return None
