"""Hard caps that are hard (issue 14): every request a policy sends holds its worst case, in every backend.

Each scenario runs real SDK clients against the sandbox (or a fake provider on the SDK's own transport) and
asserts what was really spent (the ledger) stays within the limit: overshoot <= one call's worst case.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest
import redis

import llmcost_magic
from llmcost_magic import estimate_cost, meter, workshop
from llmcost_magic.sandbox import Sandbox, client

BACKENDS = ["cell", "book", "workshop"]


def _limits(backend: str, limit: float, request) -> dict:  # noqa: ANN001
    if backend == "cell":
        return {"budget": limit}
    if backend == "book":
        return {"budgets": {"default": {"daily_max_per_user_usd": limit}}, "user": f"book-{request.node.name}"}
    url = request.getfixturevalue("redis_url")
    redis.Redis.from_url(url).flushdb()
    workshop.configure(url, daily_limit_usd=limit)
    return {"workshop": url, "user": "room-user", "cache": None}


def _spent(backend: str, kwargs: dict) -> float:
    df = llmcost_magic.ledger()
    ledger_spent = float(df.cost_usd.fillna(0).sum())
    if backend == "workshop":
        room = workshop.room(kwargs["workshop"]).loc[kwargs["user"], "spent_usd"]
        assert room == pytest.approx(ledger_spent, rel=1e-9, abs=1e-12), "the room must see what the ledger saw"
    return ledger_spent


def _burst(fn, n: int = 40, threads: int = 16) -> int:  # noqa: ANN001
    def one(i: int) -> bool:
        try:
            fn(i)
        except llmcost_magic.BudgetExceeded:
            return False
        return True

    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(one, range(n)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_cascade_attempts_hold_their_worst_case(backend, request):
    """Before: the attempts were never held, the budget believed $0 was spent (16.6x the limit)."""
    worst = estimate_cost("gpt-4.1", 80, 200)  # the dearest tier's worst case
    limit = worst * 3.5
    kwargs = _limits(backend, limit, request)
    oc = client("openai", sandbox=Sandbox())
    with meter(route="cascade", validator=lambda text: False, **kwargs) as m:  # every answer escalates
        _burst(lambda i: oc.chat.completions.create(
            model="gpt-4.1", max_tokens=200, messages=[{"role": "user", "content": f"Explain item {i}."}]), n=30)
    spent = _spent(backend, kwargs)
    assert m.totals.refused > 0 and m.totals.calls > 0  # attempts were sent, and the limit was really reached
    assert 0 < spent <= limit
    if backend == "cell":
        assert m.budget.spent_usd == pytest.approx(spent) and m.budget.reserved_usd == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_n_choices_multiply_the_worst_case(backend, request):
    """Before: n=8 held one choice (3.2x the limit; 3.9x in workshop mode)."""
    worst = estimate_cost("gpt-4o-mini", 20, 300 * 8)
    limit = worst * 4.5
    kwargs = _limits(backend, limit, request)
    oc = client("openai", sandbox=Sandbox())
    with meter(**kwargs) as m:
        _burst(lambda i: oc.chat.completions.create(model="gpt-4o-mini", n=8, max_tokens=300,
                                                    messages=[{"role": "user", "content": f"Write a story {i}."}]))
    assert m.totals.refused > 0
    assert 0 < _spent(backend, kwargs) <= limit


def _long_answers(output_tokens: int, delay: float = 0.05) -> openai.OpenAI:
    """A real OpenAI client whose provider answers every call with ``output_tokens`` of reasoning + text."""
    import httpx2

    def answer(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        time.sleep(delay)
        return httpx2.Response(200, json={
            "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "done"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 12, "completion_tokens": output_tokens, "total_tokens": 12 + output_tokens,
                      "completion_tokens_details": {"reasoning_tokens": output_tokens - 1}}})

    return openai.OpenAI(api_key="x", base_url="http://provider.test/v1", max_retries=0,
                         http_client=httpx2.Client(transport=httpx2.MockTransport(answer)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_max_tokens_holds_the_models_own_output_limit(backend, request):
    """Before: a request without max_tokens held 4,096 output tokens; o3 answered 20k (4.0x the limit)."""
    from llmcost_magic.policies.budgets.worst_case import model_output_limit

    assert model_output_limit("o3") == 100_000 and model_output_limit("gpt-4o-mini-2024-07-18") == 16_384
    limit = estimate_cost("o3", 20, 100_000) * 2.5
    kwargs = _limits(backend, limit, request)
    oc = _long_answers(20_000)
    with meter(**kwargs) as m:
        _burst(lambda i: oc.chat.completions.create(model="o3", messages=[{"role": "user", "content": f"Prove {i}."}]))
    assert m.totals.refused > 0
    assert 0 < _spent(backend, kwargs) <= limit


def test_an_unpriced_model_cannot_pass_a_hard_cap_unless_allowed():
    """Before: a model with no price held $0, so any number of calls passed (unlimited)."""
    oc = _long_answers(50, delay=0)
    with meter(budget=0.01):
        with pytest.raises(llmcost_magic.BudgetExceeded) as err:
            oc.chat.completions.create(model="gpt-4o-mini-local", messages=[{"role": "user", "content": "hi"}])
    message = str(err.value)
    assert "'gpt-4o-mini-local'" in message and "gpt-4o-mini" in message  # the model and the nearest priced
    assert "load_price_overrides" in message and "allow_unpriced" in message  # the one-line fixes
    assert list(llmcost_magic.ledger().status) == ["refused"]
    with meter(budget=0.01, allow_unpriced=True):
        oc.chat.completions.create(model="gpt-4o-mini-local", messages=[{"role": "user", "content": "hi"}])
    assert list(llmcost_magic.ledger().status) == ["refused", "ok"]


def test_batch_cell_is_checked_as_a_whole_before_submission(shell):
    """Before: --batch --budget 0.0001 deferred the calls before any check (462x the limit)."""
    shell.run_cell("from llmcost_magic.cookbook import openai_client\noai = openai_client()")
    r = shell.run_cell("%%llmcost --batch --budget 0.0001\nrs = [oai.chat.completions.create(model='gpt-4o-mini', "
                       "max_tokens=100, messages=[{'role': 'user', 'content': f'q{i}'}]) for i in range(40)]")
    assert r.error_in_exec is None
    assert llmcost_magic.batches().empty  # nothing was submitted
    df = llmcost_magic.ledger()
    assert list(df.status) == ["refused"] and df.endpoint[0] == "batch"
    assert "first 3 of them" in df.note[0] and "40 requests" in df.note[0] and "$0.000100" in df.note[0]


def test_batch_api_submit_holds_and_results_count_for_the_user(monkeypatch):
    """Before: batch results had an empty user, so per-user daily limits never saw batch spend."""
    from llmcost_magic import batch

    oc = client("openai")
    plan = batch.build([f"item {i}" for i in range(6)], model="gpt-4o-mini", max_tokens=100)
    limit = estimate_cost("gpt-4o-mini", 40, 100, batch=True) * 3
    with meter(budgets={"default": {"daily_max_per_user_usd": limit}}, user="batcher") as m:
        with pytest.raises(llmcost_magic.BudgetExceeded, match="first 3 of them"):
            plan.submit(oc)
        small = batch.build([f"item {i}" for i in range(2)], model="gpt-4o-mini", max_tokens=100)
        job = small.submit(oc)
        assert m.book.reserved_usd > 0  # the batch holds its worst case until collected
        job.wait(oc, interval=0.1, progress=False)
        job.collect(oc)
        assert m.book.reserved_usd == 0
    rows = llmcost_magic.ledger()
    assert set(rows[rows.endpoint == "batch"].user) == {"batcher"}
    assert batch.attach(job.name).user == "batcher"


def test_an_image_counts_its_real_tokens():
    """Before: any image counted 255 tokens (3.9x the limit on a big image)."""
    import base64
    import io

    from PIL import Image

    from llmcost_magic.intercept import openai_protocol
    from llmcost_magic.intercept.call import Call

    buf = io.BytesIO()
    Image.new("RGB", (1024, 1024), "white").save(buf, "PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": url, "detail": "high"}}]}]}
    assert openai_protocol.estimate_input(Call("openai", "chat.completions", "gpt-4o", body, False)) >= 765


def test_straggler_threads_are_metered_late_and_checked(shell):
    """Before: threads a cell started kept calling after it ended, unmetered (28 of 40 calls)."""
    shell.run_cell("import threading, time\nfrom llmcost_magic.sandbox import client\noc = client('openai')\n"
                   "def work():\n    for i in range(40):\n        time.sleep(0.01)\n        try:\n"
                   "            oc.chat.completions.create(model='gpt-4o-mini', max_tokens=50, messages=[{'role': 'user', 'content': f'q{i}'}])\n"
                   "        except Exception:\n            pass\n")
    limit = estimate_cost("gpt-4o-mini", 20, 50) * 25.5
    shell.run_cell(f"%%llmcost --budget {limit}\nt = threading.Thread(target=work)\nt.start()")
    shell.run_cell("t.join()")
    df = llmcost_magic.ledger()
    assert len(df) == 40  # every call: sent (ok) or refused by the cell's budget
    assert df.note.str.startswith("late").sum() > 20 and df.cell_run.nunique() == 1
    assert (df.status == "refused").sum() > 0 and df.cost_usd.fillna(0).sum() <= limit


def test_straggler_tasks_are_metered_late(shell):
    shell.run_cell("import asyncio\nfrom llmcost_magic.sandbox import client\naoc = client('openai', async_=True)\n"
                   "async def work():\n    for i in range(5):\n        await asyncio.sleep(0.01)\n"
                   "        await aoc.chat.completions.create(model='gpt-4o-mini', max_tokens=5, messages=[{'role': 'user', 'content': 'q'}])\n")
    shell.run_cell("%%llmcost --budget 1\nloop = asyncio.new_event_loop()\ntask = loop.create_task(work())")
    shell.run_cell("loop.run_until_complete(task)")
    df = llmcost_magic.ledger()
    assert len(df) == 5 and df.note.str.startswith("late").all()


def test_redis_passwords_never_reach_rows_errors_or_reprs(capsys):
    """Before: the workshop URL's password landed in the ledger note of refused rows and in errors."""
    url = "redis://:hunter2-secret@127.0.0.1:1/0"
    with pytest.raises(llmcost_magic.LLMCostError) as err:
        workshop.WorkshopBudget(url, "ana")
    assert "hunter2" not in str(err.value) and "***@127.0.0.1" in str(err.value)
    budget = workshop.WorkshopBudget(url, "ana", fail_open=True)  # open at the start: the cell goes on
    assert "hunter2" not in repr(budget) and "hunter2" not in capsys.readouterr().err
    budget.fail_open = False
    oc = client("openai")
    with meter(budget=1.0) as m:
        m.workshop = budget
        with pytest.raises(llmcost_magic.BudgetExceeded) as refused:
            oc.chat.completions.create(model="gpt-4o-mini", max_tokens=5, messages=[{"role": "user", "content": "q"}])
    assert "hunter2" not in str(refused.value)
    note = llmcost_magic.ledger().note[0]
    assert "unreachable" in note and "hunter2" not in note


