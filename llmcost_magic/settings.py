"""One factory for a meter's policies, behind both ``meter()`` and ``%%llmcost``.

:class:`Settings` holds every option a metered scope can have (the magic's flags and ``%config`` defaults,
``meter()``'s keyword arguments); :func:`policies` turns them into the :class:`~llmcost_magic.metering.Meter`
keyword arguments. Errors are the library's own (``LLMCostError``, ``ValueError``); the magic turns them
into usage errors.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .core.errors import LLMCostError
from .core.messages import tr
from .policies.budget import Budget
from .core.redaction import redact

__all__ = ["Settings", "policies"]


@dataclass
class Settings:
    """Everything a metered scope can switch on; defaults mean "off"."""

    tag: str = ""
    budget: float | None = None
    budget_name: str = "cell budget"
    dry_run: bool = False
    cache: str | None = None
    ttl: str | float | None = None
    ttl_file: str | None = None
    threshold: float | None = None
    context: str = ""
    cache_any_temperature: bool = False
    cache_tool_calls: bool = False
    prompt_cache: str | None = None
    route: Any = None
    tiers: Any = None
    validator: Callable[[str], Any] | None = None
    min_confidence: float = 0.7
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    concise: int | None = None
    batch: bool = False
    budgets: Any = None  # a budget file path, a mapping, or a BudgetConfig
    user: str = ""
    segment: str = ""
    budget_fallback: bool = False
    allow_unpriced: bool = False
    workshop: str | None = None
    workshop_fail_open: bool = False
    compress: str | None = None
    compress_system: bool = True


def policies(s: Settings, *, ledger: Any, workshop_budget: Any = None) -> dict[str, Any]:
    """The keyword arguments of a :class:`Meter` for settings ``s`` (its ledger given: budget files read it).

    ``workshop_budget``: an open ``WorkshopBudget`` to reuse (the magic keeps one connection per setting).
    """
    if s.workshop and workshop_budget is None:
        from .workshop import WorkshopBudget

        workshop_budget = WorkshopBudget(s.workshop, s.user, fail_open=s.workshop_fail_open)
    from .policies.routing import routing_policy

    return dict(
        tag=s.tag,
        budget=Budget(s.budget, name=s.budget_name) if s.budget is not None else None,
        ledger=ledger,
        dry_run=s.dry_run,
        cache=_cache(s),
        prompt_cache=s.prompt_cache,
        output=_output(s),
        compression=_compression(s),
        batch=s.batch,
        book=_book(s, ledger),
        user=s.user,
        segment=s.segment,
        budget_fallback=s.budget_fallback,
        workshop=workshop_budget,
        allow_unpriced=s.allow_unpriced,
        **routing_policy(s.route, tiers=s.tiers, validator=s.validator, min_confidence=s.min_confidence),
    )


def _cache(s: Settings) -> Any:
    mode = s.cache or ("exact" if s.workshop else None)
    if not mode:
        return None
    from .policies.response_cache import load_ttl_table
    from .session import response_cache

    try:
        return response_cache(
            mode, tag=s.tag, context_key=s.context, workshop=s.workshop, user=s.user, ttl=s.ttl,
            ttl_by_tag=load_ttl_table(s.ttl_file) if s.ttl_file else None, threshold=s.threshold,
            any_temperature=s.cache_any_temperature, cache_tool_calls=s.cache_tool_calls,
        )
    except LLMCostError as exc:
        if not (s.workshop and s.workshop_fail_open):
            raise
        print(tr("llmcost: the workshop's cache is unreachable ({error}); answers are not cached (fail open).",
                 error=redact(str(exc))), file=sys.stderr)
        return None


def _output(s: Settings) -> Any:
    if s.max_tokens is None and not s.stop and s.concise is None:
        return None
    from .policies.output_controls import OutputControls

    return OutputControls(s.max_tokens, tuple(s.stop), s.concise)


def _compression(s: Settings) -> Any:
    if not s.compress:
        return None
    from .policies.compression import CompressionPolicy

    return CompressionPolicy(s.compress, include_system=s.compress_system)


def _book(s: Settings, ledger: Any) -> Any:
    if s.budgets is None:
        return None
    from .policies.budget_book import BudgetBook, BudgetConfig, load_budgets

    if ledger is None:
        from .session import current_ledger

        ledger = current_ledger()
    config = s.budgets if isinstance(s.budgets, BudgetConfig) else load_budgets(s.budgets)
    return BudgetBook(config, user=s.user, segment=s.segment, ledger=ledger, tag=s.tag)
