"""The worst case a request can cost, the one figure every budget reserves before it is sent.

Input: the tokens the adapter counts in the body as sent (images and tool definitions included), priced at
the dearest input rate the model has (a prompt-cache write costs more than plain input). Output: the cap
the request sets (``max_tokens`` / ``max_completion_tokens`` / ``max_output_tokens``, which include
reasoning tokens) or, when absent, the model's own output limit from ``data/model_limits.yaml``; times
``n`` choices (or ``best_of``). A model with no price cannot be capped: :class:`UnpricedModel` refuses it unless the caller
allows unpriced calls explicitly.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

from ...errors import BudgetExceeded
from ...pricing import UnknownModelError, known_models, price_for

__all__ = ["UnpricedModel", "WorstCase", "model_output_limit", "worst_case", "worst_case_usd"]


class UnpricedModel(BudgetExceeded):
    """A call under a hard cap names a model with no known price: its worst case cannot be bounded."""


@dataclass(frozen=True, slots=True)
class WorstCase:
    """What a request could cost at most: ``usd`` is None for an unpriced model the user allowed."""

    model: str
    input_tokens: int
    output_tokens: int  # per choice
    choices: int
    usd: float | None
    batch: bool = False

    @property
    def described(self) -> str:
        times = f" x {self.choices} choices" if self.choices > 1 else ""
        return f"{self.input_tokens:,} input + {self.output_tokens:,} max output tokens{times} on {self.model}"


@functools.cache
def _limits() -> tuple[dict[str, int], int]:
    import yaml

    data = yaml.safe_load(resources.files("llmcost_magic").joinpath("data", "model_limits.yaml").read_text("utf-8"))
    return {str(k).lower(): int(v) for k, v in data["max_output_tokens"].items()}, int(data["unlisted"])


@functools.lru_cache(maxsize=1024)
def model_output_limit(model: str) -> int:
    """The most output tokens ``model`` can produce in one call (longest matching entry, else the table's
    ``unlisted`` figure, the largest limit it lists).

    >>> model_output_limit("gpt-4o-mini-2024-07-18")
    16384
    """
    table, unlisted = _limits()
    name = model.lower().split("/")[-1]
    best = max((key for key in table if name == key or name.startswith(key + "-") or name.startswith(key + ".")),
               key=len, default=None)
    return table[best] if best is not None else unlisted


def worst_case_usd(model: str, input_tokens: int, output_tokens: int, *, batch: bool = False) -> float:
    """Dollars for ``input_tokens`` at the model's dearest input rate and ``output_tokens`` of output.
    Raises :class:`~llmcost_magic.pricing.UnknownModelError` for a model with no price."""
    rates = price_for(model, batch=batch).rates_for(input_tokens)
    return input_tokens * max(rates.input, rates.cache_write, rates.cache_write_1h) + output_tokens * rates.output


def _cap(body: dict[str, Any]) -> int | None:
    for key in ("max_completion_tokens", "max_tokens", "max_output_tokens"):
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def worst_case(model: str, body: dict[str, Any], input_tokens: int, *, allow_unpriced: bool = False,
               batch: bool = False) -> WorstCase:
    """The worst case of a request ``body`` to ``model`` whose input counts ``input_tokens``."""
    output = _cap(body) or model_output_limit(model)
    # n choices are billed each; a legacy completion's best_of are all generated (and billed), n returned
    counts = [c for c in (body.get("n"), body.get("best_of")) if isinstance(c, int) and not isinstance(c, bool)]
    choices = max([1, *counts])
    try:
        usd = worst_case_usd(model, input_tokens, output * choices, batch=batch)
    except UnknownModelError:
        if not allow_unpriced:
            raise unpriced(model) from None
        usd = None
    return WorstCase(model, input_tokens, output, choices, usd, batch)


def unpriced(model: str) -> UnpricedModel:
    close = difflib.get_close_matches(model.lower(), known_models(), n=3, cutoff=0.4)
    nearest = f" Nearest priced models: {', '.join(close)}." if close else ""
    return UnpricedModel(
        f"Refused before sending: no price is known for {model!r}, so a hard cap cannot bound what it costs.{nearest} "
        f"Fix: give it a price in one line, llmcost_magic.load_price_overrides({{'models': {{{model!r}: "
        f"{{'input_mtok': 0.5, 'output_mtok': 1.5}}}}}}) (or the same entry in a price file, "
        f"%config LLMCost.price_file = PATH); or let unpriced calls through uncapped with "
        f"%config LLMCost.allow_unpriced = True (meter(allow_unpriced=True)).",
        limit_usd=0.0, spent_usd=0.0, needed_usd=float("inf"))
