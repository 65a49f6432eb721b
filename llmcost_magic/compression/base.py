"""What every compressor returns and the rate check they share (the word-level diff that shows what a
compression removed is in :mod:`.diff`, re-exported here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from ..core.tokens import count_text_tokens
from ..core.messages import tr
from .diff import word_diff


class CompressionError(ValueError):
    """Bad input to a compressor: the message names the problem and the fix."""


def check_rate(rate: float | None, method: str) -> float | None:
    """``rate`` is the share of tokens to keep, in (0, 1]; None means the method's default."""
    if rate is None:
        return None
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= 1:
        raise CompressionError(tr("{method}: rate must be the share of tokens to keep, in (0, 1], got {rate!r} "
                                  "(e.g. {method}:0.5 keeps about half)", method=method, rate=rate))
    return float(rate)


def check_text(text: object, method: str) -> str:
    if not isinstance(text, str):
        raise CompressionError(f"{method}: expected text, got {type(text).__name__}; pass message lists to "
                               f"compress_messages(), which skips images and tool calls")
    if not text.strip():
        raise CompressionError(f"{method}: the prompt is empty; there is nothing to compress")
    return text


def check_query(query: str, method: str, purpose: str) -> str:
    """Methods that rank by relevance need the question."""
    if not query.strip():
        raise CompressionError(f"{method}: needs the question {purpose} (query=...); in a policy it is the last "
                               f"paragraph of the last user message")
    return query


@dataclass(slots=True)
class Compressed:
    """A compressed text, its token counts (for ``model``) and, on demand, what was removed."""

    original: str
    text: str
    method: str
    rate: float | None = None
    model: str = "gpt-4o"
    note: str = ""  # why nothing (or less than asked) was removed, when that happened
    tokens_before: int = field(init=False)
    tokens_after: int = field(init=False)

    def __post_init__(self) -> None:
        self.tokens_before = count_text_tokens(self.original, self.model)
        self.tokens_after = self.tokens_before if self.text == self.original else count_text_tokens(self.text, self.model)

    @property
    def reduction(self) -> float:
        """Share of tokens removed (0.4 = 40% fewer tokens)."""
        return 1.0 - self.tokens_after / self.tokens_before if self.tokens_before else 0.0

    @property
    def rate_reached(self) -> bool:
        """False when the compressor kept clearly more (over 10% more) than ``rate``; its note says why
        (rules kept whole, numbers, names...)."""
        return self.rate is None or self.tokens_after <= self.rate * self.tokens_before * 1.1

    @property
    def segments(self) -> list[tuple[str, bool]]:
        """The original as (text, kept) runs, for showing what was removed."""
        return word_diff(self.original, self.text)

    @property
    def fidelity(self) -> Any:
        """Its :class:`~llmcost_magic.compression.fidelity.Fidelity`: reduction, similarity, numbers,
        names and keywords kept."""
        from .fidelity import measure

        return measure(self)

    @property
    def dropped(self) -> list[str]:
        return [text.strip() for text, kept in self.segments if not kept and text.strip()]

    def __str__(self) -> str:
        return self.text


class Compressor(Protocol):
    """Compresses one text. ``rate`` is the share of tokens to keep; ``query`` is what the prompt
    will be asked (some compressors keep what is relevant to it)."""

    name: str

    def compress(self, text: str, *, rate: float | None = None, query: str = "", model: str = "gpt-4o") -> Compressed: ...
