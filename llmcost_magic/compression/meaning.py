"""What in a prompt carries its meaning, for compressors that must not reverse it.

A prompt is cut into sentences (``.``, ``!``, ``?``, ``;``, ``|`` and line breaks end one). A sentence
is a **rule** when it prohibits, negates, restricts, obliges, sets a condition or gives an order
(imperative): English by cue words and a list of instruction verbs, Korean by morphemes (Kiwi: the
sentence's final ending -세요/-십시오/바랍니다, -야 하다, 말다, 않다...). Inside a rule only **filler**
may go: articles, politeness, intensifiers, copulas, possessives, light prepositions; in Korean, whole
words (eojeol, with their particles) such as 매우, 주시기, 바랍니다. Everything else in a rule is kept,
and so are, anywhere, negation cues (``llmcost_magic.language.negations``), numbers with their units
and comparatives, and names. Hand-written rules: no installed library marks meaning-bearing words
for English and Korean prompts.

>>> a = analyse("Please never ask for the password. Plans start at $6 per month.")
>>> [s.rule for s in a.sentences]
['prohibition', None]
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass
from typing import NamedTuple

from ..language import Cue, korean, language_of, negations

_SENTENCE_END = re.compile(r"(?<=[.!?;|。])[ \t]+|[ \t]*\n+[ \t]*")
_WORD = re.compile(r"\S+")
_QUOTED = (r"```.*?```|`[^`\n]+`|\"[^\"\n]{1,300}\"|“[^”\n]{1,300}”|‘[^’\n]{1,300}’|「[^」\n]{1,300}」|『[^』\n]{1,300}』"
           r"|(?<!\w)'[^'\n]{1,200}'(?!\w)|https?://\S+")
_PROTECTED = re.compile(_QUOTED + r"|[\w.+-]+@[\w-]+\.[\w.]+", re.S)
_PROTECTED_NO_EMAIL = re.compile(_QUOTED, re.S)  # the e-mail pattern is slow on long text: only where there is an @
_DIGIT = re.compile(r"\d")
_LIST_MARKER = re.compile(r"[-*•>#]+|\d+[.)]")
_CODE_LIKE = re.compile(r"[_=/\\{}<>\[\]#@$%^&*|~]|\w\.\w|::|->")
_ENDS_SENTENCE = re.compile(r"[.!?:;|。]$|^(?:[-*•>#]+|\d+[.)])$")
# A topic label at the start of a line ("- Storage plans:", "환불:"): it says what the line is about.
_LABEL = re.compile(r"(?m)^[ \t]*(?:[-*•]+[ \t]+)?((?:[^\s:][^:\n]{0,40}?)[:：])(?=\s)")
_EDGE = "\"'()[]{}<>.,;:!?…·。、“”‘’「」『』*"
_EN_CONDITION = re.compile(r"(?<![\w'])(?:if|when|whenever|unless|in case|as long as|provided)(?![\w'])", re.I)
# Words of time and scope that are never dropped, though they do not make a sentence a rule.
EN_SCOPE = frozenset("before after until within between above below over under per than least most every each all both "
                     "either neither".split())
_EN_ORDER = re.compile(r"(?<![\w'])(?:please|should|shall|need to|needs to|make sure|be sure|remember|ensure|important|"
                       r"avoid|refuse|required|allowed|permitted|refrain|abstain)(?![\w'])", re.I)
_EN_PERMISSION = re.compile(r"(?<![\w'])(?:can|may|could|eligible|entitled|available)(?![\w'])", re.I)
INSTRUCTION_VERBS = frozenset(
    "abstain act add address advise answer apologise apologize ask avoid be block call check confirm contact decline describe "
    "direct do don't encourage ensure escalate explain flag follow forward give greet guide help include inform keep "
    "let limit list mention never offer point provide quote recommend redirect refer refrain refuse remind reply report "
    "respond say send share show state stay stop suggest summarise summarize tell thank treat try use verify warn "
    "write always only".split())
EN_FILLER = frozenset(
    "a an the please kindly very really just actually basically simply quite truly certainly extremely particularly "
    "also so that you your their his her its our is are am be been being was were any of to in at on for with "
    "by as whatsoever finally".split())
_EN_FILLER_PHRASES = re.compile(r"(?<![\w'])(?:make sure(?: that)?|be sure to|try to|it is (?:very |really )?important "
                                r"(?:that|to)|here are|in order to)(?![\w'])", re.I)
KO_FILLER = frozenset(
    "매우 정말 아주 너무 가능한 한 최대한 좀 그리고 또한 및 당신은 당신이 당신의 당신을 당신께서 주시기 바랍니다 주세요 주십시오 "
    "드립니다 부탁드립니다 어떠한 이러한 그러한 마지막으로 따라서".split())
_NUMBER_CONTEXT = frozenset("to from between and over under above below within after before than least most up per every "
                            "by until till more less fewer no at or equal".split())
_KO_ORDER_ENDINGS = frozenset({"세요", "으세요", "십시오", "으십시오", "ᆸ시오", "읍시오", "어라", "아라", "라", "자"})
RULE_KINDS = ("prohibition", "negation", "restriction", "obligation", "condition", "imperative", "permission")


class Sentence(NamedTuple):
    """``text[start:end]``; ``rule`` is why it is a rule (one of ``RULE_KINDS``) or None."""

    start: int
    end: int
    lang: str
    rule: str | None


class Word(NamedTuple):
    """One space-delimited word; ``role`` is "cue", "name", "label" (a line's "Topic:"), "keep" (number, unit,
    code, quote), "filler" or "content"."""

    start: int
    end: int
    text: str
    sentence: int
    role: str


@dataclass(slots=True)
class Analysis:
    text: str
    sentences: list[Sentence]
    words: list[Word]
    cues: list[Cue]

def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, blank runs excluded."""
    out, last = [], 0
    for m in _SENTENCE_END.finditer(text):
        if text[last:m.start()].strip():
            out.append((last, m.start()))
        last = m.end()
    if text[last:].strip():
        out.append((last, len(text.rstrip())))
    return out


