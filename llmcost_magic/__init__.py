"""llmcost_magic: see and cut the cost of OpenAI / Anthropic calls inside Jupyter cells.

    %load_ext llmcost_magic
    %%llmcost --tag demo
    client.chat.completions.create(...)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .cache_commands import cache_stats, clear_cache, confirm_answer, reject_answer, semantic_audit
from .core.errors import BudgetExceeded, LLMCostError, MissingDependency
from .core.messages import set_language
from .metering import Meter, meter
from .core.pricing import PriceFileError, UnknownModelError, estimate_cost, load_price_overrides
from .core.records import CallRecord, Cost, Usage
from .core.tokens import count_tokens

if TYPE_CHECKING:
    import pandas as pd
    from IPython.core.interactiveshell import InteractiveShell

__version__ = "0.1.0"

__all__ = [
    "BudgetExceeded",
    "CallRecord",
    "Cost",
    "LLMCostError",
    "Meter",
    "MissingDependency",
    "PriceFileError",
    "UnknownModelError",
    "Usage",
    "batches",
    "cache_stats",
    "dashboard",
    "calibrate_threshold",
    "clear_cache",
    "compress",
    "confirm_answer",
    "compression_playground",
    "count_tokens",
    "estimate_cost",
    "ledger",
    "load_ipython_extension",
    "load_price_overrides",
    "meter",
    "on_alert",
    "prompt_cache_doctor",
    "reject_answer",
    "semantic_audit",
    "set_language",
    "unload_ipython_extension",
    "use_cache_store",
    "use_ledger",
    "whatif",
]


def ledger(**filters: Any) -> pd.DataFrame:
    """Every recorded call as a pandas DataFrame; filter with ``cell=``, ``tag=``, ``session=``, ``since=``.
    Under ``set_language("ko")`` it shows Korean headers and notes; its columns and notes stay English for code."""
    from .core.messages import labelled
    from .session import current_ledger

    return labelled(current_ledger().dataframe(**filters))


def use_ledger(path: str) -> None:
    """Record to the SQLite ledger at ``path`` from now on (``":memory:"`` for a throwaway one)."""
    from .session import use_ledger as _use

    _use(path)


def whatif(calls: pd.DataFrame | None = None, **alternatives: Any) -> pd.DataFrame:
    """Re-price recorded calls (default: this session's) under alternatives, calling nothing:
    ``models=[...]``, ``batch=True``, ``prompt_cache_hit=0.8``, ``compress_to=0.5``, ``cache_hit=0.3``."""
    from .core.messages import labelled
    from .session import current_ledger
    from .bookkeeping.repricing import whatif as _whatif

    if calls is None:
        calls = current_ledger().dataframe(session=current_ledger().session)
    return labelled(_whatif(calls, **alternatives), rows=True)


def dashboard(calls: pd.DataFrame | None = None, *, extra_costs: dict[str, float] | None = None) -> Any:
    """Where the money went: spend over time, by model and tag, the five cost axes (``extra_costs`` for
    external tools and storage / compute), savings by strategy, tokens per call, the costliest calls.
    Shows itself in a notebook; ``.export("report.html")`` or ``.png`` to share."""
    from .session import current_ledger
    from .notebook.widgets.dashboard import Dashboard

    if calls is None:
        calls = current_ledger().dataframe(session=current_ledger().session)
    return Dashboard(calls, extra_costs=extra_costs)


def prompt_cache_doctor(cell_run: int | None = None, *, include_hits: bool = False) -> Any:
    """Why this session's calls missed the provider's prompt cache, what each miss cost, and the fix
    (``.table``: a DataFrame; shown as a short HTML view). ``cell_run``: one cell run only."""
    from .policies.prompt_cache_doctor import prompt_cache_doctor as _doctor

    return _doctor(cell_run, include_hits=include_hits)


def on_alert(callback: Any) -> Any:
    """Call ``callback(alert)`` for every budget alert (``alert.kind``, ``.message``, ``.spent_usd``, ``.limit_usd``)."""
    from .policies.budget_book import on_alert as _on_alert

    return _on_alert(callback)


def batches() -> pd.DataFrame:
    """Every batch submitted from this ledger (re-attach one with ``llmcost_magic.batch.attach(name)``)."""
    from .batch import batches as _batches

    return _batches()


def use_cache_store(url: str) -> None:
    """Cache answers in SQLite at ``url`` (a path or ``":memory:"``) or in Redis (``redis://host:port/db``)."""
    from .session import use_cache_store as _use

    _use(url)


def calibrate_threshold(pairs: list[tuple[str, str, bool]], *, max_false_hit_rate: float = 0.0,
                        margin: float = 0.02) -> dict[str, Any]:
    """Recommend a semantic-cache threshold from labelled ``(question, cached question, same_meaning)``
    pairs, measured with the live index's vectors and guard (precision and recall with 95% intervals)."""
    from .policies.semantic_calibration import calibrate_threshold as _calibrate
    from .session import current_semantic_index

    return _calibrate(pairs, index=current_semantic_index(), max_false_hit_rate=max_false_hit_rate, margin=margin)


def compress(text: str, method: str = "selective", *, rate: float | None = None, query: str = "",
             model: str = "gpt-4o") -> Any:
    """Compress a prompt: ``method`` is ``format``, ``selective``, ``fewshot``, ``rag``, ``llmlingua2``,
    ``llmlingua`` or a chain like ``"format+selective:0.5"``; ``rate`` is the share of tokens to keep.
    Returns a :class:`~llmcost_magic.compression.Compressed` (``.text``, ``.tokens_before``,
    ``.tokens_after``, ``.dropped``); ``llmcost_magic.compression.measure(result)`` gives its fidelity."""
    from .compression import compress as _compress

    return _compress(text, method, rate=rate, query=query, model=model)


def compression_playground(prompt: str = "", **options: Any) -> Any:
    """An interactive widget: a prompt box, a method, a rate slider; shows what was removed, tokens
    before/after, dollars saved per 1,000 calls (``model=``) and fidelity measures."""
    from .notebook.widgets.compression_playground import CompressionPlayground

    return CompressionPlayground(prompt, **options)


def load_ipython_extension(ip: InteractiveShell) -> None:
    """``%load_ext llmcost_magic``: registers ``%%llmcost`` / ``%llmcost`` and installs the seam."""
    from .notebook.magics import load

    load(ip)


def unload_ipython_extension(ip: InteractiveShell) -> None:
    """``%unload_ext llmcost_magic``: removes the magics and cell events and restores the clients."""
    from .notebook.magics import unload

    unload(ip)
