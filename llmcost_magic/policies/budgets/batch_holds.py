"""A batch is checked as a whole, at batch prices, before it is submitted: it holds its worst case in every
budget of the meter, or it is refused with the number of its requests that would fit."""

from __future__ import annotations

import time
from typing import Any

from ...core.errors import BudgetExceeded
from ...intercept.call import Call
from ...core.records import CallRecord, Usage
from ...core.messages import tr
from ..budget import _fmt
from .worst_case import WorstCase, worst_case

__all__ = ["hold_batch"]


def _estimate_input(provider: str) -> Any:
    from ...intercept.protocols import ADAPTERS

    return ADAPTERS[provider].estimate_input


def hold_batch(meter: Any, provider: str, model: str, requests: list[tuple[str, dict[str, Any]]],
               name: str) -> list[tuple[Any, Any]]:
    """(budget, hold) for each of the meter's budgets, holding the batch's worst case at batch prices; raises
    :class:`BudgetExceeded` (and records a ``refused`` row) naming how many requests fit when it does not."""
    budgets = meter.budgets if meter is not None else []
    if not budgets:
        return []
    endpoint = "messages" if provider == "anthropic" else "chat.completions"
    estimate = _estimate_input(provider)
    each: list[WorstCase] = []
    for _, body in requests:
        call = Call(provider, endpoint, model, body, False)
        each.append(worst_case(model, body, estimate(call), allow_unpriced=meter.allow_unpriced, batch=True))
    total = WorstCase(model, sum(w.input_tokens for w in each), sum(w.output_tokens * w.choices for w in each), 1,
                      sum(w.usd or 0.0 for w in each), batch=True)
    whole = Call(provider, "batch", model, {"model": model}, False)
    held: list[tuple[Any, Any]] = []
    try:
        for budget in budgets:
            held.append((budget, budget.reserve(whole, total, batch=name)))
    except BaseException as exc:  # a refusal, or Ctrl-C while a budget waits for its lock: give back what was held
        for budget, hold in held:
            budget.settle(hold, 0.0)
        if isinstance(exc, BudgetExceeded):
            raise _refused(meter, whole, exc, each, total, name) from None
        raise
    return held


def _refused(meter: Any, whole: Call, refusal: BudgetExceeded, each: list[WorstCase], total: WorstCase,
             name: str) -> BudgetExceeded:
    left = max(refusal.limit_usd - refusal.spent_usd, 0.0)
    fits, running = 0, 0.0
    for w in each:
        if running + (w.usd or 0.0) > left:
            break
        fits, running = fits + 1, running + (w.usd or 0.0)
    message = tr("Refused before submitting batch {name!r}: its {n} requests could cost up to {needed} at batch prices "
                 "({worst}), over the limit of {limit} ({committed} spent or reserved, {left} left; over by {over}). The "
                 "first {fits} of them (up to {fitting}) would fit: submit fewer, lower max_tokens, or raise the limit. "
                 "Nothing was sent.", name=name, n=len(each), needed=_fmt(total.usd or 0.0), worst=total.described,
                 limit=_fmt(refusal.limit_usd), committed=_fmt(refusal.spent_usd), left=_fmt(left),
                 over=_fmt(refusal.spent_usd + (total.usd or 0.0) - refusal.limit_usd), fits=fits, fitting=_fmt(running))
    error = BudgetExceeded(message, limit_usd=refusal.limit_usd, spent_usd=refusal.spent_usd,
                           needed_usd=total.usd or 0.0, suggestion=refusal.suggestion)
    error.fits = fits  # type: ignore[attr-defined]
    meter.record(CallRecord(ts=time.time(), provider=whole.provider, endpoint="batch", model=whole.model, usage=Usage(),
                            cost_usd=0.0, baseline_cost_usd=0.0, latency_ms=0.0, status="refused", note=message[:500]))
    return error
