"""Issue 7 targets (partial): budget check + settle overhead per call (cell budget and a budget-file book
on SQLite), and the overshoot of 200 concurrent calls against a tight limit over many runs (target: at
most one call's worst case)."""

from __future__ import annotations

import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from llmcost_magic import estimate_cost, meter, use_ledger
from llmcost_magic.errors import BudgetExceeded
from llmcost_magic.sandbox import client

MSG = [{"role": "user", "content": "q"}]


def overhead() -> None:
    oc = client("openai")

    def per_call(**kw) -> float:  # noqa: ANN003
        samples = []
        with meter(**kw):
            for _ in range(3):
                t0 = time.perf_counter()
                for _ in range(200):
                    oc.chat.completions.create(model="gpt-4o-mini", messages=MSG, max_tokens=50)
                samples.append((time.perf_counter() - t0) / 200 * 1e6)
        return statistics.median(samples)

    base = per_call()
    cell = per_call(budget=1_000.0)
    book = per_call(budgets={"default": {"max_per_query_usd": 1.0, "daily_max_per_user_usd": 10_000.0}}, user="bench")
    line = (f"per call: metered {base:.0f} µs; + cell budget {cell - base:+.0f} µs; + budget-file book (SQLite spend "
            f"query) {book - base:+.0f} µs")
    url = os.environ.get("REDIS_URL")
    if url:
        from llmcost_magic import workshop

        workshop.configure(url, daily_limit_usd=10_000.0)
        room = per_call(workshop=url, user="bench", cache=None)
        line += f"; + workshop budget on Redis (reserve + settle + room totals, cache included) {room - base:+.0f} µs"
    else:
        line += "; Redis: set REDIS_URL to measure the workshop budget"
    print(line)


def overshoot(runs: int = 10) -> None:
    oc = client("openai")
    worst = estimate_cost("gpt-4o-mini", 30, 300)
    limit = worst * 20.5
    worst_over = 0.0
    for run in range(runs):
        use_ledger(":memory:")
        with meter(budgets={"default": {"daily_max_per_user_usd": limit}}, user=f"run{run}") as m:
            def one(i: int) -> None:
                try:
                    oc.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"q{i}"}], max_tokens=300)
                except BudgetExceeded:
                    pass
            with ThreadPoolExecutor(32) as pool:
                list(pool.map(one, range(200)))
            time.sleep(1.1)  # past the book's cache: re-read the ledger
            assert m.totals.refused > 0, "the limit was never reached: the measurement would be meaningless"
            worst_over = max(worst_over, m.book.spent("day") - limit)
    print(f"200 concurrent calls vs a limit of {limit:.6f} USD, {runs} runs: worst overshoot {max(worst_over, 0):.6f} USD "
          f"(one call's worst case is {worst:.6f}; target: overshoot <= that)")


def main() -> None:
    use_ledger(":memory:")
    overhead()
    overshoot()


if __name__ == "__main__":
    main()