def test_workshop_fail_open_holds_at_cell_start(shell, capsys):
    """Before: workshop_fail_open was ignored when Redis was already down as the cell started."""
    shell.run_line_magic("config", "LLMCost.workshop = 'redis://127.0.0.1:1/0'")
    shell.run_line_magic("config", "LLMCost.workshop_fail_open = True")
    try:
        shell.run_cell("from llmcost_magic.sandbox import client\noc = client('openai')")
        r = shell.run_cell("%%llmcost\noc.chat.completions.create(model='gpt-4o-mini', max_tokens=5, "
                           "messages=[{'role':'user','content':'hi'}])")
        assert r.error_in_exec is None and list(llmcost_magic.ledger().status) == ["ok"]
        assert "fail open" in capsys.readouterr().err
    finally:
        shell.run_line_magic("config", "LLMCost.workshop = None")
        shell.run_line_magic("config", "LLMCost.workshop_fail_open = False")


def test_a_killed_kernels_workshop_hold_expires_within_its_lease(redis_url):
    """Before: a kernel killed mid-call left its hold in Redis for 48 h (the participant refused with $0 spent)."""
    import os
    import signal
    import subprocess
    import sys

    redis.Redis.from_url(redis_url).flushdb()
    limit = estimate_cost("gpt-4o-mini", 10, 1000) * 1.5
    workshop.configure(redis_url, daily_limit_usd=limit)
    code = ("import os, signal\nfrom llmcost_magic import workshop\nfrom llmcost_magic.intercept.call import Call\n"
            "from llmcost_magic.policies.budgets.worst_case import worst_case\n"
            f"b = workshop.WorkshopBudget({redis_url!r}, 'kim')\n"
            "call = Call('openai', 'chat.completions', 'gpt-4o-mini', {}, False)\n"
            "b.reserve(call, worst_case('gpt-4o-mini', {'max_tokens': 1000}, 10))\nprint('held', flush=True)\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n")
    env = {**os.environ, "LLMCOST_BUDGET_LEASE_S": "5"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "held" and out.returncode == -signal.SIGKILL
    oc = client("openai")
    with meter(workshop=redis_url, user="kim", cache=None):
        with pytest.raises(llmcost_magic.BudgetExceeded, match="spent or reserved"):  # the dead kernel's hold
            oc.chat.completions.create(model="gpt-4o-mini", max_tokens=1000, messages=[{"role": "user", "content": "q"}])
        time.sleep(5.2)  # the dead process's lease ran out
        oc.chat.completions.create(model="gpt-4o-mini", max_tokens=1000, messages=[{"role": "user", "content": "q"}])


def test_a_killed_process_ledger_hold_expires_within_its_lease(fresh_ledger):
    import os
    import signal
    import subprocess
    import sys

    limit = estimate_cost("gpt-4o-mini", 10, 1000) * 1.5
    config = {"default": {"daily_max_per_user_usd": limit}}
    code = ("import os, signal\nimport llmcost_magic.session\nfrom llmcost_magic.policies.budget_book import BudgetBook, load_budgets\n"
            "from llmcost_magic.intercept.call import Call\nfrom llmcost_magic.policies.budgets.worst_case import worst_case\n"
            f"ledger = llmcost_magic.session.use_ledger({fresh_ledger.path!r})\n"
            f"book = BudgetBook(load_budgets({config!r}), user='kim', segment=None, ledger=ledger)\n"
            "book.reserve(Call('openai', 'chat.completions', 'gpt-4o-mini', {}, False), "
            "worst_case('gpt-4o-mini', {'max_tokens': 1000}, 10))\nprint('held', flush=True)\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n")
    env = {**os.environ, "LLMCOST_BUDGET_LEASE_S": "5"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "held", out.stderr
    oc = client("openai")
    with meter(budgets=config, user="kim"):
        with pytest.raises(llmcost_magic.BudgetExceeded, match="spent or reserved"):
            oc.chat.completions.create(model="gpt-4o-mini", max_tokens=1000, messages=[{"role": "user", "content": "q"}])
        time.sleep(5.2)  # the dead process's lease ran out
        oc.chat.completions.create(model="gpt-4o-mini", max_tokens=1000, messages=[{"role": "user", "content": "q"}])


def test_refusals_name_limit_spend_shortfall_and_a_cheaper_model():
    oc = client("openai")
    with meter(budget=0.005):
        with pytest.raises(llmcost_magic.BudgetExceeded) as err:
            oc.chat.completions.create(model="gpt-4.1", max_tokens=1000, messages=[{"role": "user", "content": "q"}])
    message = str(err.value)
    assert "$0.005000" in message and "left" in message and "over by" in message and "would fit" in message
    assert err.value.suggestion and llmcost_magic.ledger().status[0] == "refused"


def test_thread_safety_of_the_lease_heartbeat_does_not_block_calls():
    """A hold renewed while calls settle: no deadlock between the heartbeat and the ledger lock."""
    from llmcost_magic.policies.budgets import reservations

    oc = client("openai")
    with meter(budgets={"default": {"daily_max_per_user_usd": 5.0}}, user="hb") as m:
        stop = threading.Event()

        def renew() -> None:
            while not stop.is_set():
                m.book.holds.renew()

        t = threading.Thread(target=renew)
        t.start()
        _burst(lambda i: oc.chat.completions.create(model="gpt-4o-mini", max_tokens=20,
                                                    messages=[{"role": "user", "content": f"q{i}"}]), n=20, threads=4)
        stop.set()
        t.join()
    assert reservations.LEASE_S > 0 and m.book.reserved_usd == 0


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "-1", "true", "'abc'"])
def test_price_files_reject_values_that_would_reserve_nothing(tmp_path, value):
    """Before: a price file with nan priced every call at nan, so a hard cap reserved $0 (unlimited)."""
    from llmcost_magic.core.pricing import PriceFileError, load_price_overrides

    path = tmp_path / "prices.yaml"
    path.write_text(f"models:\n  my-model: {{input_mtok: {value}, output_mtok: 1.0}}\n")
    with pytest.raises(PriceFileError) as err:
        load_price_overrides(path)
    assert str(path) in str(err.value) and "my-model" in str(err.value) and "input_mtok" in str(err.value)


