"""Hard spending caps: a call is refused before it is sent if its worst case would pass the limit."""

from __future__ import annotations

import threading

from ..errors import BudgetExceeded
from ..intercept.call import Call
from ..pricing import UnknownModelError, price_for
from ..records import Usage

# Assumed output when a request sets no max_tokens (the pre-check needs a worst case).
ASSUMED_MAX_OUTPUT_TOKENS = 4096
# Cheaper models to suggest when a call does not fit, most capable first.
CHEAPER_MODELS = {
    "openai": ("gpt-4.1-mini", "gpt-4o-mini", "gpt-5-mini", "gpt-4.1-nano", "gpt-5-nano"),
    "anthropic": ("claude-sonnet-4-6", "claude-haiku-4-5", "claude-3-5-haiku-latest", "claude-3-haiku"),
}


def cheaper_model_that_fits(provider: str, model: str, input_tokens: int, output_tokens: int, left_usd: float) -> str | None:
    """The most capable of the provider's cheaper models whose worst case fits in ``left_usd``."""
    for candidate in CHEAPER_MODELS.get(provider, ()):
        try:
            cost = price_for(candidate).cost(Usage(input_tokens=input_tokens, output_tokens=output_tokens)).usd or 0.0
        except UnknownModelError:
            continue
        if candidate != model and cost <= left_usd:
            return candidate
    return None


def _fmt(usd: float) -> str:
    return f"${usd:,.6f}" if usd < 0.01 else f"${usd:,.4f}"


class Budget:
    """A limit in dollars, shared by the calls of a cell (or any scope), safe under concurrency.

    Each call reserves its worst case (exact input tokens + max_tokens at the model's prices)
    atomically before it is sent and settles to its real cost afterwards, so concurrent calls can
    never overshoot the limit by more than the error of one worst-case estimate.
    """

    def __init__(self, limit_usd: float, *, name: str = "cell budget"):
        if not limit_usd > 0:
            raise ValueError(f"A budget must be a positive number of dollars, got {limit_usd!r} (e.g. --budget 0.50).")
        self.limit_usd = float(limit_usd)
        self.name = name
        self.spent_usd = 0.0
        self.reserved_usd = 0.0
        self._lock = threading.Lock()

    @property
    def remaining_usd(self) -> float:
        return self.limit_usd - self.spent_usd - self.reserved_usd

    def reserve(self, call: Call, input_tokens: int) -> float:
        """Reserve the call's worst case (returned) or raise :class:`BudgetExceeded` (nothing is sent)."""
        output = call.max_output_tokens or ASSUMED_MAX_OUTPUT_TOKENS
        try:
            needed = price_for(call.model).cost(Usage(input_tokens=input_tokens, output_tokens=output)).usd or 0.0
        except UnknownModelError:
            needed = 0.0  # an unpriced model cannot be capped; the ledger row says cost unknown
        with self._lock:
            committed = self.spent_usd + self.reserved_usd
            if committed + needed > self.limit_usd:
                raise self._refusal(call, input_tokens, output, needed, committed)
            self.reserved_usd += needed
        return needed

    def settle(self, reserved: float, cost_usd: float | None) -> None:
        """Replace a reservation with what the call really cost (the reservation when unknown)."""
        with self._lock:
            self.reserved_usd -= reserved
            self.spent_usd += cost_usd if cost_usd is not None else reserved

    def _refusal(self, call: Call, input_tokens: int, output: int, needed: float, committed: float) -> BudgetExceeded:
        left = max(self.limit_usd - committed, 0.0)
        suggestion = cheaper_model_that_fits(call.provider, call.model, input_tokens, output, left)
        worst = f"{input_tokens:,} input + {output:,} max output tokens on {call.model}"
        message = (
            f"Refused before sending: this call could cost up to {_fmt(needed)} ({worst}), but the {self.name} "
            f"of {_fmt(self.limit_usd)} has {_fmt(left)} left ({_fmt(committed)} spent or reserved); "
            f"it is over by {_fmt(committed + needed - self.limit_usd)}."
        )
        if suggestion:
            message += f" {suggestion} would fit; or lower max_tokens, or raise the budget."
        else:
            message += " Lower max_tokens, shorten the prompt, or raise the budget."
        return BudgetExceeded(message, limit_usd=self.limit_usd, spent_usd=committed, needed_usd=needed, suggestion=suggestion)
