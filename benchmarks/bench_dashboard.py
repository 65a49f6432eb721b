"""Issue 7 target: dashboard render time for a 100k-row ledger (target under 2 s)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from llmcost_magic import dashboard

ROWS = 100_000


def synthetic_ledger(n: int = ROWS, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    models = np.array(["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-6", "claude-haiku-4-5", "text-embedding-3-small"])
    model = models[rng.integers(0, len(models), n)]
    inp = rng.integers(20, 4000, n)
    out = np.where(model == "text-embedding-3-small", 0, rng.integers(10, 800, n))
    cost = (inp * 2.5e-6 + out * 1e-5) * np.where(np.char.find(model.astype(str), "mini") >= 0, 0.06, 1.0)
    cache = np.where(rng.random(n) < 0.2, "exact", "")
    return pd.DataFrame({
        "ts": pd.Timestamp("2026-11-01") + pd.to_timedelta(np.sort(rng.integers(0, 30 * 86400, n)), unit="s"),
        "cell": "In[1]", "tag": rng.choice(["faq", "search", "summaries", "agents", ""], n), "model": model,
        "endpoint": np.where(model == "text-embedding-3-small", "embeddings", "chat.completions"),
        "input_tokens": inp, "cached_input_tokens": (inp * rng.random(n) * 0.3).astype(int), "cache_write_tokens": 0,
        "output_tokens": out, "cost_usd": np.where(cache == "exact", 0.0, cost), "baseline_cost_usd": cost,
        "saved_usd": np.where(cache == "exact", cost, 0.0), "saved_by": np.where(cache == "exact", "cache", ""),
        "cache": cache, "status": "ok",
    })


def main() -> None:
    calls = synthetic_ledger()
    dashboard(calls.head(1000))  # warm-up: imports, fonts
    t0 = time.perf_counter()
    board = dashboard(calls)
    elapsed = time.perf_counter() - t0
    print(f"dashboard for {len(calls):,} ledger rows: {elapsed:.2f} s (target < 2 s); PNG {len(board.png) / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