def test_ttl_and_tiers_files_reject_unknown_keys_and_bad_values(tmp_path):
    from llmcost_magic.policies.response_cache import load_ttl_table
    from llmcost_magic.policies.routing import TierFileError, load_tiers

    ttl = tmp_path / "ttl.yaml"
    ttl.write_text("small_talk: .nan\n")
    with pytest.raises(ValueError, match="ttl.yaml: ttls.small_talk must be a duration"):
        load_ttl_table(ttl)
    tiers = tmp_path / "tiers.yaml"
    tiers.write_text("tiers: {small: {openai: gpt-4o-mini}}\nrule: {large: [why]}\n")
    with pytest.raises(TierFileError, match=r"tiers.yaml: unknown key 'rule' \(a typo\?\); allowed there: \['tiers', 'default', 'rules'\]"):
        load_tiers(tiers)


def test_the_classifier_and_history_summary_calls_hold_the_budget_too():
    """Calls a policy makes on its own (the classifier router, a history summary) are held and refused like any."""
    from llmcost_magic.compression import summarize_history

    oc = client("openai")
    with meter(route="classifier", budget=1e-7):  # not even the classifier's call fits
        with pytest.raises(llmcost_magic.BudgetExceeded):
            oc.chat.completions.create(model="gpt-4o", max_tokens=50, messages=[{"role": "user", "content": "Why?"}])
    df = llmcost_magic.ledger()
    assert (df.status == "refused").all() and df.cost_usd.fillna(0).sum() == 0
    history = [{"role": "user", "content": f"turn {i} " * 30} if i % 2 == 0 else
               {"role": "assistant", "content": f"answer {i} " * 30} for i in range(8)]
    with meter(budget=1e-7):
        with pytest.raises(llmcost_magic.BudgetExceeded):
            summarize_history(history, oc, summary_model="gpt-4o-mini", chat_model="gpt-4o-mini")
    assert (llmcost_magic.ledger().status == "refused").all()


