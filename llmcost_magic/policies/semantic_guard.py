"""Whether two similar questions ask the same thing: the guard of the semantic cache (English, Korean).

Embedders score "turn on" / "turn off" and "list" / "string" as close as true paraphrases, so a hit
needs more than a threshold. Each question is read into content lemmas (English: Snowball stems
without question frames; Korean: Kiwi morphemes, so particles and endings such as 가/란/는,
-나요/-ㄴ가요 are not words), names (capitalised words and acronyms), numbers (digits, number words,
두/세), polarity (``language.negations``: not, n't, 안, 않, 못, 없, 말), reversal words (cancel, off,
취소, 해제, 비-...) and the order of its words around to / from / 로. Two questions may share an answer
only when all of these agree and no word faces its antonym; then the similarity must clear the entry's
threshold when the content lemmas are the same (and no two of them exchanged places: "Does Apple own
Beats?" / "Does Beats own Apple?"; no verb was added that acts on the other's action: 압축하다 /
압축을 풀다), a higher bar when one side adds words, and a swap of
one word for another is never served on similarity (a verifier may decide it): format / parse scores
higher than the synonyms book / reserve. Hand-written: no installed library does this for Korean.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import NamedTuple

from ..language import korean, language_of, polarity

VERIFY_BAND = 0.10  # how far below what it needs a pair may be and still go to a verifier
ADDED_MARGIN = 0.18  # added words need this much more similarity than the entry's threshold
SWAPPED_MARGIN = 0.20  # swapped verbs this much more

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’+#._-]*[A-Za-z0-9+#]|[A-Za-z]|\d+(?:[.,]\d+)*|[\uac00-\ud7a3\u3131-\u318e]+")
_NUMBER_WORDS = {w: str(i) for i, words in enumerate((
    "zero", "one 한 하나", "two 두 둘", "three 세 셋", "four 네 넷", "five 다섯", "six 여섯", "seven 일곱", "eight 여덟",
    "nine 아홉", "ten 열")) for w in words.split()} | {"both": "2", "single": "1", "double": "2", "triple": "3"}
# "to" / "from" / "into": where something goes (transfer money to / from an account)
_DIRECTION_WORDS = frozenset(("to", "from", "into", "onto", "toward", "towards"))
_KO_DIRECTION = re.compile(r"\S(?:으로|로)\s")  # 워드로 변환, 입출금 계좌로 옮기다
# Phrasal verbs whose particle is the meaning (sign up / sign out): read as one word.
_PHRASAL = re.compile(r"\b(sign|log|opt|turn|check|switch|back|set|shut|clean|scroll|zoom|roll)\s+(up|in|out|on|off|down|back)\b", re.I)
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
_REVERSAL = _EN_REVERSAL | _KO_REVERSAL | {"turn_off", "switch_off", "log_out", "sign_out", "opt_out", "shut_down"}
_ANTONYM_PAIRS = [tuple(pair.split("/")) for pair in (
    "on/off enable/disable activate/deactivate add/remove add/delete create/delete install/uninstall show/hide "
    "open/close start/stop lock/unlock subscribe/unsubscribe follow/unfollow upgrade/downgrade increase/decrease "
    "raise/lower encrypt/decrypt import/export upload/download read/write accept/decline accept/reject approve/reject "
    "allow/deny allow/block include/exclude before/after max/min maximum/minimum first/last highest/lowest "
    "best/worst buy/sell send/receive push/pull weekday/weekend login/logout more/less sign_up/sign_out "
    "sign_in/sign_out log_in/log_out opt_in/opt_out turn_on/turn_off check_in/check_out switch_on/switch_off "
    "zoom_in/zoom_out scroll_up/scroll_down roll_back/roll_out sign_up/sign_in "
    "켜/끄 켜/끌 추가/삭제 추가/제거 활성/비활성 암호화/복호화 업그레이드/다운그레이드 증가/감소 가져오/내보내 읽/쓰 읽/저장 "
    "업로드/다운로드 잠그/해제 잠금/해제 승인/거절 승인/거부 최대/최소 평일/주말 이상/이하 전/후 열/닫 시작/중지 가입/탈퇴 "
    "키우/줄이 늘리/줄이 올리/내리 확대/축소 표시/숨기 보내/받 입금/출금 로그인/로그아웃 구매/판매 허용/차단 포함/제외").split()]


@dataclass(frozen=True)
class Reading:
    """What the guard reads of a question."""

    lang: str
    content: frozenset[str]  # content lemmas (names and numbers included)
    names: frozenset[str]
    numbers: frozenset[str]
    polarity: int
    reversal: bool
    predicates: frozenset[str]  # the content lemmas that are verbs (change, find; 바꾸, 변경하-)
    directions: frozenset[tuple[str, str]]  # (from, to): "convert X to Y", "X를 Y로"
    toward: frozenset[str]  # the direction words: to, from, into; 로, 에서
    order: tuple[str, ...]  # content lemmas in the order they appear
    acted_on: frozenset[tuple[str, str]] = frozenset()  # (noun, verb): 압축을 풀다, a verb acting on a noun


@dataclass(frozen=True)
class Verdict:
    """The guard's answer: may the pair share an answer, and why (or why not)."""

    same: bool
    reason: str
    needed: float  # the similarity this pair had to reach (above 1: never, whatever the similarity)
    verify_from: float = 2.0  # the similarity from which a verifier may decide instead (above 1: never)


