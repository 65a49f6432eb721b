"""The normalized records every stage after the protocol adapters works on: Usage, Cost, CallRecord."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

_INF = float("inf")


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
    """What else the provider billed, with these keys (each optional): ``audio_input_tokens``,
    ``audio_output_tokens``, ``image_input_tokens``, ``image_output_tokens``, ``text_input_tokens``
    (parts of input/output tokens, priced at their modality's rate), ``characters`` (speech input),
    ``audio_seconds`` (transcription), ``tool_calls`` ({kind: count}), ``service_tier``, ``speed``, ``batch``."""

    def counts_valid(self) -> bool:
        """Every count (and every number in ``details``) is a finite number >= 0: what a provider or a proxy
        sent is read as it came, and a negative count would price a call below $0 and give a budget money back."""
        counts = (self.input_tokens, self.cached_input_tokens, self.cache_write_tokens, self.cache_write_1h_tokens,
                  self.output_tokens, self.reasoning_tokens)
        if not all(type(n) in (int, float) and 0 <= n < _INF for n in counts):
            return False
        for value in self.details.values():
            for n in value.values() if isinstance(value, dict) else (value,):
                if isinstance(n, (int, float)) and not (0 <= n < _INF):  # (a bool is 0 or 1: harmless)
                    return False
        return True

    @property
    def uncached_input_tokens(self) -> int:
        """Input tokens billed at the plain input rate."""
        return max(self.input_tokens - self.cached_input_tokens - self.cache_write_tokens, 0)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            *(getattr(self, f.name) + getattr(other, f.name) for f in dataclasses.fields(self) if f.name != "details")
        )


@dataclass(slots=True)  # not frozen: a frozen dataclass takes ~4x as long to build, once per call
class Cost:
    """Dollars of one call. ``usd`` is None when the model has no known price (never a silent 0).

    ``input_usd`` includes cache reads and writes (also given apart), ``fees_usd`` the built-in tool
    calls; ``usd`` is their sum. ``note`` names what could not be priced exactly ("unpriced: ...") and
    ``source`` the price data used (e.g. "genai-prices 0.2.3").
    """

    usd: float | None
    input_usd: float = 0.0
    output_usd: float = 0.0
    estimated: bool = False
    cache_read_usd: float = 0.0
    cache_write_usd: float = 0.0
    fees_usd: float = 0.0
    note: str = ""
    source: str = ""

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
    vendor: str = ""  # who served it (openai, anthropic, deepseek, google, azure...); ``provider`` is the wire protocol
    price_source: str = ""  # the price data the cost came from, to re-price exactly

    @property
    def saved_usd(self) -> float:
        """Baseline minus cost; negative when a policy cost more (e.g. a prompt-cache write premium)."""
        if self.cost_usd is None or self.baseline_cost_usd is None:
            return 0.0
        return self.baseline_cost_usd - self.cost_usd
