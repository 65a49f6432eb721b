"""The RouteLLM-style table of routers on recorded answers: APGR with a bootstrap interval, CPT(50%),
CPT(80%), and the calls and dollars needed to reach 95% of the strong model's accuracy, next to the
random and oracle baselines.

Dollars use today's prices of the shipped tiers (strong -> the large tier's OpenAI model, weak -> the
small one's) and real token counts of the recorded prompts and answers, both counted with cl100k_base
(the few-shot prefixes RouteLLM sent are not in the file and are not counted; MMLU answers are one token).
An answer-checking router pays the weak call on every item, then the strong call where it escalates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.pricing import price_for
from ..core.tokens import _encoding
from . import metrics
from .recorded import ROUTERS, Source, load_recorded, router_scores, split_shared


def _tokens(texts: list[str | None], *, default: int = 0) -> np.ndarray:
    enc = _encoding("cl100k_base")
    return np.array([len(enc.encode_ordinary(t)) if isinstance(t, str) else default for t in texts], dtype=float)


def call_costs(items: pd.DataFrame, strong_model: str, weak_model: str) -> tuple[np.ndarray, np.ndarray]:
    """(strong, weak) dollars per item from real token counts of the recorded prompt and answers."""
    prompt = _tokens(items["prompt"].tolist())
    costs = []
    for model, column in ((strong_model, "strong_response"), (weak_model, "weak_response")):
        rates = price_for(model).rates
        answer = _tokens(items[column].tolist() if column in items else [None] * len(items), default=1)
        costs.append(prompt * rates.input + answer * rates.output)
    return costs[0], costs[1]


def _at_95(scores: np.ndarray, weak: np.ndarray, strong: np.ndarray, strong_usd: np.ndarray, weak_usd: np.ndarray,
           pays_weak_always: bool) -> tuple[float, float]:
    share = metrics.share_for_accuracy(scores, weak, strong, 0.95)
    if np.isnan(share):
        return share, float("nan")
    k = int(round(share * len(scores)))
    chosen = np.zeros(len(scores), dtype=bool)
    chosen[np.argsort(-scores, kind="stable")[:k]] = True
    usd = strong_usd[chosen].sum() + (weak_usd.sum() if pays_weak_always else weak_usd[~chosen].sum())
    return share, float(usd)


def evaluate_recorded(test: Source = None, train: Source = None, *, routers: list[str] | None = None,
                      strong_model: str | None = None, weak_model: str | None = None, rounds: int = 200) -> pd.DataFrame:
    """One row per (benchmark, router) on ``test`` (default: the shipped half's test split), routers trained
    on ``train`` (default: the shipped half's train split when ``test`` is also the default, else the
    whole shipped half). ``test`` needs the label columns here; the routers still never read them."""
    from ..policies.routing import load_tiers

    if test is None and train is None:
        train, test = split_shared()
    tiers = load_tiers()
    strong_model = strong_model or tiers.model(tiers.names[-1], "openai")
    weak_model = weak_model or tiers.model(tiers.names[0], "openai")
    items = load_recorded(test)
    scores = {name: router_scores(name, test=items, train=train) for name in routers or ROUTERS}
    strong_usd, weak_usd = call_costs(items, strong_model, weak_model)
    rows = []
    for bench in dict.fromkeys(items["benchmark"]):
        mask = (items["benchmark"] == bench).to_numpy()
        weak = items.loc[mask, "weak_correct"].to_numpy(dtype=float)
        strong = items.loc[mask, "strong_correct"].to_numpy(dtype=float)
        candidates = {"random": ("baseline", np.zeros(mask.sum())), "oracle": ("baseline", strong - weak)}
        candidates.update({name: (ROUTERS[name], s.to_numpy()[mask]) for name, s in scores.items()})
        for name, (kind, s) in candidates.items():
            low, high = metrics.bootstrap(metrics.apgr, s, weak, strong, rounds=rounds)
            share95, usd95 = _at_95(s, weak, strong, strong_usd[mask], weak_usd[mask], kind == "answer")
            rows.append({"benchmark": bench, "router": name, "kind": kind, "items": int(mask.sum()),
                         "apgr": metrics.apgr(s, weak, strong), "apgr_low": low, "apgr_high": high,
                         "cpt50": metrics.cpt(s, weak, strong, 0.5), "cpt80": metrics.cpt(s, weak, strong, 0.8),
                         "strong_calls_95": share95, "usd_95": usd95,
                         "usd_always_strong": float(strong_usd[mask].sum()), "usd_always_weak": float(weak_usd[mask].sum()),
                         "weak_accuracy": weak.mean(), "strong_accuracy": strong.mean()})
    return pd.DataFrame(rows).set_index(["benchmark", "router"])


def cost_quality_curve(test: Source = None, train: Source = None, *, router: str = "probe",
                       benchmark: str = "gsm8k") -> pd.DataFrame:
    """Accuracy at every share of strong calls for one router on one benchmark (for plotting)."""
    if test is None and train is None:
        train, test = split_shared()
    items = load_recorded(test)
    mask = (items["benchmark"] == benchmark).to_numpy()
    s = router_scores(router, test=items, train=train).to_numpy()[mask]
    share, accuracy = metrics.quality_curve(s, items.loc[mask, "weak_correct"].to_numpy(float),
                                            items.loc[mask, "strong_correct"].to_numpy(float))
    return pd.DataFrame({"strong_share": share, "accuracy": accuracy})
