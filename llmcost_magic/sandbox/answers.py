"""Deterministic answer text: the same request always gets the same answer.

The words come from :mod:`.prose` (curated answers for the cookbook's questions, an honest simulated
note for any other); this module applies the length instructions and what the providers do:
``max_tokens`` cuts the answer (finish "length"), ``stop`` sequences end it early.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..core.tokens import count_text_tokens, encoding_for_model, provider_for_model
from .prose import _LONG, _TITLE, language, rng_for, sentences_for, shaped


@dataclass(frozen=True)
class Answer:
    text: str
    output_tokens: int
    finish: str  # "stop", "length" (max_tokens), or "stop_sequence"


def compose(prompt: str, model: str, seed: int, *, core: str = "", instructions: str = "") -> str:
    """The full (uncut) answer to ``prompt`` (the question); ``core`` is an evaluation item's answer
    (right or wrong, as the quality model drew it); length instructions are read from the question
    and ``instructions`` (the whole prompt)."""
    from .quality import capability

    sentences = sentences_for(prompt, model, seed, capability(model), core=core)
    rng = rng_for(seed, model, prompt)
    verbose = 0 if _TITLE.search(prompt) else round(rng.randint(110, 300) * (0.5 + 0.5 * capability(model)))
    if _LONG.search(prompt):
        verbose *= 3
    return shaped(sentences, f"{prompt}\n{instructions}", language(prompt), verbose_words=verbose, rng=rng)


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
    kept = [f for f in facts if rng_for(seed, model, f).random() < capability(model)]
    return "The user said: " + " ".join(kept) if kept else "The user asked general questions."


CLASSIFY_MARKER = "classify the complexity"
CONFIDENCE_MARKER = "state your confidence"


def answer_for(model: str, prompt: str, question: str, seed: int, max_tokens: int | None, stop: list[str] | None,
               choice: int = 0, recorded: Any = None) -> Answer:
    """The answer to ``question`` (the last user message) given the whole ``prompt``.

    An evaluation-set question is answered right or wrong by the quality model; anything else gets a
    readable answer from :mod:`.prose` (curated, or a clearly simulated note that restates it). Two documented behaviours serve the routers: a prompt
    asking to "classify the complexity" gets a JSON verdict, and one asking to "state your confidence"
    ends with ``Confidence: 0.NN`` (high when the answer is right, usually lower when it is wrong).
    One serves history summaries: "summarize the conversation so far" gets :func:`summarize`.
    With ``recorded`` (a :class:`.recorded.RecordedAnswers`), a recorded prompt gets its real answer.
    """
    from .quality import answers_correctly, classify, find_item, stated_confidence

    item = find_item(question)
    lowered = prompt.lower()
    if CLASSIFY_MARKER in lowered:
        return finalize(classify(model, item, question, seed), model, max_tokens, stop)
    if SUMMARY_MARKER in lowered:
        return finalize(summarize(model, prompt, seed + choice), model, max_tokens, stop)
    if recorded is not None and (replayed := recorded.answer(model, question, max_tokens, stop)) is not None:
        return replayed
    core = ""
    correct = None
    if item is not None:
        correct = answers_correctly(model, item, prompt, seed + choice)
        core = item["answer"] if correct else item["wrong"]
    text = compose(question, model, seed + choice, core=core, instructions=prompt)
    if CONFIDENCE_MARKER in lowered:
        text = f"{text}\nConfidence: {stated_confidence(model, item, correct, seed + choice):.2f}"
    return finalize(text, model, max_tokens, stop)