def test_a_long_call_keeps_its_hold_past_the_lease(redis_url):
    """A call longer than the lease is not freed under its feet: the heartbeat renews the holds of live calls."""
    import os
    import subprocess
    import sys

    redis.Redis.from_url(redis_url).flushdb()
    code = (
        "import time\nimport llmcost_magic.session\nfrom llmcost_magic import workshop\n"
        "from llmcost_magic.intercept.call import Call\nfrom llmcost_magic.policies.budgets.worst_case import worst_case\n"
        "from llmcost_magic.policies.budget_book import BudgetBook, load_budgets\n"
        f"workshop.configure({redis_url!r}, daily_limit_usd=1.0)\n"
        f"b = workshop.WorkshopBudget({redis_url!r}, 'long')\n"
        "ledger = llmcost_magic.session.use_ledger(':memory:')\n"
        "book = BudgetBook(load_budgets({'default': {'daily_max_per_user_usd': 1.0}}), user='long', segment=None, ledger=ledger)\n"
        "call = Call('openai', 'chat.completions', 'gpt-4o-mini', {}, False)\n"
        "w = worst_case('gpt-4o-mini', {'max_tokens': 1000}, 10)\n"
        "b.reserve(call, w); book.reserve(call, w)\ntime.sleep(6.0)\n"
        "print(len(b._client.hkeys(b._keys()[2])), round(book.reserved_usd, 9) == round(w.usd, 9))\n")
    env = {**os.environ, "LLMCOST_BUDGET_LEASE_S": "2.0"}  # 3 leases; 1.0 s once lapsed on a loaded machine
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["1", "True"], out.stderr


