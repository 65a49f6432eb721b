"""Issue 8 targets: time and memory to build and submit a 10,000-request batch, and to parse a
10,000-line results file into a DataFrame (target under 1 s). The sandbox (in-process) is the provider."""

from __future__ import annotations

import json
import time
import tracemalloc

from llmcost_magic import batch, use_ledger
from llmcost_magic.batch import _openai_result
from llmcost_magic.sandbox import ManualClock, Sandbox, client

N = 10_000


def _measure(fn, repeatable: bool = True):  # noqa: ANN001, ANN202
    """(result, seconds, peak MB): timed without tracing, then traced once more for memory."""
    t0 = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - t0
    if not repeatable:
        return result, elapsed, float("nan")
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, elapsed, peak / 1e6


def main() -> None:
    use_ledger(":memory:")
    clock = ManualClock()
    sdk = client("openai", sandbox=Sandbox(clock=clock, batch_delay_s=1))
    texts = [f"A sturdy steel water bottle, model {i}, with a {i % 5 + 1}-year warranty" for i in range(N)]
    batch.build(texts[:10], model="gpt-4o-mini")  # warm-up: loads the price snapshot once
    plan, t_build, m_build = _measure(lambda: batch.build(texts, model="gpt-4o-mini", max_tokens=40, template="Title for: {}"))
    job, t_submit, m_submit = _measure(lambda: plan.submit(sdk, name="bench"), repeatable=False)
    print(f"build {N:,} requests: {t_build:.2f} s, peak {m_build:.0f} MB; submit (JSONL upload + batch): "
          f"{t_submit:.2f} s")
    clock.advance(2)
    job.status(sdk)  # the sandbox answers all 10,000 lines here (not part of the measurement below)
    output_file = sdk.batches.retrieve(job.provider_ids[0]).output_file_id
    text = sdk.files.content(output_file).text

    def parse():  # noqa: ANN202
        import pandas as pd

        return pd.DataFrame([_openai_result(json.loads(line), "gpt-4o-mini") for line in text.splitlines() if line])

    frame, t_parse, m_parse = _measure(parse)
    print(f"parse a {len(frame):,}-line results file ({len(text) / 1e6:.1f} MB) into a DataFrame: {t_parse:.2f} s, "
          f"peak {m_parse:.0f} MB (target < 1 s)")
    _, t_collect, _ = _measure(lambda: job.collect(sdk), repeatable=False)
    print(f"collect end to end (download, parse, align, write {N:,} ledger rows): {t_collect:.2f} s")


if __name__ == "__main__":
    main()
