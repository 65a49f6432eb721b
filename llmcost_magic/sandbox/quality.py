"""The sandbox's quality model: simple, documented, reproducible.

Each model has a capability in [0, 1] and each evaluation item a difficulty in [0, 1]. An answer is
correct with probability ``sigmoid(K * (capability - difficulty)) * kept`` where ``kept`` is the
fraction of the item's required keywords still present in the prompt (compression that drops needed
context lowers accuracy). The draw is a hash of (seed, model, item id): the same run, the same result.

Router support: asked to classify a question's complexity, a model answers with the item's true
class (difficulty < 0.35 simple, < 0.6 moderate, else complex) with probability equal to its
capability, else a neighbouring class. Asked to state its confidence, a model says 0.70-0.99 when
its answer is right and 0.20-0.80 when it is wrong (so the cascade's default threshold of 0.7
catches ~five sixths of its mistakes and never escalates a right answer: on real models, calibrate it).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from importlib import resources
from typing import Any

K = 10.0
DEFAULT_CAPABILITY = 0.7
# Most specific prefix first.
CAPABILITIES: tuple[tuple[str, float], ...] = (
    ("gpt-4.1-nano", 0.45), ("gpt-4.1-mini", 0.66), ("gpt-4.1", 0.84),
    ("gpt-4o-mini", 0.56), ("gpt-4o", 0.80),
    ("gpt-5-nano", 0.55), ("gpt-5-mini", 0.72), ("gpt-5", 0.92),
    ("gpt-3.5", 0.40), ("gpt-4", 0.75),
    ("claude-3-haiku", 0.45), ("claude-3-5-haiku", 0.58), ("claude-haiku", 0.62),
    ("claude-3-5-sonnet", 0.82), ("claude-sonnet", 0.88), ("claude-opus", 0.93),
)


def capability(model: str) -> float:
    name = model.lower()
    return next((c for prefix, c in CAPABILITIES if name.startswith(prefix)), DEFAULT_CAPABILITY)


@functools.cache
def load_eval_set() -> tuple[dict[str, Any], ...]:
    """The labelled evaluation set: id, question, answer, wrong, difficulty, category, lang, keywords."""
    text = resources.files(__package__).joinpath("data", "eval_set.jsonl").read_text(encoding="utf-8")
    return tuple(json.loads(line) for line in text.splitlines() if line.strip())


def find_item(prompt: str) -> dict[str, Any] | None:
    """The evaluation item whose question appears in the prompt, if any; a compressed question is
    recognised when at least half of its words are still there (the item with the most wins)."""
    exact = next((item for item in load_eval_set() if item["question"] in prompt), None)
    if exact is not None:
        return exact
    present = set(_words(prompt))
    best, best_share = None, FUZZY_MATCH
    for item in load_eval_set():
        words = _question_words(item["question"])
        share = sum(w in present for w in words) / len(words) if words else 0.0
        if share >= best_share:
            best, best_share = item, share
    return best


FUZZY_MATCH = 0.5


def _words(text: str) -> list[str]:
    return [w.strip(".,:;!?'\"()[]“”‘’").lower() for w in text.split()]


@functools.cache
def _question_words(question: str) -> tuple[str, ...]:
    return tuple(w for w in _words(question) if len(w) > 2)


def p_correct(model: str, item: dict[str, Any], prompt: str) -> float:
    keywords = item.get("keywords") or []
    kept = sum(k.lower() in prompt.lower() for k in keywords) / len(keywords) if keywords else 1.0
    return kept / (1.0 + math.exp(-K * (capability(model) - item["difficulty"])))


def answers_correctly(model: str, item: dict[str, Any], prompt: str, seed: int) -> bool:
    draw = int.from_bytes(hashlib.sha256(f"{seed}\x1f{model}\x1f{item['id']}".encode()).digest()[:8], "big") / 2**64
    return draw < p_correct(model, item, prompt)


def is_correct(item: dict[str, Any], answer_text: str) -> bool:
    """Whether an answer (from the sandbox or a real model) contains the item's reference answer."""
    return item["answer"].lower() in answer_text.lower()


def _draw(*parts: object) -> float:
    return int.from_bytes(hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()[:8], "big") / 2**64


def complexity_of(item: dict[str, Any]) -> str:
    d = item["difficulty"]
    return "simple" if d < 0.35 else "moderate" if d < 0.6 else "complex"


def classify(model: str, item: dict[str, Any] | None, question: str, seed: int) -> str:
    """A JSON complexity verdict, right with probability equal to the model's capability."""
    levels = ["simple", "moderate", "complex"]
    truth = complexity_of(item) if item is not None else ("complex" if len(question) > 400 else "moderate")
    if _draw(seed, model, "classify", question) >= capability(model):
        i = levels.index(truth)
        truth = levels[i + 1] if i == 0 or (i == 1 and _draw(seed, question, "side") < 0.5) else levels[i - 1]
    return json.dumps({"complexity": truth})


def stated_confidence(model: str, item: dict[str, Any] | None, correct: bool | None, seed: int) -> float:
    u = _draw(seed, model, "confidence", item["id"] if item else "none")
    return 0.70 + 0.29 * u if correct in (True, None) else 0.20 + 0.60 * u
