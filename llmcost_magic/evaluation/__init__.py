"""Measure policies honestly.

- Routers on real recorded answers (RouteLLM's GPT-4 vs Mixtral, GSM8K and MMLU): ``ROUTERS``,
  ``router_scores``, ``evaluate_routers(test=..., train=...)`` (APGR, CPT, calls and dollars to 95%).
- Policies on the sandbox's small labelled set (simulated): ``evaluate_routers()`` with no data
  arguments, ``evaluate_compression``, ``batched_vs_separate``, ``blended_price``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from .recorded import ROUTERS, load_recorded, router_scores, shipped_path, split_shared
from .router_table import cost_quality_curve, evaluate_recorded
from .sandbox_runs import (STRATEGIES, batched_vs_separate, blended_price, evaluate_compression, evaluate_on_sandbox,
                           support_prompt)

__all__ = ["ROUTERS", "STRATEGIES", "batched_vs_separate", "blended_price", "cost_quality_curve", "evaluate_compression",
           "evaluate_on_sandbox", "evaluate_recorded", "evaluate_routers", "load_recorded", "router_scores",
           "shipped_path", "split_shared", "support_prompt"]


def evaluate_routers(strategies: Iterable[str] | None = None, *, test: Any = None, train: Any = None,
                     items: Sequence[dict[str, Any]] | None = None, **sandbox_options: Any) -> pd.DataFrame:
    """The router table.

    With ``test`` and/or ``train`` (JSONL paths or DataFrames of recorded items): the routers in ``ROUTERS``
    (or ``strategies``) measured on recorded answers, see :func:`evaluate_recorded`. Without them: the
    simulated strategies run through the sandbox, see :func:`evaluate_on_sandbox`.
    """
    if test is not None or train is not None:
        return evaluate_recorded(test, train, routers=list(strategies) if strategies is not None else None)
    return evaluate_on_sandbox(STRATEGIES if strategies is None else strategies, items=items, **sandbox_options)
