"""Recorded answers as a sandbox mode: replay real answers of real models through the real SDKs.

    sb = Sandbox(recorded=True)      # the shipped RouteLLM GSM8K answers (or a path to your own JSONL)
    oc = client("openai", sandbox=sb)

A request whose last user message is a recorded prompt (alone, or framed "Question: ...\\nAnswer:")
gets the answer that model tier really gave: the large tier's models (``data/tiers.yaml``) get the
strong model's recorded answer (GPT-4-1106), every other model the weak one's (Mixtral-8x7B). Output
tokens are the real answer's tokens counted with cl100k_base for both models (Mixtral's own tokenizer
differs; cl100k is the common yardstick), ``max_tokens`` and ``stop`` cut it as usual. Only items with a
recorded answer text replay (GSM8K; MMLU's one-token answers were not recorded).
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from pathlib import Path

from ..core.tokens import _encoding
from .answers import Answer

_FRAMED = re.compile(r"^\s*Question:\s*(?P<q>.*?)\s*(?:\nAnswer:)?\s*$", re.S)


def _key(text: str) -> str:
    m = _FRAMED.match(text)
    return " ".join((m.group("q") if m else text).split())


class RecordedAnswers:
    """Recorded (prompt -> strong answer, weak answer) pairs and the models that count as strong."""

    def __init__(self, source: str | Path | None = None, strong_models: frozenset[str] | None = None) -> None:
        if source is None:
            from ..evaluation.recorded import shipped_path

            source = shipped_path()
        raw = Path(source).read_bytes()
        lines = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8").splitlines()
        self.items: dict[str, tuple[str, str]] = {}
        for line in lines:
            row = json.loads(line) if line.strip() else {}
            if isinstance(row.get("strong_response"), str) and isinstance(row.get("weak_response"), str):
                self.items[_key(row["prompt"])] = (row["strong_response"], row["weak_response"])
        self.strong_models = strong_models if strong_models is not None else _large_tier_models()

    def answer(self, model: str, question: str, max_tokens: int | None, stop: list[str] | None) -> Answer | None:
        """The recorded answer for this tier, cut like a live one, or None when the prompt is not recorded."""
        found = self.items.get(_key(question))
        if found is None:
            return None
        text = (found[0] if model in self.strong_models else found[1]).strip()
        enc = _encoding("cl100k_base")
        if stop and (cuts := [i for s in stop if s and (i := text.find(s)) >= 0]):
            text = text[:min(cuts)]
            return Answer(text, len(enc.encode_ordinary(text)), "stop_sequence")
        ids = enc.encode_ordinary(text)
        if max_tokens is not None and len(ids) > max_tokens:
            return Answer(enc.decode(ids[:max_tokens]), max_tokens, "length")
        return Answer(text, len(ids), "stop")


@functools.cache
def _large_tier_models() -> frozenset[str]:
    from ..policies.tiers import load_tiers

    tiers = load_tiers()
    return frozenset(tiers.models[tiers.names[-1]].values())
