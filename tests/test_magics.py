"""%%llmcost and %llmcost in a real IPython shell."""

from __future__ import annotations

import httpx2
import pytest

import llmcost_magic
from llmcost_magic import metering


@pytest.fixture
def oc(shell):
    shell.run_cell("from llmcost_magic.sandbox import client\noc = client('openai')\naoc = client('openai', async_=True)")
    return shell


CALL = "oc.chat.completions.create(model='gpt-4o-mini', messages=[{'role': 'user', 'content': 'hi'}])"


def test_a_metered_cell_records_its_calls_and_prints_a_summary(oc, capsys):
    r = oc.run_cell(f"%%llmcost --tag demo\nr = {CALL}\nr.usage.prompt_tokens")
    assert r.error_in_exec is None and r.result > 0
    df = llmcost_magic.ledger()
    assert len(df) == 1 and df.iloc[0].tag == "demo" and df.iloc[0].cell_hash
    assert "1 call" in capsys.readouterr().out
    assert metering.active_meter() is None


def test_top_level_await_works_as_without_the_magic(oc):
    code = "import asyncio\nrs = await asyncio.gather(*[aoc.chat.completions.create(model='gpt-4o-mini', messages=[{'role':'user','content':'x'}]) for _ in range(5)])\nlen(rs)"
    r = oc.run_cell("%%llmcost\n" + code)
    assert r.error_in_exec is None and r.result == 5
    assert len(llmcost_magic.ledger()) == 5


def test_a_cell_that_raises_keeps_its_rows_and_closes_the_meter(oc):
    r = oc.run_cell(f"%%llmcost\n{CALL}\nraise ValueError('boom')")
    assert isinstance(r.error_in_exec, ValueError)
    assert len(llmcost_magic.ledger()) == 1 and metering.active_meter() is None


def test_traceback_line_numbers_are_unchanged(oc):
    r = oc.run_cell("%%llmcost\nx = 1\n1/0")
    tb = r.error_in_exec.__traceback__
    while tb.tb_next:
        tb = tb.tb_next
    assert tb.tb_lineno == 3


@pytest.mark.parametrize(("options", "message"), [
    ("--budget 0", "greater than 0"),
    ("--budget lots", "must be a number"),
    ("--colour red", "unrecognized arguments"),
    ("--currency KRW", "--fx"),
    ("--tag 'unclosed", "cannot parse"),
])
def test_malformed_options_stop_the_cell_with_the_fix(oc, options, message):
    r = oc.run_cell(f"%%llmcost {options}\nran = True")
    assert r.error_in_exec is not None and message in str(r.error_in_exec)
    assert "Usage" in str(r.error_in_exec) or "--fx" in str(r.error_in_exec)
    assert "ran" not in oc.user_ns


def test_budget_refusal_inside_a_cell(oc):
    r = oc.run_cell("%%llmcost --budget 0.00001\n" + CALL.replace("'gpt-4o-mini'", "'gpt-4o'").replace(")", ", max_tokens=2000)", 1))
    assert isinstance(r.error_in_exec, llmcost_magic.BudgetExceeded)
    assert list(llmcost_magic.ledger().status) == ["refused"]


def test_config_sets_defaults_for_every_cell(oc, caplog):
    oc.run_line_magic("config", "LLMCost.tag = 'workshop'")
    try:
        oc.run_cell(f"%%llmcost\n{CALL}")
        assert llmcost_magic.ledger().iloc[0].tag == "workshop"
        oc.run_line_magic("config", "LLMCost.fx = -3")  # %config logs a rejected value, keeps the old one
        assert "LLMCost.fx must be > 0" in caplog.text
        magics = next(c for c in oc.configurables if type(c).__name__ == "LLMCost")
        assert magics.fx == 1.0
    finally:
        oc.run_line_magic("config", "LLMCost.tag = ''")
        oc.run_line_magic("config", "LLMCost.fx = 1.0")


def test_on_and_off_meter_every_cell(oc):
    oc.run_line_magic("llmcost", "on --tag auto")
    oc.run_cell(CALL)
    oc.run_cell(CALL)
    oc.run_line_magic("llmcost", "off")
    oc.run_cell(CALL)
    df = llmcost_magic.ledger()
    assert list(df.tag) == ["auto", "auto"] and df.cell_hash.nunique() == 1


def test_report_prices_and_export(oc, tmp_path):
    oc.run_cell(f"%%llmcost --tag a\n{CALL}\n{CALL}")
    oc.run_cell(f"%%llmcost --tag b\n{CALL}")
    by_tag = oc.run_line_magic("llmcost", "report --by tag")
    assert dict(zip(by_tag.tag, by_tag.calls)) == {"a": 2, "b": 1}
    prices = oc.run_line_magic("llmcost", "prices gpt-4o claude-haiku-4-5")
    assert prices.loc["gpt-4o", "input"] == pytest.approx(2.5)
    out = tmp_path / "calls.csv"
    oc.run_line_magic("llmcost", f"export {out}")
    assert out.read_text().count("\n") == 4
    r = oc.run_cell("%llmcost prices gpt-4oo")
    assert "gpt-4o" in str(r.error_in_exec)


def test_rerun_of_a_cell_is_grouped_with_its_previous_run(oc):
    cell = f"%%llmcost\n{CALL}"
    oc.run_cell(cell)
    oc.run_cell(cell)
    report = oc.run_line_magic("llmcost", "report --by cell")
    assert len(report) == 1 and report.iloc[0].runs == 2 and report.iloc[0].calls == 2


def test_unload_restores_the_clients(shell):
    patched = httpx2.Client._transport_for_url
    shell.run_line_magic("unload_ext", "llmcost_magic")
    assert httpx2.Client._transport_for_url is not patched
    shell.run_line_magic("load_ext", "llmcost_magic")


def test_dry_run_sends_nothing_out_and_prices_as_the_real_model(shell):
    """A client for the real API (no network here) is answered by the sandbox in a --dry-run cell."""
    shell.run_cell("import openai\nreal = openai.OpenAI(api_key='sk-not-used', max_retries=0)")
    r = shell.run_cell("%%llmcost --dry-run\nr = real.chat.completions.create(model='gpt-4o', messages=[{'role':'user','content':'hi'}])\nr.usage.prompt_tokens")
    assert r.error_in_exec is None and r.result > 0
    row = llmcost_magic.ledger().iloc[0]
    assert row.model == "gpt-4o" and row.cost_usd > 0 and row.note.startswith("dry-run")
    r = shell.run_cell("real.chat.completions.create(model='gpt-4o', messages=[{'role':'user','content':'hi'}])")
    assert isinstance(r.error_in_exec, Exception)  # outside the dry run it really tries the network


def test_llmcost_help_lists_every_option_and_command():
    """`%llmcost?` shows the magic's docstring: before, it named 5 of the 21 cell options."""
    from llmcost_magic.notebook.magics import LLMCost
    from llmcost_magic.notebook.options import _cell_parser

    doc = LLMCost.llmcost.__doc__
    flags = [flag for action in _cell_parser()._actions for flag in action.option_strings]
    assert len(flags) >= 21 and [f for f in flags if f not in doc] == []
    for command in ("report", "prices", "on", "off", "export", "dashboard", "cache", "whatif", "doctor"):
        assert f"%llmcost {command}" in doc or f"|{command}" in doc or f" {command} " in doc
