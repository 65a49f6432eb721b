"""Whether two similar questions ask the same thing: the guard of the semantic cache (English, Korean).

Embedders score "turn on" / "turn off" and "ship to Canada" / "ship to Mexico" as close as true
paraphrases, so a hit needs more than a threshold. Each question is read into content lemmas
(English: Snowball stems without question frames; Korean: Kiwi morphemes, so particles and endings
such as 가/란/는, -나요/-ㄴ가요 are not words), names (capitalised words, acronyms, Korean proper nouns
and Latin-script words), numbers, polarity (``language.polarity``: not, n't, 안, 않, 못, 없, 말) and
reversal words (cancel, disable, 취소, 해제, 비-...). Two questions may share an answer only when
numbers, names, polarity and reversal agree, no word faces its antonym, and the similarity clears the
bar for how much the content differs: the entry's threshold when the content lemmas are the same, a
higher one when one side adds words, higher still when words were swapped (a swap changes what is
asked far more often than it rephrases it). Hand-written: no installed library does this for Korean.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from ..language import korean, language_of, negations

ADDED_MARGIN = 0.05  # added words need this much more similarity than the entry's threshold
SWAPPED_MARGIN = 0.12  # swapped words this much more

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’+#.-]*[A-Za-z0-9+#]|[A-Za-z]|\d+(?:[.,]\d+)*|[\uac00-\ud7a3\u3131-\u318e]+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# Question frames and light words: how a question is asked, not what it asks.
_EN_FRAME = frozenset(
    "a an the is are was were be been being am do does did doing done can could would should will shall may might "
    "i me my mine we us our you your yours it its this that these those there here to of in on at for with from by "
    "as and or how what whats which who whom where when why please possible way ways step steps process procedure "
    "tell explain explained describe let know want like get got just also any some all anything something about "
    "into onto up out if then so such thing things there's it's what's i'm can't don't doesn't isn't".split()
)
_KO_FRAME = frozenset({"어떻", "어떻게", "어떡", "그냥", "보통", "아직", "정말", "무엇", "뭐", "뭔", "무슨", "방법", "수", "것", "거", "알리", "주", "하", "되", "있",
                       "가능", "이", "그", "저", "제", "저희", "나", "내", "우리", "좀", "혹시", "요", "어디", "언제", "왜",
                       "얼마나", "뜻", "의미", "말", "경우", "때", "대하", "관하", "통하", "위하", "필요"})
_KO_CONTENT = ("NNG", "NNP", "NR", "VV", "VA", "XR", "SL", "SH", "SN", "NP", "MAG")
_EN_REVERSAL = frozenset("cancel undo revert unsubscribe uninstall disable deactivate remove delete stop decline reject "
                         "refuse deny unblock unlock unfollow unpublish unlink disconnect close off".split())
# 끌: Kiwi reads 끄나요 (turn off?) as 끌다; in a question to a product that is the likelier reading.
_KO_REVERSAL = frozenset({"취소", "해제", "해지", "삭제", "제거", "중지", "중단", "비활성", "끄", "끌", "탈퇴", "거절", "거부", "닫",
                          "철회", "끊"})
_ANTONYM_PAIRS = [tuple(pair.split("/")) for pair in (
    "on/off enable/disable activate/deactivate add/remove add/delete create/delete install/uninstall show/hide "
    "open/close start/stop lock/unlock subscribe/unsubscribe follow/unfollow upgrade/downgrade increase/decrease "
    "raise/lower encrypt/decrypt import/export upload/download read/write accept/decline accept/reject approve/reject "
    "allow/deny allow/block include/exclude before/after max/min maximum/minimum first/last highest/lowest "
    "best/worst buy/sell send/receive push/pull weekday/weekend login/logout more/less "
    "켜/끄 켜/끌 추가/삭제 추가/제거 활성/비활성 암호화/복호화 업그레이드/다운그레이드 증가/감소 가져오/내보내 읽/쓰 읽/저장 "
    "업로드/다운로드 잠그/해제 잠금/해제 승인/거절 승인/거부 최대/최소 평일/주말 이상/이하 전/후 열/닫 시작/중지 가입/탈퇴 "
    "보내/받 입금/출금 로그인/로그아웃 구매/판매 허용/차단 포함/제외").split()]


@dataclass(frozen=True)
class Reading:
    """What the guard reads of a question."""

    lang: str
    content: frozenset[str]  # content lemmas (names and numbers included)
    names: frozenset[str]
    numbers: frozenset[str]
    polarity: int
    reversal: bool


@dataclass(frozen=True)
class Verdict:
    """The guard's answer: may the pair share an answer, and why (or why not)."""

    same: bool
    reason: str
    needed: float  # the similarity this pair had to reach


