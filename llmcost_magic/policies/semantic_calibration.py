"""Choosing the semantic cache's threshold from the user's own labelled pairs, honestly.

The similarities are the live index's (its embedder and normalisation) and a pair counts as served
only if the live guard lets it through at that threshold, so what is measured is what the cache does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .semantic_feedback import wilson_upper
from .semantic_guard import judge


def _wilson(k: int, n: int) -> tuple[float, float]:
    """The 95% Wilson interval of k out of n."""
    if n == 0:
        return (0.0, 1.0)
    return (round(1 - wilson_upper(n - k, n), 4), round(wilson_upper(k, n), 4))


def calibrate_threshold(pairs: list[tuple[str, str, bool]], *, index: Any, max_false_hit_rate: float = 0.0,
                        margin: float = 0.02) -> dict[str, Any]:
    """Recommend a threshold from labelled pairs ``(question, cached question, same_meaning)``.

    Finds the lowest threshold whose false-hit rate on the different-meaning pairs stays within
    ``max_false_hit_rate`` and recommends it plus ``margin``; reports, at the recommended threshold,
    recall (share of same-meaning pairs served) and precision with 95% Wilson intervals, so a small
    sample says how little it proves.

    >>> calibrate_threshold([("How do I reset it?", "How can I reset it?", True), ...], index=index)  # doctest: +SKIP
    """
    same = np.array([bool(p[2]) for p in pairs])
    sims = np.array([float(index.vector(a) @ index.vector(b)) for a, b, _ in pairs])

    def served(threshold: float) -> np.ndarray:
        return np.array([judge(b, a, s, threshold).same for (a, b, _), s in zip(pairs, sims)])

    safe = None
    for threshold in np.round(np.arange(0.99, 0.49, -0.01), 2):
        hits = served(float(threshold))
        false_rate = float(hits[~same].mean()) if (~same).any() else 0.0
        if false_rate > max_false_hit_rate:
            break
        safe = float(threshold)
    recommended = min(0.99, round((safe if safe is not None else 0.99) + margin, 2))
    hits = served(recommended)
    tp, fp = int((hits & same).sum()), int((hits & ~same).sum())
    return {
        "threshold": recommended,
        "lowest_safe_threshold": safe,
        "margin": margin,
        "recall": round(float(tp / same.sum()), 4) if same.any() else 0.0,
        "recall_ci95": _wilson(tp, int(same.sum())),
        "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
        "precision_ci95": _wilson(tp, tp + fp),
        "false_hits": fp,
        "false_hit_rate_ci95": _wilson(fp, int((~same).sum())),
        "pairs_same": int(same.sum()),
        "pairs_different": int((~same).sum()),
    }
