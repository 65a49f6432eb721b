"""Attacks on the meter and the hard caps that the issues' own tests did not imagine (issues 13 and 14).

Real SDK clients over loopback HTTP (a fake provider or the sandbox), real SQLite. Some failed before their
fix (named in each docstring); the others guard a promise nothing else guards.
"""

from __future__ import annotations

import anthropic
import openai
import pytest

import llmcost_magic
from llmcost_magic import meter
from tests.fake_provider import FakeProvider

MSG = [{"role": "user", "content": "Say hello."}]


def _chat(usage: object) -> dict:
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini", "usage": usage,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}]}


def _openai(fake: FakeProvider) -> openai.OpenAI:
    return openai.OpenAI(api_key="x", base_url=fake.url + "/v1", max_retries=0)


HOSTILE_USAGE = {
    "negative output": {"prompt_tokens": 10, "completion_tokens": -100_000_000, "total_tokens": 0},
    "strings": {"prompt_tokens": "12", "completion_tokens": "5", "total_tokens": "17"},
    "negative cached": {"prompt_tokens": 12, "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": -5e9}},
    "negative audio": {"prompt_tokens": 12, "completion_tokens": 5, "completion_tokens_details": {"audio_tokens": -1}},
    "NaN": {"prompt_tokens": 12, "completion_tokens": float("nan"), "total_tokens": 17},
    "Infinity": {"prompt_tokens": float("inf"), "completion_tokens": 5, "total_tokens": 17},
}


@pytest.fixture
def real_provider(monkeypatch):
    """A stand-in for the real provider, where OPENAI_API_KEY / OPENAI_BASE_URL point: it answers 500 to anything
    and lists the paths that reached it (a dry run must leave it empty)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    reached: list[str] = []

    class Provider(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            reached.append(self.path)
            self.send_response(500)
            self.send_header("content-length", "0")
            self.end_headers()

        do_GET = do_POST

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-a-real-key")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}/v1")
    yield reached
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("kind", HOSTILE_USAGE)
def test_hostile_usage_never_prices_below_zero_nor_crashes_the_call(kind):
    """A provider or proxy answering HTTP 200 with usage counts that are negative or strings. Before: negative
    output tokens priced each call at -$60, the cell budget's spend went to -$180 (a cap that no longer holds);
    string counts raised TypeError out of the meter into the user's call. Now: the row is estimated from the
    request and says the usage was unreadable; the call returns."""
    with FakeProvider() as fake:
        client = _openai(fake)
        for _ in range(3):
            fake.reply(_chat(HOSTILE_USAGE[kind]))
        with meter(budget=0.01) as m:
            for _ in range(3):
                answer = client.chat.completions.create(model="gpt-4o-mini", messages=MSG, max_tokens=10)
                assert answer.choices[0].message.content == "hello"
    df = llmcost_magic.ledger()
    assert len(df) == 3 and (df.status == "ok").all()
    assert (df.cost_usd > 0).all() and df.estimated.all() and df.note.str.contains("usage unreadable").all()
    assert (df.input_tokens >= 0).all() and (df.output_tokens >= 0).all()
    assert m.budget.spent_usd == pytest.approx(float(df.cost_usd.sum())) and m.budget.spent_usd > 0


def test_a_streamed_negative_usage_chunk_is_not_a_refund():
    """The usage chunk of a stream is read the same way (before: -$60 a call)."""
    events = [{"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
               "choices": [{"index": 0, "delta": {"content": "hello"}, "finish_reason": "stop"}]},
              {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini", "choices": [],
               "usage": {"prompt_tokens": 10, "completion_tokens": -100_000_000, "total_tokens": 0}}, "[DONE]"]
    with FakeProvider() as fake:
        fake.stream(events)
        with meter(budget=0.01) as m:
            text = "".join(c.choices[0].delta.content or "" for c in _openai(fake).chat.completions.create(
                model="gpt-4o-mini", messages=MSG, max_tokens=10, stream=True) if c.choices)
    assert text == "hello"
    df = llmcost_magic.ledger()
    assert len(df) == 1 and df.cost_usd[0] > 0 and df.estimated[0] and m.budget.spent_usd > 0


def test_anthropic_negative_server_tool_requests_are_not_a_refund():
    """``server_tool_use.web_search_requests: -1000`` would price a web-search fee of -$10."""
    body = {"id": "m1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5", "stop_reason": "end_turn",
            "content": [{"type": "text", "text": "hello"}],
            "usage": {"input_tokens": 10, "output_tokens": 5, "server_tool_use": {"web_search_requests": -1000}}}
    with FakeProvider() as fake:
        fake.reply(body)
        client = anthropic.Anthropic(api_key="x", base_url=fake.url, max_retries=0)
        with meter(budget=0.05) as m:
            client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MSG)
    df = llmcost_magic.ledger()
    assert len(df) == 1 and df.cost_usd[0] > 0 and m.budget.spent_usd > 0


NESTED_WORK = ("from llmcost_magic.sandbox import client\nimport llmcost_magic as lm\noc = client('openai')\n"
               "def library_job():  # a library that meters its own work\n"
               "    sent = 0\n"
               "    with lm.meter(tag='library'):\n"
               "        for _ in range(30):\n"
               "            try:\n"
               "                oc.chat.completions.create(model='gpt-4o', max_tokens=200,\n"
               "                    messages=[{'role': 'user', 'content': 'Explain tokens in detail please.'}])\n"
               "                sent += 1\n"
               "            except lm.BudgetExceeded:\n"
               "                pass\n"
               "    return sent\n")


def test_a_meter_nested_in_a_capped_cell_is_still_capped_by_the_cell(shell):
    """A library's own ``with meter()`` inside a ``%%llmcost --budget`` cell. Before: the inner meter was the only
    one asked, so the cell's cap never saw its calls: 30 calls, $0.067 against a $0.01 cap (6.7x), and the cell's
    summary said $0. Now: the cell's limit holds for calls of every meter nested in it, and counts them."""
    shell.run_cell(NESTED_WORK)
    shell.run_cell("%%llmcost --budget 0.01 --quiet\nsent = library_job()")
    df = llmcost_magic.ledger()
    ok = df[df.status == "ok"]
    assert 0 < len(ok) < 30 and float(ok.cost_usd.sum()) <= 0.01
    assert (df.tag == "library").all()  # the rows keep the inner meter's attribution


