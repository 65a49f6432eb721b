"""The prompt-cache doctor names the reason for every kind of miss the sandbox is made to produce,
prices it with the ledger's prices, and proposes the fix."""

from __future__ import annotations

import pytest

import llmcost_magic
from llmcost_magic import estimate_cost, meter
from llmcost_magic.policies.prompt_trail import current_trail
from llmcost_magic.sandbox import ManualClock, Sandbox, client

LONG = "Our refund policy: " + " ".join(f"rule {i} says customers may return item class {i} within {i % 30 + 1} days." for i in range(200))
OTHER = "Our shipping policy: " + " ".join(f"zone {i} ships in {i % 9 + 2} days for ${i % 20 + 5}." for i in range(300))
SHORT = "Be brief. Answer in one sentence. " * 40  # ~360 tokens: below every Claude minimum
TOOLS = [{"name": "lookup_order", "description": "Find an order by id", "input_schema": {"type": "object"}},
         {"name": "refund_order", "description": "Refund an order by id", "input_schema": {"type": "object"}}]
MODEL = "claude-sonnet-4-6"


@pytest.fixture
def world():
    clock = ManualClock()
    trail = current_trail()
    trail.clear()
    previous, trail.clock = trail.clock, clock
    sandbox = Sandbox(clock=clock)
    yield clock, client("anthropic", sandbox=sandbox), client("openai", sandbox=sandbox)
    trail.clock = previous
    trail.clear()


def cached(text, ttl=None):
    return [{"type": "text", "text": text, "cache_control": {"type": "ephemeral", **({"ttl": ttl} if ttl else {})}}]


def ask(ac, system, question="Can I return a phone?", model=MODEL, **kwargs):
    return ac.messages.create(model=model, max_tokens=50, system=system, messages=[{"role": "user", "content": question}], **kwargs)


def reasons(report):
    return list(zip(report.table["reason"], report.table["detail"]))


def test_each_injected_miss_gets_its_reason(world):
    clock, ac, _ = world
    with meter():
        ask(ac, cached(LONG))                                            # 0 first call
        ask(ac, cached(LONG), "Can I return shoes?")                     # 1 hit
        ask(ac, cached("Today is 2026-11-30 09:15.\n" + LONG))            # 2 timestamp (vs call 1)
        ask(ac, cached("Today is 2026-11-30 09:16.\n" + LONG))            # 3 timestamp again
        ask(ac, cached("Always greet the customer by name.\n" + LONG))   # 4 a new system line (vs call 1)
        clock.advance(7 * 60)
        ask(ac, cached(LONG), "Can I return a laptop?")                  # 5 TTL expired after 7 minutes
        ask(ac, cached(SHORT))                                           # 6 first call (a new prompt)
        ask(ac, cached(SHORT), "And shoes?")                             # 7 below minimum
        ask(ac, OTHER)                                                   # 8 first call (no cache_control)
        ask(ac, OTHER, "And shoes?")                                     # 9 no breakpoint
        ask(ac, cached(LONG), "And a tablet?", tools=TOOLS)              # 10 tools added in front of the system prompt
        ask(ac, cached(LONG), "And a watch?", tools=TOOLS[::-1])         # 11 a reordered tool
        ask(ac, cached(LONG), "And a tablet?", model="claude-opus-4-1")  # 12 model changed
    report = llmcost_magic.prompt_cache_doctor()
    by_call = dict(zip(report.table["call"], zip(report.table["reason"], report.table["detail"])))
    assert 1 not in by_call  # a hit is not a miss
    assert by_call[0][0] == by_call[6][0] == by_call[8][0] == "first call"
    assert by_call[10] == ("prefix changed", "a tool added or changed (tools[0])")
    assert by_call[2][0] == by_call[3][0] == "prefix changed" and "timestamp" in by_call[2][1] and "09:16" in by_call[3][1]
    assert by_call[4][0] == "prefix changed" and "new system line" in by_call[4][1] and "greet" in by_call[4][1]
    assert by_call[5] == ("TTL expired", "7 min idle: the 5m entry had expired")
    assert by_call[7][0] == "below minimum" and "1,024" in by_call[7][1]
    assert by_call[9][0] == "no breakpoint" and "no cache_control" in by_call[9][1]
    assert by_call[11][0] == "prefix changed" and "reordered tool" in by_call[11][1]
    assert by_call[12][0] == "model changed"
    assert set(report.table["reason"]) == {"first call", "prefix changed", "TTL expired", "below minimum", "no breakpoint",
                                           "model changed"}


