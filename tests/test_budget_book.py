"""Budgets from a config file: per query, per user per day / month, by segment; alerts; concurrency."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import llmcost_magic
from llmcost_magic import estimate_cost, meter
from llmcost_magic.policies.budget_book import Alert, BudgetBook, BudgetFileError, load_budgets
from llmcost_magic.core.records import CallRecord, Usage
from llmcost_magic.sandbox import client

CONFIG = {
    "default": {"max_per_query_usd": 0.05, "daily_max_per_user_usd": 5.0},
    "per_segment": {"rnd_engineer": {"max_per_query_usd": 0.20, "daily_max_per_user_usd": 50.0},
                    "sales_default": {"max_per_query_usd": 0.02, "daily_max_per_user_usd": 1.0}},
    "alerts": {"daily_warn_at": 0.8},
}
ASK = [{"role": "user", "content": "Write a long report."}]


def _spend(ledger, user: str, usd: float, ts: float | None = None) -> None:
    ledger.record(CallRecord(ts=ts or time.time(), provider="openai", endpoint="chat.completions", model="gpt-4o",
                             usage=Usage(), cost_usd=usd, baseline_cost_usd=usd, latency_ms=0.0, user=user))


def test_per_query_limits_follow_the_segment():
    oc = client("openai")
    with meter(budgets=CONFIG, user="kim", segment="sales_default"):
        with pytest.raises(llmcost_magic.BudgetExceeded, match="per-query limit of \\$0.0200 for kim \\(segment sales_default\\)"):
            oc.chat.completions.create(model="gpt-4o", messages=ASK, max_tokens=4000)  # worst case $0.04
    with meter(budgets=CONFIG, user="lee", segment="rnd_engineer"):
        oc.chat.completions.create(model="gpt-4o", messages=ASK, max_tokens=4000)
    assert list(llmcost_magic.ledger().status) == ["refused", "ok"]
    assert list(llmcost_magic.ledger().user) == ["kim", "lee"]


def test_daily_limit_counts_earlier_sessions_of_the_same_user(fresh_ledger):
    _spend(fresh_ledger, "park", 0.99)  # spent earlier today, e.g. before a kernel restart
    _spend(fresh_ledger, "someone-else", 100.0)
    oc = client("openai")
    with meter(budgets=CONFIG, user="park", segment="sales_default"):
        with pytest.raises(llmcost_magic.BudgetExceeded, match="daily limit per user") as err:
            oc.chat.completions.create(model="gpt-4o-mini", messages=ASK, max_tokens=20_000)
    assert err.value.spent_usd == pytest.approx(0.99)


def test_yesterday_does_not_count_and_the_timezone_decides_the_day(fresh_ledger):
    now = 1_800_000_000.0 - 9 * 3600  # 2027-01-15 08:00 in Seoul (23:00 UTC the day before)
    book = BudgetBook(load_budgets({**CONFIG, "timezone": "Asia/Seoul"}), user="choi", segment=None, ledger=fresh_ledger,
                      clock=lambda: now)
    _spend(fresh_ledger, "choi", 4.0, ts=now - 9 * 3600)  # 23:00 the day before, Seoul time
    _spend(fresh_ledger, "choi", 0.5, ts=now - 3600)  # 07:00 today
    assert book.spent("day") == pytest.approx(0.5)
    assert book.spent("month") == pytest.approx(4.5)


def test_alerts_fire_once_a_day_with_callbacks():
    received: list[Alert] = []
    llmcost_magic.on_alert(received.append)
    oc = client("openai")
    tight = {"default": {"daily_max_per_user_usd": 0.002}, "alerts": {"daily_warn_at": 0.5}}
    with meter(budgets=tight, user="han"):
        for _ in range(6):
            try:
                oc.chat.completions.create(model="gpt-4o-mini", messages=ASK, max_tokens=300)
            except llmcost_magic.BudgetExceeded:
                break
    assert len(received) == 1 and received[0].kind == "daily_burn" and "han has spent" in received[0].message


def test_concurrent_calls_never_overshoot_the_daily_limit():
    worst = estimate_cost("gpt-4o-mini", 30, 300)
    limit = worst * 10.5
    oc = client("openai")
    with meter(budgets={"default": {"daily_max_per_user_usd": limit}}, user="burst") as m:
        def one(i: int) -> bool:
            try:
                oc.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"q{i}"}], max_tokens=300)
            except llmcost_magic.BudgetExceeded:
                return False
            return True
        with ThreadPoolExecutor(16) as pool:
            ok = sum(pool.map(one, range(200)))
    spent = m.book.spent("day")  # read from the ledger now: no cached spend
    assert 10 <= ok < 200 and m.totals.refused == 200 - ok  # the limit was really hit
    assert 0 < spent <= limit and m.book.reserved_usd == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(("config", "message"), [
    ({"per_segment": {}}, "'default' table"),
    ({"default": {"max_per_query_usd": 0}}, "positive number"),
    ({"default": {"max_per_query": 1}}, "unknown key 'default.max_per_query'"),
    ({"default": {}, "per_tags": {}}, r"unknown key 'per_tags' \(a typo\?\); allowed there: \['default', 'per_segment', 'per_tag'"),
    ({"default": {}, "alerts": {"daily_warn": 0.8}}, "unknown key 'alerts.daily_warn'.*daily_warn_at"),
    ({"default": {}, "alerts": {"daily_warn_at": "80%"}}, r"alerts.daily_warn_at must be a fraction .* got '80%'"),
    ({"default": {"daily_max_per_user_usd": float("nan")}}, "default.daily_max_per_user_usd .* got nan"),
    ({"default": {"daily_max_per_user_usd": float("inf")}}, "default.daily_max_per_user_usd .* got inf"),
    ({"default": {"daily_max_per_user_usd": -1}}, "default.daily_max_per_user_usd .* got -1"),
    ({"default": {"daily_max_per_user_usd": "5"}}, "default.daily_max_per_user_usd .* got '5'"),
    ({"default": {}, "timezone": "Mars/Olympus"}, "unknown timezone"),
    ({"default": {}, "alerts": {"daily_warn_at": 2}}, "daily_warn_at"),
])
def test_bad_budget_files(config, message):
    with pytest.raises(BudgetFileError, match=message):
        load_budgets(config)


def test_unknown_segment_and_config_in_a_notebook(shell, tmp_path):
    path = tmp_path / "budgets.yaml"
    path.write_text("default: {max_per_query_usd: 0.05}\nper_segment:\n  rnd_engineer: {max_per_query_usd: 0.2}\n")
    shell.run_line_magic("config", f"LLMCost.budget_file = {str(path)!r}")
    try:
        shell.run_line_magic("config", "LLMCost.segment = 'marketing'")
        r = shell.run_cell("%%llmcost\nx = 1")
        assert "Unknown segment 'marketing'" in str(r.error_in_exec) and "rnd_engineer" in str(r.error_in_exec)
        shell.run_line_magic("config", "LLMCost.segment = 'rnd_engineer'")
        shell.run_cell("from llmcost_magic.sandbox import client\noc = client('openai')")
        r = shell.run_cell("%%llmcost\noc.chat.completions.create(model='gpt-4o', max_tokens=30000, messages=[{'role':'user','content':'hi'}])")
        assert isinstance(r.error_in_exec, llmcost_magic.BudgetExceeded) and "rnd_engineer" in str(r.error_in_exec)
    finally:
        shell.run_line_magic("config", "LLMCost.budget_file = None")
        shell.run_line_magic("config", "LLMCost.segment = None")


def test_cheap_fallback_switches_model_instead_of_refusing():
    oc = client("openai")
    with meter(budgets=CONFIG, user="yoon", segment="sales_default", budget_fallback=True):
        r = oc.chat.completions.create(model="gpt-4o", messages=ASK, max_tokens=4000)  # $0.04 worst case > $0.02
    row = llmcost_magic.ledger().iloc[0]
    assert r.model != "gpt-4o" and row.model == r.model and row.requested_model == "gpt-4o"
    assert row.status == "ok" and f"budget fallback to {r.model}" in row.note


def test_tag_and_session_limits_and_the_average_cost_alert(fresh_ledger):
    _spend(fresh_ledger, "someone", 0.9)
    fresh_ledger.record(CallRecord(ts=time.time(), provider="openai", endpoint="chat.completions", model="gpt-4o",
                                   usage=Usage(), cost_usd=0.95, baseline_cost_usd=0.95, latency_ms=0.0, tag="summaries", user="a"))
    config = {"default": {"session_max_usd": 5.0}, "per_tag": {"summaries": {"daily_max_usd": 1.0}},
              "alerts": {"avg_cost_per_query_usd": 0.00001, "window_calls": 3}}
    oc = client("openai")
    with meter(budgets=config, user="b", tag="summaries"):
        with pytest.raises(llmcost_magic.BudgetExceeded, match="daily limit of tag 'summaries'"):
            oc.chat.completions.create(model="gpt-4o", messages=ASK, max_tokens=8000)  # 0.95 spent + $0.08 > $1
    received: list[Alert] = []
    llmcost_magic.on_alert(received.append)
    with meter(budgets=config, user="c", tag="other"):
        for _ in range(3):
            oc.chat.completions.create(model="gpt-4o", messages=ASK, max_tokens=200)
    assert [a.kind for a in received] == ["avg_cost_per_query"]
    session_config = {"default": {"session_max_usd": 1.0}}
    with meter(budgets=session_config, user="d"):  # this session already spent 1.85 (the rows above)
        with pytest.raises(llmcost_magic.BudgetExceeded, match="session limit"):
            oc.chat.completions.create(model="gpt-4o-mini", messages=ASK, max_tokens=10)


def test_bad_tag_and_alert_settings():
    with pytest.raises(BudgetFileError, match="unknown key 'per_tag.x.daily_max'"):
        load_budgets({"default": {}, "per_tag": {"x": {"daily_max": 1}}})
    with pytest.raises(BudgetFileError, match="window_calls"):
        load_budgets({"default": {}, "alerts": {"window_calls": 0}})


def test_a_budget_file_typo_names_the_file_the_key_and_the_form(tmp_path):
    path = tmp_path / "budgets.yaml"
    path.write_text("default: {daily_max_per_user_usd: .nan}\nper_tags: {x: {daily_max_usd: 1}}\n")
    with pytest.raises(BudgetFileError) as err:
        load_budgets(path)
    message = str(err.value)
    assert message.startswith(str(path)) and "'per_tags'" in message and "per_tag" in message
    assert "default.daily_max_per_user_usd must be a positive number of dollars" in message and "nan" in message
