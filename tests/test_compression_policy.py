"""Compression as a cell policy: through the real SDK clients on the sandbox, into the ledger."""

from __future__ import annotations

import pytest

import llmcost_magic
from llmcost_magic import meter
from llmcost_magic.sandbox import client

CONTEXT = ("Acme Cloud refunds are processed within 5 to 7 business days after the billing team approves the "
           "request. Please note that it is really very important that the customer always gets a polite and "
           "friendly answer to each and every one of the questions that they might ask. ") * 4
QUESTION = "How long do refunds take?"


def _chat(oc, **extra):
    return oc.chat.completions.create(model="gpt-4o", messages=[{"role": "system", "content": CONTEXT},
                                                                {"role": "user", "content": QUESTION}], **extra)


def test_compression_over_http_records_tokens_before_after_and_the_saving(sandbox_server):
    oc = client("openai", base_url=sandbox_server.openai_base_url)
    with meter() as plain:
        _chat(oc)
    with meter(compress="selective:0.5") as compressed:
        _chat(oc)
        for _ in _chat(oc, stream=True):
            pass
    full = plain.records[0].usage.input_tokens
    for rec in compressed.records:
        assert rec.usage.input_tokens < full * 0.7  # the provider billed the compressed prompt
        assert rec.input_tokens_before == full  # the ledger knows what it would have been
        assert rec.saved_by == "compression" and rec.saved_usd > 0
        assert rec.baseline_cost_usd == pytest.approx(plain.records[0].cost_usd, rel=0.05)
    assert compressed.totals.saved_by["compression"] == pytest.approx(sum(r.saved_usd for r in compressed.records))
    rows = llmcost_magic.ledger()
    assert list(rows["input_tokens_before"].dropna().astype(int)) == [full, full]


def test_anthropic_system_blocks_and_cache_control_survive():
    ac = client("anthropic")
    system = [{"type": "text", "text": CONTEXT}, {"type": "text", "text": CONTEXT, "cache_control": {"type": "ephemeral"}}]
    with meter(compress="selective:0.5") as m:
        ac.messages.create(model="claude-haiku-4-5", max_tokens=50, system=system,
                           messages=[{"role": "user", "content": QUESTION}])
    rec = m.records[0]
    assert rec.saved_by.startswith("compression") and rec.input_tokens_before > rec.usage.input_tokens
    assert "selective:0.5 on 1 part" in rec.note  # the cache_control block was left alone


def test_system_prompts_can_be_excluded():
    oc = client("openai")
    with meter(compress="selective:0.5", compress_system=False) as m:
        _chat(oc)
    assert m.records[0].saved_by == "" and m.records[0].input_tokens_before is None
    assert "no-op" in m.records[0].note


def test_history_window_policy_drops_old_turns():
    oc = client("openai")
    messages = []
    for i in range(12):
        messages += [{"role": "user", "content": f"Turn {i}: tell me about plan {i}."},
                     {"role": "assistant", "content": "Here is a long answer. " * 15}]
    messages.append({"role": "user", "content": QUESTION})
    with meter(compress="window:2") as m:
        oc.chat.completions.create(model="gpt-4o-mini", messages=messages)
    rec = m.records[0]
    assert rec.input_tokens_before > 4 * rec.usage.input_tokens and "dropped 22 messages" in rec.note


def test_the_magic_option_and_its_errors(shell):
    shell.run_cell("from llmcost_magic.sandbox import client\noc = client('openai')")
    shell.user_ns["CONTEXT"], shell.user_ns["QUESTION"] = CONTEXT, QUESTION
    result = shell.run_cell("%%llmcost --compress format+selective:0.4 --quiet\n"
                            "r = oc.chat.completions.create(model='gpt-4o', messages=[{'role': 'system', 'content': CONTEXT},"
                            " {'role': 'user', 'content': QUESTION}])")
    assert result.success
    rows = llmcost_magic.ledger()
    assert rows.iloc[-1]["saved_by"] == "compression" and rows.iloc[-1]["input_tokens_before"] > rows.iloc[-1]["input_tokens"]
    bad = shell.run_cell("%%llmcost --compress selectiv:0.5\nx = 1")
    assert not bad.success and "did you mean 'selective'" in str(bad.error_in_exec or bad.error_before_exec)
    keep = shell.run_cell("%%llmcost --compress-keep-system\nx = 1")
    assert not keep.success and "only applies with --compress" in str(keep.error_before_exec or keep.error_in_exec)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_history_summary_is_a_metered_call_that_keeps_facts(provider):
    from llmcost_magic.compression import summarize_history

    messages = [{"role": "system", "content": "You are a support agent."}] if provider == "openai" else []
    for i in range(8):
        messages += [{"role": "user", "content": f"Turn {i}. My order number is A-10{i}. Thanks."},
                     {"role": "assistant", "content": "Noted, thank you. " * 20}]
    with meter() as m:
        summary = summarize_history(messages, client(provider), summary_model="gpt-4.1-nano" if provider == "openai"
                                    else "claude-haiku-4-5", chat_model="gpt-4.1", keep_last=2)
    assert m.totals.calls == 1 and summary.summary_cost_usd == pytest.approx(m.totals.cost_usd)
    assert summary.tokens_after < summary.tokens_before / 2 and "A-10" in summary.summary
    assert summary.messages[-4:] == messages[-4:] and 0 < summary.break_even_turns < 1
    roles = [msg["role"] for msg in summary.messages]
    assert roles[:3] == (["system", "system", "user"] if provider == "openai" else ["user", "assistant", "user"])
