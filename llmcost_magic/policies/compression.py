"""The compression policy: ``--compress METHOD[:RATE]`` rewrites each call's messages before it is sent."""

from __future__ import annotations

from typing import Any

from ..compression.messages import MIN_PART_TOKENS, BodyCompression, compress_body
from ..compression.methods import Step, parse_spec


class CompressionPolicy:
    """Applies a method spec (``"selective:0.5"``, ``"format+selective:0.5"``, ``"window:6"``) to the
    text of every request; ``include_system=False`` leaves system prompts as written."""

    def __init__(self, spec: str, *, include_system: bool = True, min_tokens: int = MIN_PART_TOKENS) -> None:
        self.spec = spec
        self.steps: tuple[Step, ...] = parse_spec(spec)  # bad specs fail here, before any call
        self.include_system = include_system
        self.min_tokens = min_tokens

    def apply(self, endpoint: str, body: dict[str, Any], model: str) -> BodyCompression:
        return compress_body(endpoint, body, self.steps, model=model, include_system=self.include_system,
                             min_tokens=self.min_tokens)

    def __repr__(self) -> str:
        return f"CompressionPolicy({self.spec!r}, include_system={self.include_system})"
