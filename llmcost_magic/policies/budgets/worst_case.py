"""The worst case a request can cost, the one figure every budget reserves before it is sent.

Input: the tokens the adapter counts in the body as sent (images and tool definitions included), priced at
the dearest input rate the model has (a prompt-cache write costs more than plain input). Output: the cap
the request sets (``max_tokens`` / ``max_completion_tokens`` / ``max_output_tokens``, which include
reasoning tokens) or, when absent, the model's own output limit from ``data/model_limits.yaml``; times
``n`` choices (or ``best_of``). Rates at the requested ``service_tier`` / ``speed`` (never below standard),
plus built-in tool fees for as many calls as the request allows (``max_uses``, ``max_tool_calls``). A model with no price cannot be capped: :class:`UnpricedModel` refuses it unless the caller
allows unpriced calls explicitly.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

from ...core.errors import BudgetExceeded
from ...core.pricing import UnknownModelError, known_models, price_for
from ...core.messages import tr

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
    tool_calls: int = 0  # built-in tool calls counted (web search, file search...)
    output_kind: str = ""  # "audio": the output is held at the model's audio output rate

    @property
    def described(self) -> str:
        times = tr(" x {n} choices", n=self.choices) if self.choices > 1 else ""
        tools = tr(" + {n} built-in tool calls", n=self.tool_calls) if self.tool_calls else ""
        kind = f" ({self.output_kind})" if self.output_kind else ""
        return tr("{input:,} input + {output:,} max output tokens{times}{tools} on {model}", input=self.input_tokens,
                  output=self.output_tokens, times=times, tools=tools, model=self.model) + kind


# A request that bounds neither max_uses nor max_tool_calls lets the model call a built-in tool any number of
# times; we assume this many per tool (our figure, said in WorstCase.described). Set a bound for an exact cap.
UNBOUNDED_TOOL_CALLS = 5


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


def worst_case_usd(model: str, input_tokens: int, output_tokens: int, *, batch: bool = False,
                   service_tier: str | None = None, speed: str | None = None, output_unit: str = "") -> float:
    """Dollars for ``input_tokens`` at the model's dearest input rate and ``output_tokens`` of output, at the
    dearer of standard and the requested service tier / speed (and of ``output_unit``'s rate, e.g.
    ``audio_output_tokens``, when the request asks for that output). Raises
    :class:`~llmcost_magic.core.pricing.UnknownModelError` for a model with no price."""
    prices = price_for(model, batch=batch)
    standard = prices.rates_for(input_tokens)
    chosen = price_for(model, batch=batch, service_tier=service_tier, speed=speed).rates_for(input_tokens) \
        if (service_tier or speed) else standard
    input_rate = max(r for rates in (standard, chosen) for r in (rates.input, rates.cache_write, rates.cache_write_1h))
    output_rate = max(standard.output, chosen.output, prices.units.get(output_unit, 0.0) if output_unit else 0.0)
    return input_tokens * input_rate + output_tokens * output_rate


def _tool_fees(model: str, body: dict[str, Any], batch: bool) -> tuple[int, float]:
    """(calls, dollars) of the built-in tools a request may call: Anthropic ``max_uses`` per tool, OpenAI
    ``max_tool_calls`` across tools (counted at the dearest), else UNBOUNDED_TOOL_CALLS per tool."""
    tools = body.get("tools")
    if not tools:
        return 0, 0.0  # the usual request: no price lookup on the hot path
    units = price_for(model, batch=batch).units
    fees = []
    for tool in tools if isinstance(tools, list) else ():
        kind = str(tool.get("type") or "") if isinstance(tool, dict) else ""
        rate = units.get(kind) or next((units[name] for name in units if kind.startswith(name + "_")), None)
        if rate:
            uses = tool.get("max_uses")
            fees.append((uses if isinstance(uses, int) and not isinstance(uses, bool) and uses >= 0 else UNBOUNDED_TOOL_CALLS, rate))
    if not fees:
        return 0, 0.0
    limit = body.get("max_tool_calls")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0:
        return limit, limit * max(rate for _, rate in fees)
    return sum(n for n, _ in fees), sum(n * rate for n, rate in fees)


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
    tier, speed = body.get("service_tier"), body.get("speed")
    modalities = body.get("modalities")
    audio = isinstance(modalities, list) and "audio" in modalities  # spoken answers: billed at the audio rate
    try:
        usd = worst_case_usd(model, input_tokens, output * choices, batch=batch,
                             service_tier=tier if isinstance(tier, str) else None,
                             speed=speed if isinstance(speed, str) else None,
                             output_unit="audio_output_tokens" if audio else "")
        tool_calls, fees = _tool_fees(model, body, batch)
        usd += fees
    except UnknownModelError:
        if not allow_unpriced:
            raise unpriced(model) from None
        usd, tool_calls = None, 0
    return WorstCase(model, input_tokens, output, choices, usd, batch, tool_calls, "audio" if audio else "")


def unpriced(model: str) -> UnpricedModel:
    close = difflib.get_close_matches(model.lower(), known_models(), n=3, cutoff=0.4)
    nearest = tr(" Nearest priced models: {models}.", models=", ".join(close)) if close else ""
    return UnpricedModel(
        tr("Refused before sending: no price is known for {model!r}, so a hard cap cannot bound what it costs.{nearest} "
           "Fix: give it a price in one line, llmcost_magic.load_price_overrides({{'models': {{{model!r}: "
           "{{'input_mtok': 0.5, 'output_mtok': 1.5}}}}}}) (or the same entry in a price file, "
           "%config LLMCost.price_file = PATH); or let unpriced calls through uncapped with "
           "%config LLMCost.allow_unpriced = True (meter(allow_unpriced=True)).", model=model, nearest=nearest),
        limit_usd=0.0, spent_usd=0.0, needed_usd=float("inf"))
