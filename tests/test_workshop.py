"""Workshop mode on a real redis-server: per-participant daily budgets, the room's totals, one cache."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

import llmcost_magic
from llmcost_magic import estimate_cost, meter, workshop
from llmcost_magic.policies.budgets.worst_case import worst_case
from llmcost_magic.sandbox import Sandbox, client

ASK = [{"role": "user", "content": "What is a token?"}]


@pytest.fixture
def room_url(redis_url):
    redis.Redis.from_url(redis_url).flushdb()
    return redis_url


def test_each_participant_has_the_rooms_daily_budget(room_url):
    worst = estimate_cost("gpt-4o-mini", 20, 300)
    workshop.configure(room_url, daily_limit_usd=worst * 2.5)
    oc = client("openai", sandbox=Sandbox())
    long = [{"role": "user", "content": "Write a long report about tokens."}]  # ~0.9 of max_tokens: spends most of its hold
    for participant in ("ana", "ben"):
        with meter(workshop=room_url, user=participant):
            oc.chat.completions.create(model="gpt-4o-mini", messages=long, max_tokens=300)
            oc.chat.completions.create(model="gpt-4o-mini", messages=long + [{"role": "user", "content": "again"}], max_tokens=300)
            with pytest.raises(llmcost_magic.BudgetExceeded, match=f"workshop's daily budget .* for {participant}"):
                oc.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "more"}], max_tokens=300)
    room = workshop.room(room_url)
    assert list(room.index) == ["ana", "ben"] and (room.calls == 2).all()
    assert (room.spent_usd > 0).all() and (room.used <= 1).all()


def test_concurrent_participants_never_overshoot(room_url):
    worst = estimate_cost("gpt-4o-mini", 20, 300)
    limit = worst * 10.5
    workshop.configure(room_url, daily_limit_usd=limit)
    oc = client("openai", sandbox=Sandbox())

    def one(i: int) -> None:
        try:
            oc.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"q{i}"}], max_tokens=300)
        except llmcost_magic.BudgetExceeded:
            pass

    with meter(workshop=room_url, user="crowd") as m:
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(one, range(200)))
    assert 10 <= m.totals.calls < 200 and m.totals.refused == 200 - m.totals.calls
    assert 0 < workshop.room(room_url).loc["crowd", "spent_usd"] <= limit


def test_cached_answers_are_private_unless_the_instructor_shares_them(room_url):
    workshop.configure(room_url, daily_limit_usd=5.0, shareable_cache=False)
    oc = client("openai", sandbox=Sandbox())
    request = dict(model="gpt-4o-mini", temperature=0, messages=ASK)
    for participant in ("ana", "ben", "ana"):
        with meter(workshop=room_url, user=participant):
            oc.chat.completions.create(**request)
    assert list(llmcost_magic.ledger().cache) == ["", "", "exact"]  # ben could not read ana's answer
    workshop.configure(room_url, shareable_cache=True)
    for participant in ("carl", "dina"):
        with meter(workshop=room_url, user=participant):
            oc.chat.completions.create(**request)
    assert list(llmcost_magic.ledger().cache)[-2:] == ["", "exact"]  # one shared entry for the room
    assert workshop.room(room_url).loc["dina", "calls"] == 1  # a cache hit is a call the room served


def test_unreachable_redis_fails_closed_or_open(room_url, capsys):
    with pytest.raises(llmcost_magic.LLMCostError, match="Cannot reach the workshop's Redis"):
        workshop.WorkshopBudget("redis://127.0.0.1:1/0", "ana")
    budget = workshop.WorkshopBudget(room_url, "ana")
    budget._client = redis.Redis(port=1, socket_connect_timeout=0.2)  # the server goes away mid-session
    budget._reserve = budget._client.register_script(workshop._RESERVE)
    call = llmcost_magic.intercept.call.Call("openai", "chat.completions", "gpt-4o-mini", {"model": "gpt-4o-mini"}, False)
    worst = worst_case("gpt-4o-mini", {"max_tokens": 10}, 10)
    with pytest.raises(llmcost_magic.BudgetExceeded, match="unreachable .* fail closed"):
        budget.reserve(call, worst)
    budget.fail_open = True
    assert budget.reserve(call, worst) is None and "fail open" in capsys.readouterr().err


def test_one_setting_in_a_notebook(shell, room_url):
    workshop.configure(room_url, daily_limit_usd=1.0)
    shell.run_line_magic("config", f"LLMCost.workshop = {room_url!r}")
    shell.run_line_magic("config", "LLMCost.user = 'eve'")
    try:
        shell.run_cell("from llmcost_magic.sandbox import client\noc = client('openai')")
        r = shell.run_cell("%%llmcost\noc.chat.completions.create(model='gpt-4o-mini', temperature=0, messages=[{'role':'user','content':'hi'}])")
        assert r.error_in_exec is None
        assert workshop.room(room_url).loc["eve", "calls"] == 1
    finally:
        shell.run_line_magic("config", "LLMCost.workshop = None")
        shell.run_line_magic("config", "LLMCost.user = None")
