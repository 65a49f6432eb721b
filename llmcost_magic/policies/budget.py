"""Hard spending caps: a call is refused before it is sent if its worst case would pass the limit."""

from __future__ import annotations

import threading
from typing import Any

from ..core.errors import BudgetExceeded
from ..core.messages import label, tr
from ..intercept.call import Call
from ..core.pricing import UnknownModelError
from .budgets.worst_case import WorstCase, worst_case_usd
from .model_fit import rejected_params

# Cheaper models to suggest when a call does not fit, most capable first.
CHEAPER_MODELS = {
    "openai": ("gpt-4.1-mini", "gpt-4o-mini", "gpt-5-mini", "gpt-4.1-nano", "gpt-5-nano"),
    "anthropic": ("claude-sonnet-4-6", "claude-haiku-4-5", "claude-3-5-haiku-latest", "claude-3-haiku"),
}


def cheaper_model_that_fits(provider: str, model: str, input_tokens: int, output_tokens: int, left_usd: float,
                            *, batch: bool = False, endpoint: str = "",
                            body: dict[str, Any] | None = None) -> str | None:
    """The most capable of the provider's cheaper models whose worst case fits in ``left_usd`` (and that takes
    the parameters of ``body`` on ``endpoint``, when given)."""
    for candidate in CHEAPER_MODELS.get(provider, ()):
        if body is not None and rejected_params(candidate, endpoint, body):
            continue
        try:
            cost = worst_case_usd(candidate, input_tokens, output_tokens, batch=batch)
        except UnknownModelError:
            continue
        if candidate != model and cost <= left_usd:
            return candidate
    return None


def suggestion_for(call: Call, worst: WorstCase, left_usd: float) -> str | None:
    """A cheaper model whose worst case (same input, same output cap and choices) fits in ``left_usd``."""
    return cheaper_model_that_fits(call.provider, worst.model, worst.input_tokens, worst.output_tokens * worst.choices,
                                   left_usd, batch=worst.batch, endpoint=call.endpoint,
                                   body=call.sent_body or call.body)


def _fmt(usd: float) -> str:
    return f"${usd:,.6f}" if usd < 0.01 else f"${usd:,.4f}"


class Budget:
    """A limit in dollars, shared by the calls of a cell (or any scope), safe under concurrency.

    Each call reserves its worst case (see :mod:`~llmcost_magic.policies.budgets.worst_case`) atomically
    before it is sent and settles to its real cost afterwards, so concurrent calls can never overshoot the
    limit by more than the error of one worst-case estimate.
    """

    def __init__(self, limit_usd: float, *, name: str = "cell budget"):
        if not limit_usd > 0 or limit_usd == float("inf"):
            raise ValueError(tr("A budget must be a positive number of dollars, got {limit!r} (e.g. --budget 0.50).",
                                limit=limit_usd))
        self.limit_usd = float(limit_usd)
        self.name = name
        self.spent_usd = 0.0
        self.reserved_usd = 0.0
        self._lock = threading.Lock()

    @property
    def remaining_usd(self) -> float:
        return self.limit_usd - self.spent_usd - self.reserved_usd

    def reserve(self, call: Call, worst: WorstCase, *, batch: str | None = None) -> float:
        """Reserve the call's worst case (returned: the hold to settle) or raise :class:`BudgetExceeded`."""
        needed = worst.usd or 0.0  # None: an unpriced model the user let through uncapped
        with self._lock:
            committed = self.spent_usd + self.reserved_usd
            if committed + needed > self.limit_usd:
                raise self._refusal(call, worst, needed, committed)
            self.reserved_usd += needed
        return needed

    def settle(self, reserved: float, cost_usd: float | None) -> None:
        """Replace a reservation with what the call really cost (the reservation when unknown)."""
        with self._lock:
            self.reserved_usd -= reserved
            self.spent_usd += cost_usd if cost_usd is not None else reserved

    def charge(self, cost_usd: float) -> None:
        """Count spend that held nothing here (e.g. a background Response retrieved in this scope)."""
        with self._lock:
            self.spent_usd += cost_usd

    def _refusal(self, call: Call, worst: WorstCase, needed: float, committed: float) -> BudgetExceeded:
        left = max(self.limit_usd - committed, 0.0)
        suggestion = suggestion_for(call, worst, left)
        message = tr(
            "Refused before sending: this call could cost up to {needed} ({worst}), but the {budget} of {limit} has "
            "{left} left ({committed} spent or reserved); it is over by {over}.", needed=_fmt(needed),
            worst=worst.described, budget=label(self.name), limit=_fmt(self.limit_usd), left=_fmt(left),
            committed=_fmt(committed), over=_fmt(committed + needed - self.limit_usd))
        if suggestion:
            message += tr(" {model} would fit; or lower max_tokens, or raise the budget.", model=suggestion)
        else:
            message += tr(" Lower max_tokens, shorten the prompt, or raise the budget.")
        return BudgetExceeded(message, limit_usd=self.limit_usd, spent_usd=committed, needed_usd=needed, suggestion=suggestion)