@functools.lru_cache(maxsize=4096)
def read(text: str) -> Reading:
    """The content lemmas, names, numbers, polarity, reversal, verbs and directions of ``text``."""
    korean_words = _korean_lemmas(text) if korean.has_hangul(text) else ([], set())
    english_words = _english_lemmas(text)
    lemmas = korean_words[0] + english_words[0]
    numbers = frozenset({n.replace(",", "") for n in _NUMBER.findall(text)}
                        | {_NUMBER_WORDS[w] for w in _WORD.findall(text.lower()) if w in _NUMBER_WORDS}
                        | {_NUMBER_WORDS[m.form] for m in (korean.morphemes(text) if korean.has_hangul(text) else ())
                           if m.tag in ("MM", "NR") and m.form in _NUMBER_WORDS})
    content = frozenset({w.lemma for w in lemmas} | numbers)
    return Reading(language_of(text), content, frozenset(w.lemma for w in lemmas if w.name), numbers,
                   polarity(text), bool(content & _reversal()), frozenset(w.lemma for w in lemmas if w.verb),
                   frozenset(korean_words[1] | english_words[1]),
                   frozenset(w for w in _WORD.findall(text.lower()) if w in _DIRECTION_WORDS)
                   | ({"로"} if korean_words[1] or _KO_DIRECTION.search(text) else set()),
                   tuple(w.lemma for w in sorted(lemmas, key=lambda w: w.at)),
                   frozenset(_korean_objects(text)) if korean.has_hangul(text) else frozenset())


