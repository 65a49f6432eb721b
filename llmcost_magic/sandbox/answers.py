"""Deterministic answer text: the same request always gets the same answer.

Lengths behave like a chat model's: verbose by default (about 150–400 tokens), short when the
prompt asks for brevity, exactly N words when it says "in at most N words", and cut by
``max_tokens`` / ``stop`` as the providers do.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass

from ..tokens import count_text_tokens, encoding_for_model, provider_for_model

_WORDS = (
    "the model tokens cost input output cache prompt request answer budget usage price call context system "
    "message stream latency quality route batch compress summary detail example step result value limit "
    "user data window rate plan review check test measure reduce keep send return choose reuse share"
).split()
_OPENERS = ("Sure.", "Here is an overview.", "Good question.", "In short:", "Let me explain.")
_KO_WORDS = "모델 토큰 비용 입력 출력 캐시 요청 답변 예산 사용량 가격 호출 문맥 시스템 메시지 요약 결과 단계".split()

_AT_MOST = re.compile(r"(?:at most|no more than|under|in)\s+(\d{1,4})\s+words", re.I)
_KO_AT_MOST = re.compile(r"(\d{1,4})\s*(?:단어|자)\s*(?:이내|이하)")
_BRIEF = re.compile(r"\b(be (?:concise|brief)|briefly|one sentence|short answer|tl;dr)\b|한 문장|간단히|짧게", re.I)


@dataclass(frozen=True)
class Answer:
    text: str
    output_tokens: int
    finish: str  # "stop", "length" (max_tokens), or "stop_sequence"


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def target_words(prompt: str, rng: random.Random) -> int:
    """How many words the simulated model wants to say for this prompt."""
    if m := _AT_MOST.search(prompt) or _KO_AT_MOST.search(prompt):
        return max(1, int(m.group(1)))
    if _BRIEF.search(prompt):
        return rng.randint(15, 35)
    return rng.randint(110, 300)


def compose(prompt: str, model: str, seed: int, *, core: str = "", instructions: str = "") -> str:
    """The full (uncut) answer to ``prompt`` (the question): ``core`` (e.g. the reference answer)
    first, then filler paragraphs; length instructions are read from the question and ``instructions``."""
    rng = _rng(seed, model, prompt)
    bank = _KO_WORDS if re.search(r"[\uac00-\ud7a3]", prompt) else _WORDS
    n = target_words(f"{prompt}\n{instructions}", rng)
    words = core.split() or (rng.choice(_OPENERS).split() if n > 12 else [])
    while len(words) < n:
        sentence = [rng.choice(bank) for _ in range(min(rng.randint(6, 14), n - len(words)))]
        sentence[0] = sentence[0].capitalize()
        sentence[-1] += "." + ("\n\n" if rng.random() < 0.25 else "")
        words.extend(sentence)
    return " ".join(words[: max(n, len(core.split()))]).replace("\n\n ", "\n\n").strip()


def finalize(text: str, model: str, max_tokens: int | None, stop: list[str] | None) -> Answer:
    """Apply ``stop`` sequences, then ``max_tokens``; count the output exactly as usage will report it."""
    if stop:
        cut = min((i for s in stop if s and (i := text.find(s)) >= 0), default=-1)
        if cut >= 0:
            text = text[:cut]
            return Answer(text, count_text_tokens(text, model), "stop_sequence")
    n = count_text_tokens(text, model)
    if max_tokens is not None and n > max_tokens:
        if provider_for_model(model) == "openai":
            enc = encoding_for_model(model)
            text = enc.decode(enc.encode_ordinary(text)[:max_tokens])
        else:
            words = text.split(" ")
            while words and count_text_tokens(" ".join(words), model) > max_tokens:
                words = words[: max(1, int(len(words) * 0.9)) - (len(words) == 1)]
            text = " ".join(words)
        return Answer(text, min(count_text_tokens(text, model), max_tokens), "length")
    return Answer(text, n, "stop")


SUMMARY_MARKER = "summarize the conversation so far"
_FACT = re.compile(r"\d|(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+")


def summarize(model: str, prompt: str, seed: int) -> str:
    """An extractive summary: the user's sentences that carry a fact (a number or a name), each kept
    with probability equal to the model's capability (a weaker model forgets more)."""
    from .quality import capability

    sentences = re.findall(r"user: ([^\n]+)", prompt)
    facts = [s.strip() for line in sentences for s in re.split(r"(?<=[.!?])\s+", line) if _FACT.search(s)]
    kept = [f for f in facts if _rng(seed, model, f).random() < capability(model)]
    return "The user said: " + " ".join(kept) if kept else "The user asked general questions."


CLASSIFY_MARKER = "classify the complexity"
CONFIDENCE_MARKER = "state your confidence"


def answer_for(model: str, prompt: str, question: str, seed: int, max_tokens: int | None, stop: list[str] | None,
               choice: int = 0) -> Answer:
    """The answer to ``question`` (the last user message) given the whole ``prompt``.

    An evaluation-set question is answered right or wrong by the quality model; anything else gets
    deterministic filler of a realistic length. Two documented behaviours serve the routers: a prompt
    asking to "classify the complexity" gets a JSON verdict, and one asking to "state your confidence"
    ends with ``Confidence: 0.NN`` (high when the answer is right, usually lower when it is wrong).
    One serves history summaries: "summarize the conversation so far" gets :func:`summarize`.
    """
    from .quality import answers_correctly, classify, find_item, stated_confidence

    item = find_item(question)
    lowered = prompt.lower()
    if CLASSIFY_MARKER in lowered:
        return finalize(classify(model, item, question, seed), model, max_tokens, stop)
    if SUMMARY_MARKER in lowered:
        return finalize(summarize(model, prompt, seed + choice), model, max_tokens, stop)
    core = ""
    correct = None
    if item is not None:
        correct = answers_correctly(model, item, prompt, seed + choice)
        core = f"The answer is: {item['answer'] if correct else item['wrong']}."
    text = compose(question, model, seed + choice, core=core, instructions=prompt)
    if CONFIDENCE_MARKER in lowered:
        text = f"{text}\nConfidence: {stated_confidence(model, item, correct, seed + choice):.2f}"
    return finalize(text, model, max_tokens, stop)