def test_nested_meters_each_hold_their_own_cap():
    """``with meter(budget=0.01)`` around ``with meter(budget=1)``: the stricter outer limit applies, and the
    outer meter's totals include the inner calls (before: 40 calls, $0.081 against $0.01)."""
    from llmcost_magic.sandbox import client

    oc = client("openai")
    with meter(budget=0.01) as outer:
        with meter(budget=1.0) as inner:
            for _ in range(40):
                try:
                    oc.chat.completions.create(model="gpt-4o", max_tokens=200, messages=MSG)
                except llmcost_magic.BudgetExceeded:
                    pass
    spent = float(llmcost_magic.ledger().cost_usd.fillna(0).sum())
    assert 0 < spent <= 0.01
    assert outer.budget.spent_usd == pytest.approx(spent) == pytest.approx(inner.budget.spent_usd)
    assert outer.totals.cost_usd == pytest.approx(spent)


def test_an_error_body_sent_with_http_200_is_an_error_row_at_zero_never_cached():
    """Gateways and overloaded providers answer HTTP 200 with an error envelope (a body, or a stream whose first
    event is the error). Before: an ``ok`` (or ``closed``) row priced at the estimated input, as if answered; now
    ``error:<type>``, $0, and the envelope is never served from the cache (each ask reaches the provider)."""
    with FakeProvider() as fake:
        client = _openai(fake)
        claude = anthropic.Anthropic(api_key="x", base_url=fake.url, max_retries=0)
        for _ in range(2):
            fake.reply({"error": {"message": "The server had an error", "type": "server_error", "code": None}})
        for _ in range(2):
            fake.reply({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
        with meter(cache="exact", cache_any_temperature=True, budget=0.05) as m:
            for _ in range(2):
                client.chat.completions.create(model="gpt-4o-mini", messages=MSG, temperature=0)
            for _ in range(2):
                claude.messages.create(model="claude-haiku-4-5", max_tokens=20, messages=MSG)
        assert len(fake.requests) == 4
        fake.stream([{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}], named=True)
        fake.stream([{"error": {"message": "boom", "type": "server_error"}}])
        with meter(budget=0.05) as streamed:
            for stream in (lambda: claude.messages.create(model="claude-haiku-4-5", max_tokens=20, messages=MSG, stream=True),
                           lambda: client.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True)):
                with pytest.raises(Exception):  # noqa: B017 - each SDK raises its own error for the event
                    for _ in stream():
                        pass
        assert streamed.budget.spent_usd == 0
    df = llmcost_magic.ledger()
    assert list(df.status) == ["error:server_error"] * 2 + ["error:overloaded_error"] * 3 + ["error:server_error"]
    assert (df.cost_usd == 0).all() and not df.estimated.any() and (df.cache.fillna("") == "").all()
    assert m.budget.spent_usd == 0 and m.budget.reserved_usd == 0 and m.totals.errors == 4


def test_an_alert_hook_that_raises_leaves_every_hold_settled_and_the_call_intact(redis_url):
    """``lm.on_alert(hook)`` where the hook raises (a Slack webhook that is down). Before: the budget file's
    settle raised inside the meter, so the workshop's hold after it was never settled (its worst case stayed
    held while the kernel lived, the room never saw the spend). Now the hook's failure is a warning."""
    import redis

    from llmcost_magic import workshop
    from llmcost_magic.policies import budget_book
    from llmcost_magic.sandbox import client

    redis.Redis.from_url(redis_url).flushdb()
    workshop.configure(redis_url, daily_limit_usd=1.0)

    def hook(alert):  # noqa: ANN001
        raise ConnectionError("slack is down")

    llmcost_magic.on_alert(hook)
    oc = client("openai")
    try:
        limits = {"default": {"daily_max_per_user_usd": 0.01}, "alerts": {"daily_warn_at": 0.0001}}
        with pytest.warns(UserWarning, match="slack is down"):
            with meter(budgets=limits, user="hooked", workshop=redis_url) as m:
                for _ in range(3):
                    answer = oc.chat.completions.create(model="gpt-4o-mini", messages=MSG, max_tokens=50)
                    assert answer.choices[0].message.content
                held = dict(m.workshop._held)
    finally:
        budget_book._callbacks.remove(hook)
    spent = float(llmcost_magic.ledger().cost_usd.sum())
    assert held == {}
    assert workshop.room(redis_url).loc["hooked", "spent_usd"] == pytest.approx(spent)


def test_a_batch_cell_with_two_models_submits_nothing_when_one_batch_does_not_fit(shell):
    """``%%llmcost --batch --budget`` sends one batch per model. Before: each was held and sent in turn, so
    the cheap model's batch was submitted (and billed) while the cell said "Nothing was sent" for the dear one.
    Now every batch is held before any is sent."""
    from llmcost_magic import estimate_cost

    limit = estimate_cost("gpt-4o-mini", 30, 100, batch=True) * 10 + estimate_cost("gpt-4o", 30, 100, batch=True) * 2
    shell.run_cell("from llmcost_magic.cookbook import openai_client\noai = openai_client()")
    r = shell.run_cell(f"%%llmcost --batch --quiet --budget {limit}\n"
                       "for model in ('gpt-4o-mini', 'gpt-4o'):\n"
                       "    for i in range(10):\n"
                       "        oai.chat.completions.create(model=model, max_tokens=100,\n"
                       "                                    messages=[{'role': 'user', 'content': f'q{i}'}])")
    assert r.error_in_exec is None
    assert llmcost_magic.batches().empty  # nothing was submitted
    df = llmcost_magic.ledger()
    assert list(df.status) == ["refused"] and "Nothing was sent" in df.note[0]


def test_a_dry_run_batch_never_reaches_the_provider_even_with_a_key(monkeypatch, real_provider):
    """``--dry-run --batch`` with OPENAI_API_KEY set. Before: the deferred calls went out when the meter closed,
    after its dry-run scope had ended, through a client built from the environment: the files and the batch were
    sent to the real API (real money, from a "what would it cost?" run). Now they go to the sandbox, the batch's
    name says ``dry-run-``, and its collected rows say they are simulated."""
    from llmcost_magic import batch
    from llmcost_magic.intercept import seam

    reached = real_provider
    monkeypatch.setattr(seam, "PROVIDER_HOSTS", (*seam.PROVIDER_HOSTS, "127.0.0.1"))  # stands for api.openai.com
    with meter(batch=True, dry_run=True, budget=1.0):
        for i in range(3):
            openai.OpenAI(max_retries=0).chat.completions.create(
                model="gpt-4o-mini", max_tokens=50, messages=[{"role": "user", "content": f"q{i}"}])
    table = batch.results(interval=0.01)
    assert reached == []
    assert len(table) == 3 and table.error.isna().all()
    df = llmcost_magic.ledger()
    assert len(df) == 3 and df.note.str.startswith("dry-run (simulated)").all()


# --- Guards: these passed as written; each covers a combination nothing else checks. ---

LONG_SYSTEM = "You are a support agent. " + " ".join(
    f"The system {i} really actually basically handles the very important request number {i} quite well, you know."
    for i in range(40))


def test_compression_under_a_cap_holds_the_compressed_request_and_never_less_than_is_sent():
    """``--compress`` x ``--budget``: the worst case is the request as sent (compressed), so a cap that only the
    compressed request fits lets it through, and the input held is never below the input billed."""
    from llmcost_magic.sandbox import client

    oc = client("openai")
    ask = [{"role": "system", "content": LONG_SYSTEM}, {"role": "user", "content": "What is 2+2?"}]
    with meter(compress="selective:0.5", budget=1.0):
        oc.chat.completions.create(model="gpt-4o-mini", max_tokens=20, messages=ask)
    first = llmcost_magic.ledger().iloc[-1]
    assert first.input_tokens_before > first.input_tokens
    fits_compressed = llmcost_magic.estimate_cost("gpt-4o-mini", int(first.input_tokens), 20) * 1.001
    with pytest.raises(llmcost_magic.BudgetExceeded):
        with meter(budget=fits_compressed):  # uncompressed: refused
            oc.chat.completions.create(model="gpt-4o-mini", max_tokens=20, messages=ask)
    with meter(compress="selective:0.5", budget=fits_compressed) as m:
        oc.chat.completions.create(model="gpt-4o-mini", max_tokens=20, messages=ask)
    assert 0 < m.budget.spent_usd <= fits_compressed and m.budget.reserved_usd == 0


def test_cache_hits_are_served_when_the_budget_is_spent_with_routing_and_fallback():
    """``--cache exact`` x ``--route rules`` x ``--budget-fallback``: once the cap is nearly spent, an answer
    already cached is still served (it costs nothing and sends nothing) and holds nothing."""
    from llmcost_magic.sandbox import client

    oc = client("openai")
    ask = [{"role": "user", "content": "Say hi in one word."}]
    with meter(cache="exact", route="rules", budget_fallback=True, budget=0.0009) as m:
        oc.chat.completions.create(model="gpt-4o", max_tokens=300, temperature=0, messages=ask)
        with pytest.raises(llmcost_magic.BudgetExceeded):  # a new question no longer fits
            oc.chat.completions.create(model="gpt-4o", max_tokens=5000, temperature=0, messages=MSG)
        for _ in range(3):
            oc.chat.completions.create(model="gpt-4o", max_tokens=300, temperature=0, messages=ask)
    df = llmcost_magic.ledger()
    assert list(df.cache.fillna("")) == ["", "", "exact", "exact", "exact"] and list(df.status)[1] == "refused"
    assert m.budget.reserved_usd == 0 and m.budget.spent_usd == pytest.approx(float(df.cost_usd.sum()))


STRAGGLER = ("import threading, time\nfrom llmcost_magic.sandbox import client\noc = client('openai')\n"
             "def work():\n    for i in range(40):\n        time.sleep(0.01)\n        try:\n"
             "            oc.chat.completions.create(model='gpt-4o-mini', max_tokens=50, "
             "messages=[{'role': 'user', 'content': f'q{i}'}])\n"
             "        except Exception:\n            pass\n")


def test_a_thread_pool_still_calling_after_a_with_meter_block_is_metered_and_capped():
    """A script: ``with meter(budget=...)`` submits work to a thread pool and leaves the block before the pool is
    done. Before: the calls made after the block were neither metered nor checked (18 of 20 calls free, and past
    the cap). Now threads a main-thread block started keep counting for it, late, like a cell's stragglers."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from llmcost_magic import estimate_cost
    from llmcost_magic.sandbox import client

    oc = client("openai")

    def work(i: int) -> None:
        time.sleep(0.01 * i)
        try:
            oc.chat.completions.create(model="gpt-4o-mini", max_tokens=50, messages=[{"role": "user", "content": f"q{i}"}])
        except llmcost_magic.BudgetExceeded:
            pass

    limit = estimate_cost("gpt-4o-mini", 20, 50) * 5.5
    with ThreadPoolExecutor(4) as pool:
        with meter(budget=limit):
            futures = [pool.submit(work, i) for i in range(20)]
        for future in futures:
            future.result()
    df = llmcost_magic.ledger()
    assert len(df) == 20 and df.note.str.startswith("late").sum() > 10
    assert (df.status == "refused").sum() > 0 and df.cost_usd.fillna(0).sum() <= limit


def test_a_thread_pool_made_in_one_capped_cell_serves_the_next_cell_under_its_own_cap(shell):
    """The other side of stragglers: a pool whose threads a capped cell started, reused by a later cell. Its
    threads cannot tell whose work they run, so the running cell's scope wins: the later cell's calls are its own
    (not refused by the first cell's spent cap, nor freed from the later cell's)."""
    from llmcost_magic import estimate_cost

    worst = estimate_cost("gpt-4o-mini", 20, 50)
    shell.run_cell("from concurrent.futures import ThreadPoolExecutor\nfrom llmcost_magic.sandbox import client\n"
                   "oc = client('openai')\npool = ThreadPoolExecutor(4)\n"
                   "ask = lambda i: oc.chat.completions.create(model='gpt-4o-mini', max_tokens=50, "
                   "messages=[{'role': 'user', 'content': f'q{i}'}])")
    shell.run_cell(f"%%llmcost --quiet --budget {worst * 1.5}\n[f.result() for f in [pool.submit(ask, i) for i in range(4)]]")
    shell.run_cell(f"%%llmcost --quiet --budget {worst * 6.5}\n"
                   "outcomes = [f.exception() for f in [pool.submit(ask, i) for i in range(10)]]")
    df = llmcost_magic.ledger()
    second = df[df.cell_run == df.cell_run.max()]
    assert len(second) == 10 and (second.status == "ok").sum() >= 6 and (second.status == "refused").sum() >= 1
    assert float(second.cost_usd.sum()) <= worst * 6.5 and not second.note.str.startswith("late").any()
    shell.run_cell("pool.shutdown()")


def test_a_straggler_task_keeps_its_own_cells_cap_while_the_next_cell_runs(shell):
    """The same for an asyncio task a capped cell created, run to its end inside the next metered cell."""
    from llmcost_magic import estimate_cost

    shell.run_cell("import asyncio\nfrom llmcost_magic.sandbox import client\naoc = client('openai', async_=True)\n"
                   "async def work():\n    for i in range(10):\n        try:\n"
                   "            await aoc.chat.completions.create(model='gpt-4o-mini', max_tokens=50, "
                   "messages=[{'role': 'user', 'content': f'q{i}'}])\n"
                   "        except Exception:\n            pass\n")
    limit = estimate_cost("gpt-4o-mini", 20, 50) * 4.5
    shell.run_cell(f"%%llmcost --quiet --budget {limit}\nloop = asyncio.new_event_loop()\ntask = loop.create_task(work())")
    shell.run_cell("%%llmcost --quiet --budget 5\nloop.run_until_complete(task)")
    df = llmcost_magic.ledger()
    assert len(df) == 10 and df.cell_run.nunique() == 1
    assert (df.status == "refused").sum() > 0 and df.cost_usd.fillna(0).sum() <= limit


def test_audio_output_is_held_at_the_audio_rate():
    """``modalities=["text", "audio"]`` on gpt-4o-audio-preview: audio output costs $80/M, text $10/M. Before: the
    worst case held max_tokens at the text rate, so each call under a cap could cost 7.6x what it held (a $0.015
    cap spent $0.077 on one call). Now the output is held at the dearest rate of what the request asks for."""
    usage = {"prompt_tokens": 20, "completion_tokens": 1000, "total_tokens": 1020,
             "completion_tokens_details": {"audio_tokens": 950, "text_tokens": 50}}
    body = _chat(usage) | {"model": "gpt-4o-audio-preview"}
    ask = {"model": "gpt-4o-audio-preview", "messages": MSG, "max_tokens": 1000, "modalities": ["text", "audio"],
           "audio": {"voice": "alloy", "format": "wav"}}
    with FakeProvider() as fake:
        fake.reply(body)
        with pytest.raises(llmcost_magic.BudgetExceeded, match="audio"):
            with meter(budget=0.015):
                _openai(fake).chat.completions.create(**ask)
        with meter(budget=0.1) as m:
            _openai(fake).chat.completions.create(**ask)
    df = llmcost_magic.ledger()
    assert list(df.status) == ["refused", "ok"] and df.cost_usd[1] > 0.07 and m.budget.spent_usd <= 0.1


def _kernel_run(km, kc, code: str, *, interrupt_after: float | None = None, timeout: float = 60) -> str:  # noqa: ANN001
    import time

    msg_id = kc.execute(code)
    if interrupt_after is not None:
        time.sleep(interrupt_after)
        km.interrupt_kernel()
    out = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind == "stream":
            out.append(msg["content"]["text"])
        elif kind == "error":
            out.append("ERROR " + msg["content"]["ename"])
        elif kind == "status" and msg["content"]["execution_state"] == "idle":
            return "".join(out)


def test_ctrl_c_in_a_real_kernel_mid_stream_and_mid_gather_keeps_rows_and_the_daily_cap(tmp_path):
    """A real kernel interrupted (SIGINT) in the middle of a stream, then in the middle of an ``asyncio.gather``,
    under a daily limit from a budget file: the streamed row keeps the output read so far, every gathered call
    has its row (``cancelled``), no hold outlives its cell, and the next cell still stops at the limit."""
    import os
    import textwrap

    from jupyter_client.manager import start_new_kernel

    path, budgets = tmp_path / "ledger.sqlite3", tmp_path / "budgets.yaml"
    budgets.write_text("default: {daily_max_per_user_usd: 0.03}\n")
    km, kc = start_new_kernel(kernel_name="python3", env={**os.environ, "LLMCOST_LEDGER": str(path), "LLMCOST_USER": "ctrl-c"})
    try:
        _kernel_run(km, kc, textwrap.dedent(f"""
            %load_ext llmcost_magic
            %config LLMCost.budget_file = {str(budgets)!r}
            import asyncio, sqlite3, time, llmcost_magic
            from llmcost_magic.sandbox import client, Sandbox
            slow = Sandbox(latency_per_token_s=0.01)
            oc, aoc, fast = client("openai", sandbox=slow), client("openai", async_=True, sandbox=slow), client("openai")
            msgs = [{{"role": "user", "content": "Explain what a token is in one paragraph."}}]
        """))
        stream = ("%%llmcost --quiet\nfor i in range(5):\n    for chunk in oc.chat.completions.create("
                  "model='gpt-4o-mini', messages=msgs, max_tokens=400, stream=True): pass")
        assert "KeyboardInterrupt" in _kernel_run(km, kc, stream, interrupt_after=1.5)
        gather = ("%%llmcost --quiet\nrs = await asyncio.gather(*(aoc.chat.completions.create(model='gpt-4o-mini', "
                  "messages=msgs, max_tokens=400) for _ in range(10)))")
        assert "ERROR" in _kernel_run(km, kc, gather, interrupt_after=1.0)
        report = _kernel_run(km, kc, textwrap.dedent(f"""
            df = llmcost_magic.ledger()
            held = sqlite3.connect({str(path)!r}).execute("SELECT count(*) FROM reservations WHERE expires > ?", (time.time(),)).fetchone()[0]
            print(df.status.tolist().count("interrupted"), df.status.tolist().count("cancelled"), int(df.output_tokens.iloc[0]), held)
        """))
        interrupted, cancelled, streamed_output, held = map(int, report.split())
        assert interrupted == 1 and cancelled == 10 and streamed_output > 0 and held == 0
        spend = ("%%llmcost --quiet\nfor i in range(300):\n    try:\n        fast.chat.completions.create("
                 "model='gpt-4o', messages=msgs, max_tokens=100)\n    except llmcost_magic.BudgetExceeded:\n        break")
        _kernel_run(km, kc, spend, timeout=120)
        total = float(_kernel_run(km, kc, "print(llmcost_magic.ledger().cost_usd.sum())"))
        assert 0.02 < total <= 0.03
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_a_workshop_straggler_thread_and_a_second_process_share_one_daily_limit(shell, redis_url, tmp_path):
    """Workshop mode (real Redis): a cell starts a thread that keeps calling after the cell ended, while another
    process of the same participant spends too. The room's limit holds across both, and the room sees what both
    ledgers recorded."""
    import os
    import subprocess
    import sys
    import textwrap

    import redis

    from llmcost_magic import estimate_cost, workshop

    redis.Redis.from_url(redis_url).flushdb()
    limit = estimate_cost("gpt-4o-mini", 20, 50) * 30.5
    workshop.configure(redis_url, daily_limit_usd=limit)
    other_ledger = tmp_path / "other.sqlite3"
    other = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time, llmcost_magic
        from llmcost_magic import meter
        from llmcost_magic.sandbox import client
        llmcost_magic.use_ledger({str(other_ledger)!r})
        oc = client("openai")
        oc.chat.completions.create(model="gpt-4o-mini", max_tokens=5, messages=[{{"role": "user", "content": "warm"}}])
        with meter(workshop={redis_url!r}, user="pat"):
            print("ready", flush=True)
            for i in range(40):
                time.sleep(0.01)
                try:
                    oc.chat.completions.create(model="gpt-4o-mini", max_tokens=50,
                                               messages=[{{"role": "user", "content": f"p{{i}}"}}])
                except llmcost_magic.BudgetExceeded:
                    pass
    """)], env={**os.environ}, stdout=subprocess.PIPE, text=True)
    try:
        shell.run_cell(STRAGGLER)
        assert other.stdout.readline().strip() == "ready"
        shell.run_cell(f"%config LLMCost.workshop = {redis_url!r}\n%config LLMCost.user = 'pat'")
        shell.run_cell("%%llmcost --quiet\nt = threading.Thread(target=work)\nt.start()")
        shell.run_cell("t.join()")
        assert other.wait(timeout=60) == 0
    finally:
        other.kill()
        shell.run_cell("%config LLMCost.workshop = ''\n%config LLMCost.user = ''")
    import sqlite3

    here = llmcost_magic.ledger()
    there = sqlite3.connect(other_ledger).execute(
        "SELECT COALESCE(SUM(cost_usd), 0), COUNT(*), SUM(status = 'refused') FROM calls").fetchone()
    spent = float(here.cost_usd.fillna(0).sum()) + there[0]
    assert len(here) == 40 and there[1] == 40 and here.note.str.startswith("late").sum() > 0
    assert there[1] - there[2] > 0 and (here.status == "ok").sum() > 0  # both spent
    assert (here.status == "refused").sum() + there[2] > 0
    assert spent <= limit and workshop.room(redis_url).loc["pat", "spent_usd"] == pytest.approx(spent)