def test_a_miss_is_priced_like_the_ledger_and_the_1h_fix_counts_its_premium(world):
    clock, ac, _ = world
    with meter():
        ask(ac, cached(LONG))
        clock.advance(20 * 60)
        ask(ac, cached(LONG), "Can I return shoes?")
        ask(ac, cached(LONG), "Can I return a hat?")   # a hit: what the missed call would have cost
    calls = llmcost_magic.ledger()
    row = llmcost_magic.prompt_cache_doctor().table.set_index("call").loc[1]
    missed, hit = calls.iloc[1], calls.iloc[2]
    expected = (estimate_cost(MODEL, int(missed.input_tokens), 0, cache_write_tokens=int(missed.cache_write_tokens))
                - estimate_cost(MODEL, int(missed.input_tokens), 0, cached_input_tokens=int(hit.cached_input_tokens),
                                cache_write_tokens=int(missed.cache_write_tokens - hit.cached_input_tokens)))
    assert row.reason == "TTL expired" and row.miss_usd == pytest.approx(expected, rel=0.02) and row.miss_usd > 0
    written = int(missed.cache_write_tokens)
    premium = estimate_cost(MODEL, written, 0, cache_write_tokens=written) * (2.0 / 1.25 - 1)  # 1h writes: 2x, not 1.25x
    assert "1h TTL" in row.fix and row.fix_saves_usd == pytest.approx(row.miss_usd - premium, rel=0.05)


def test_provider_reported_reason_is_kept_next_to_ours(world):
    _, ac, _ = world
    with meter():
        first = ask(ac, cached(LONG), diagnostics={"previous_message_id": None})
        ask(ac, cached(LONG + "\nAlso: refunds take 5 days."), diagnostics={"previous_message_id": first.id})
    row = llmcost_magic.prompt_cache_doctor().table.iloc[-1]
    assert row.provider_reason == "system_changed" and row.reason == "prefix changed" and "new system line" in row.detail


def test_openai_misses(world):
    clock, _, oc = world
    system = {"role": "system", "content": LONG}
    with meter():
        for question in ("Can I return a phone?", "Can I return shoes?"):
            oc.chat.completions.create(model="gpt-5.6", messages=[system, {"role": "user", "content": question}])
        oc.chat.completions.create(model="gpt-4o-mini", messages=[system, {"role": "user", "content": "hi"}])
        clock.advance(11 * 60)
        oc.chat.completions.create(model="gpt-4o-mini", messages=[system, {"role": "user", "content": "hello"}])
    table = llmcost_magic.prompt_cache_doctor().table.set_index("call")
    assert table.loc[1, "reason"] == "no breakpoint" and "implicit breakpoint sits on messages[1].user" in table.loc[1, "detail"]
    assert "prompt_cache_breakpoint" in table.loc[1, "fix"] and table.loc[1, "miss_usd"] > 0
    assert table.loc[3, "reason"] == "TTL expired" and "24h" in table.loc[3, "fix"]


