"""The semantic cache: serve a cached answer to a question that means the same, in the same context.

Embedding similarity alone cannot tell "turn on" from "turn off", nor "ship to Canada" from "ship to
Mexico". A hit therefore needs all of:

1. the same context (scope, model, system prompt, tools, parameters, earlier turns, user context key),
2. the guard (``semantic_guard.judge``): the same numbers, names, polarity and reversal, no antonym
   swapped in, and a similarity that clears the entry's threshold, plus a margin when the questions'
   content words differ (more when words were swapped than when words were added),
3. the entry's own threshold, learned from feedback (``semantic_feedback``): a rejected hit raises it,
   confirmed hits lower it within the user's error bound.

An optional verifier (a cheap model asked whether two questions ask the same thing) decides the pairs
that pass every rule but fall a little short of the similarity they need, when asking it costs less
than the answer it would save.

The embedder is USE multilingual v3 (``embedder.sentence_embedder``: 512-d, English and Korean, offline).
Vectors live in memory per context, loaded lazily from the store. A context up to ``EXACT_SEARCH_MAX``
entries is searched by numpy brute force; a larger one through an index of the vectors' sign bits
(faiss ``IndexBinaryFlat``, exact Hamming distance) whose nearest ``PREFILTER`` are then re-scored
exactly: memory, not arithmetic, bounds a brute-force search over 100k 512-d vectors.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..stores import CacheEntry, CacheStore
from .semantic_feedback import MAX_LOOSEN, FeedbackBook, learned_threshold
from .semantic_guard import VERIFY_BAND, judge, why_not_same

__all__ = ["DEFAULT_THRESHOLD", "SemanticIndex", "calibrate_threshold", "why_not_same"]

DEFAULT_THRESHOLD = 0.70
DEFAULT_ERROR_BOUND = 0.05
EXACT_SEARCH_MAX = 2048
PREFILTER = 64
_CANDIDATES = 8

Verifier = Callable[[str, str, CacheEntry], "bool | None"]  # None: not asked (e.g. it would cost more than it saves)


@dataclass
class _Bucket:
    keys: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    size: int = 0
    bits: Any = None  # a faiss IndexBinaryFlat over the sign bits once the bucket is large (False: no faiss)

    def append(self, key: str, question: str, vector: np.ndarray) -> None:
        if self.matrix.shape[0] == self.size:  # grow by doubling: appends stay O(1) amortised
            grown = np.zeros((max(64, 2 * self.size), vector.shape[0]), dtype=np.float32)
            if self.size:
                grown[: self.size] = self.matrix[: self.size]
            self.matrix = grown
        self.matrix[self.size] = vector
        self.keys.append(key)
        self.questions.append(question)
        self.size += 1
        if self.bits:
            self.bits.add(np.packbits(vector[None] > 0, axis=1))
        elif self.bits is None and self.size > EXACT_SEARCH_MAX:
            self.bits = _binary_index(self.matrix[: self.size])

    def nearest(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row indexes, similarities) of the rows nearest ``query``, best first."""
        if not self.bits:
            rows = np.arange(self.size)
        else:
            import faiss

            threads = faiss.omp_get_max_threads()
            faiss.omp_set_num_threads(1)  # one search is ~0.6 ms at 100k; OpenMP threads on a busy machine: ~100 ms
            try:
                _, found = self.bits.search(np.packbits(query[None] > 0, axis=1), PREFILTER)
            finally:
                faiss.omp_set_num_threads(threads)
            rows = found[0][found[0] >= 0]
        sims = self.matrix[rows] @ query
        order = np.argsort(-sims)[:_CANDIDATES]
        return rows[order], sims[order]


def _binary_index(matrix: np.ndarray) -> Any:
    try:
        import faiss
    except ImportError:  # without faiss a large context is searched by brute force (slower, as exact)
        return False
    index = faiss.IndexBinaryFlat(matrix.shape[1])
    index.add(np.packbits(matrix > 0, axis=1))
    return index