@pytest.mark.parametrize("async_", [False, True])
def test_a_cascade_whose_escalation_does_not_fit_returns_the_answer_already_paid_for(async_):
    """``--route cascade --budget``: the small tier answered (and was billed), the answer asked to escalate, and
    the larger tier's worst case no longer fits. Before: the call raised BudgetExceeded, throwing away the answer
    it had paid for. Now the user gets the answer they paid for; the ledger keeps the refused escalation."""
    import asyncio

    from llmcost_magic import estimate_cost
    from llmcost_magic.sandbox import Sandbox, client

    limit = estimate_cost("gpt-4o-mini", 60, 200) * 1.5  # room for the small tier's attempt, never the next one
    oc = client("openai", async_=async_, sandbox=Sandbox())
    ask = {"model": "gpt-4.1", "max_tokens": 200, "messages": [{"role": "user", "content": "Explain item 1."}]}
    with meter(route="cascade", validator=lambda text: False, budget=limit) as m:
        answer = asyncio.run(oc.chat.completions.create(**ask)) if async_ else oc.chat.completions.create(**ask)
    assert answer.choices[0].message.content
    df = llmcost_magic.ledger()
    assert list(df.status) == ["ok", "refused"] and "escalated" in df.note[0]
    assert 0 < m.budget.spent_usd <= limit and m.budget.reserved_usd == 0


