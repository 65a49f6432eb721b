"""Issue 6 targets: router decision time (rules and embedding p50 < 0.2 ms; the classifier is its own
call), and on the sandbox's labelled set each router's cost and accuracy relative to always-large
(goal for the best: >= 60% cheaper at >= 95% of its accuracy, reproducible run to run)."""

from __future__ import annotations

import statistics
import time

from llmcost_magic import use_ledger
from llmcost_magic.evaluation import evaluate_routers
from llmcost_magic.intercept.call import Call
from llmcost_magic.policies.routing import EmbeddingRouter, RulesRouter, load_tiers
from llmcost_magic.sandbox import load_eval_set


def decision_times() -> None:
    tiers = load_tiers()
    calls = [Call("openai", "chat.completions", "gpt-4.1", {"model": "gpt-4.1", "messages": [{"role": "user", "content": i["question"]}]}, False)
             for i in load_eval_set()]
    for router in (RulesRouter(), EmbeddingRouter()):
        router.decide(calls[0], tiers)  # warm-up (the embedding router embeds its examples once)
        samples = []
        for _ in range(20):
            for call in calls:
                t0 = time.perf_counter()
                router.decide(call, tiers)
                samples.append((time.perf_counter() - t0) * 1e3)
        print(f"{router.name:10s} router decision: p50 {statistics.median(samples):.3f} ms, "
              f"p99 {sorted(samples)[int(len(samples) * 0.99)]:.3f} ms (target p50 < 0.2 ms)")


def main() -> None:
    use_ledger(":memory:")
    decision_times()
    first = evaluate_routers()
    second = evaluate_routers()
    print(first.round(4).to_string())
    print(f"reproducible run to run: {first.equals(second)}")
    routers = first.drop(index=["always-small", "always-large"])
    fit = routers[routers["accuracy_vs_large"] >= 0.95]
    if len(fit):
        best = fit["cost_vs_large"].idxmin()
        print(f"best router at >= 95% of always-large's accuracy: {best}, {1 - fit.loc[best, 'cost_vs_large']:.0%} cheaper "
              f"at {fit.loc[best, 'accuracy_vs_large']:.0%} of its accuracy (goal: >= 60% cheaper) [simulated]")
    else:
        print("no router reached 95% of always-large's accuracy on this set [simulated]")


if __name__ == "__main__":
    main()
