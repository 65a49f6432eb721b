"""The normalized records every stage after the protocol adapters works on: Usage, Cost, CallRecord."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Usage:
    """Tokens of one call, normalized across providers.

    ``input_tokens`` counts ALL input tokens, cached reads and cache writes included (OpenAI's
    ``prompt_tokens`` already does; Anthropic's ``input_tokens`` does not, so its adapter adds
    them). ``output_tokens`` includes reasoning tokens.
    """

    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def uncached_input_tokens(self) -> int:
        """Input tokens billed at the plain input rate."""
        return max(self.input_tokens - self.cached_input_tokens - self.cache_write_tokens, 0)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            *(getattr(self, f.name) + getattr(other, f.name) for f in dataclasses.fields(self) if f.name != "details")
        )


@dataclass(slots=True, frozen=True)
class Cost:
    """Dollars of one call. ``usd`` is None when the model has no known price (never a silent 0)."""

    usd: float | None
    input_usd: float = 0.0
    output_usd: float = 0.0
    estimated: bool = False

    @property
    def known(self) -> bool:
        return self.usd is not None


@dataclass(slots=True)
class CallRecord:
    """One call that was sent (or answered by a policy), as it lands in the ledger."""

    ts: float
    provider: str
    endpoint: str
    model: str
    usage: Usage
    cost_usd: float | None
    baseline_cost_usd: float | None
    latency_ms: float
    status: str = "ok"
    stream: bool = False
    estimated: bool = False
    cache: str = ""
    saved_by: str = ""
    requested_model: str = ""
    note: str = ""
    max_tokens: int | None = None
    user: str = ""
    segment: str = ""
    cell: str = ""
    cell_run: int = 0
    cell_hash: str = ""
    tag: str = ""
    input_tokens_before: int | None = None  # input tokens before compression, when compression removed some

    @property
    def saved_usd(self) -> float:
        """Baseline minus cost; negative when a policy cost more (e.g. a prompt-cache write premium)."""
        if self.cost_usd is None or self.baseline_cost_usd is None:
            return 0.0
        return self.baseline_cost_usd - self.cost_usd