def test_doctor_in_a_notebook(shell):
    trail = current_trail()
    trail.clear()
    shell.run_cell("from llmcost_magic.sandbox import client\nac = client('anthropic')")
    shell.run_cell("%%llmcost\nfor d in range(3):\n    ac.messages.create(model='claude-sonnet-4-6', max_tokens=20, system=["
                   "{'type': 'text', 'text': f'Today is 2026-11-{d + 10}. ' + 'Policy text. ' * 600, "
                   "'cache_control': {'type': 'ephemeral'}}], messages=[{'role': 'user', 'content': 'hi'}])")
    report = shell.run_line_magic("llmcost", "cache doctor")
    assert list(report.table["reason"]) == ["first call", "prefix changed", "prefix changed"]
    assert "timestamp" in report._repr_html_() and "$" in report.summary()
    assert shell.run_line_magic("llmcost", "cache doctor --all").table.shape[0] == 3
    trail.clear()


def test_dashboard_shows_prompt_cache_hit_rate_and_net_dollars_per_cell(world):
    from llmcost_magic.policies.prompt_cache_doctor import prompt_cache_by_cell

    clock, ac, _ = world
    with meter(tag="one write", prompt_cache="auto") as m:
        m.cell = "write-only"
        ask(ac, LONG)
    with meter(tag="reads", prompt_cache="auto") as m:
        m.cell = "reads"
        for q in ("a?", "b?", "c?"):
            ask(ac, LONG, q)
    calls = llmcost_magic.ledger()
    table = prompt_cache_by_cell(calls)
    assert table.loc["write-only", "net_saved_usd"] < 0  # the premium, with nothing read back
    assert table.loc["reads", "net_saved_usd"] == pytest.approx(calls[calls.cell == "reads"].saved_usd.sum())
    assert table.loc["reads", "net_saved_usd"] > 0
    assert 0.9 < table.loc["reads", "hit_rate"] < 1 and table.loc["write-only", "hit_rate"] == 0
    html = llmcost_magic.dashboard(calls)._repr_html_()
    assert "Provider prompt caching by cell" in html and "write-only" in html


def test_notebook_05_long_document_example(world):
    """The long document with a timestamp at the top: every call after the first is 'prefix changed' by a
    timestamp; moving the timestamp after the document leaves one miss (the prefix is new once), then hits."""
    _, ac, _ = world
    contract = "MASTER SERVICES AGREEMENT\n" + "\n".join(f"Clause {i}: package {i} is due within {i % 20 + 10} days." for i in range(200))
    stamps = [f"2026-11-30 09:{m:02d}" for m in range(0, 50, 10)]

    def review(first, second):
        for stamp in stamps:
            ac.messages.create(model=MODEL, max_tokens=50, messages=[{"role": "user", "content": [
                {"type": "text", "text": first(stamp)}, {"type": "text", "text": second(stamp)}]}])

    with meter(prompt_cache="auto"):
        review(lambda s: f"Retrieved {s}.\n{contract}", lambda s: "Who are the parties?")
        review(lambda s: contract, lambda s: f"(retrieved {s}) Who are the parties?")
    table = llmcost_magic.prompt_cache_doctor(include_hits=True).table
    assert list(table.reason) == ["first call"] + ["prefix changed"] * 5 + ["hit"] * 4
    assert table.detail.iloc[1:6].str.startswith("a timestamp").all()
    assert (table.block.iloc[1:6] == "block 0 (messages[0].user[0])").all()
    assert table.miss_usd.iloc[1:5].sum() > 0


