"""Measure routers honestly: cost against accuracy on a labelled evaluation set.

Runs each strategy (always-small, always-large, and the routers) over the same questions through a
real client (the sandbox by default: simulated; yours with real keys), scores each answer with the
set's reference answers, and reports cost and accuracy relative to always-large, and the blended
price per million tokens.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from .metering import meter
from .policies.routing import Tiers, load_tiers

STRATEGIES = ("always-small", "always-large", "rules", "embedding", "classifier", "cascade")


def _ask(client: Any, provider: str, model: str, question: str) -> str:
    if provider == "anthropic":
        r = client.messages.create(model=model, max_tokens=1024, messages=[{"role": "user", "content": question}])
        return "".join(getattr(b, "text", "") for b in r.content)
    r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": question}])
    return r.choices[0].message.content or ""


def evaluate_routers(strategies: Iterable[str] = STRATEGIES, *, items: Sequence[dict[str, Any]] | None = None,
                     client: Any = None, provider: str = "openai", tiers: Tiers | None = None) -> pd.DataFrame:
    """One row per strategy: calls, cost, accuracy, both relative to always-large, blended $/M tokens."""
    from .sandbox import client as sandbox_client
    from .sandbox import is_correct, load_eval_set

    items = list(items or load_eval_set())
    tiers = tiers or load_tiers()
    client = client or sandbox_client(provider)
    large = tiers.model(tiers.names[-1], provider)
    rows = []
    for strategy in strategies:
        fixed = {"always-small": tiers.names[0], "always-large": tiers.names[-1]}.get(strategy)
        model = tiers.model(fixed, provider) if fixed else large
        with meter(tag=f"eval:{strategy}", route=None if fixed else strategy, tiers=tiers) as m:
            correct = sum(is_correct(item, _ask(client, provider, model, item["question"])) for item in items)
        t = m.totals
        tokens = t.input_tokens + t.output_tokens
        rows.append({"strategy": strategy, "calls": t.calls, "cost_usd": t.cost_usd, "accuracy": correct / len(items),
                     "usd_per_m_tokens": t.cost_usd / tokens * 1e6 if tokens else 0.0})
    table = pd.DataFrame(rows).set_index("strategy")
    if "always-large" in table.index:
        base = table.loc["always-large"]
        table["cost_vs_large"] = table["cost_usd"] / base["cost_usd"]
        table["accuracy_vs_large"] = table["accuracy"] / base["accuracy"]
    return table


def blended_price(shares: dict[str, float], prices_per_m: dict[str, float]) -> float:
    """The average $/M tokens of a traffic mix, e.g. ({"small": .8, "large": .2}, {"small": .25, "large": 2.5}) -> 0.70."""
    total = sum(shares.values())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"traffic shares must add up to 1, got {total}")
    return sum(share * prices_per_m[tier] for tier, share in shares.items())


def batched_vs_separate(questions: Sequence[str], *, model: str = "gpt-4o-mini", client: Any = None) -> pd.DataFrame:
    """The cost of asking questions one call each vs all in one call (the shared prompt paid once;
    the answers are the same length either way)."""
    from .sandbox import client as sandbox_client

    client = client or sandbox_client("openai")
    # A realistic shared prompt (~300 tokens): what batching pays once instead of once per question.
    system = "You are the assistant of an online shop. Answer each question briefly and accurately.\n" + " ".join(
        f"Policy {i}: orders of category {i} ship within {i % 5 + 1} days and can be returned within {i % 30 + 1} days."
        for i in range(12))
    with meter(tag="one-call-per-question") as separate:
        for q in questions:
            client.chat.completions.create(model=model, messages=[{"role": "system", "content": system}, {"role": "user", "content": q}])
    numbered = "\n".join(f"{i}. {q}" for i, q in enumerate(questions, 1))
    with meter(tag="questions-batched") as batched:
        client.chat.completions.create(model=model, messages=[
            {"role": "system", "content": system},
            {"role": "user", "content": f"Answer each numbered question briefly, in at most {25 * len(questions)} words in all:\n{numbered}"}])
    rows = [{"pattern": "one call per question", "calls": separate.totals.calls, "input_tokens": separate.totals.input_tokens,
             "output_tokens": separate.totals.output_tokens, "cost_usd": separate.totals.cost_usd},
            {"pattern": "all questions in one call", "calls": batched.totals.calls, "input_tokens": batched.totals.input_tokens,
             "output_tokens": batched.totals.output_tokens, "cost_usd": batched.totals.cost_usd}]
    return pd.DataFrame(rows).set_index("pattern")
