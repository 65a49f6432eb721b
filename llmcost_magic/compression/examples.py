"""Few-shot pruning: keep the k examples most similar to the question (offline embedder)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .base import Compressed, CompressionError, check_query, check_rate, check_text

DEFAULT_RATE = 0.5
_EXAMPLE_START = re.compile(r"^\s*(?:#+\s*)?(?:Example|Q:|Question:|Input:|User:|예시|예제|질문[:：])", re.I)


def prune_examples(examples: Sequence[str], query: str, k: int) -> list[int]:
    """Indices (in their original order) of the ``k`` examples closest in meaning to ``query``."""
    if k < 1:
        raise CompressionError(f"fewshot: keep at least one example (k={k})")
    if len(examples) <= k:
        return list(range(len(examples)))
    from ..core.embedder import default_embedder

    vectors = default_embedder().embed([query, *examples])
    scores = vectors[1:] @ vectors[0]
    best = sorted(range(len(examples)), key=lambda i: (-float(scores[i]), i))[:k]
    return sorted(best)


class FewShotCompressor:
    """Blocks of the prompt that look like examples (``Example``, ``Q:``, ``Input:``, ``예시`` …,
    separated by blank lines) are pruned to ``rate`` of them, the ones closest to the query kept."""

    name = "fewshot"

    def compress(self, text: str, *, rate: float | None = None, query: str = "", model: str = "gpt-4o") -> Compressed:
        check_text(text, self.name)
        rate = check_rate(rate, self.name) or DEFAULT_RATE
        check_query(query, self.name, "the examples are for")
        blocks = re.split(r"\n\s*\n", text)
        example_ids = [i for i, block in enumerate(blocks) if _EXAMPLE_START.match(block)]
        if len(example_ids) < 2:
            return Compressed(text, text, self.name, rate, model, note="no-op: fewer than two example blocks found")
        k = max(1, round(rate * len(example_ids)))
        kept = {example_ids[i] for i in prune_examples([blocks[i] for i in example_ids], query, k)}
        out = [block for i, block in enumerate(blocks) if i not in example_ids or i in kept]
        note = "" if k < len(example_ids) else f"no-op: {len(example_ids)} examples at rate {rate:g} keeps them all"
        return Compressed(text, "\n\n".join(out), self.name, rate, model, note=note)