@pytest.mark.parametrize("backend", ["cell", "book", "workshop"])
def test_background_responses_are_held_until_their_usage_is_retrieved(backend, request):
    """``responses.create(background=True)`` under a cap answers ``queued`` at $0. Before: the hold was settled at
    that $0, so every submission fit (20 of 20 against a cap for 3.5) and the billed usage, retrieved later, never
    reached the budget (cell: $0 spent after $0.0025 of rows) nor the workshop room. Now the worst case stays held
    until the usage is retrieved, then settles to it."""
    import time

    import redis

    from llmcost_magic import estimate_cost, workshop
    from llmcost_magic.sandbox import client

    limit = estimate_cost("gpt-4o-mini", 20, 300) * 3.5
    if backend == "cell":
        kwargs = {"budget": limit}
    elif backend == "book":
        kwargs = {"budgets": {"default": {"daily_max_per_user_usd": limit}}, "user": "bg-book"}
    else:
        url = request.getfixturevalue("redis_url")
        redis.Redis.from_url(url).flushdb()
        workshop.configure(url, daily_limit_usd=limit)
        kwargs = {"workshop": url, "user": "bg-room"}
    oc, ids = client("openai"), []
    with meter(**kwargs) as m:
        for i in range(20):
            try:
                ids.append(oc.responses.create(model="gpt-4o-mini", input=f"Explain item {i}", background=True,
                                               max_output_tokens=300).id)
            except llmcost_magic.BudgetExceeded:
                pass
        for response_id in ids:
            for _ in range(100):
                if oc.responses.retrieve(response_id).status == "completed":
                    break
                time.sleep(0.02)
    df = llmcost_magic.ledger()
    spent = float(df.cost_usd.fillna(0).sum())
    assert 0 < len(ids) <= 3 and (df.status == "ok").sum() == len(ids) and 0 < spent <= limit
    if backend == "cell":
        assert m.budget.spent_usd == pytest.approx(spent) and m.budget.reserved_usd == pytest.approx(0, abs=1e-12)
    if backend == "workshop":
        assert workshop.room(kwargs["workshop"]).loc["bg-room", "spent_usd"] == pytest.approx(spent)