def judge(new: str, cached: str, similarity: float, threshold: float) -> Verdict:
    """Whether ``new`` may be answered with ``cached``'s answer at ``similarity``, for an entry whose
    threshold is ``threshold``; the reason says which rule decided."""
    a, b = read(new), read(cached)
    if a.numbers != b.numbers:
        return Verdict(False, "different numbers", 2.0)
    other_names = (a.names - b.content) | (b.names - a.content)  # a name the other question never mentions
    if other_names:
        return Verdict(False, f"different names ({_show(other_names)})", 2.0)
    if a.polarity != b.polarity:
        return Verdict(False, "one is negated (not, n't, 안, 않, 못, 없, 말)", 2.0)
    if a.reversal != b.reversal:
        return Verdict(False, "one reverses the action (cancel, disable, 취소, 해제...)", 2.0)
    verbs = a.predicates | b.predicates
    only_new, only_cached = _unmatched(a.content, b.content, verbs), _unmatched(b.content, a.content, verbs)
    for left, right in _antonyms():
        if (left in only_new and right in only_cached) or (right in only_new and left in only_cached):
            return Verdict(False, f"antonyms ({left} / {right})", 2.0)
    for x in only_new | only_cached:
        for prefix in ("un", "dis", "de", "in", "im"):  # mute / unmute, connect / disconnect, activate / deactivate
            rest = x[len(prefix):]
            if x.startswith(prefix) and len(rest) >= 3 and any(
                    y != x and (y.startswith(rest) or rest.startswith(y)) and len(y) >= 3 for y in a.content | b.content):
                return Verdict(False, f"antonyms ({rest}... / {x})", 2.0)
    if a.toward and b.toward and a.toward != b.toward:
        return Verdict(False, f"another direction ({_show(a.toward ^ b.toward)})", 2.0)
    reversed_ = {(y, x) for x, y in a.directions} & b.directions
    if not reversed_ and a.toward and b.toward:  # "PDF to Word" / "Word file to PDF": shared words change places
        shared = [w for w in dict.fromkeys(a.order) if w in b.content]
        place = {w: i for i, w in enumerate(dict.fromkeys(w for w in b.order if w in shared))}
        reversed_ = {(x, y) for i, x in enumerate(shared) for y in shared[i + 1:] if place[x] > place[y]}
    if reversed_:
        return Verdict(False, f"direction reversed ({_show({f'{x} -> {y}' for x, y in reversed_})})", 2.0)
    exchanged = _exchanged(new, cached)
    if exchanged:
        return Verdict(False, f"roles exchanged ({' / '.join(' '.join(x) for x in exchanged)})", 2.0)
    swapped = f"({_show(only_cached)} -> {_show(only_new)})"
    if only_new and only_cached:
        needed = min(threshold + SWAPPED_MARGIN, 0.999)
        # One thing asked about for another (list / string, monthly / yearly) or one action for another
        # (format / parse, sort / filter): embedders score these like paraphrases (0.94 for format / parse,
        # 0.89 for book / reserve), so a swap is never served on similarity; a verifier may decide it.
        kind = "verbs" if not ((only_new - a.predicates) and (only_cached - b.predicates)) else "a thing swapped for another"
        return Verdict(False, f"{kind} {swapped}: only a verifier can tell a synonym", 2.0, needed - VERIFY_BAND)
    changed = {(n, v) for x, y, added in ((a, b, only_new), (b, a, only_cached))
               for n, v in x.acted_on if v in added and n in y.predicates}
    if changed:
        # 파일을 압축하는 / 파일 압축을 푸는 (compress / unpack): a verb added that acts on the other's action
        return Verdict(False, f"another action on it ({_show({f'{n} -> {v}' for n, v in changed})})", 2.0)
    elif only_new or only_cached:
        needed, why = min(threshold + ADDED_MARGIN, 0.999), f"words added ({_show(only_new or only_cached)})"
    else:
        needed, why = threshold, "same content words, numbers, names and polarity"
    if similarity < needed:
        return Verdict(False, f"{why}: similarity {similarity:.3f} < {needed:.3f}", needed, needed - VERIFY_BAND)
    return Verdict(True, f"{why}; similarity {similarity:.3f} >= {needed:.3f}", needed)


def _unmatched(mine: frozenset[str], theirs: frozenset[str], verbs: frozenset[str]) -> set[str]:
    """Lemmas of ``mine`` that ``theirs`` lacks; a lemma that extends or shortens one of theirs counts as
    present: English words of 4+ letters (dict / dictionari, slow / slowli), Korean verbs (잊 / 잊어버리),
    not Korean nouns (배송 / 배송비: shipping / shipping fee)."""
    out = set()
    joined = {x + y for x in mine for y in mine if x != y and korean.has_hangul(x + y)}
    for lemma in mine - theirs:
        hangul = korean.has_hangul(lemma)
        if hangul and any(lemma in t and t in joined for t in theirs):  # Kiwi split 비밀번호 here, not there
            continue
        if hangul and lemma in {x + y for x in theirs for y in theirs if x != y}:
            continue
        if not any((x.startswith(lemma) or lemma.startswith(x)) and korean.has_hangul(x) == hangul
                   and ((lemma in verbs and x in verbs) if hangul else min(len(x), len(lemma)) >= 4) for x in theirs):
            out.add(lemma)
    return out


@functools.cache
def _reversal() -> frozenset[str]:
    """The reversal words as the readers lemmatise them (English words stemmed)."""
    return frozenset(w if korean.has_hangul(w) or "_" in w else _stem(w) for w in _REVERSAL)


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


