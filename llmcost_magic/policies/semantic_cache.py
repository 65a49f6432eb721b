"""The semantic cache: serve a cached answer to a question that means the same, in the same context.

Embedding similarity alone cannot tell "turn on" from "turn off" (0.97 with the static embedder),
nor "weather in Seoul" from "weather in Busan". A hit therefore needs all of:

1. the same context (model, system prompt, tools, parameters, earlier turns, user context key),
2. similarity >= the threshold (default 0.92), and
3. the guard: the same numbers, the same proper nouns, the same polarity words (on/off, enable/
   disable, not, 켜다/끄다, ...), and not a one- or two-word substitution of an otherwise identical
   question (which changes what is asked far more often than it paraphrases it).

Vectors live in memory per context, loaded lazily from the cache store, and are searched by numpy
brute force. The search is bound by memory bandwidth, so the index keeps the first ``INDEX_DIM``
of the embedder's 256 dimensions (wordllama is trained so that a prefix is itself an embedding):
half the memory and time, with the same hit and false-hit rates on the labelled pairs.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..stores import CacheEntry, CacheStore

DEFAULT_THRESHOLD = 0.92
INDEX_DIM = 128

_WORD = re.compile(r"[\w']+", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_STOP = frozenset(
    "a an the is are was were be been do does did can could would should will shall may might must i my me we our "
    "you your it its this that these those to of in on at for with from by as and or how what which who whom where "
    "when why please there here is it's what's whats possible way steps usually also just any some".split()
) - {"on", "in"}
# Words whose presence or absence flips what is asked.
_POLARITY = frozenset(
    "not no never none nothing without don't doesn't didn't isn't aren't wasn't can't cannot won't shouldn't "
    "on off enable disable enabled disabled activate deactivate start stop open close add remove delete create "
    "increase decrease raise lower upgrade downgrade subscribe unsubscribe lock unlock show hide allow deny block "
    "unblock include exclude import export upload download before after more less max min maximum minimum "
    "first last highest lowest best worst buy sell accept reject true false yes in out".split()
)
# Korean opposites and negation markers, matched as substrings (Korean attaches endings to stems).
_KO_OPPOSITES = (("켜", "끄"), ("활성화", "비활성화"), ("추가", "삭제"), ("증가", "감소"), ("시작", "중지"),
                 ("가입", "탈퇴"), ("열", "닫"), ("잠금", "잠금 해제"), ("업로드", "다운로드"), ("전", "후"))
_KO_NEGATION = ("않", "안 ", "못", "없", "비활성")


_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_KO_STOP = frozenset({"어떻", "있나", "있습", "되나", "보통", "할", "수", "하나", "해야", "대해"})


def _words(text: str) -> list[str]:
    """Lower-cased words; a Korean word by its first two syllables, so particles and endings
    (정책이 / 정책은, 해지하나요 / 해지할) do not count as different words."""
    out = []
    for word in _WORD.findall(text):
        if _HANGUL.match(word):
            stem = word[:2]
            if stem not in _KO_STOP:
                out.append(stem)
        else:
            out.append(word.lower())
    return out


def _proper_nouns(text: str) -> set[str]:
    """Capitalised words that do not start a sentence ("Thanks!" after a question is not a name)."""
    names = set()
    for sentence in re.split(r"(?<=[.!?。])\s+", text):
        words = _WORD.findall(sentence)
        names.update(w.lower() for w in words[1:] if w[:1].isupper() and w.lower() not in _STOP)
    return names


def _content(words: list[str]) -> set[str]:
    return {w for w in words if w not in _STOP and len(w) > 1}


def why_not_same(new: str, cached: str) -> str | None:
    """The reason two similar questions must not share an answer, or None when they may."""
    if set(_NUMBER.findall(new)) != set(_NUMBER.findall(cached)):
        return "different numbers"
    if _proper_nouns(new) != _proper_nouns(cached):
        return "different names"
    a, b = _words(new), _words(cached)
    if (set(a) & _POLARITY) != (set(b) & _POLARITY):
        return "different polarity"
    for left, right in _KO_OPPOSITES:
        if (left in new and right not in new) != (left in cached and right not in cached) or (right in new) != (right in cached):
            return "different polarity"
    if any((marker in new) != (marker in cached) for marker in _KO_NEGATION):
        return "different polarity"
    ca, cb = _content(a), _content(b)
    changed = ca ^ cb
    if changed and len(changed) <= 4 and len(ca & cb) >= max(len(ca), len(cb)) - 2 and len(ca - cb) and len(cb - ca):
        return "a word swapped for another"
    if not a and not b:
        return None
    return None


@dataclass
class _Bucket:
    keys: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    size: int = 0

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


class SemanticIndex:
    """Vectors of cached questions, per context, searched by cosine similarity plus the guard."""

    def __init__(self, store: CacheStore, embedder: Any = None) -> None:
        self.store = store
        self._embedder = embedder
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self.rejections: dict[str, int] = {}  # guard reasons, counted
        self.audit: list[dict[str, Any]] = []  # served hits, newest last (in memory only, never in the ledger)

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from ..embedder import default_embedder

            self._embedder = default_embedder()
        return self._embedder

    def vector(self, text: str) -> np.ndarray:
        """The index's vector for ``text``: the embedding's first INDEX_DIM dimensions, unit length."""
        v = self.embedder.embed([text])[0][:INDEX_DIM]
        return v / max(float(np.linalg.norm(v)), 1e-12)

    def _bucket(self, context: str, now: float) -> _Bucket:
        with self._lock:
            bucket = self._buckets.get(context)
            if bucket is None:
                bucket = self._buckets[context] = _Bucket()
                for entry in self.store.semantic_entries(context, now):
                    bucket.append(entry.key, entry.question, np.frombuffer(entry.embedding, dtype=np.float32))
            return bucket

    def add(self, entry: CacheEntry) -> None:
        """Embed the entry's question (sets ``entry.embedding``) and index it."""
        vector = self.vector(entry.question)
        entry.embedding = vector.astype(np.float32).tobytes()
        bucket = self._bucket(entry.context, entry.created)
        with self._lock:
            bucket.append(entry.key, entry.question, vector)

    def reject(self, key: str) -> None:
        """A served answer the user rejected: it leaves the index."""
        with self._lock:
            for bucket in self._buckets.values():
                if key in bucket.keys:
                    bucket.matrix[bucket.keys.index(key)] = 0.0

    def forget(self) -> None:
        """Drop every in-memory vector (after the store was cleared); reloaded from the store on use."""
        with self._lock:
            self._buckets.clear()

    def search(self, context: str, question: str, now: float, threshold: float,
               read: Any = None) -> tuple[CacheEntry, float] | None:
        """The best live entry with similarity >= threshold that passes the guard."""
        bucket = self._bucket(context, now)
        if not bucket.size or not question:
            return None
        query = self.vector(question)
        sims = bucket.matrix[: bucket.size] @ query
        candidates = np.flatnonzero(sims >= threshold)
        for index in candidates[np.argsort(-sims[candidates])][:8]:
            reason = why_not_same(question, bucket.questions[index])
            if reason is not None:
                self.rejections[reason] = self.rejections.get(reason, 0) + 1
                continue
            entry = (read or self.store.get)(bucket.keys[index], now)
            if entry is not None:
                self.audit.append({"time": now, "question": question, "cached_question": entry.question,
                                   "similarity": round(float(sims[index]), 4), "key": entry.key})
                return entry, float(sims[index])
        return None


