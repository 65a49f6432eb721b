"""Measure policies on the sandbox: routers, batching and compression on its small labelled set (simulated).

Runs each strategy (always-small, always-large, and the routers) over the same questions through a
real client (the sandbox by default: simulated; yours with real keys), scores each answer with the
set's reference answers, and reports cost and accuracy relative to always-large, and the blended
price per million tokens.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from ..metering import meter
from ..policies.routing import Tiers, load_tiers

STRATEGIES = ("always-small", "always-large", "rules", "embedding", "classifier", "cascade")


def _ask(client: Any, provider: str, model: str, question: str) -> str:
    if provider == "anthropic":
        r = client.messages.create(model=model, max_tokens=1024, messages=[{"role": "user", "content": question}])
        return "".join(getattr(b, "text", "") for b in r.content)
    r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": question}])
    return r.choices[0].message.content or ""


def evaluate_on_sandbox(strategies: Iterable[str] = STRATEGIES, *, items: Sequence[dict[str, Any]] | None = None,
                     client: Any = None, provider: str = "openai", tiers: Tiers | None = None) -> pd.DataFrame:
    """One row per strategy: calls, cost, accuracy, both relative to always-large, blended $/M tokens."""
    from ..sandbox import client as sandbox_client
    from ..sandbox import is_correct, load_eval_set

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
    from ..sandbox import client as sandbox_client

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


def support_prompt(lang: str = "en", *, compact: bool = False) -> str:
    """The cookbook's verbose customer-support system prompt (``lang`` "en" or "ko"); ``compact=True``
    gives the hand-tightened Korean version that keeps every rule."""
    from importlib import resources

    name = f"support_prompt_{lang}{'_compact' if compact else ''}.txt"
    return resources.files("llmcost_magic").joinpath("data", name).read_text(encoding="utf-8")


def evaluate_compression(specs: Iterable[str | None], *, items: Sequence[dict[str, Any]] | None = None,
                         client: Any = None, model: str = "gpt-4.1-mini", system: str | None = None,
                         compress_question: bool = False) -> pd.DataFrame:
    """One row per compression spec (None: uncompressed): cost, accuracy and keyword retention on the
    labelled set, each question asked under the verbose support system prompt.

    The policy compresses the system prompt (where the money is). With ``compress_question=True`` the
    question itself is compressed too: the stress test, since on the sandbox an answer is right only
    as often as the words it needs survive (see ``sandbox.quality``).
    """
    from ..compression import compress
    from ..sandbox import client as sandbox_client
    from ..sandbox import is_correct, load_eval_set

    items = list(items or load_eval_set())
    client = client or sandbox_client("openai")
    system = system or support_prompt("en")
    rows = []
    for spec in specs:
        kept_keywords = total_keywords = correct = 0
        with meter(tag=f"compress:{spec or 'none'}", compress=spec) as m:
            for item in items:
                question = item["question"]
                if spec and compress_question:
                    question = compress(question, spec).text
                keywords = item.get("keywords") or []
                kept_keywords += sum(k.lower() in question.lower() for k in keywords)
                total_keywords += len(keywords)
                reply = client.chat.completions.create(model=model, messages=[
                    {"role": "system", "content": system}, {"role": "user", "content": question}])
                correct += is_correct(item, reply.choices[0].message.content or "")
        t = m.totals
        rows.append({"method": spec or "none", "input_tokens": t.input_tokens, "cost_usd": t.cost_usd,
                     "saved_usd": t.saved_usd, "accuracy": correct / len(items),
                     "keywords_kept": kept_keywords / total_keywords if total_keywords else 1.0})
    table = pd.DataFrame(rows).set_index("method")
    if "none" in table.index:
        table["cost_vs_none"] = table["cost_usd"] / table.loc["none", "cost_usd"]
    return table