def test_duplicated_usage_events_in_a_stream_are_counted_once():
    """A proxy that repeats the usage chunk (OpenAI) or ``message_delta`` (Anthropic): the usage is cumulative, so
    it must be counted once, never summed (a listener that raises changes nothing either)."""
    chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
             "choices": [{"index": 0, "delta": {"content": "hello"}, "finish_reason": "stop"}]}
    usage = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini", "choices": [],
             "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}
    start = {"type": "message_start", "message": {"id": "m1", "type": "message", "role": "assistant", "content": [],
             "model": "claude-haiku-4-5", "usage": {"input_tokens": 10, "output_tokens": 1}}}
    delta = {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 5}}
    text = [{"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hello"}},
            {"type": "content_block_stop", "index": 0}]

    def boom(_meter) -> None:  # noqa: ANN001
        raise RuntimeError("listener down")

    with FakeProvider() as fake:
        fake.stream([chunk, usage, usage, usage, "[DONE]"])
        fake.stream([start, *text, delta, delta, {"type": "message_stop"}], named=True)
        with meter(budget=0.01) as m:
            m.subscribe(boom)
            for _ in _openai(fake).chat.completions.create(model="gpt-4o-mini", messages=MSG, max_tokens=10, stream=True):
                pass
            claude = anthropic.Anthropic(api_key="x", base_url=fake.url, max_retries=0)
            for _ in claude.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MSG, stream=True):
                pass
    df = llmcost_magic.ledger()
    assert list(df.input_tokens) == [10, 10] and list(df.output_tokens) == [5, 5] and not df.estimated.any()
    assert m.budget.spent_usd == pytest.approx(float(df.cost_usd.sum())) and m.totals.calls == 2