class _Word(NamedTuple):
    lemma: str
    name: bool
    verb: bool
    at: int = 0  # where it stands in the text


_SUBJECTS = frozenset("i you we they to".split())
_DIRECTION_EN = frozenset(("to", "into"))


def _english_lemmas(text: str) -> tuple[list[_Word], set[tuple[str, str]]]:
    """Content words of the Latin-script part of ``text`` and its "X to Y" directions. A word right after
    I / you / we / they / to (an adverb between allowed), or an -ing after is / are, counts as a verb."""
    out: list[_Word] = []
    directions: set[tuple[str, str]] = set()
    text = _PHRASAL.sub(lambda m: f"{m.group(1).lower()}_{m.group(2).lower()}", text)
    for part in re.finditer(r"[^.!?]+[.!?]*", text):
        sentence, offset = part.group(), part.start()
        previous, pending = "", ""  # the last word; the content lemma before a "to"
        for i, match in enumerate(_WORD.finditer(sentence)):
            word = match.group()
            if not word[0].isascii() or not word[0].isalpha():
                previous = ""
                continue
            lower = word.lower().replace("’", "'")
            if lower in _DIRECTION_EN and out:
                pending = out[-1].lemma
            if lower in _EN_FRAME or lower.endswith("n't"):
                previous = lower if lower not in ("a", "an", "the") else ""
                continue
            is_name = (i > 0 and word[0].isupper()) or (len(word) > 1 and word.isupper())
            lower = lower[:-1] if is_name and len(lower) > 3 and word[-1] == "s" and word[:-1].isupper() else lower  # APIs
            verb = previous in _SUBJECTS or (lower.endswith("ing") and previous in ("is", "are"))
            lemma = lower if is_name or "_" in lower else _stem(lower)
            out.append(_Word(lemma, is_name, verb and not is_name, offset + match.start()))
            if pending:
                directions.add((pending, lemma))
                pending = ""
            previous = previous if lower.endswith("ly") and previous in _SUBJECTS else lower
    return out, directions


def _korean_lemmas(text: str) -> tuple[list[_Word], set[tuple[str, str]]]:
    """Content morphemes of ``text`` (Kiwi) and its "X를 Y로" directions. Verbs: VV / VA stems, and
    nouns made verbs by 하다 / 되다 (변경하다)."""
    out: list[_Word] = []
    directions: set[tuple[str, str]] = set()
    morphs = korean.morphemes(text)
    prefix, obj = "", ""
    for i, m in enumerate(morphs):
        tag = m.tag.split("-")[0]
        if tag == "XPN":  # 비활성, 재설정: the prefix belongs to the word
            prefix = m.form
            continue
        if tag == "JKO" and out:
            obj = out[-1].lemma
        elif tag == "JKB" and m.form in ("로", "으로") and out and obj and out[-1].lemma != obj:
            directions.add((obj, out[-1].lemma))
        unit = tag == "NNB" and i > 0 and morphs[i - 1].tag in ("SN", "NR", "MM")  # 2리터, 3일, 몇 파운드: the unit counts
        if (tag in _KO_CONTENT or unit) and m.form not in _KO_FRAME and not (tag == "MAG" and m.form in ("안", "못", "잘", "더", "좀")):
            if not (tag in ("SL", "SN") and m.form.isascii()):  # Latin-script words and numbers: the English reader
                following = morphs[i + 1].tag if i + 1 < len(morphs) else ""
                verb = tag in ("VV", "VA") or (tag == "NNG" and following.startswith("XSV"))
                out.append(_Word(prefix + m.form, False, verb, m.start))  # Kiwi's NNP is unsteady on loanwords: no names
        prefix = ""
    return out, directions


# Words and particles around which two things may change places without changing the question
# ("X and Y", "X와 Y"); Korean particle allomorphs read as one (이/가, 을/를, 은/는, 과/와, 으로/로).
_SYMMETRIC = frozenset("and or vs versus & , 및 또는 혹은 그리고".split())
_KO_ALLOMORPH = {"이": "가", "을": "를", "은": "는", "과": "와", "으로": "로", "이랑": "랑"}


