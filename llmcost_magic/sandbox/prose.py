"""Readable simulated answers: sentences in the question's language, on topic, deterministic.

- The cookbook's own questions (its lessons and its support workload, English and Korean) match a
  curated answer in ``data/curated_answers.jsonl``: a list of key points, the first one the direct
  answer. A model keeps each further point with probability equal to its capability (see
  ``quality.capability``), so a smaller tier says less and misses more of what a full answer covers.
- A product-title request ("short title for: ...") gets a title built from the description.
- Any other question gets an honest reply, clearly marked as simulated, that restates the question.

Length instructions are obeyed: "in N sentences" keeps N sentences, "in at most N words" N words at
most, "briefly" / "한 문장" one or two sentences. Without one, the answer is padded with the generic
sentences chat models add ("I hope this helps."), to 110-300 words scaled by the tier's capability (three
times that, as far as the sentences go, when a long or detailed answer is asked for).
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import re
from importlib import resources
from typing import Any

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "한": 1, "두": 2, "세": 3, "네": 4}
_SENTENCES = re.compile(r"\b(one|two|three|four|five|\d)\s+sentences?\b|(한|두|세|네|\d)\s*문장", re.I)
_AT_MOST = re.compile(r"(?:at most|no more than|under|in)\s+(\d{1,4})\s+words", re.I)
_KO_AT_MOST = re.compile(r"(\d{1,4})\s*(?:단어|자)\s*(?:이내|이하)")
_BRIEF = re.compile(r"\b(be (?:concise|brief)|briefly|short answer|tl;dr)\b|간단히|짧게", re.I)
_LONG = re.compile(r"(?<!how )\blong\b|\b(?:detailed|in (?:more )?detail|essay|report|proposal)\b|자세히|길게", re.I)
_TITLE = re.compile(r"\b(?:short )?(?:product )?title\b[^:]*:\s*(?P<text>.+)$", re.I | re.S)


def rng_for(*parts: object) -> random.Random:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def language(text: str) -> str:
    return "ko" if _HANGUL.search(text) else "en"


@functools.cache
def curated() -> tuple[tuple[re.Pattern[str], dict[str, Any]], ...]:
    text = resources.files(__package__).joinpath("data", "curated_answers.jsonl").read_text(encoding="utf-8")
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    return tuple((re.compile(e["pattern"], re.I | re.M), e) for e in entries)


def find_curated(question: str) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The curated entry (first match, in the question's language) and the values its pattern captured."""
    lang = language(question)
    for pattern, entry in curated():
        if entry["lang"] == lang and (m := pattern.search(question)):
            return entry, {k: v for k, v in m.groupdict().items() if v is not None}
    return None


def sentence_limit(instructions: str) -> int | None:
    """How many sentences the instructions ask for ("in two sentences", "한 문장으로"), if they say."""
    if m := _SENTENCES.search(instructions):
        word = (m.group(1) or m.group(2)).lower()
        return int(word) if word.isdigit() else _NUMBER_WORDS.get(word)
    if _BRIEF.search(instructions):
        return 2
    return None


def word_limit(instructions: str) -> int | None:
    m = _AT_MOST.search(instructions) or _KO_AT_MOST.search(instructions)
    return max(1, int(m.group(1))) if m else None


def _kept_points(entry: dict[str, Any], values: dict[str, str], model: str, capability: float, seed: int,
                 question: str) -> list[str]:
    points = list(entry["points"])
    if entry.get("rotate"):
        shift = rng_for(question).randrange(len(points))
        points = points[shift:] + points[:shift]
    kept = [points[0]] + [p for i, p in enumerate(points[1:], 1) if rng_for(seed, model, entry["id"], i).random() < capability]
    kept = kept[: entry.get("max_points", len(kept))]
    return [p.format(**values) if values else p for p in kept]


def _title(description: str, lang: str) -> str:
    text = description.strip().strip("\"'“”").rstrip(".")
    if lang == "ko":
        if m := re.match(r"(?P<item>.+?),\s*(?P<years>\d+)년 보증$", text):
            return f"{m.group('years')}년 보증의 {m.group('item')}"
        return text
    text = re.sub(r"^(?:a|an|the)\s+", "", text, flags=re.I)
    text = re.sub(r"\bwith a (\d+)-year warranty\b", r"with \1-Year Warranty", text, flags=re.I)
    small = {"with", "and", "of", "for", "a", "an", "the", "in", "on"}
    words = text.split()
    return " ".join(w if (w.lower() in small and i) else w[:1].upper() + w[1:] for i, w in enumerate(words))


