"""Where the meter's added time goes, step by step, inside the SDK's own call (issue 13's speed target).

Each step of the seam is timed where it runs: between the SDK's own work, on a plain OpenAI call with a ledger
file. A step costs 2-4x more there than in a loop that runs it alone (the SDK's work evicts ours from the
CPU's caches), and a system call costs far more (one ``write`` of the journal line: ~0.7 µs alone, 9-20 µs
between SDK calls on this VM), so the loop figures are printed beside the in-call ones. The timers add
~0.5 µs each; an outer step's figure includes its inner steps.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import httpx2
import openai

from benchmarks.bench_core import Canned
from llmcost_magic.bookkeeping import ledger_journal, sqlite_ledger
from llmcost_magic.intercept import install, pipeline
from llmcost_magic.metering import Meter, _scoped

CALLS = 2000
spent: defaultdict[str, int] = defaultdict(int)


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    clock = time.perf_counter_ns

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = clock()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] += clock() - t0
    return timed


STEPS = (  # (label, owner, attribute): outer steps first
    ("prepare (read the request, policies)", pipeline, "prepare"),
    ("finish (everything after the answer)", pipeline, "finish"),
    ("  parse the answer", pipeline, "parse_answer"),
    ("  price it, build the row", pipeline, "row_for"),
    ("  Meter.record", Meter, "record"),
    ("    Ledger.record", sqlite_ledger.Ledger, "record"),
    ("      the journal's write()", ledger_journal.Journal, "append"),
)


def main() -> None:
    install()
    client = openai.OpenAI(api_key="x", base_url="http://bench.local/v1", http_client=httpx2.Client(transport=Canned()),
                           max_retries=0)
    msgs = [{"role": "user", "content": "Say hello."}]
    originals = [(owner, attr, getattr(owner, attr)) for _, owner, attr in STEPS]
    for label, owner, attr in STEPS:
        setattr(owner, attr, _timed(label, getattr(owner, attr)))
    ledger = sqlite_ledger.Ledger(os.path.join(tempfile.mkdtemp(prefix="llmcost-bench-"), "ledger.sqlite3"))
    scope = Meter(ledger=ledger)
    token = _scoped.set(scope)
    try:
        for _ in range(200):
            client.chat.completions.create(model="gpt-4o-mini", messages=msgs)
        spent.clear()
        for _ in range(CALLS):
            client.chat.completions.create(model="gpt-4o-mini", messages=msgs)
    finally:
        _scoped.reset(token)
        for owner, attr, original in originals:
            setattr(owner, attr, original)
    print(f"per plain call, timed inside the SDK's call ({CALLS} calls, a ledger file):")
    for label, _, _ in STEPS:
        print(f"  {label:40s} {spent[label] / CALLS / 1e3:6.1f} µs")

    ledger.close()
    # the same write in a loop of its own, to a journal of another (throwaway) ledger path
    journal = ledger_journal.Journal(os.path.join(tempfile.mkdtemp(prefix="llmcost-bench-"), "alone.sqlite3"), "alone",
                                     sqlite_ledger.COLUMNS)
    line = ledger_journal.encode_row(list(range(len(sqlite_ledger.COLUMNS))))
    t0 = time.perf_counter_ns()
    for _ in range(CALLS):
        journal.append(line)
    print(f"the journal's write() alone, in a loop: {(time.perf_counter_ns() - t0) / CALLS / 1e3:.1f} µs")
    os.close(journal._fd)


if __name__ == "__main__":
    main()