def test_a_meter_nested_in_a_dry_run_never_sends_to_the_provider(shell, real_provider):
    """A library's own ``with meter()`` inside a ``%%llmcost --dry-run`` cell, with OPENAI_API_KEY set. Before: the
    inner (real) meter was the active one, so its calls went to the real provider from a "what would it cost?"
    run. Now a meter entered inside a dry run is a dry run too."""
    reached = real_provider
    shell.run_cell("import openai, llmcost_magic as lm\nreal = openai.OpenAI(max_retries=0)")
    r = shell.run_cell("%%llmcost --dry-run --quiet\nwith lm.meter(tag='library'):\n"
                       "    answer = real.chat.completions.create(model='gpt-4o-mini', max_tokens=20, "
                       "messages=[{'role': 'user', 'content': 'hi'}])")
    assert reached == [] and r.error_in_exec is None
    df = llmcost_magic.ledger()
    assert len(df) == 1 and df.note[0].startswith("dry-run") and df.tag[0] == "library"


@pytest.mark.parametrize("value", ["nan", "inf", "1e309", "-0", "0", "'$1,000'", "-1", "abc", "1e-400"])
def test_a_hostile_cell_budget_is_refused_before_any_call(shell, value):
    """``%%llmcost --budget`` with NaN, infinity (also by overflow: 1e309), zero, negatives, underflow to 0 or
    thousands separators: a usage error naming the option, and nothing sent (no row)."""
    shell.run_cell("from llmcost_magic.sandbox import client\noc = client('openai')")
    r = shell.run_cell(f"%%llmcost --quiet --budget {value}\n"
                       "oc.chat.completions.create(model='gpt-4o-mini', messages=[{'role': 'user', 'content': 'hi'}])")
    assert r.error_in_exec is not None and "budget" in str(r.error_in_exec).lower()
    assert llmcost_magic.ledger().empty


