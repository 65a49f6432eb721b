"""Per-user limits from a budget file hold across real processes and real kernels sharing one ledger file.

Before (issue 14): 4 processes overshot a daily limit by up to 3.98x (spend cached 1 s, holds per process);
two kernels of the same user by 2.0x.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading

import pytest

from llmcost_magic import estimate_cost

WORST = estimate_cost("gpt-4o-mini", 30, 300)  # one call's worst case (a few input tokens + max_tokens)


def _spent(ledger_path: str, user: str) -> tuple[float, int, int]:
    db = sqlite3.connect(ledger_path)
    try:
        usd, ok, refused = db.execute("SELECT COALESCE(SUM(cost_usd), 0), SUM(status = 'ok'), SUM(status = 'refused') "
                                      "FROM calls WHERE user = ?", (user,)).fetchone()
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        held = db.execute("SELECT COUNT(*) FROM reservations WHERE batch IS NULL").fetchone()[0] if "reservations" in tables else 0
    finally:
        db.close()
    assert held == 0, "every hold was settled"
    return float(usd), int(ok or 0), int(refused or 0)


PROCESS = textwrap.dedent("""
    import sys
    from concurrent.futures import ThreadPoolExecutor
    import llmcost_magic
    from llmcost_magic import meter
    from llmcost_magic.sandbox import client

    ledger, url, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
    llmcost_magic.session.use_ledger(ledger)
    oc = client("openai", base_url=url, max_retries=0)

    def one(i):
        try:
            oc.chat.completions.create(model="gpt-4o-mini", max_tokens=300,
                                       messages=[{"role": "user", "content": f"Tell me about item {i}."}])
        except llmcost_magic.BudgetExceeded:
            pass

    with meter(budgets={"default": {"daily_max_per_user_usd": limit}}, user="shared"):
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(one, range(50)))
""")


def test_four_processes_share_one_daily_limit(tmp_path, sandbox_server):
    ledger = str(tmp_path / "shared.sqlite3")
    limit = WORST * 30.5
    procs = [subprocess.Popen([sys.executable, "-c", PROCESS, ledger, sandbox_server.openai_base_url, repr(limit)],
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    spent, ok, refused = _spent(ledger, "shared")
    assert ok + refused == 200 and refused > 0  # the limit was really reached
    assert spent <= limit, f"spent {spent:.6f} over a limit of {limit:.6f} ({spent / limit:.2f}x)"


NOTEBOOK_SETUP = """
%load_ext llmcost_magic
%config LLMCost.ledger_path = {ledger!r}
%config LLMCost.budget_file = {budgets!r}
%config LLMCost.user = 'pat'
from concurrent.futures import ThreadPoolExecutor
from llmcost_magic.sandbox import client
oc = client('openai', base_url={url!r}, max_retries=0)
def one(i):
    try:
        oc.chat.completions.create(model='gpt-4o-mini', max_tokens=300, messages=[{{'role': 'user', 'content': f'Item {{i}}'}}])
    except Exception:
        pass
"""
NOTEBOOK_CELL = """%%llmcost --quiet
with ThreadPoolExecutor(8) as pool:
    list(pool.map(one, range(40)))
"""


@pytest.mark.notebook
def test_two_kernels_of_one_user_share_one_daily_limit(tmp_path, sandbox_server):
    import nbformat
    from nbclient import NotebookClient

    ledger, budgets = str(tmp_path / "shared.sqlite3"), tmp_path / "budgets.yaml"
    limit = WORST * 20.5
    budgets.write_text(f"default: {{daily_max_per_user_usd: {limit!r}}}\n")
    errors: list[BaseException] = []

    def kernel() -> None:
        nb = nbformat.v4.new_notebook(cells=[
            nbformat.v4.new_code_cell(NOTEBOOK_SETUP.format(ledger=ledger, budgets=str(budgets), url=sandbox_server.openai_base_url)),
            nbformat.v4.new_code_cell(NOTEBOOK_CELL)])
        try:
            NotebookClient(nb, timeout=300, kernel_name="python3").execute()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=kernel) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    spent, ok, refused = _spent(ledger, "pat")
    assert ok + refused == 80 and refused > 0
    assert spent <= limit, f"spent {spent:.6f} over a limit of {limit:.6f} ({spent / limit:.2f}x)"