def _exchanged(new: str, cached: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The two spans of content words that changed places when everything else stayed where it was
    ("Does Apple own Beats?" / "Does Beats own Apple?", "고양이가 강아지를" / "강아지가 고양이를",
    "5 ounces in grams" / "5 grams in ounces"): who does what to whom changed, so the answer does.
    Spans joined by "and" / "or" / 와 are not exchanged roles, nor are Korean words that moved with
    their particles (강아지를 고양이가: the same question)."""
    s, t = _skeleton(new), _skeleton(cached)
    forms, other_forms = [w for w, _ in s], [w for w, _ in t]
    if len(s) != len(t) or forms == other_forms:
        return None
    i = next(k for k in range(len(s)) if forms[k] != other_forms[k])
    j = len(s) - next(k for k in range(len(s)) if forms[-1 - k] != other_forms[-1 - k])
    window, other = forms[i:j], other_forms[i:j]

    def content(mine: range, theirs: range) -> bool:  # either reading may call it content (Kiwi: 몇 MM or NR)
        return all(s[a][1] == "content" or t[b][1] == "content" for a, b in zip(mine, theirs))

    for lx in range(1, len(window)):
        for ly in range(1, len(window) - lx + 1):
            x, middle, y = window[:lx], window[lx:len(window) - ly], window[len(window) - ly:]
            if x == y or other != y + middle + x:
                continue
            if not (content(range(i, i + lx), range(j - lx, j)) and content(range(j - ly, j), range(i, i + ly))):
                continue
            if not middle or any(kind != "join" for _, kind in s[i + lx:j - ly]):
                return tuple(x), tuple(y)
    return None


@functools.lru_cache(maxsize=4096)
def _skeleton(text: str) -> tuple[tuple[str, str], ...]:
    """``text`` as (word, kind) units in order, kind being content, join (and, or, 와) or frame: content
    words lemmatised, articles and punctuation left out, "'s" its own unit; Korean by morphemes."""
    if korean.has_hangul(text):
        out = []
        for m in korean.morphemes(text):
            tag = m.tag.split("-")[0]
            if tag in ("SF", "SP", "SS", "SE", "SO", "SW") or tag.startswith("E") or (tag == "JX" and m.form == "요"):
                continue  # endings say how it is asked, not who does what (Kiwi splits -ㄴ가요 both ways)
            form = _KO_ALLOMORPH.get(m.form, m.form) if tag.startswith("J") else m.form
            content = tag in _KO_CONTENT or tag in ("NNB", "XSN", "XPN")  # 선생님: the suffix is the word's
            kind = "join" if tag == "JC" or form in _SYMMETRIC else "content" if content else "frame"
            out.append((form, kind))
        return tuple(out)
    text = re.sub(r"['’]s\b", " 's", text.lower())
    out = []
    for word in re.findall(r"'s|[a-z][a-z0-9+#._-]*[a-z0-9+#]|[a-z]|\d+(?:[.,]\d+)*|&", text):
        if word in ("a", "an", "the"):
            continue
        kind = "join" if word in _SYMMETRIC else "frame" if word in _EN_FRAME or word == "'s" else "content"
        out.append((_stem(word) if kind == "content" and word[0].isalpha() else word, kind))
    return tuple(out)


def _korean_objects(text: str) -> set[tuple[str, str]]:
    """(noun, verb) where a verb acts on the noun right before it (압축을 푸는, 압축 풀기), not a verb
    glued to its noun in one word (환불받다, 취소되다: the noun's own action)."""
    morphs, out = korean.morphemes(text), set()
    for i, m in enumerate(morphs):
        if m.tag != "VV" or i == 0:
            continue
        k = i - 1 if morphs[i - 1].tag != "JKO" else i - 2
        if k >= 0 and morphs[k].tag == "NNG" and morphs[k].start + morphs[k].len < m.start:
            out.add((morphs[k].form, m.form))
    return out


def why_not_same(new: str, cached: str) -> str | None:
    """The rule that keeps two questions apart whatever their similarity (numbers, names, polarity,
    reversal, antonyms, direction, a thing swapped for another), or None when similarity decides."""
    verdict = judge(new, cached, 1.0, 0.0)
    return None if verdict.same else verdict.reason
