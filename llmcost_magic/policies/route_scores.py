"""Scores that a request needs the strong model (higher = more), learned from labelled examples.

Prompt-only scorers see the request alone; answer scorers also read the cheap model's answer.

- :class:`LengthScorer`: longer questions are harder (no training).
- :class:`KnnScorer`: the share of the k nearest labelled questions the weak model got wrong.
- :class:`ProbeScorer`: a ridge probe on the offline embedding, optionally with a few counted features
  (words, numbers, percentages, fractions, ...); one probe per group (e.g. benchmark). Trains in well
  under a second on CPU; the target is :func:`needs_strong` or :func:`weak_wrong_within`.
- :func:`answer_check_scores`: how many checks the cheap answer fails (see ``validators``), plus a
  prompt-only score to order the rest.

Labelled examples are rows with ``prompt`` and ``weak_correct`` / ``strong_correct`` (booleans).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from .validators import Validator, failed_checks, numeric_answer

_NUMBER_WORDS = re.compile(r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
                           r"thirty|forty|fifty|hundred|thousand|half|twice|double|triple|quarter|third|dozen)\b", re.I)
_FEATURES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((name, re.compile(p, re.I)) for name, p in (
    ("numbers", r"\d+(?:[.,]\d+)*"), ("percent", r"%|percent"), ("decimals", r"\d+\.\d+"),
    ("sentences", r"[.!?](?:\s|$)"), ("fractions", r"\d+/\d+"), ("dollars", r"\$"),
    ("rates", r"\b(?:each|per|every)\b"), ("comparisons", r"\b(?:more|less|fewer|than)\b"),
    ("sequence", r"\b(?:if|after|before|then|remaining|left|rest)\b"),
    ("time_units", r"\b(?:hours?|minutes?|days?|weeks?|months?|years?)\b"), ("symbols", r"[=+*/^]"),
    ("negations", r"\b(?:not|except|false|incorrect)\b"), ("roman_lists", r"\b(?:I|II|III|IV)\b"), ("lines", r"\n"),
))


def prompt_features(prompts: Sequence[str]) -> np.ndarray:
    """Counted features of each prompt: log words, words, number words, then the patterns above."""
    rows = []
    for p in prompts:
        words = len(p.split())
        rows.append([np.log1p(words), words, len(_NUMBER_WORDS.findall(p)), *(len(rx.findall(p)) for _, rx in _FEATURES)])
    return np.asarray(rows, dtype=np.float64).reshape(len(prompts), 3 + len(_FEATURES))


def embed(prompts: Sequence[str]) -> np.ndarray:
    """Offline embeddings (wordllama), memoised per text so train and test share the work."""
    from ..core.embedder import default_embedder

    missing = [p for p in dict.fromkeys(prompts) if _cached(p) is None]
    if missing:
        for text, row in zip(missing, default_embedder().embed(missing)):
            _store(text, row)
    return np.stack([np.frombuffer(_cached(p), dtype=np.float32) for p in prompts]) if prompts else np.zeros((0, 256), np.float32)


_EMBEDDINGS: dict[str, bytes] = {}


def _cached(text: str) -> bytes | None:
    return _EMBEDDINGS.get(text)


def _store(text: str, row: np.ndarray) -> None:
    if len(_EMBEDDINGS) > 200_000:
        _EMBEDDINGS.clear()
    _EMBEDDINGS[text] = row.astype(np.float32).tobytes()


def needs_strong(weak_correct: Sequence[bool], strong_correct: Sequence[bool]) -> np.ndarray:
    """The training target: +1 when only the strong model is right, -1 when only the weak one is, else 0."""
    return np.asarray(strong_correct, dtype=float) - np.asarray(weak_correct, dtype=float)


def weak_wrong_within(weak_correct: Sequence[bool], domains: Sequence[str]) -> np.ndarray:
    """1 where the weak model is wrong, minus its error rate in the item's domain: the item's difficulty
    relative to its domain (a probe trained on it learns what is hard, not which domains were)."""
    wrong = 1.0 - np.asarray(weak_correct, dtype=float)
    keys = np.asarray(domains, dtype=object)
    out = wrong.copy()
    for d in dict.fromkeys(keys):
        mask = keys == d
        out[mask] -= wrong[mask].mean()
    return out


def _ridge(x: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    x1 = np.c_[x, np.ones(len(x))]
    penalty = lam * np.eye(x1.shape[1])
    penalty[-1, -1] = 0.0  # the intercept is not shrunk
    return np.linalg.solve(x1.T @ x1 + penalty, x1.T @ y)


class LengthScorer:
    """Longer questions need the strong model more (a baseline that needs no labels)."""

    def fit(self, prompts: Sequence[str], target: np.ndarray, groups: Sequence[str] | None = None) -> LengthScorer:
        return self

    def score(self, prompts: Sequence[str], groups: Sequence[str] | None = None) -> np.ndarray:
        return np.array([len(p.split()) for p in prompts], dtype=float)


class KnnScorer:
    """The mean target of the ``k`` most similar labelled prompts (cosine, offline embedding)."""

    def __init__(self, k: int = 20) -> None:
        self.k = k

    def fit(self, prompts: Sequence[str], target: np.ndarray, groups: Sequence[str] | None = None) -> KnnScorer:
        self._matrix, self._target = embed(prompts), np.asarray(target, dtype=float)
        return self

    def score(self, prompts: Sequence[str], groups: Sequence[str] | None = None) -> np.ndarray:
        sims = embed(prompts) @ self._matrix.T
        k = min(self.k, sims.shape[1])
        nearest = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        return self._target[nearest].mean(axis=1)


class ProbeScorer:
    """A ridge probe on [standardised counted features, embedding], one per group (e.g. benchmark).

    ``counts=False`` uses the embedding alone (what transfers best to unseen MMLU domains here)."""

    def __init__(self, lam: float = 100.0, *, counts: bool = True, embedding_weight: float = 1.0) -> None:
        self.lam, self.counts, self.embedding_weight = lam, counts, embedding_weight
        self._models: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def _design(self, prompts: Sequence[str], mean: np.ndarray, std: np.ndarray) -> np.ndarray:
        vectors = embed(prompts) * self.embedding_weight
        return np.c_[(prompt_features(prompts) - mean) / std, vectors] if self.counts else vectors

    def fit(self, prompts: Sequence[str], target: np.ndarray, groups: Sequence[str] | None = None) -> ProbeScorer:
        groups = list(groups) if groups is not None else ["all"] * len(prompts)
        target = np.asarray(target, dtype=float)
        for group in [*dict.fromkeys(groups), "all"]:
            idx = [i for i, g in enumerate(groups) if g == group or group == "all"]
            if len(idx) < 10 or group in self._models:
                continue
            chosen = [prompts[i] for i in idx]
            mean = std = np.zeros(0)
            if self.counts:  # the counted features only when used: their regexes are the slow part
                features = prompt_features(chosen)
                mean, std = features.mean(axis=0), features.std(axis=0) + 1e-9
            self._models[group] = (_ridge(self._design(chosen, mean, std), target[idx], self.lam), mean, std)
        return self

    def score(self, prompts: Sequence[str], groups: Sequence[str] | None = None) -> np.ndarray:
        if not self._models:
            raise RuntimeError("ProbeScorer.fit needs at least 10 labelled examples first")
        groups = list(groups) if groups is not None else ["all"] * len(prompts)
        out = np.zeros(len(prompts))
        for group in dict.fromkeys(groups):
            idx = [i for i, g in enumerate(groups) if g == group]
            weights, mean, std = self._models.get(group) or self._models["all"]
            design = self._design([prompts[i] for i in idx], mean, std)
            out[idx] = np.c_[design, np.ones(len(idx))] @ weights
        return out


DEFAULT_CHECKS: tuple[Validator, ...] = (numeric_answer(), numeric_answer(whole=True))


def answer_check_scores(answers: Sequence[str | None], prompt_scores: np.ndarray | None = None,
                        checks: Sequence[Validator] = DEFAULT_CHECKS) -> np.ndarray:
    """Failed checks per cheap answer (each counts 10), plus the standardised prompt score to order
    answers that fail as many checks; an item with no answer gets only its prompt score."""
    prompt_scores = np.zeros(len(answers)) if prompt_scores is None else np.asarray(prompt_scores, dtype=float)
    spread = prompt_scores.std() or 1.0
    ordered = (prompt_scores - prompt_scores.mean()) / spread
    failed = np.array([len(failed_checks(a, checks)) if isinstance(a, str) else 0 for a in answers], dtype=float)
    return failed * 10.0 + ordered