@pytest.mark.parametrize("backend", ["book", "workshop"])
def test_nested_meters_on_the_same_limit_hold_and_count_it_once(backend, request):
    """Two nested meters on the same workshop room (or the same budget file) for one participant are one limit: the
    earlier nesting fix first held each call twice there (the room counted every dollar twice: $7.9e-05 spent for
    $3.96e-05 of calls, and calls were refused at half the limit)."""
    import redis

    from llmcost_magic import estimate_cost, workshop
    from llmcost_magic.sandbox import client

    worst = estimate_cost("gpt-4o-mini", 20, 50)
    limit = worst * 8.5
    if backend == "workshop":
        url = request.getfixturevalue("redis_url")
        redis.Redis.from_url(url).flushdb()
        workshop.configure(url, daily_limit_usd=limit)
        kwargs = {"workshop": url, "user": "twice"}
    else:
        kwargs = {"budgets": {"default": {"daily_max_per_user_usd": limit}}, "user": "twice"}
    oc = client("openai")
    with meter(**kwargs):
        with meter(**kwargs):
            for i in range(20):
                try:
                    oc.chat.completions.create(model="gpt-4o-mini", max_tokens=50,
                                               messages=[{"role": "user", "content": f"q{i}"}])
                except llmcost_magic.BudgetExceeded:
                    pass
    df = llmcost_magic.ledger()
    spent = float(df.cost_usd.fillna(0).sum())
    assert (df.status == "ok").sum() >= 8 and spent <= limit
    if backend == "workshop":
        room = workshop.room(kwargs["workshop"]).loc["twice"]
        assert room.spent_usd == pytest.approx(spent) and room.calls == (df.status == "ok").sum()