_SIMULATED = {
    "en": ('Simulated answer (offline sandbox, no model behind it). You asked: "{q}"',
           ["A real {model} would answer the question itself here; the sandbox only keeps the reply's length and cost realistic.",
            "Set an API key to get a real answer from the provider.",
            "The sandbox answers the cookbook's own questions with curated text, and every other question with a note like this one.",
            "Its replies are deterministic, so the same request always gets the same text and the same token counts.",
            "A larger tier writes a longer and more complete reply, and a smaller tier a shorter one.",
            "Nothing in this reply should be read as advice or as a fact about your question."]),
    "ko": ('모의 답변입니다(오프라인 샌드박스, 실제 모델 아님). 질문: "{q}"',
           ["실제 {model} 모델이라면 여기에서 질문에 직접 답했을 것이며, 샌드박스는 답변의 길이와 비용만 현실적으로 맞춥니다.",
            "실제 답변을 받으려면 API 키를 설정하세요.",
            "샌드박스는 쿡북에 나오는 질문에는 준비된 답변을, 그 밖의 질문에는 이런 안내문을 돌려줍니다.",
            "같은 요청에는 언제나 같은 답변과 같은 토큰 수가 나옵니다.",
            "큰 모델일수록 더 길고 자세한 답변을, 작은 모델일수록 더 짧은 답변을 씁니다.",
            "이 답변의 내용을 질문에 대한 사실이나 조언으로 받아들이지 마세요."]),
}
_CORE = {"en": "The answer is: {answer}.", "ko": "정답은 {answer}입니다."}
_CLOSING = {"en": "Let me know if you would like more detail on any of these points.",
            "ko": "더 궁금한 점이 있으면 말씀해 주세요."}


# What chat models add around the substance when nobody asks them to be brief: generic, but true anywhere.
_PADDING = {  # in the order they would appear; a reply uses some of them, in this order
    "en": ["It is worth checking the details against the official documentation, since settings and prices can change over time.",
           "If your situation is different from what I described, tell me a bit more and I will adjust the answer.",
           "If you try this and something does not work as expected, share what you see and we can troubleshoot it together.",
           "Many people run into the same question, so you are not alone in asking it.",
           "If anything is unclear, let me know and I can walk you through it step by step.",
           "I'm happy to go into more detail on any of these points.",
           "Let me know whether an example would be useful as well.",
           "Feel free to ask a follow-up question at any time.",
           "I hope this helps."],
    "ko": ["설정이나 가격은 바뀔 수 있으니 공식 문서에서 한 번 더 확인해 보시는 것이 좋습니다.",
           "상황이 제가 설명한 것과 다르다면 조금 더 알려 주세요. 그에 맞게 답변을 고쳐 드리겠습니다.",
           "해 보시고 예상과 다르게 동작하면 보이는 내용을 알려 주세요. 함께 해결해 보겠습니다.",
           "많은 분들이 같은 질문을 하시니 걱정하지 않으셔도 됩니다.",
           "이해가 어려운 부분이 있으면 말씀해 주세요. 단계별로 다시 안내해 드리겠습니다.",
           "어느 부분이든 더 자세히 설명해 드릴 수 있습니다.",
           "궁금한 점이 더 있으면 언제든 물어보세요.",
           "도움이 되었으면 좋겠습니다."],
}


def padding(sentences: list[str], lang: str, target_words: int, rng: random.Random) -> list[str]:
    """The generic sentences a chat model surrounds its answer with, to reach about ``target_words``."""
    bank = _PADDING[lang]
    words, chosen = sum(len(s.split()) for s in sentences), set()
    for i in rng.sample(range(len(bank)), len(bank)):
        if words >= target_words:
            break
        chosen.add(i)
        words += len(bank[i].split())
    return [bank[i] for i in sorted(chosen)]


def _restated(question: str) -> str:
    q = " ".join(question.split())
    return q if len(q) <= 160 else q[:157].rstrip() + "..."


def sentences_for(question: str, model: str, seed: int, capability: float, *, core: str = "") -> list[str]:
    """The answer's sentences before any length instruction is applied."""
    lang = language(question)
    if core:
        return [_CORE[lang].format(answer=core)]
    if m := _TITLE.search(question):
        return [_title(m.group("text"), language(m.group("text")))]
    found = find_curated(question)
    if found is not None:
        points = _kept_points(found[0], found[1], model, capability, seed, question)
        return points + ([_CLOSING[lang]] if len(points) >= 4 else [])
    opener, notes = _SIMULATED[lang]
    rng = rng_for(seed, model, question)
    extra = [n.format(model=model) for n in notes[:1]] + rng.sample(notes[1:], len(notes) - 1)
    keep = len(extra) if _LONG.search(question) else 1 + round(capability * (len(extra) - 1))
    first, _, asked = opener.partition(". ") if lang == "en" else opener.partition(" 질문")
    return [first + ("." if lang == "en" else ""), (asked if lang == "en" else "질문" + asked).format(q=_restated(question))] + extra[:keep]


def shaped(sentences: list[str], instructions: str, lang: str, *, verbose_words: int = 0,
           rng: random.Random | None = None) -> str:
    """Apply the sentence and word limits read from ``instructions``; with none, pad to ``verbose_words``
    (chat models are verbose by default); join in paragraphs."""
    limit, words_allowed = sentence_limit(instructions), word_limit(instructions)
    if limit is None and words_allowed is None and verbose_words:
        extra = padding(sentences, lang, verbose_words, rng or random.Random(0))
        paragraphs = [sentences[:2], sentences[2:], extra]
        return "\n\n".join(" ".join(p) for p in paragraphs if p)
    if limit is not None:
        sentences = sentences[:limit]
    if words_allowed is not None:
        out, used = [], 0
        for s in sentences:
            words = s.split()
            if used + len(words) > words_allowed:
                if not out:  # the first sentence alone is too long: cut it, as a model would
                    out.append(" ".join(words[:words_allowed]).rstrip(",;:") + "…")
                break
            out.append(s)
            used += len(words)
        sentences = out
    if len(sentences) <= 2:
        return " ".join(sentences)
    return " ".join(sentences[:2]) + "\n\n" + " ".join(sentences[2:])