@pytest.mark.notebook
def test_in_a_real_kernel_late_tasks_count_and_unmetered_cells_stay_unmetered(tmp_path):
    import sqlite3

    import nbformat
    from nbclient import NotebookClient

    ledger = str(tmp_path / "kernel.sqlite3")
    ask = "messages=[{'role': 'user', 'content': 'q'}], model='gpt-4o-mini', max_tokens=5"
    cells = [f"%load_ext llmcost_magic\n%config LLMCost.ledger_path = {ledger!r}\nimport asyncio\n"
             "from llmcost_magic.sandbox import client\noc = client('openai')\naoc = client('openai', async_=True)\n"
             f"async def late():\n    await asyncio.sleep(0.3)\n    await aoc.chat.completions.create({ask})",
             f"%%llmcost --quiet\noc.chat.completions.create({ask})\nawait aoc.chat.completions.create({ask})",
             f"oc.chat.completions.create({ask})\nawait aoc.chat.completions.create({ask})",  # not metered
             "%%llmcost --quiet\ntask = asyncio.ensure_future(late())",  # ends before its task calls
             f"await asyncio.sleep(1)\noc.chat.completions.create({ask})"]  # not metered
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    rows = sqlite3.connect(ledger).execute("SELECT cell_run, note LIKE 'late%' FROM calls ORDER BY id").fetchall()
    assert rows == [(1, 0), (1, 0), (3, 1)]


