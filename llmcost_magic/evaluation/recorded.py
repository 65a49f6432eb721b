"""Routers measured on real recorded answers (RouteLLM's GPT-4 vs Mixtral on GSM8K and MMLU).

The shipped file (``data/routellm``) is RouteLLM's shared half. :func:`split_shared` cuts it in two:
GSM8K by a hash of the item id (330 / 330), MMLU by domain (14 domains to train on, 14 unseen ones to
report on), so the MMLU numbers are for domains a router never saw.

Routers (``ROUTERS``): "prompt" ones decide from the request alone, "answer" ones read the weak model's
recorded answer first (GSM8K only: MMLU's one-token answers were not recorded, so there
"answer-checks+probe" is the probe and "answer-checks" alone scores every item the same). A router never reads labels, answers of the strong model or reference answers
from the test file: those columns are dropped before it sees the rows.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..policies.route_scores import (KnnScorer, LengthScorer, ProbeScorer, answer_check_scores, needs_strong,
                                     weak_wrong_within)

LABELS = ("strong_correct", "weak_correct", "strong_response", "reference_answer")
ROUTERS: dict[str, str] = {
    "length": "prompt",
    "knn": "prompt",
    "probe": "prompt",
    "answer-checks": "answer",
    "answer-checks+probe": "answer",
}
_PROMPT_SCORERS: dict[str, Callable[[], object]] = {"length": LengthScorer, "knn": KnnScorer}
Source = str | Path | pd.DataFrame | None


def shipped_path() -> Path:
    """The shipped shared half (gzipped JSONL)."""
    return Path(str(resources.files("llmcost_magic").joinpath("data", "routellm", "routellm_shared.jsonl.gz")))


@functools.lru_cache(maxsize=8)
def _read(path: str, mtime: float) -> pd.DataFrame:
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return pd.read_json(io.BytesIO(raw), lines=True, dtype={"id": str})


def load_recorded(source: Source = None) -> pd.DataFrame:
    """Recorded items from a JSONL file (gzipped or not), a DataFrame, or None for the shipped file."""
    if isinstance(source, pd.DataFrame):
        return source.copy()
    path = Path(source) if source is not None else shipped_path()
    return _read(str(path), path.stat().st_mtime).copy()


def _in_test(key: str) -> bool:
    return hashlib.sha256(key.encode()).digest()[0] % 2 == 1


def split_shared(source: Source = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) halves of the shared file: GSM8K by item id, MMLU by domain (unseen in training)."""
    data = load_recorded(source)
    key = np.where(data["benchmark"] == "gsm8k", data["id"], data["domain"])
    test = np.array([_in_test(k) for k in key])
    return data[~test].reset_index(drop=True), data[test].reset_index(drop=True)


def _without_labels(data: pd.DataFrame) -> pd.DataFrame:
    return data.drop(columns=[c for c in LABELS if c in data.columns])


class _BenchmarkProbe:
    """The probe recipe per benchmark (see docs/design.md): GSM8K, one task, learns ``needs_strong`` from
    counted features and the embedding (chosen by cross-validation inside the training split); MMLU, many
    domains, learns each item's difficulty within its domain from the embedding alone (chosen over random
    domain halves of the whole shared half, since the training split's 13 domains alone favoured nothing)."""

    def fit(self, train: pd.DataFrame) -> _BenchmarkProbe:
        math = train["benchmark"] == "gsm8k"
        self.math = ProbeScorer(100.0, counts=True).fit(
            train.loc[math, "prompt"].tolist(), needs_strong(train.loc[math, "weak_correct"], train.loc[math, "strong_correct"]))
        rest = train[~math] if (~math).sum() >= 10 else train
        self.other = ProbeScorer(100.0, counts=False).fit(
            rest["prompt"].tolist(), weak_wrong_within(rest["weak_correct"], rest["domain"]))
        return self

    def score(self, prompts: list[str], groups: list[str]) -> np.ndarray:
        out = np.zeros(len(prompts))
        for is_math, scorer in ((True, self.math), (False, self.other)):
            idx = [i for i, g in enumerate(groups) if (g == "gsm8k") == is_math]
            if idx and scorer._models:
                out[idx] = scorer.score([prompts[i] for i in idx])
        return out


def _trained(name: str, train: pd.DataFrame):
    if name == "probe":
        return _BenchmarkProbe().fit(train)
    target = needs_strong(train["weak_correct"], train["strong_correct"])
    return _PROMPT_SCORERS[name]().fit(train["prompt"].tolist(), target, train["benchmark"].tolist())


def router_scores(name: str, test: Source = None, train: Source = None) -> pd.Series:
    """The router's score that each item of ``test`` needs the strong model (higher = more), indexed by id.

    ``train``: labelled items to learn from (default: the shipped shared half). ``test``: items to score
    (default: the shipped half's test split); its label columns, if any, are never read.
    """
    if name not in ROUTERS:
        raise ValueError(f"Unknown router {name!r}: use one of {', '.join(ROUTERS)}.")
    if test is None:
        test = split_shared()[1]
    items = _without_labels(load_recorded(test))
    prompts, groups = items["prompt"].astype(str).tolist(), items["benchmark"].astype(str).tolist()
    train_rows = load_recorded(train).dropna(subset=["weak_correct", "strong_correct"])
    scorer = _trained("probe" if ROUTERS[name] == "answer" else name, train_rows)
    scores = scorer.score(prompts, groups)
    if ROUTERS[name] == "answer":
        answers = items["weak_response"].tolist() if "weak_response" in items else [None] * len(items)
        answers = [a if isinstance(a, str) else None for a in answers]
        checked = np.zeros(len(items))
        for group in dict.fromkeys(groups):  # the prompt score is standardised within each benchmark
            idx = [i for i, g in enumerate(groups) if g == group]
            prompt_part = scores[idx] if name.endswith("+probe") else None
            checked[idx] = answer_check_scores([answers[i] for i in idx], prompt_part)
        scores = checked
    return pd.Series(scores, index=pd.Index(items["id"].astype(str), name="id"), name=name)