@functools.lru_cache(maxsize=4096)
def read(text: str) -> Reading:
    """The content lemmas, names, numbers, polarity and reversal of ``text``."""
    lang = language_of(text)
    content: set[str] = set()
    names: set[str] = set()
    for lemma, is_name in _korean_lemmas(text) if korean.has_hangul(text) else ():
        content.add(lemma)
        if is_name:
            names.add(lemma)
    for lemma, is_name in _english_lemmas(text):
        content.add(lemma)
        if is_name:
            names.add(lemma)
    numbers = frozenset(n.replace(",", "") for n in _NUMBER.findall(text))
    reversal = bool(content & (_EN_REVERSAL | _KO_REVERSAL)) or "turn off" in text.lower()
    return Reading(lang, frozenset(content | numbers), frozenset(names), numbers, _polarity(text), reversal)


def _polarity(text: str) -> int:
    """-1 when ``text`` is negated an odd number of times. ``language.negations`` reports 안 되다 as a
    negation (안) and a prohibition (되); counted once here, so 결제가 안 되나요? reads as negated."""
    cues = [c for c in negations(text) if c.kind in ("negation", "prohibition")]
    count = sum(1 for i, c in enumerate(cues)
                if not (i and c.kind == "prohibition" and cues[i - 1].text in ("안", "못") and c.start - cues[i - 1].end <= 1))
    return -1 if count % 2 else 1


def judge(new: str, cached: str, similarity: float, threshold: float) -> Verdict:
    """Whether ``new`` may be answered with ``cached``'s answer at ``similarity``, for an entry whose
    threshold is ``threshold``; the reason says which rule decided."""
    a, b = read(new), read(cached)
    if a.numbers != b.numbers:
        return Verdict(False, "different numbers", 1.0)
    if a.names != b.names:
        return Verdict(False, f"different names ({_show(a.names ^ b.names)})", 1.0)
    if a.polarity != b.polarity:
        return Verdict(False, "one is negated (not, n't, 안, 않, 못, 없, 말)", 1.0)
    if a.reversal != b.reversal:
        return Verdict(False, "one reverses the action (cancel, disable, 취소, 해제...)", 1.0)
    only_new, only_cached = a.content - b.content, b.content - a.content
    for left, right in _antonyms():
        if (left in only_new and right in only_cached) or (right in only_new and left in only_cached):
            return Verdict(False, f"antonyms ({left} / {right})", 1.0)
    if only_new and only_cached:
        needed, why = threshold + SWAPPED_MARGIN, f"words swapped ({_show(only_cached)} -> {_show(only_new)})"
    elif only_new or only_cached:
        needed, why = threshold + ADDED_MARGIN, f"words added ({_show(only_new or only_cached)})"
    else:
        needed, why = threshold, "same content words, numbers, names and polarity"
    needed = min(needed, 0.999)
    if similarity < needed:
        return Verdict(False, f"{why}: similarity {similarity:.3f} < {needed:.3f}", needed)
    return Verdict(True, f"{why}; similarity {similarity:.3f} >= {needed:.3f}", needed)


@functools.cache
def _antonyms() -> list[tuple[str, str]]:
    """The antonym pairs as the readers lemmatise them (English words stemmed)."""
    return [tuple(w if korean.has_hangul(w) else _stem(w) for w in pair) for pair in _ANTONYM_PAIRS]  # type: ignore[misc]


def _show(words: frozenset[str] | set[str]) -> str:
    return ", ".join(sorted(words))


_stemmer = None


def _stem(word: str) -> str:
    global _stemmer
    if _stemmer is None:
        import snowballstemmer

        _stemmer = snowballstemmer.stemmer("english")
    return _stemmer.stemWord(word)


def _english_lemmas(text: str) -> list[tuple[str, bool]]:
    out = []
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        for i, match in enumerate(_WORD.finditer(sentence)):
            word = match.group()
            if not word[0].isascii() or not word[0].isalpha():
                continue
            lower = word.lower().replace("’", "'")
            if lower in _EN_FRAME or lower.endswith("n't"):
                continue
            is_name = (i > 0 and word[0].isupper()) or (len(word) > 1 and word.isupper())
            out.append((lower if is_name else _stem(lower), is_name))
    return out


def _korean_lemmas(text: str) -> list[tuple[str, bool]]:
    out = []
    prefix = ""
    for m in korean.morphemes(text):
        if m.tag == "XPN":  # 비활성, 재설정: the prefix belongs to the word
            prefix = m.form
            continue
        tag = m.tag.split("-")[0]
        if tag in _KO_CONTENT and m.form not in _KO_FRAME and not (tag == "MAG" and m.form in ("안", "못", "잘", "더", "좀")):
            if tag in ("SL", "SN") and m.form.isascii():
                prefix = ""
                continue  # Latin-script words and numbers are read by the English reader
            out.append((prefix + m.form, tag == "NNP"))
        prefix = ""
    return out


def why_not_same(new: str, cached: str) -> str | None:
    """The rule that keeps two questions apart whatever their similarity (numbers, names, polarity,
    reversal, antonyms), or None when only similarity decides."""
    verdict = judge(new, cached, 1.0, 0.0)
    return None if verdict.same else verdict.reason
