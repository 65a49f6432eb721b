"""Per-entry thresholds learned from feedback, in the spirit of vCache (arXiv 2502.03771).

Each cached question keeps the similarities of the hits it served that the user (or the verifier)
confirmed or rejected. Its threshold starts at the cache's threshold; a rejected hit raises it above
that hit's similarity at once; confirmed hits lower it, but only to a similarity below which no hit was
rejected and where the 95% upper confidence bound (Wilson) on the error rate of the hits at or above
it is within the user's ``error_bound``, and never more than ``MAX_LOOSEN`` below the cache's threshold.
With no error seen, loosening to a bound of 5% takes 73 confirmations, 10%: 35, 20%: 16 (the bound is a
promise about observed hits, so it needs observations).

Feedback is kept in the cache store (one JSON value), so a room's kernels share it; two kernels
writing feedback at the same moment keep the last write.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field
from typing import Any

MAX_LOOSEN = 0.08
TIGHTEN_STEP = 0.01
_META = "semantic-feedback"


@dataclass
class EntryFeedback:
    confirmed: list[float] = field(default_factory=list)
    rejected: list[float] = field(default_factory=list)


def wilson_upper(errors: int, n: int, z: float = 1.96) -> float:
    """The upper end of the Wilson score interval for ``errors`` out of ``n``."""
    if n == 0:
        return 1.0
    p = errors / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return min(1.0, (centre + spread) / (1 + z * z / n))


def learned_threshold(feedback: EntryFeedback | None, base: float, error_bound: float) -> float:
    """The similarity an entry needs, given its feedback (see the module docstring)."""
    if feedback is None:
        return base
    worst_rejected = max(feedback.rejected, default=-1.0)
    threshold = max(base, worst_rejected + TIGHTEN_STEP)
    floor = max(base - MAX_LOOSEN, worst_rejected + TIGHTEN_STEP)
    for s in sorted(feedback.confirmed):
        if s >= threshold:
            break
        if s < floor:
            continue
        good = sum(1 for x in feedback.confirmed if x >= s)
        bad = sum(1 for x in feedback.rejected if x >= s)
        if wilson_upper(bad, good + bad) <= error_bound:
            return s
    return threshold


class FeedbackBook:
    """Feedback per entry key, loaded from and saved to the store."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._entries: dict[str, EntryFeedback] | None = None

    def _load(self) -> dict[str, EntryFeedback]:
        if self._entries is None:
            raw = None
            try:
                raw = self.store.get_meta(_META)
                data = json.loads(raw) if raw else {}
                self._entries = {k: EntryFeedback([float(x) for x in v.get("c", [])], [float(x) for x in v.get("r", [])])
                                 for k, v in data.items()}
            except (ValueError, TypeError, AttributeError):  # unreadable feedback: start afresh
                self._entries = {}
        return self._entries

    def get(self, key: str) -> EntryFeedback | None:
        with self._lock:
            return self._load().get(key)

    def record(self, key: str, similarity: float, correct: bool) -> None:
        with self._lock:
            entry = self._load().setdefault(key, EntryFeedback())
            (entry.confirmed if correct else entry.rejected).append(round(float(similarity), 4))
            data = {k: {"c": v.confirmed, "r": v.rejected} for k, v in self._load().items()}
            self.store.put_meta(_META, json.dumps(data).encode())

    def forget(self) -> None:
        with self._lock:
            self._entries = None
