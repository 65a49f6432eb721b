"""RouteLLM's router metrics (Ong et al., arXiv 2406.18665, section 5.1) on labelled items.

A router's score orders the items; sending the top share ``c`` to the strong model and the rest to the
weak one gives an accuracy ``r(c)``. PGR(c) = (r(c) - r_weak) / (r_strong - r_weak), the share of the
gap recovered; APGR is its area over c in [0, 1] (0.5 for a random router); CPT(x) is the smallest
share of strong calls whose PGR reaches x.

>>> import numpy as np
>>> weak, strong = np.array([1, 0, 1, 0]), np.array([1, 1, 1, 1])
>>> round(apgr(np.array([0, 1, 0, 1]), weak, strong), 3), cpt(np.array([0, 1, 0, 1]), weak, strong, 0.5)
(0.75, 0.25)
"""

from __future__ import annotations

import numpy as np


def quality_curve(scores: np.ndarray, weak: np.ndarray, strong: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(share of strong calls, accuracy) at every cut: the k highest scores go to the strong model.
    Tied scores are split evenly (their expected accuracy), so an uninformative router draws a straight line."""
    scores, weak, strong = (np.asarray(a, dtype=float) for a in (scores, weak, strong))
    n = len(scores)
    order = np.argsort(-scores, kind="stable")
    gain = (strong - weak)[order]
    sorted_scores = scores[order]
    # average the gain within each run of tied scores
    _, starts, counts = np.unique(-sorted_scores, return_index=True, return_counts=True)
    for start, count in zip(starts, counts):
        if count > 1:
            gain[start:start + count] = gain[start:start + count].mean()
    accuracy = (weak.sum() + np.concatenate([[0.0], np.cumsum(gain)])) / n
    return np.arange(n + 1) / n, accuracy


def pgr_curve(scores: np.ndarray, weak: np.ndarray, strong: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(share of strong calls, performance gap recovered)."""
    share, accuracy = quality_curve(scores, weak, strong)
    w, s = float(np.mean(weak)), float(np.mean(strong))
    return share, (accuracy - w) / (s - w) if s != w else np.zeros_like(accuracy)


def apgr(scores: np.ndarray, weak: np.ndarray, strong: np.ndarray) -> float:
    """Average performance gap recovered: the area under the PGR curve."""
    share, pgr = pgr_curve(scores, weak, strong)
    return float(np.trapezoid(pgr, share))


def cpt(scores: np.ndarray, weak: np.ndarray, strong: np.ndarray, target: float) -> float:
    """Call-performance threshold: the least share of strong calls that recovers ``target`` of the gap."""
    share, pgr = pgr_curve(scores, weak, strong)
    reached = np.flatnonzero(pgr >= target - 1e-12)
    return float(share[reached[0]]) if len(reached) else float("nan")


def share_for_accuracy(scores: np.ndarray, weak: np.ndarray, strong: np.ndarray, fraction: float = 0.95) -> float:
    """The least share of strong calls whose accuracy reaches ``fraction`` of the strong model's."""
    share, accuracy = quality_curve(scores, weak, strong)
    reached = np.flatnonzero(accuracy >= fraction * float(np.mean(strong)) - 1e-12)
    return float(share[reached[0]]) if len(reached) else float("nan")


def bootstrap(metric, scores: np.ndarray, weak: np.ndarray, strong: np.ndarray, *, rounds: int = 200,
              seed: int = 0) -> tuple[float, float]:
    """A 95% percentile interval of ``metric(scores, weak, strong)`` over items resampled with replacement."""
    rng = np.random.default_rng(seed)
    n = len(scores)
    values = []
    for _ in range(rounds):
        idx = rng.integers(0, n, n)
        if np.mean(strong[idx]) != np.mean(weak[idx]):
            values.append(metric(scores[idx], weak[idx], strong[idx]))
    low, high = np.nanpercentile(values, [2.5, 97.5]) if values else (float("nan"), float("nan"))
    return float(low), float(high)