def test_each_sdk_retry_holds_and_settles_its_own_worst_case():
    oc = client("openai", max_retries=2)
    with meter(budget=1.0) as m:
        with pytest.raises(openai.InternalServerError):
            oc.chat.completions.create(model="gpt-4o-mini", max_tokens=5, messages=[{"role": "user", "content": "q"}],
                                       extra_headers={"x-sandbox-fault": "500"})
    assert list(llmcost_magic.ledger().status) == ["http_500"] * 3
    assert m.budget.spent_usd == 0 and m.budget.reserved_usd == pytest.approx(0, abs=1e-12)


def test_worst_case_counts_every_billed_choice_and_the_dearest_input_rate():
    from llmcost_magic.policies.budgets.worst_case import worst_case, worst_case_usd

    assert worst_case("gpt-4o-mini", {"n": 8, "max_tokens": 300}, 20).output_tokens * 8 == 2400
    assert worst_case("gpt-3.5-turbo-instruct", {"n": 1, "best_of": 5, "max_tokens": 100}, 10).choices == 5
    assert worst_case("gpt-4o-mini", {"max_completion_tokens": 7, "max_tokens": 9}, 1).output_tokens == 7
    # Anthropic: a 5-minute prompt-cache write costs 1.25x input ...
    # and a 1-hour cache write 2x: the worst case prices input at the dearest rate the model has
    assert worst_case_usd("claude-haiku-4-5", 1000, 0) == pytest.approx(estimate_cost("claude-haiku-4-5", 1000, 0) * 2)


def test_async_cascade_attempts_hold_their_worst_case_too():
    import asyncio

    worst = estimate_cost("gpt-4.1", 80, 200)
    limit = worst * 3.5
    aoc = client("openai", async_=True, sandbox=Sandbox())

    async def one(i: int) -> None:
        try:
            await aoc.chat.completions.create(model="gpt-4.1", max_tokens=200,
                                              messages=[{"role": "user", "content": f"Explain item {i}."}])
        except llmcost_magic.BudgetExceeded:
            pass

    async def main() -> None:
        await asyncio.gather(*(one(i) for i in range(20)))

    with meter(route="cascade", validator=lambda text: False, budget=limit) as m:
        asyncio.run(main())
    assert m.totals.refused > 0 and 0 < _spent("cell", {}) <= limit
    assert m.budget.spent_usd == pytest.approx(_spent("cell", {}))


def test_a_priority_tier_request_holds_the_priority_price():
    """Before: the worst case used standard rates, so a priority call (2x on gpt-5) passed a cap it could break."""
    from llmcost_magic.policies.budgets.worst_case import worst_case

    body = {"max_completion_tokens": 1000}
    standard = worst_case("gpt-5", body, 1000).usd
    assert worst_case("gpt-5", {**body, "service_tier": "priority"}, 1000).usd == pytest.approx(standard * 2)
    assert worst_case("gpt-5", {**body, "service_tier": "flex"}, 1000).usd == pytest.approx(standard)  # never below standard
    oc = client("openai")
    cap = standard * 1.5  # fits at standard rates, not at priority
    with meter(budget=cap, cache=None), pytest.raises(llmcost_magic.BudgetExceeded):
        oc.chat.completions.create(model="gpt-5", messages=[{"role": "user", "content": "x " * 990}],
                                   max_completion_tokens=1000, service_tier="priority")
    assert list(llmcost_magic.ledger().status)[-1] == "refused"


def test_built_in_tool_fees_count_in_the_worst_case():
    """A web search costs per call on top of tokens: the worst case counts the calls the request allows."""
    from llmcost_magic.policies.budgets.worst_case import worst_case

    plain = worst_case("claude-sonnet-4-6", {"max_tokens": 100}, 100).usd
    tools = [{"type": "web_search_20250305", "name": "web_search", "max_uses": 5}]
    assert worst_case("claude-sonnet-4-6", {"max_tokens": 100, "tools": tools}, 100).usd == pytest.approx(plain + 5 * 0.01)
    plain = worst_case("gpt-5", {"max_output_tokens": 100}, 100).usd
    body = {"max_output_tokens": 100, "tools": [{"type": "web_search"}, {"type": "file_search"}], "max_tool_calls": 3}
    assert worst_case("gpt-5", body, 100).usd == pytest.approx(plain + 3 * 0.01)  # the dearest tool, 3 times
