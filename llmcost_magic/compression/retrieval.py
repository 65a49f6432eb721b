"""RAG context trimming: drop near-duplicate chunks, then keep the most relevant ones that fit."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from ..core.tokens import count_text_tokens
from .base import Compressed, check_query, check_rate, check_text
from .meaning import analyse

DEFAULT_RATE = 0.5
DUPLICATE_SIMILARITY = 0.95
_CHUNK_SPLIT = re.compile(r"\n\s*(?:-{3,}|={3,})\s*\n|\n\s*\n(?=\s*(?:\[\d+\]|Document\s+\d+|Source\s*[:：]|문서\s*\d+))", re.I)


def trim_context(chunks: Sequence[str], query: str, *, budget_tokens: int, model: str = "gpt-4o",
                 duplicate_similarity: float = DUPLICATE_SIMILARITY, pinned: Sequence[int] = ()) -> list[int]:
    """Indices (original order) of the chunks to keep: the ``pinned`` ones always, then near-duplicates
    dropped and the rest by relevance to ``query`` until ``budget_tokens`` is reached (the most relevant
    chunk is always kept)."""
    if not chunks:
        return []
    from ..core.embedder import default_embedder

    vectors = default_embedder().embed([query, *chunks])
    relevance = vectors[1:] @ vectors[0]
    order = sorted(range(len(chunks)), key=lambda i: (i not in pinned, -float(relevance[i]), i))
    kept: list[int] = []
    kept_vectors = np.empty((len(chunks), vectors.shape[1]), dtype=vectors.dtype)  # rows 0..len(kept)-1 in use
    used, ranked = 0, False  # ranked: a chunk kept for its relevance (the most relevant one always is)
    for i in order:
        if i in pinned:
            kept_vectors[len(kept)] = vectors[1 + i]
            kept.append(i)
            used += count_text_tokens(chunks[i], model)
            continue
        tokens = count_text_tokens(chunks[i], model)
        if ranked and used + tokens > budget_tokens:
            continue
        if kept and float((kept_vectors[: len(kept)] @ vectors[1 + i]).max()) >= duplicate_similarity:
            continue  # a near-duplicate of a more relevant chunk already kept
        kept_vectors[len(kept)] = vectors[1 + i]
        kept.append(i)
        used += tokens
        ranked = True
    return sorted(kept)


_LABELLED = re.compile(r"\s*(?:\[\d+\]|Document\s+\d+|Source\s*[:：]|문서\s*\d+)", re.I)


def _states_a_rule(chunk: str) -> bool:
    return any(sentence.rule is not None for sentence in analyse(chunk).sentences)


class RagCompressor:
    """Retrieved chunks (separated by ``---`` lines, or starting ``[1]``, ``Document 2``, ``Source:``)
    are cut to ``rate`` of the tokens by relevance to the query. The prompt's own instructions are kept
    whole whatever their relevance: beside labelled documents, every unlabelled piece; when no piece is
    labelled, those that state a rule (never, do not, only if, 절대, 마세요...: ``compression.meaning``).
    The note says when that keeps the rate out of reach."""

    name = "rag"

    def compress(self, text: str, *, rate: float | None = None, query: str = "", model: str = "gpt-4o") -> Compressed:
        check_text(text, self.name)
        rate = check_rate(rate, self.name) or DEFAULT_RATE
        check_query(query, self.name, "to rank chunks by")
        chunks = [c for c in _CHUNK_SPLIT.split(text) if c.strip()]
        if len(chunks) < 2:
            return Compressed(text, text, self.name, rate, model, note="no-op: fewer than two context chunks found")
        budget = int(rate * count_text_tokens(text, model))
        own = [i for i, chunk in enumerate(chunks) if not _LABELLED.match(chunk)]
        # Beside labelled documents, an unlabelled piece is the prompt's own text; among unlabelled pieces
        # only, those that state a rule are.
        rules = own if len(own) < len(chunks) else [i for i in own if _states_a_rule(chunks[i])]
        kept = trim_context(chunks, query, budget_tokens=budget, model=model, pinned=rules)
        note = "" if len(kept) < len(chunks) else "no-op: every chunk fits the budget and none is a duplicate"
        if rules and sum(count_text_tokens(chunks[i], model) for i in rules) > budget:
            note = f"rate {rate:g} could not be reached without dropping instructions: {len(rules)} piece(s) kept whole"
        return Compressed(text, "\n---\n".join(chunks[i].strip("\n") for i in kept), self.name, rate, model, note=note)