def calibrate_threshold(pairs: list[tuple[str, str, bool]], *, embedder: Any = None,
                        max_false_hit_rate: float = 0.01) -> dict[str, float]:
    """Recommend a threshold from labelled pairs ``(question, cached question, same_meaning)``.

    Returns the lowest threshold whose false-hit rate (guard included) stays within
    ``max_false_hit_rate``, with its hit rate on the true pairs.
    """
    if embedder is None:
        from ..embedder import default_embedder

        embedder = default_embedder()
    a = embedder.embed([p[0] for p in pairs])
    b = embedder.embed([p[1] for p in pairs])
    sims = (a * b).sum(axis=1)
    allowed = np.array([why_not_same(p[0], p[1]) is None for p in pairs])
    same = np.array([p[2] for p in pairs])
    best = {"threshold": 1.0, "hit_rate": 0.0, "false_hit_rate": 0.0}
    for threshold in np.round(np.arange(0.99, 0.49, -0.01), 2):
        served = (sims >= threshold) & allowed
        false_rate = float(served[~same].mean()) if (~same).any() else 0.0
        if false_rate > max_false_hit_rate:
            break
        best = {"threshold": float(threshold), "hit_rate": float(served[same].mean()) if same.any() else 0.0,
                "false_hit_rate": false_rate}
    return best