def protected_spans(text: str) -> list[tuple[int, int]]:
    """Code, quoted text, URLs and e-mail addresses: each is one word, kept exactly."""
    pattern = _PROTECTED if "@" in text else _PROTECTED_NO_EMAIL
    return [m.span() for m in pattern.finditer(text)]


def analyse(text: str, protected: list[tuple[int, int]] | None = None) -> Analysis:
    """Sentences with their rule kind and every word with its role. ``protected`` spans (by default code,
    quotes, URLs, e-mail addresses: :func:`protected_spans`) are single words, kept as they are.
    The default analysis of the last few texts is memoised (the compressor, the check and the playground
    all read the same prompt); treat the result as read-only."""
    if protected is None:
        return _analysed(text)
    return _analyse(text, protected)


@functools.lru_cache(maxsize=16)
def _analysed(text: str) -> Analysis:
    return _analyse(text, protected_spans(text))


def _analyse(text: str, protected: list[tuple[int, int]]) -> Analysis:
    cues = negations(text)
    spans = sentences(text)
    starts = [s for s, _ in spans]
    raw = _words(text, protected)
    cue_at = _covering(raw, [(c.start, c.end) for c in cues])
    glued = {i for i in range(1, len(raw)) if raw[i - 1][1] == raw[i][0]}  # a quote or URL glued to a word
    keep_at = (glued | {i - 1 for i in glued} | _covering(raw, list(protected)) | _number_context(raw)
               | _korean_negated_predicates(raw, cues))
    label_at = _covering(raw, [m.span(1) for m in _LABEL.finditer(text)], whole=True)
    filler_at = _covering(raw, [m.span() for m in _EN_FILLER_PHRASES.finditer(text)], whole=True)
    by_sentence: dict[int, list[int]] = {}
    words: list[Word] = []
    sentence, next_start = 0, starts[1] if len(starts) > 1 else len(text) + 1
    previous, previous_end = "", 0
    for i, (start, end, word) in enumerate(raw):
        while start >= next_start:
            sentence += 1
            next_start = starts[sentence + 1] if sentence + 1 < len(starts) else len(text) + 1
        by_sentence.setdefault(sentence, []).append(i)
        kind = _word_kind(word)
        if i in cue_at:
            role = "cue"
        elif i in label_at:
            role = "label"
        elif (kind == "capitalised" and previous and not _ENDS_SENTENCE.search(previous)
              and "\n" not in text[previous_end:start]):
            role = "name"
        elif kind == "keep" or i in keep_at:
            role = "keep"
        elif kind == "filler" or i in filler_at:
            role = "filler"
        else:
            role = "content"
        words.append(Word(start, end, word, sentence, role))
        previous, previous_end = word, end
    # "any" is filler, except where a negation reaches it: "not ... under any circumstances", "never any".
    negated = {bisect.bisect_right(starts, c.start) - 1 for c in cues if c.kind in ("negation", "prohibition")}
    words = [w._replace(role="keep") if w.role == "filler" and w.sentence in negated
             and w.text.strip(_EDGE).lower() == "any" else w for w in words]
    found = []
    any_korean = korean.has_hangul(text)
    cue_starts = [c.start for c in cues]
    for n, (start, end) in enumerate(spans):
        chunk = text[start:end]
        lang = language_of(chunk) if any_korean else "en"
        sentence_cues = cues[bisect.bisect_left(cue_starts, start):bisect.bisect_left(cue_starts, end)]
        found.append(Sentence(start, end, lang, _rule_kind(chunk, lang, sentence_cues, [words[i].text for i in by_sentence.get(n, [])])))
    return Analysis(text, found, words, cues)