class SemanticIndex:
    """Vectors of cached questions, per context, searched by cosine similarity, the guard and feedback."""

    def __init__(self, store: CacheStore, embedder: Any = None, *, error_bound: float = DEFAULT_ERROR_BOUND) -> None:
        self.store = store
        self._embedder = embedder
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self.feedback = FeedbackBook(store)
        self.error_bound = error_bound
        self.rejections: dict[str, int] = {}  # guard reasons, counted
        self.audit: list[dict[str, Any]] = []  # served hits, newest last (in memory only, never in the ledger)

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from ..core.embedder import sentence_embedder

            self._embedder = sentence_embedder()
        return self._embedder

    def vector(self, text: str) -> np.ndarray:
        """The index's vector for ``text`` (unit length)."""
        v = self.embedder.embed([text])[0]
        return v / max(float(np.linalg.norm(v)), 1e-12)

    def _bucket(self, context: str, now: float) -> _Bucket:
        with self._lock:
            bucket = self._buckets.get(context)
            if bucket is None:
                bucket = self._buckets[context] = _Bucket()
                for entry in self.store.semantic_entries(context, now):
                    vector = np.frombuffer(entry.embedding, dtype=np.float32)
                    if vector.shape == (self.embedder.dim,):  # vectors of another embedder are left out
                        bucket.append(entry.key, entry.question, vector)
            return bucket

    def add(self, entry: CacheEntry) -> None:
        """Embed the entry's question (sets ``entry.embedding``) and index it."""
        vector = self.vector(entry.question)
        entry.embedding = vector.astype(np.float32).tobytes()
        bucket = self._bucket(entry.context, entry.created)
        with self._lock:
            bucket.append(entry.key, entry.question, vector)

    def threshold_for(self, key: str, base: float) -> float:
        """The similarity entry ``key`` needs for a same-content question (its learned threshold)."""
        return learned_threshold(self.feedback.get(key), base, self.error_bound)

    def search(self, context: str, question: str, now: float, threshold: float, *,
               read: Callable[[str, float], CacheEntry | None] | None = None,
               verifier: Verifier | None = None) -> tuple[CacheEntry, float] | None:
        """The best live entry whose question the guard accepts as the same as ``question``."""
        bucket = self._bucket(context, now)
        if not bucket.size or not question:
            return None
        rows, sims = bucket.nearest(self.vector(question))
        lowest = threshold - MAX_LOOSEN - (VERIFY_BAND if verifier is not None else 0.0)
        for row, similarity in zip(rows.tolist(), sims.tolist()):
            if similarity < lowest:
                break
            key, cached_question = bucket.keys[row], bucket.questions[row]
            entry_threshold = self.threshold_for(key, threshold)
            verdict = judge(question, cached_question, similarity, entry_threshold)
            why = verdict.reason
            if not verdict.same:
                if verifier is None or similarity < verdict.verify_from:
                    self.rejections[why.split(":")[0]] = self.rejections.get(why.split(":")[0], 0) + 1
                    continue
                entry = (read or self.store.get)(key, now)
                answer = verifier(question, cached_question, entry) if entry is not None else None
                if not answer:
                    if answer is False:
                        self.feedback.record(key, similarity, correct=False)
                    continue
                self.feedback.record(key, similarity, correct=True)
                why = f"{why}; the verifier said they ask the same thing"
            else:
                entry = (read or self.store.get)(key, now)
            if entry is not None:
                self.audit.append({"time": now, "question": question, "cached_question": entry.question,
                                   "similarity": round(similarity, 4), "threshold": round(verdict.needed, 4),
                                   "why_served": why, "key": entry.key})
                return entry, similarity
        return None

    def reject_hit(self, key: str, similarity: float) -> None:
        """A semantic hit the user rejected: the entry now needs a closer question."""
        self.feedback.record(key, similarity, correct=False)

    def confirm_hit(self, key: str, similarity: float) -> None:
        """A semantic hit the user confirmed: evidence toward a lower threshold for the entry."""
        self.feedback.record(key, similarity, correct=True)

    def reject(self, key: str) -> None:
        """A rejected (blocked) answer leaves the index."""
        with self._lock:
            for bucket in self._buckets.values():
                if key in bucket.keys:
                    bucket.matrix[bucket.keys.index(key)] = 0.0
                    bucket.questions[bucket.keys.index(key)] = ""

    def forget(self) -> None:
        """Drop every in-memory vector and feedback (after the store was cleared); reloaded on use."""
        with self._lock:
            self._buckets.clear()
        self.feedback.forget()


def calibrate_threshold(pairs: list[tuple[str, str, bool]], **options: Any) -> dict[str, Any]:
    """See :func:`~llmcost_magic.policies.semantic_calibration.calibrate_threshold`."""
    from .semantic_calibration import calibrate_threshold as calibrate

    return calibrate(pairs, **options)