def test_a_library_meter_inside_a_workshop_cell_counts_in_the_room(shell, redis_url):
    """A library's own ``with meter()`` (no workshop of its own) inside a participant's cell: its calls are held
    and spent in the room (the nesting fix) and counted there too (before: spent, but 0 calls in the room)."""
    import redis

    from llmcost_magic import workshop

    redis.Redis.from_url(redis_url).flushdb()
    workshop.configure(redis_url, daily_limit_usd=1.0)
    shell.run_cell(NESTED_WORK)
    shell.run_cell(f"%config LLMCost.workshop = {redis_url!r}\n%config LLMCost.user = 'lib-user'")
    try:
        shell.run_cell("%%llmcost --quiet\nsent = library_job()")
    finally:
        shell.run_cell("%config LLMCost.workshop = ''\n%config LLMCost.user = ''")
    df = llmcost_magic.ledger()
    room = workshop.room(redis_url).loc["lib-user"]
    assert room.calls == len(df) == 30 and room.spent_usd == pytest.approx(float(df.cost_usd.sum()))


def test_ctrl_c_while_a_budget_file_waits_for_its_lock_releases_the_holds_already_taken(monkeypatch):
    """Ctrl-C while the budget file's transaction waits for the ledger lock (another kernel holds it), after the cell
    budget already held the call's worst case. Before: only ``Exception`` released earlier holds, so the
    KeyboardInterrupt leaked the cell's hold and later calls were refused with $0 spent."""
    from llmcost_magic.policies import budget_book
    from llmcost_magic.sandbox import client

    oc = client("openai")
    ask = {"model": "gpt-4o-mini", "max_tokens": 50, "messages": MSG}
    original = budget_book.BudgetBook.reserve

    def interrupted(self, call, worst, **kwargs):  # noqa: ANN001, ANN003
        raise KeyboardInterrupt

    with meter(budget=0.01, budgets={"default": {"daily_max_per_user_usd": 1.0}}, user="ctrl-c") as m:
        monkeypatch.setattr(budget_book.BudgetBook, "reserve", interrupted)
        with pytest.raises(KeyboardInterrupt):
            oc.chat.completions.create(**ask)
        monkeypatch.setattr(budget_book.BudgetBook, "reserve", original)
        assert m.budget.reserved_usd == 0
        oc.chat.completions.create(**ask)
    assert m.budget.reserved_usd == pytest.approx(0, abs=1e-12) and m.budget.spent_usd > 0


@pytest.mark.parametrize("model", ["gpt-4o\x1b[2J\x1b[31mmini", "gpt-4o-mini\nINJECTED: $0.00", "gpt-4o-" + "x" * 10_000])
def test_hostile_model_names_and_absurd_max_tokens_under_a_cap(model):
    """Model names with ANSI escapes, a newline, 10 KB: refused before sending with the name escaped in the message
    (no terminal control reaches the user), a refused row each, fast. ``max_tokens=10**20`` (read as a float past
    64 bits) is held at the model's own output limit, the most it can produce: refused when that does not fit."""
    import time

    from llmcost_magic.sandbox import client

    oc = client("openai")
    started = time.perf_counter()
    with meter(budget=0.005):
        with pytest.raises(llmcost_magic.BudgetExceeded) as unpriced:
            oc.chat.completions.create(model=model, max_tokens=5, messages=MSG)
        with pytest.raises(llmcost_magic.BudgetExceeded) as absurd:
            oc.chat.completions.create(model="gpt-4o-mini", max_tokens=10**20, messages=MSG)
    assert time.perf_counter() - started < 5
    assert "\x1b" not in str(unpriced.value) and "\nINJECTED" not in str(unpriced.value)
    assert "16,384 max output tokens" in str(absurd.value)
    assert list(llmcost_magic.ledger().status) == ["refused", "refused"]