@functools.lru_cache(maxsize=131072)
def _word_kind(word: str) -> str:
    """What a word is on its own: "keep" (number, code, acronym, list marker, scope word), "filler",
    "capitalised" (a name unless it starts a sentence) or "content"."""
    core = word.strip(_EDGE)
    if not core or _LIST_MARKER.fullmatch(word) or core.lower() in EN_SCOPE or _DIGIT.search(core):
        return "keep"
    if _CODE_LIKE.search(core) or (core.isupper() and sum(c.isalpha() for c in core) >= 2):
        return "keep"
    if korean.has_hangul(core):
        return "filler" if core in KO_FILLER else "content"
    if core.lower() in EN_FILLER:
        return "filler"
    return "capitalised" if core[0].isupper() and core[0].isascii() else "content"


def _words(text: str, protected: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    """(start, end, word) of each space-delimited word; a protected span is one word, spaces and all."""
    out, last = [], 0
    for start, end in sorted(protected):
        if start < last:
            continue
        out += [(last + m.start(), last + m.end(), m.group()) for m in _WORD.finditer(text[last:start])]
        out.append((start, end, text[start:end]))
        last = end
    out += [(last + m.start(), last + m.end(), m.group()) for m in _WORD.finditer(text[last:])]
    return out


def _rule_kind(chunk: str, lang: str, cues: list[Cue], words: list[str]) -> str | None:
    kinds = {c.kind for c in cues}
    for kind in ("prohibition", "negation", "restriction", "obligation", "condition"):
        if kind in kinds:
            return kind
    if _EN_CONDITION.search(chunk):
        return "condition"
    if _EN_ORDER.search(chunk) or _starts_with_instruction(words):
        return "imperative"
    if lang == "ko" and words and _korean_order(words[-1]):
        return "imperative"
    if _EN_PERMISSION.search(chunk) or (lang == "ko" and _korean_permission(words)):
        return "permission"
    return None


def _korean_permission(words: list[str]) -> bool:
    """할 수 있다, 가능하다: what a customer may do is a rule too."""
    return any(w.startswith(("있", "가능")) and i and words[i - 1] == "수" or "가능" in w for i, w in enumerate(words))


def _starts_with_instruction(words: list[str]) -> bool:
    """English imperative: the first word after a bullet or a ``Label:`` is an instruction verb."""
    for i, word in enumerate(words[:6]):
        core = word.strip(_EDGE).lower()
        if not core or re.fullmatch(r"[-*•>#\d.)]+", word):
            continue
        if word.endswith(":") and i < 4:
            continue  # "Security: never ..." -> look after the label
        return core in INSTRUCTION_VERBS
    return False


def _korean_order(last_word: str) -> bool:
    """A Korean sentence that ends in an order: -세요, -십시오, -라, 바랍니다."""
    morphs = korean.word_morphemes(last_word.strip(_EDGE))
    return any((m.tag == "EF" and m.form in _KO_ORDER_ENDINGS) or (m.form == "바라" and m.tag.startswith("VV"))
               for m in morphs)


def _covering(raw: list[tuple[int, int, str]], spans: list[tuple[int, int]], whole: bool = False) -> set[int]:
    """Indices of words that overlap (``whole``: lie inside) any span."""
    if not spans:
        return set()
    ends = [end for _, end, _ in raw]
    out = set()
    for s, e in spans:
        i = bisect.bisect_right(ends, s)  # the first word ending after the span starts
        while i < len(raw) and raw[i][0] < e:
            if not whole or (s <= raw[i][0] and raw[i][1] <= e):
                out.add(i)
            i += 1
    return out


def _number_context(raw: list[tuple[int, int, str]]) -> set[int]:
    """A number's unit (the word after it, and ``per X``) and the comparatives before it (more than, up to, within)."""
    out: set[int] = set()
    for i in [i for i, (_, _, word) in enumerate(raw) if _DIGIT.search(word)]:
        word = raw[i][2]
        for j in (i - 1, i - 2, i - 3):  # "more than", "at or below"
            if j >= 0 and raw[j][2].strip(_EDGE).lower() in _NUMBER_CONTEXT:
                out.add(j)
            else:
                break
        if i + 1 < len(raw) and not word.endswith((".", ",", ";", ":")) and raw[i + 1][2].strip(_EDGE).isalpha():
            out.add(i + 1)
            if raw[i + 1][2].lower() in ("per", "or") and i + 2 < len(raw):  # 5 per day, 18 or older
                out.add(i + 2)
            elif i + 2 < len(raw) and raw[i + 2][2].lower() == "per" and i + 3 < len(raw):
                out |= {i + 2, i + 3}
    return out


def _korean_negated_predicates(raw: list[tuple[int, int, str]], cues: list[Cue]) -> set[int]:
    """In Korean a negation often stands in its own word after the predicate it negates (복구할 수 없습니다,
    묻지 마세요, 하지 않습니다): that predicate (and the 수 before 없다) is kept with the cue."""
    starts = {start: i for i, (start, _, _) in enumerate(raw)}
    out: set[int] = set()
    for cue in cues:
        if cue.lang != "ko" or cue.kind not in ("negation", "prohibition"):
            continue
        i = starts.get(cue.start)
        if i is not None and i > 0:
            out.add(i - 1)
            if cue.text.startswith("수") and i > 1:
                out.add(i - 2)
    return out