def test_odd_requests_streams_cache_hits_and_threads_do_not_break_the_trail(world):
    from concurrent.futures import ThreadPoolExecutor

    _, ac, oc = world
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
    with meter(cache="exact", cache_any_temperature=True):
        ac.messages.create(model=MODEL, max_tokens=20, messages=[{"role": "user", "content": [image, {"type": "text", "text": "hi"}]}])
        oc.chat.completions.create(model="gpt-4o-mini", temperature=0, messages=[{"role": "user", "content": [
            {"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}])
        oc.chat.completions.create(model="gpt-4o-mini", temperature=0, messages=[{"role": "user", "content": [
            {"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}])
        with ac.messages.stream(model=MODEL, max_tokens=20, system=cached(LONG), messages=[{"role": "user", "content": "x"}],
                                diagnostics={"previous_message_id": "msg_nowhere"}) as stream:
            stream.get_final_message()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda q: ask(ac, cached(LONG), q), [f"question {i}?" for i in range(8)]))
    entries = current_trail().entries
    assert len(entries) == 11  # the exact-cache hit (3rd call) is not a provider call: not in the trail
    assert entries[2].provider_reason == "previous_message_not_found"  # read from the stream's message_start
    table = llmcost_magic.prompt_cache_doctor(include_hits=True).table
    assert (table.reason == "hit").sum() >= 7


def test_no_prompt_text_reaches_the_ledger_and_old_texts_are_dropped(world, fresh_ledger, monkeypatch):
    from llmcost_magic.policies import prompt_trail

    monkeypatch.setattr(prompt_trail, "MAX_TEXT_CHARS", 15_000)
    _, ac, _ = world
    with meter():
        monkeypatch.setattr(prompt_trail, "MAX_PENDING", 100)
        for i in range(300):
            current_trail().observe(*_fake_call(f"secret prompt number {i}"))
        ask(ac, cached("TOP-SECRET-POLICY " + LONG))
    fresh_ledger.flush()
    raw = open(fresh_ledger.path, "rb").read() + b"".join(
        open(fresh_ledger.path + suffix, "rb").read() for suffix in ("-wal",) if __import__("os").path.exists(fresh_ledger.path + suffix))
    assert b"TOP-SECRET" not in raw and b"secret prompt" not in raw and len(llmcost_magic.ledger()) == 1
    trail = current_trail()
    entries = trail.entries
    assert trail.text(entries[0].own[0]) is None  # evicted: the oldest text went first
    assert trail.text(entries[-1].own[0]).startswith("TOP-SECRET") and trail._text_chars <= 15_000


def _fake_call(text):
    from llmcost_magic.intercept.call import Call
    from llmcost_magic.core.records import CallRecord, Usage

    call = Call("openai", "chat.completions", "gpt-4o-mini", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}, False)
    return CallRecord(ts=0.0, provider="openai", endpoint="chat.completions", model="gpt-4o-mini", usage=Usage(input_tokens=10),
                      cost_usd=0.0, baseline_cost_usd=0.0, latency_ms=1.0), call


def test_an_entry_beyond_the_20_block_lookback_is_named(world):
    _, ac, _ = world
    turns = [{"role": "user", "content": "Start."}, {"role": "assistant", "content": "OK."}]
    with meter():
        ask(ac, cached(LONG))  # writes the system prompt's entry
        # a long tool-heavy conversation: 24 short blocks, with the only breakpoint on the last one
        for i in range(11):
            turns += [{"role": "user", "content": f"step {i}"}, {"role": "assistant", "content": f"done {i}"}]
        turns.append({"role": "user", "content": [{"type": "text", "text": "And now?", "cache_control": {"type": "ephemeral"}}]})
        usage = ac.messages.create(model=MODEL, max_tokens=20, system=[{"type": "text", "text": LONG}], messages=turns).usage
    assert usage.cache_read_input_tokens == 0  # the sandbox applies the lookback too
    row = llmcost_magic.prompt_cache_doctor().table.iloc[-1]
    assert row.reason == "beyond lookback" and row.block == "system[0]" and "looks back 20" in row.detail


def test_openai_prompt_cache_diagnostics_are_read():
    from llmcost_magic.intercept import openai_protocol

    body = {"model": "gpt-5.6", "status": "completed", "usage": {"input_tokens": 2000, "output_tokens": 5,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 2000}},
            "prompt_cache_diagnostics": {"type": "cache_miss", "reason": "tools_changed", "cache_missed_tokens": 1900}}
    usage = openai_protocol.from_body("responses", body).usage
    assert usage.details["cache_miss_reason"] == "tools_changed" and usage.cache_write_tokens == 2000
    hit = {**body, "prompt_cache_diagnostics": {"type": "cache_hit"}}
    assert "cache_miss_reason" not in openai_protocol.from_body("responses", hit).usage.details
