"""Issue 14 targets: hard caps that hold, and what a check costs.

1. spent / limit for every scenario of the issue's table (target: spent <= limit + one call's worst case; the
   reservation model keeps it <= limit), each under the cell budget, a budget file and the workshop's Redis
   where it applies.
2. What a budget check adds per call (hold + settle), against a meter with no budget measured in the same run:
   file-backed daily limit (target <= 150 µs) and the workshop's Redis (target: one round trip per check).

Set REDIS_URL (e.g. redis://127.0.0.1:6390/0) for the workshop rows; the bench flushes that Redis db.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks._timing import interleaved

import llmcost_magic
from llmcost_magic import estimate_cost, meter, use_ledger
from llmcost_magic.core.errors import BudgetExceeded
from llmcost_magic.sandbox import Sandbox, client

URL = os.environ.get("REDIS_URL")


def _fresh_ledger() -> str:
    path = str(Path(tempfile.mkdtemp()) / "ledger.sqlite3")
    use_ledger(path)
    return path


def _limits(backend: str, limit: float) -> dict:
    if backend == "cell":
        return {"budget": limit}
    if backend == "book":
        return {"budgets": {"default": {"daily_max_per_user_usd": limit}}, "user": f"bench-{time.time_ns()}"}
    import redis

    from llmcost_magic import workshop

    redis.Redis.from_url(URL).flushdb()
    workshop.configure(URL, daily_limit_usd=limit)
    return {"workshop": URL, "user": "bench", "cache": None}


def _burst(fn: Callable[[int], object], n: int = 40, threads: int = 16) -> None:
    def one(i: int) -> None:
        try:
            fn(i)
        except BudgetExceeded:
            pass

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(n)))


def _spent() -> float:
    return float(llmcost_magic.ledger().cost_usd.fillna(0).sum())


def _row(name: str, spent: float, limit: float, worst: float) -> None:
    verdict = "ok" if spent <= limit + worst else "OVER"
    print(f"  {name:<58} spent/limit {spent / limit:5.2f}x  (overshoot ${max(spent - limit, 0):.6f}; "
          f"one worst case ${worst:.6f}) {verdict}")


def _backends() -> list[str]:
    return ["cell", "book", "workshop"] if URL else ["cell", "book"]


def scenario_cascade() -> None:
    worst = estimate_cost("gpt-4.1", 80, 200)
    for backend in _backends():
        _fresh_ledger()
        limit = worst * 3.5
        oc = client("openai", sandbox=Sandbox())
        with meter(route="cascade", validator=lambda text: False, **_limits(backend, limit)):
            _burst(lambda i: oc.chat.completions.create(model="gpt-4.1", max_tokens=200,
                                                        messages=[{"role": "user", "content": f"Explain item {i}."}]), 30)
        _row(f"--route cascade, every answer escalated ({backend})", _spent(), limit, worst)


def scenario_n_choices() -> None:
    worst = estimate_cost("gpt-4o-mini", 20, 300 * 8)
    for backend in _backends():
        _fresh_ledger()
        limit = worst * 4.5
        oc = client("openai", sandbox=Sandbox())
        with meter(**_limits(backend, limit)):
            _burst(lambda i: oc.chat.completions.create(model="gpt-4o-mini", n=8, max_tokens=300,
                                                        messages=[{"role": "user", "content": f"Write a story {i}."}]))
        _row(f"n=8, max_tokens=300 ({backend})", _spent(), limit, worst)


def _long_answers(output_tokens: int) -> object:
    import httpx2
    import openai

    def answer(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        time.sleep(0.05)
        return httpx2.Response(200, json={
            "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "done"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 12, "completion_tokens": output_tokens, "total_tokens": 12 + output_tokens}})

    return openai.OpenAI(api_key="x", base_url="http://provider.test/v1", max_retries=0,
                         http_client=httpx2.Client(transport=httpx2.MockTransport(answer)))


def scenario_no_max_tokens() -> None:
    worst = estimate_cost("o3", 20, 100_000)
    for backend in _backends():
        _fresh_ledger()
        limit = worst * 2.5
        oc = _long_answers(20_000)
        with meter(**_limits(backend, limit)):
            _burst(lambda i: oc.chat.completions.create(model="o3", messages=[{"role": "user", "content": f"Prove {i}."}]))
        _row(f"no max_tokens, o3 answers 20k tokens ({backend})", _spent(), limit, worst)


def scenario_unpriced() -> None:
    _fresh_ledger()
    oc = _long_answers(2_000)
    limit = 0.01
    with meter(budget=limit):
        _burst(lambda i: oc.chat.completions.create(model="my-local-llm", messages=[{"role": "user", "content": "hi"}]), 20)
    refused = (llmcost_magic.ledger().status == "refused").sum()
    print(f"  {'a model with no known price (cell budget)':<58} {refused}/20 refused before sending (unlimited before)")


def scenario_batch() -> None:
    _fresh_ledger()
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython()
    shell.run_line_magic("load_ext", "llmcost_magic")
    shell.run_cell("from llmcost_magic.cookbook import openai_client\noai = openai_client()", silent=True)
    shell.run_cell("%%llmcost --batch --budget 0.0001 --quiet\nrs = [oai.chat.completions.create(model='gpt-4o-mini', "
                   "max_tokens=100, messages=[{'role': 'user', 'content': f'q{i}'}]) for i in range(40)]", silent=True)
    submitted = len(llmcost_magic.batches())
    worst = estimate_cost("gpt-4o-mini", 10, 100, batch=True)
    print(f"  {'--batch --budget 0.0001, 40 calls':<58} {submitted} batches submitted; spent/limit "
          f"{_spent() / 0.0001:.2f}x (refused as a whole; one request's worst case ${worst:.6f})")


PROCESS = textwrap.dedent("""
    import sys
    from concurrent.futures import ThreadPoolExecutor
    import llmcost_magic
    from llmcost_magic import meter
    from llmcost_magic.sandbox import client

    llmcost_magic.session.use_ledger(sys.argv[1])
    oc = client("openai", base_url=sys.argv[2], max_retries=0)

    def one(i):
        try:
            oc.chat.completions.create(model="gpt-4o-mini", max_tokens=300, messages=[{"role": "user", "content": f"Item {i}."}])
        except llmcost_magic.BudgetExceeded:
            pass

    with meter(budgets={"default": {"daily_max_per_user_usd": float(sys.argv[3])}}, user="shared"):
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(one, range(50)))
""")


def _ledger_spent(path: str, user: str) -> float:
    db = sqlite3.connect(path)
    try:
        return float(db.execute("SELECT COALESCE(SUM(cost_usd), 0) FROM calls WHERE user = ?", (user,)).fetchone()[0])
    finally:
        db.close()


def scenario_processes_and_kernels() -> None:
    from llmcost_magic.sandbox import serve

    worst = estimate_cost("gpt-4o-mini", 30, 300)
    with serve(port=0) as server:
        path, limit = _fresh_ledger(), worst * 30.5
        procs = [subprocess.Popen([sys.executable, "-c", PROCESS, path, server.openai_base_url, repr(limit)]) for _ in range(4)]
        for p in procs:
            p.wait(timeout=600)
        _row("4 processes x 50 concurrent calls, one daily budget file", _ledger_spent(path, "shared"), limit, worst)
        _two_kernels(server.openai_base_url, worst)


def _two_kernels(url: str, worst: float) -> None:
    import threading

    import nbformat
    from nbclient import NotebookClient

    path, limit = _fresh_ledger(), worst * 20.5
    budgets = Path(tempfile.mkdtemp()) / "budgets.yaml"
    budgets.write_text(f"default: {{daily_max_per_user_usd: {limit!r}}}\n")
    setup = (f"%load_ext llmcost_magic\n%config LLMCost.ledger_path = {path!r}\n%config LLMCost.budget_file = {str(budgets)!r}\n"
             f"%config LLMCost.user = 'pat'\nfrom concurrent.futures import ThreadPoolExecutor\n"
             f"from llmcost_magic.sandbox import client\noc = client('openai', base_url={url!r}, max_retries=0)\n"
             "def one(i):\n    try:\n        oc.chat.completions.create(model='gpt-4o-mini', max_tokens=300, "
             "messages=[{'role': 'user', 'content': f'Item {i}'}])\n    except Exception:\n        pass\n")
    cell = "%%llmcost --quiet\nwith ThreadPoolExecutor(8) as pool:\n    list(pool.map(one, range(40)))\n"

    def run() -> None:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(setup), nbformat.v4.new_code_cell(cell)])
        NotebookClient(nb, timeout=600, kernel_name="python3").execute()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _row("two kernels, same user, same daily budget file", _ledger_spent(path, "pat"), limit, worst)


def check_cost() -> None:
    """Per call: hold + settle through the meter, for each backend, vs a meter with no budget (same run)."""
    from llmcost_magic.intercept import openai_protocol
    from llmcost_magic.intercept.call import Call
    from llmcost_magic.metering import Meter
    from llmcost_magic.policies.budget import Budget
    from llmcost_magic.policies.budget_book import BudgetBook, load_budgets
    from llmcost_magic.core.records import CallRecord, Usage

    ledger = llmcost_magic.session.use_ledger(_fresh_ledger())
    body = {"model": "gpt-4o-mini", "max_tokens": 50, "messages": [{"role": "user", "content": "What is a token?"}]}
    book = BudgetBook(load_budgets({"default": {"daily_max_per_user_usd": 1e9, "monthly_max_per_user_usd": 1e9}}),
                      user="bench", segment=None, ledger=ledger)
    meters = {"no budget (baseline)": Meter(ledger=ledger, user="bench"),
              "cell budget": Meter(ledger=ledger, user="bench", budget=Budget(1e9)),
              "budget file, daily + monthly limits (SQLite)": Meter(ledger=ledger, user="bench", book=book)}
    if URL:
        from llmcost_magic import workshop

        workshop.configure(URL, daily_limit_usd=1e9)
        meters["workshop budget (Redis)"] = Meter(ledger=ledger, user="bench", workshop=workshop.WorkshopBudget(URL, "bench"))

    def one_call(m: Meter) -> Callable[[], None]:
        def run() -> None:  # what the seam does for a call: check, record the row, settle
            call = Call("openai", "chat.completions", "gpt-4o-mini", body, False)
            m.before_send(call, openai_protocol.estimate_input)
            m.record(CallRecord(ts=time.time(), provider="openai", endpoint="chat.completions", model="gpt-4o-mini",
                                usage=Usage(input_tokens=12, output_tokens=30), cost_usd=1e-5, baseline_cost_usd=1e-5,
                                latency_ms=0.0), call)
        return run

    times = interleaved({name: one_call(m) for name, m in meters.items()}, n=300, rounds=7)
    base = times.pop("no budget (baseline)")
    print(f"  per call, check + record + settle: no budget {base:.0f} µs (baseline, same run); one single-row "
          f"SQLite commit here: {_commit_us():.0f} µs")
    for name, us in times.items():
        target = " (target <= 150 µs)" if "file" in name else ""
        print(f"    + {name:<46} {us - base:+6.0f} µs{target}")
    if URL:
        import redis

        r = redis.Redis.from_url(URL)
        before = r.info("commandstats")
        m = meters["workshop budget (Redis)"]
        for _ in range(100):
            call = Call("openai", "chat.completions", "gpt-4o-mini", body, False)
            m.before_send(call, openai_protocol.estimate_input)
            m.release(call, 1e-5)
        after = r.info("commandstats")
        per = {k: (after[k]["calls"] - before.get(k, {"calls": 0})["calls"]) / 100 for k in after
               if k.startswith("cmdstat_eval") or k.startswith("cmdstat_h")}
        evals = sum(v for k, v in per.items() if k.startswith("cmdstat_eval"))
        print(f"    workshop: {evals:.0f} Redis round trips per call (1 to check and hold, 1 to settle and count), "
              f"target <= 1 per check; commands {per}")


def _commit_us() -> float:
    """What this machine takes for one single-row WAL commit (synchronous=NORMAL), for scale."""
    db = sqlite3.connect(str(Path(tempfile.mkdtemp()) / "commit.sqlite3"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v REAL)")

    def commit() -> None:
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t (v) VALUES (1)")
        db.execute("COMMIT")

    return interleaved({"commit": commit}, n=500, rounds=5)["commit"]


def main() -> None:
    print("spent / limit per scenario (issue 14's table):")
    scenario_cascade()
    scenario_n_choices()
    scenario_no_max_tokens()
    scenario_unpriced()
    scenario_batch()
    scenario_processes_and_kernels()
    print("what a budget check costs:")
    check_cost()


if __name__ == "__main__":
    main()
